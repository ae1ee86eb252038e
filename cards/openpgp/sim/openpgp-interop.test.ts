/**
 * Fidelity: the simulator served through pcscd + vpcd ("Virtual PCD 00 01", port 35964) and driven by
 * independent clients — GnuPG's scdaemon (card status, on-card key generation, signing, verification)
 * and OpenSC (openpgp-tool, pkcs15-tool). Skipped with a reason when a tool or pcscd is missing; with
 * CI=true a missing tool fails the run. The port is shared with the PIV interop tests: both take the
 * lock file /tmp/minidriver-vpcd-35964.lock first.
 */
import { constants, createPublicKey, publicEncrypt, verify as verifySignature } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkcs11ToolKeyOperation, serveVpcdForSuite } from '@minidriver/sim/testing';
import { expect, it } from 'vitest';
import {
  describeInterop,
  driveGpg,
  gnupgHomeForSuite,
  gpgCardGenerate,
  gpgDetachSign,
  gpgVerify,
  PORT,
  READER,
  run,
  waitForOpenPgpCard,
} from '../test/interop-support.js';
import { OpenPgpSimulator } from './openpgp-simulator.js';

// With loopback pinentry gpg asks every PIN with the same prompt (passphrase.enter) and does not say
// which one it wants, so this card gets PW1 = PW3: every answer is right.
const PIN = '12345678';

