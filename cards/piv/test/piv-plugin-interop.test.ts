/**
 * Interop of OUR PLUGIN with the real PIV clients: the PIV simulator is served into pcscd through vpcd
 * ("Virtual PCD 00 01", port 35964) and the plugin talks to it through PC/SC (@minidriver/pcsc), like an
 * application would; yubico-piv-tool and OpenSC (pkcs15-tool, pkcs11-tool) use the same card unchanged.
 * 1. Keys generated and certificates written through the plugin are seen and used by OpenSC and
 *    yubico-piv-tool.
 * 2. A key and certificate created by yubico-piv-tool are read and used for signing through the plugin.
 * Skipped with a reason when pcscd or a tool is missing; with CI=true a missing tool fails the run.
 */
import { createHash, createPublicKey, type KeyObject, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFileName, decodeContainerMap, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { selfSignedByCard } from '@minidriver/conformance/interop';
import { acquireVpcdPortLock, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { issueCertificateWithOpenssl, pkcs11ToolKeyOperation } from '@minidriver/sim/testing';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_PKCS1,
  CONTAINER_MAP_VALID_CONTAINER,
  KeySpec,
  ROLE_ADMIN,
  reverseBytes,
} from '@minidriver/spec';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_MANAGEMENT_KEY, PivSimulator } from '../sim/index.js';
import { encryptManagementChallenge, plugin } from '../src/index.js';
import {
  describeInterop,
  findPkcs11SlotIndex,
  PORT,
  pivTestSignature,
  pivTool,
  READER,
  run,
  waitForPivCard,
  waitForReaderState,
  withPluginSession,
} from './interop-support.js';

const PIN = '123456';

const pinBytes = () => new TextEncoder().encode(PIN);
const sha256 = (data: Uint8Array | string) => new Uint8Array(createHash('sha256').update(data).digest());
const spkiOf = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
const derOfPem = (pem: Buffer | string) => new Uint8Array(new X509Certificate(pem).raw);

