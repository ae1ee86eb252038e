/**
 * Fidelity tests: the GIDS simulator served into pcscd through vpcd, driven unchanged by OpenSC, which knows
 * GIDS cards independently (card-gids.c, pkcs15-gids.c, gids-tool.c): gids-tool personalizes a blank card,
 * opensc-tool and pkcs15-tool recognise it, pkcs11-tool generates a key, writes a certificate and signs, and
 * openssl verifies the signature.
 */
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  describeWithTools,
  issueCertificateWithOpenssl,
  opensslVerify,
  pkcs11ToolKeyOperation,
} from '@minidriver/sim/testing';
import { expect, it, vi } from 'vitest';
import {
  GIDS_INTEROP_TOOLS,
  gidsToolInitialize,
  pkcs11SlotIndex,
  pkcs11Tool,
  serveForOpenSc,
  tool,
} from '../test/interop-support.js';
import { GidsSimulator } from './gids-simulator.js';

const ADMIN_KEY = '0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080';
const SERIAL = '00112233445566778899aabbccddeeff';
const PIN = '246810';

describeWithTools(GIDS_INTEROP_TOOLS, 'GIDS simulator with OpenSC through pcscd + vpcd', () => {
  // Each OpenSC run takes 1-5 s through vpcd (it probes every reader).
  vi.setConfig({ testTimeout: 180_000 });
  const card = new GidsSimulator({ blank: true });
  const served = serveForOpenSc(card, 'gids-interop-');
  const file = served.file;
  let slot = '';

  it('opensc-tool names the card a GIDS card', async () => {
    const result = await tool('opensc-tool', ['--reader', served.reader, '--name']);
    expect(result.output).toContain('GIDS');
  });

  it('gids-tool --initialize personalizes the blank card (PIN, admin key, serial)', async () => {
    const result = await gidsToolInitialize(served.reader, { serial: SERIAL, adminKey: ADMIN_KEY, pin: PIN });
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toContain('failed');
    expect(card.operational).toBe(true);
    const dump = await tool('gids-tool', ['--reader', served.reader]);
    expect(dump.output).toContain('Found 5 entries in the masterfile');
    expect(dump.output).toMatch(/File: \\cardcf\s+FileIdentifier: 0xa010\s+DataObjectIdentifier: 0xdf22\s+Size: 6/);
    expect(dump.output).toContain('no container found');
  });

  it('pkcs15-tool reads the serial number (cardid) and the PIN', async () => {
    const result = await tool('pkcs15-tool', ['--reader', served.reader, '--dump']);
    expect(result.output).toContain(`Serial number  : ${SERIAL}`);
    expect(result.output).toMatch(/UserPIN[\s\S]*Tries left\s*: 3/);
  });

  it('gids-tool authenticates with the admin key (mutual 3DES) and unblocks the PIN', async () => {
    const wrong = await tool('gids-tool', [
      '--reader',
      served.reader,
      '--unblock',
      '--admin-key',
      '00'.repeat(24),
      '--pin',
      PIN,
    ]);
    expect(wrong.code).not.toBe(0);
    const result = await tool('gids-tool', [
      '--reader',
      served.reader,
      '--unblock',
      '--admin-key',
      ADMIN_KEY,
      '--pin',
      PIN,
    ]);
    expect(result.output).toContain('Administrator authentication successful');
    expect(result.output).toContain('Unblock PIN done successfully');
  });

  it('pkcs11-tool generates an RSA 2048 key, and its signature verifies with openssl', async () => {
    slot = await pkcs11SlotIndex();
    const generated = await pkcs11Tool(
      slot,
      ...['--login', '--pin', PIN, '--keypairgen', '--key-type', 'rsa:2048', '--id', '01', '--label', 'opensc key'],
    );
    expect(generated.code, generated.output).toBe(0);
    // Read back through the card: the PKCS #15 emulation names keys by container index (container 0 → ID 00)
    // and labels them with the cmapfile container name.
    const listed = await pkcs11Tool(slot, '--list-objects');
    expect(listed.output).toMatch(/Public Key Object; RSA 2048 bits\s+label:\s+opensc key\s+ID:\s+00/);
    writeFileSync(file('message'), 'signed through OpenSC');
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
    const exported = await pkcs11Tool(
      slot,
      ...['--read-object', '--type', 'pubkey', '--id', '00', '--output-file', file('pub.der')],
    );
    expect(exported.code, exported.output).toBe(0);
    const publicKey = createPublicKey({ key: readFileSync(file('pub.der')), format: 'der', type: 'spki' });
    expect(verify('sha256', readFileSync(file('message')), publicKey, readFileSync(file('signature')))).toBe(true);
    const opensslKey = await tool('openssl', [
      'pkey',
      '-pubin',
      '-inform',
      'DER',
      '-in',
      file('pub.der'),
      '-out',
      file('pub.pem'),
    ]);
    expect(opensslKey.code, opensslKey.output).toBe(0);
    const checked = await opensslVerify({
      digest: 'sha256',
      publicKeyPath: file('pub.pem'),
      signaturePath: file('signature'),
      dataPath: file('message'),
    });
    expect(checked.output).toContain('Verified OK');
  });

  it('pkcs11-tool stores a certificate (compressed on the card) that pkcs15-tool lists, and decrypts with the key', async () => {
    await issueCertificateWithOpenssl({
      publicKeyPath: file('pub.pem'),
      commonName: 'GIDS opensc key',
      outputPath: file('cert.der'),
      outputFormat: 'DER',
      workDirectory: served.directory,
      caKey: 'rsa-2048',
      caCommonName: 'GIDS interop CA',
    });
    const written = await pkcs11Tool(
      slot,
      ...[
        '--login',
        '--pin',
        PIN,
        '--write-object',
        file('cert.der'),
        '--type',
        'cert',
        '--id',
        '00',
        '--label',
        'opensc key',
      ],
    );
    expect(written.code, written.output).toBe(0);
    // mscp/kxc00 is the first DO after cmapfile: A010 / DF24, in the minidriver compressed format (01 00 ‖ length ‖ zlib).
    const stored = card.dataObject(0xa010, 0xdf24);
    expect(stored?.subarray(0, 2)).toEqual(Uint8Array.of(0x01, 0x00));
    expect(stored![2]! | (stored![3]! << 8)).toBe(readFileSync(file('cert.der')).length);
    const listed = await tool('pkcs15-tool', ['--reader', served.reader, '--list-certificates']);
    expect(listed.output).toMatch(/X\.509 Certificate \[opensc key\][\s\S]*ID\s*: 00/);
    const read = await tool('pkcs15-tool', ['--reader', served.reader, '--read-certificate', '00']);
    expect(read.output).toContain('-----BEGIN CERTIFICATE-----');
    writeFileSync(file('secret'), 'a secret for the card');
    const encrypted = await tool('openssl', [
      'pkeyutl',
      '-encrypt',
      '-pubin',
      '-inkey',
      file('pub.pem'),
      '-in',
      file('secret'),
      '-out',
      file('secret.enc'),
    ]);
    expect(encrypted.code).toBe(0);
    const decrypted = await pkcs11ToolKeyOperation({
      token: ['--slot-index', slot],
      pin: PIN,
      operation: 'decrypt',
      mechanism: 'RSA-PKCS',
      id: '00',
      inputPath: file('secret.enc'),
      outputPath: file('secret.out'),
    });
    expect(decrypted.code, decrypted.output).toBe(0);
    expect(readFileSync(file('secret.out'), 'utf8')).toBe('a secret for the card');
  });
});