// The decryption and authentication tests also go through OpenSC's PKCS #11 module (pkcs11-tool).
describeInterop(`OpenPGP simulator through pcscd (${READER}) with GnuPG and OpenSC`, ['pkcs11-tool'], () => {
  const commands: string[] = [];
  const statusWords: string[] = [];
  const card = new OpenPgpSimulator({ serial: 0x12345678, manufacturer: 0xffff, pw1: PIN, pw3: PIN });

  serveVpcdForSuite(card, {
    port: PORT,
    onApdu: (command, response) => {
      commands.push(Buffer.from(command).toString('hex'));
      statusWords.push(Buffer.from(response.subarray(response.length - 2)).toString('hex'));
    },
    // Wait until pcscd has polled the reader and powered the card.
    ready: async () => {
      await waitForOpenPgpCard(40);
    },
    setupTimeoutMs: 600_000,
  });
  const gnupg = gnupgHomeForSuite('openpgp-sim-gnupg-');

  it('gpg --card-status reads the AID, version, serial, PIN counters and empty key slots', async () => {
    const status = await run('gpg', ['--card-status'], gnupg.env);
    expect(status.stderr).not.toMatch(/error|failed/i);
    expect(status.stdout).toMatch(/Application ID \.+: D2760001240103 ?04FFFF123456780000/);
    expect(status.stdout).toMatch(/Version \.+: 3\.4/);
    expect(status.stdout).toMatch(/Serial number \.+: 12345678/);
    expect(status.stdout).toMatch(/PIN retry counter : 3 0 3/);
    expect(status.stdout).toMatch(/Signature key \.+: \[none\]/);
    expect(status.stdout).toMatch(/Key attributes \.+: rsa2048 rsa2048 rsa2048/);
  }, 60_000);

  it('generates the three keys on the card with gpg --card-edit (admin, generate)', async () => {
    const { result, prompts } = await gpgCardGenerate(gnupg.env, {
      pin: PIN,
      name: 'Simulated Card',
      email: 'sim@example.org',
    });
    expect(result.stdout, `${result.stderr}\nprompts: ${prompts.join(', ')}`).toMatch(/KEY_CREATED B/);
    const status = await run('gpg', ['--card-status'], gnupg.env);
    expect(status.stdout).not.toMatch(/Signature key \.+: \[none\]/);
    expect(status.stdout).toMatch(/Signature counter : \d+/);
  }, 300_000);

  it('signs a file with the card key and gpg --verify accepts the signature', async () => {
    const file = join(gnupg.home, 'message.txt');
    const pinFile = join(gnupg.home, 'pin.txt');
    writeFileSync(file, 'signed by the simulated OpenPGP card\n');
    writeFileSync(pinFile, `${PIN}\n`);
    const signed = await gpgDetachSign(gnupg.env, 'sim@example.org', file, { file: pinFile });
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await gpgVerify(gnupg.env, file);
    expect(verified.stdout, verified.stderr).toMatch(/\[GNUPG:\] GOODSIG/);
    expect(verified.stdout).toMatch(/\[GNUPG:\] VALIDSIG/);
  }, 120_000);

  it('openpgp-tool reads card and key information once scdaemon lets the reader go', async () => {
    await run('gpgconf', ['--kill', 'scdaemon'], gnupg.env);
    const result = await run('openpgp-tool', ['--reader', READER, '--card-info', '--key-info']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/AID:\s+d2:76:00:01:24:01:03:04:ff:ff:12:34:56:78:00:00/);
    expect(result.stdout).toMatch(/Version:\s+3\.4/);
    expect(result.stdout).toMatch(/Serial number:\s+12345678/);
    expect(result.stdout).toMatch(/Sig Algorithm:\s+RSA2048/);
    expect(result.stdout).toMatch(/Sig Fingerprint:\s+([0-9a-f]{2}:){19}[0-9a-f]{2}/);
  }, 60_000);

  it('pkcs15-tool --list-keys shows the three keys gpg generated', async () => {
    const result = await run('pkcs15-tool', ['--reader', READER, '--list-keys']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Signature key/);
    expect(result.stdout).toMatch(/Encryption key/);
    expect(result.stdout).toMatch(/Authentication key/);
    expect(result.stdout).toMatch(/ModLength\s+: 2048/);
  }, 60_000);

  it('OpenSC signs with the AUT key (INTERNAL AUTHENTICATE) and deciphers with the DEC key (PSO:DECIPHER)', async () => {
    const token = ['--token-label', 'OpenPGP card (User PIN)'];
    const readPublicKey = async (id: string) => {
      const path = join(gnupg.home, `public-${id}.der`);
      const read = await run('pkcs11-tool', [
        ...token,
        '--read-object',
        '--type',
        'pubkey',
        '--id',
        id,
        '--output-file',
        path,
      ]);
      expect(read.code, read.stderr).toBe(0);
      const der = readFileSync(path);
      try {
        return createPublicKey({ key: der, format: 'der', type: 'spki' });
      } catch {
        return createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
      }
    };
    const message = join(gnupg.home, 'pkcs11-message.txt');
    writeFileSync(message, 'authenticate me');
    const signature = join(gnupg.home, 'pkcs11-message.sig');
    const signed = await pkcs11ToolKeyOperation({
      token,
      pin: PIN,
      operation: 'sign',
      mechanism: 'SHA256-RSA-PKCS',
      id: '03',
      inputPath: message,
      outputPath: signature,
    });
    expect(signed.code, signed.stderr).toBe(0);
    const authenticationKey = await readPublicKey('03');
    expect(verifySignature('sha256', readFileSync(message), authenticationKey, readFileSync(signature))).toBe(true);

    const secret = Buffer.from('a session key from OpenSC');
    const cryptogram = join(gnupg.home, 'pkcs11-cryptogram.bin');
    const plaintext = join(gnupg.home, 'pkcs11-plaintext.bin');
    const decryptionKey = await readPublicKey('02');
    writeFileSync(cryptogram, publicEncrypt({ key: decryptionKey, padding: constants.RSA_PKCS1_PADDING }, secret));
    const decrypted = await pkcs11ToolKeyOperation({
      token,
      pin: PIN,
      operation: 'decrypt',
      mechanism: 'RSA-PKCS',
      id: '02',
      inputPath: cryptogram,
      outputPath: plaintext,
    });
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(readFileSync(plaintext).equals(secret)).toBe(true);
  }, 120_000);

  it('imports a software NIST P-256 key with gpg keytocard (PUT DATA odd 4D) and signs with it', async () => {
    const created = await run(
      'gpg',
      [
        '--batch',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        '',
        '--quick-gen-key',
        'Imported Key <import@example.org>',
        'nistp256',
        'sign',
        'never',
      ],
      gnupg.env,
    );
    expect(created.code, created.stderr).toBe(0);
    let editPrompts = 0;
    const prompts: string[] = [];
    const moved = await driveGpg(
      ['--pinentry-mode', 'loopback', '--edit-key', 'import@example.org'],
      gnupg.env,
      (keyword) => {
        prompts.push(keyword);
        switch (keyword) {
          case 'keyedit.prompt':
            editPrompts += 1;
            return editPrompts === 1 ? 'keytocard' : editPrompts === 2 ? 'save' : 'quit';
          case 'keyedit.keytocard.use_primary':
          case 'cardedit.genkeys.replace_key':
            return 'y';
          case 'cardedit.genkeys.storekeytype':
            return '1';
          case 'passphrase.enter':
            return PIN;
          default:
            return '';
        }
      },
    );
    expect(moved.code, `${moved.stderr}\nprompts: ${prompts.join(', ')}`).toBe(0);
    const status = await run('gpg', ['--card-status'], gnupg.env);
    expect(status.stdout).toMatch(/Key attributes \.+: nistp256 rsa2048 rsa2048/);
    const file = join(gnupg.home, 'imported.txt');
    const pinFile = join(gnupg.home, 'pin.txt');
    writeFileSync(file, 'signed with an imported key\n');
    const signed = await gpgDetachSign(gnupg.env, 'import@example.org', file, { file: pinFile });
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await gpgVerify(gnupg.env, file);
    expect(verified.stdout, verified.stderr).toMatch(/\[GNUPG:\] GOODSIG/);
  }, 180_000);

  it('was driven through VERIFY, GENERATE, PUT DATA (even and odd), PSO, INTERNAL AUTHENTICATE and SELECT DATA', () => {
    // The instructions the clients sent (besides probes of other card types, which get 6A82 / 6D00).
    const instructions = new Set(commands.map((command) => command.slice(2, 4)));
    for (const ins of ['a4', 'ca', '20', '47', 'da', 'db', '2a', '88', 'a5']) expect(instructions).toContain(ins);
    // 6F00 would be the simulator failing internally.
    expect(statusWords).not.toContain('6f00');
    if (process.env['OPENPGP_INTEROP_TRACE']) {
      const seen = new Map<string, number>();
      commands.forEach((command, index) => {
        const key = `${command.slice(0, 8)} -> ${statusWords[index]}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      });
      console.log([...seen].map(([key, count]) => `${key} x${count}`).join('\n'));
    }
  });
});