// Each client run takes 0.3-5 s through vpcd (OpenSC probes every reader): the defaults are too tight.
describeInterop('PIV plugin with real clients through pcscd + vpcd', 180_000, () => {
  const directory = mkdtempSync(join(tmpdir(), 'piv-plugin-interop-'));
  const file = (name: string) => join(directory, name);
  let releaseLock: (() => void) | undefined;
  let server: VpcdServer | undefined;

  /** Removes the card served before (if any) and serves `card` on READER until a client sees it. */
  async function serveFreshCard(card: PivSimulator): Promise<void> {
    await server?.close();
    server = undefined;
    // Also covers the card of the test file that held the port lock before us.
    await waitForReaderState(false);
    server = serveVpcd(card, { port: PORT });
    await server.connected;
    await waitForReaderState(true);
    await waitForPivCard(120);
  }

  beforeAll(async () => {
    // Every package's vpcd tests on this port take turns; we hold the reader for the whole file.
    releaseLock = await acquireVpcdPortLock(PORT);
  }, 400_000);

  afterAll(async () => {
    try {
      await server?.close();
      // The next lock holder's card must not arrive before pcscd has seen ours leave.
      if (server !== undefined) await waitForReaderState(false);
    } finally {
      releaseLock?.();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('keys generated and certificates written through the plugin are used by OpenSC and yubico-piv-tool', async () => {
    await serveFreshCard(new PivSimulator({ serial: 24681357 }));

    const { rsaKey, ecKey, rsaCertificate, ecCertificate } = await withPluginSession(plugin, async (session) => {
      const challenge = await session.getChallengeEx(ROLE_ADMIN);
      await session.authenticateEx(ROLE_ADMIN, 0, encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, challenge));
      await session.authenticatePin('user', pinBytes());
      // Container 0 = 9A (RSA there is a key-exchange key), container 3 = 9E (P-256 there is ECDSA).
      await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
      await session.createContainer(3, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
      const rsaKey = publicKeyBlobToKeyObject((await session.getContainerInfo(0)).keyExchangePublicKey!);
      const ecKey = publicKeyBlobToKeyObject((await session.getContainerInfo(3)).signaturePublicKey!);
      expect(rsaKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(ecKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

      // Self-signed by the card keys themselves, through the plugin's signData.
      const rsaCertificate = await selfSignedByCard(
        session,
        { containerIndex: 0, keySpec: KeySpec.AT_KEYEXCHANGE, publicKey: rsaKey },
        'plugin 9a',
      );
      const ecCertificate = await selfSignedByCard(
        session,
        { containerIndex: 3, keySpec: KeySpec.AT_ECDSA_P256, publicKey: ecKey },
        'plugin 9e',
      );
      expect(new X509Certificate(rsaCertificate).verify(rsaKey)).toBe(true);
      expect(new X509Certificate(ecCertificate).verify(ecKey)).toBe(true);
      await session.writeFile('mscp', certificateFileName('kxc', 0), rsaCertificate);
      await session.writeFile('mscp', certificateFileName('ksc', 3), ecCertificate);
      return { rsaKey, ecKey, rsaCertificate, ecCertificate };
    });

    // OpenSC pkcs15-tool: both certificates listed (PIV ids 01 = 9A, 04 = 9E) and read back byte for byte.
    const listed = await run('pkcs15-tool', ['--reader', READER, '--list-certificates']);
    expect(listed.code).toBe(0);
    expect(listed.output).toMatch(/X\.509 Certificate \[Certificate for PIV Authentication\][\s\S]*?ID\s+: 01/);
    expect(listed.output).toMatch(/X\.509 Certificate \[Certificate for Card Authentication\][\s\S]*?ID\s+: 04/);
    const read01 = await run('pkcs15-tool', ['--reader', READER, '--read-certificate', '01']);
    expect(read01.code).toBe(0);
    expect(new X509Certificate(read01.stdout).subject).toBe('CN=plugin 9a');
    expect(derOfPem(read01.stdout)).toEqual(rsaCertificate);
    const read04 = await run('pkcs15-tool', ['--reader', READER, '--read-certificate', '04']);
    expect(new X509Certificate(read04.stdout).subject).toBe('CN=plugin 9e');
    expect(derOfPem(read04.stdout)).toEqual(ecCertificate);

    // OpenSC pkcs11-tool: signs with 9A and 9E; the signatures verify with the plugin's public keys.
    const slotIndex = await findPkcs11SlotIndex(5);
    const message = 'signed by OpenSC with a key our plugin generated\n';
    writeFileSync(file('message.txt'), message);
    const rsaSigned = await pkcs11ToolKeyOperation({
      token: ['--slot-index', slotIndex],
      pin: PIN,
      operation: 'sign',
      mechanism: 'SHA256-RSA-PKCS',
      id: '01',
      inputPath: file('message.txt'),
      outputPath: file('message.rsa.sig'),
    });
    expect(rsaSigned.code, rsaSigned.output).toBe(0);
    expect(verify('sha256', Buffer.from(message), rsaKey, readFileSync(file('message.rsa.sig')))).toBe(true);
    // The plugin's CardCreateContainer bound the 9E key to the user PIN (policy "once").
    const ecSigned = await pkcs11ToolKeyOperation({
      token: ['--slot-index', slotIndex],
      pin: PIN,
      operation: 'sign',
      mechanism: 'ECDSA-SHA256',
      id: '04',
      inputPath: file('message.txt'),
      outputPath: file('message.ec.sig'),
    });
    expect(ecSigned.code, ecSigned.output).toBe(0);
    // pkcs11-tool writes the raw PKCS #11 form r‖s.
    expect(
      verify(
        'sha256',
        Buffer.from(message),
        { key: ecKey, dsaEncoding: 'ieee-p1363' },
        readFileSync(file('message.ec.sig')),
      ),
    ).toBe(true);

    // yubico-piv-tool: reads our certificates and test-signs with the keys behind them.
    const readA = await pivTool('-a', 'read-certificate', '-s', '9a');
    expect(readA.code, readA.output).toBe(0);
    expect(derOfPem(readA.stdout)).toEqual(rsaCertificate);
    writeFileSync(file('9a.cert.pem'), readA.stdout);
    const testedA = await pivTestSignature('9a', file('9a.cert.pem'), PIN);
    expect(testedA.code, testedA.output).toBe(0);
    expect(testedA.output).toContain('Successful RSA verification');
    const readE = await pivTool('-a', 'read-certificate', '-s', '9e');
    expect(derOfPem(readE.stdout)).toEqual(ecCertificate);
    writeFileSync(file('9e.cert.pem'), readE.stdout);
    // CardCreateContainer binds a new key to ROLE_USER (PIN policy "once"), so 9E needs the PIN here too.
    const testedE = await pivTestSignature('9e', file('9e.cert.pem'), PIN);
    expect(testedE.code, testedE.output).toBe(0);
    expect(testedE.output).toContain('Successful ECDSA verification');
  });

  it('a key and certificate created by yubico-piv-tool are read and used for signing through the plugin', async () => {
    await serveFreshCard(new PivSimulator({ serial: 13579246 }));

    // yubico-piv-tool authenticates with the default management key itself.
    const generated = await pivTool('-a', 'generate', '-s', '9a', '-A', 'RSA2048', '-o', file('tool.pub.pem'));
    expect(generated.output).toContain('Successfully generated a new private key');
    // yubico-piv-tool 2.2 + OpenSSL 3 cannot self-sign (Yubico/yubico-piv-tool#388): a throwaway CA issues it.
    await issueCertificateWithOpenssl({
      publicKeyPath: file('tool.pub.pem'),
      commonName: 'yubico-piv-tool 9a',
      outputPath: file('tool.cert.pem'),
      workDirectory: directory,
      caKey: 'p-256',
    });
    const imported = await pivTool('-a', 'import-certificate', '-s', '9a', '-i', file('tool.cert.pem'));
    expect(imported.output).toContain('Successfully imported a new certificate');
    const toolKey = createPublicKey(readFileSync(file('tool.pub.pem')));
    const toolCertificate = derOfPem(readFileSync(file('tool.cert.pem')));

    await withPluginSession(plugin, async (session) => {
      const records = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
      expect(records[0]!.flags & CONTAINER_MAP_VALID_CONTAINER).toBe(CONTAINER_MAP_VALID_CONTAINER);
      expect(records[0]!.keyExchangeKeySizeBits).toBe(2048);
      expect(records.slice(1).every((record) => record.flags === 0)).toBe(true);
      expect(await session.readFile('mscp', certificateFileName('kxc', 0))).toEqual(toolCertificate);
      const info = await session.getContainerInfo(0);
      expect(info.signaturePublicKey).toBeUndefined();
      expect(spkiOf(publicKeyBlobToKeyObject(info.keyExchangePublicKey!))).toEqual(spkiOf(toolKey));

      await session.authenticatePin('user', pinBytes());
      const message = 'signed through our plugin with a key yubico-piv-tool generated';
      const signed = await session.signData({
        version: 2,
        containerIndex: 0,
        keySpec: KeySpec.AT_KEYEXCHANGE,
        signingFlags: CARD_PADDING_INFO_PRESENT,
        hashAlgorithmId: 0,
        data: sha256(message),
        paddingType: CARD_PADDING_PKCS1,
        paddingInfo: { algorithm: 'SHA256' },
      });
      expect(signed.signature!.length).toBe(256);
      // The minidriver interface returns RSA signatures little-endian.
      expect(verify('sha256', Buffer.from(message), toolKey, reverseBytes(signed.signature!))).toBe(true);
      expect(
        verify(
          'sha256',
          Buffer.from(message),
          new X509Certificate(toolCertificate).publicKey,
          reverseBytes(signed.signature!),
        ),
      ).toBe(true);
    });
  });
});
