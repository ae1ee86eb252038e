/**
 * Interop of OUR PLUGIN with OpenSC through pcscd + vpcd ("Virtual PCD 00 01"), both directions:
 * 1. OpenSC's gids-tool personalizes a blank simulated card; our plugin then works on it through PC/SC.
 * 2. A key generated and a certificate written through our plugin are listed by pkcs15-tool and used by
 *    pkcs11-tool --sign, verified with openssl.
 * 3. A key OpenSC generates (pkcs11-tool --keypairgen) is used by our plugin to sign and decrypt.
 */
import { constants, createHash, publicEncrypt, verify, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { compressCertificate, decodeContainerMap, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { selfSignedByCard } from '@minidriver/conformance/interop';
import { describeWithTools, opensslVerify, pkcs11ToolKeyOperation } from '@minidriver/sim/testing';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_PKCS1,
  CacheMode,
  KeySpec,
  reverseBytes,
} from '@minidriver/spec';
import { expect, it, vi } from 'vitest';
import { GidsSimulator } from '../sim/index.js';
import { plugin } from '../src/index.js';
import {
  GIDS_INTEROP_TOOLS,
  gidsToolInitialize,
  pkcs11SlotIndex,
  pkcs11Tool,
  serveForOpenSc,
  tool,
  withPluginSession,
} from './interop-support.js';

const ADMIN_KEY = '00112233445566778899aabbccddeeff0011223344556677';
const SERIAL = 'a1a2a3a4a5a6a7a8a9aaabacadaeafb0';
const PIN = '13572468';
const pin = () => new TextEncoder().encode(PIN);
const sha256 = (data: Uint8Array | string) => new Uint8Array(createHash('sha256').update(data).digest());

describeWithTools(GIDS_INTEROP_TOOLS, 'GIDS plugin with OpenSC through pcscd + vpcd', () => {
  vi.setConfig({ testTimeout: 180_000 });
  const card = new GidsSimulator({ blank: true });
  const served = serveForOpenSc(card, 'gids-plugin-interop-');
  const file = served.file;
  let slot = '';

  it('gids-tool personalizes the card, then our plugin opens it in GLOBAL mode and reads what gids-tool wrote', async () => {
    const initialized = await gidsToolInitialize(served.reader, { serial: SERIAL, adminKey: ADMIN_KEY, pin: PIN });
    expect(initialized.code, initialized.output).toBe(0);
    await withPluginSession(plugin, async (session) => {
      expect(session.cacheMode).toBe(CacheMode.GLOBAL_CACHE);
      expect(Buffer.from(await session.readFile(null, 'cardid')).toString('hex')).toBe(SERIAL);
      expect(await session.enumFiles('mscp')).toEqual(['cmapfile']);
      expect(await session.readFile('mscp', 'cmapfile')).toEqual(new Uint8Array(0));
      expect(await session.getProperty('minidriver:PIN Retries Left', 1)).toBe(3);
      await session.authenticatePin('user', pin());
    });
  });

  it('our key and certificate: pkcs15-tool lists them, pkcs11-tool signs with the key, openssl verifies', async () => {
    const der = await withPluginSession(plugin, async (session) => {
      await session.authenticatePin('user', pin());
      await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
      const publicKey = publicKeyBlobToKeyObject((await session.getContainerInfo(0)).keyExchangePublicKey!);
      const certificate = await selfSignedByCard(
        session,
        { containerIndex: 0, keySpec: KeySpec.AT_KEYEXCHANGE, publicKey },
        'minidriver gids',
      );
      expect(new X509Certificate(certificate).verify(publicKey)).toBe(true);
      await session.writeFile('mscp', 'kxc00', compressCertificate(certificate));
      return certificate;
    });
    writeFileSync(file('ours.der'), der);
    const listed = await tool('pkcs15-tool', ['--reader', served.reader, '--list-certificates']);
    expect(listed.output).toMatch(/X\.509 Certificate[\s\S]*Path\s*: a010df24[\s\S]*ID\s*: 00/);
    const read = await tool('pkcs15-tool', ['--reader', served.reader, '--read-certificate', '00']);
    expect(new X509Certificate(read.output.slice(read.output.indexOf('-----BEGIN'))).raw).toEqual(Buffer.from(der));
    const keys = await tool('pkcs15-tool', ['--reader', served.reader, '--list-keys']);
    expect(keys.output).toMatch(/Private RSA Key[\s\S]*ModLength\s*: 2048[\s\S]*Key ref\s*: 129 \(0x81\)/);
    slot = await pkcs11SlotIndex();
    writeFileSync(file('message'), 'signed by OpenSC with our key');
    const signed = await pkcs11ToolKeyOperation({
      token: ['--slot-index', slot],
      pin: PIN,
      operation: 'sign',
      mechanism: 'SHA256-RSA-PKCS',
      id: '00',
      inputPath: file('message'),
      outputPath: file('signature'),
    });
    expect(signed.code, signed.output).toBe(0);
    writeFileSync(file('ours.pem'), new X509Certificate(der).toString());
    const extracted = await tool('openssl', [
      'x509',
      '-in',
      file('ours.pem'),
      '-pubkey',
      '-noout',
      '-out',
      file('ours.pub'),
    ]);
    expect(extracted.code).toBe(0);
    const checked = await opensslVerify({
      digest: 'sha256',
      publicKeyPath: file('ours.pub'),
      signaturePath: file('signature'),
      dataPath: file('message'),
    });
    expect(checked.output).toContain('Verified OK');
  });

  it('a key pkcs11-tool generates is used by our plugin to sign and decrypt', async () => {
    const generated = await pkcs11Tool(
      slot,
      '--login',
      '--pin',
      PIN,
      '--keypairgen',
      '--key-type',
      'rsa:1024',
      '--label',
      'opensc',
    );
    expect(generated.code, generated.output).toBe(0);
    await withPluginSession(plugin, async (session) => {
      const records = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
      expect(records.length).toBe(2);
      expect(records[1]?.guid).toMatch(/^opensc/);
      expect(records[1]?.keyExchangeKeySizeBits).toBe(1024);
      const publicKey = publicKeyBlobToKeyObject((await session.getContainerInfo(1)).keyExchangePublicKey!);
      await session.authenticatePin('user', pin());
      const signed = await session.signData({
        version: 2,
        containerIndex: 1,
        keySpec: KeySpec.AT_KEYEXCHANGE,
        signingFlags: CARD_PADDING_INFO_PRESENT,
        hashAlgorithmId: 0,
        data: sha256('signed by our plugin with an OpenSC key'),
        paddingType: CARD_PADDING_PKCS1,
        paddingInfo: { algorithm: 'SHA256' },
      });
      expect(
        verify(
          'sha256',
          Buffer.from('signed by our plugin with an OpenSC key'),
          publicKey,
          reverseBytes(signed.signature!),
        ),
      ).toBe(true);
      const ciphertext = publicEncrypt(
        { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
        Buffer.from('for our plugin'),
      );
      const plain = await session.rsaDecrypt({
        version: 2,
        containerIndex: 1,
        keySpec: KeySpec.AT_KEYEXCHANGE,
        data: reverseBytes(new Uint8Array(ciphertext)),
        paddingType: CARD_PADDING_PKCS1,
      });
      // The minidriver returns the plaintext little-endian, like every CardRSADecrypt.
      expect(Buffer.from(reverseBytes(plain)).toString()).toBe('for our plugin');
    });
    // And OpenSC still lists both keys after our plugin used the card.
    const objects = await pkcs11Tool(slot, '--list-objects');
    expect(objects.output).toMatch(/label:\s+opensc/);
    expect(readFileSync(file('message'), 'utf8')).toContain('signed');
  });
});
