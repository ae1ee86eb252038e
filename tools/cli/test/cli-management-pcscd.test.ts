/**
 * Card management through the real PC/SC stack (#17): the simulated cards served into pcscd by
 * `minidriver sim serve`, managed with `minidriver --reader ...`, and cross-checked with the real tools —
 * yubico-piv-tool (attest, status, set-mgm-key, unblock-pin, reset) and GnuPG (`gpg --card-status`).
 * Skipped when the tools are missing (a failure when CI=true).
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithTools } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';
import { type ServedCard, serveCard } from './served-card.js';

const DEFAULT_KEY = '010203040506070801020304050607080102030405060708';

describeWithTools(['pcscd', 'yubico-piv-tool', 'openssl'], 'PIV management through pcscd', () => {
  let stateDirectory: string;
  let served: ServedCard;
  const run = (args: string[], env: Record<string, string> = {}, input?: string) =>
    runCli(['--reader', served.reader, ...args], {
      stateDirectory,
      env: { PIN: '123456', ...env },
      ...(input === undefined ? {} : { input }),
    });
  const pivTool = (...args: string[]) =>
    spawnSync('yubico-piv-tool', ['-r', served.reader, ...args], { encoding: 'utf8', timeout: 60_000 });

  beforeAll(async () => {
    ensureBuilt();
    stateDirectory = temporaryStateDirectory();
    served = await serveCard('piv', 35963, stateDirectory);
  }, 600_000);

  afterAll(async () => {
    await served?.stop();
    if (stateDirectory) rmSync(stateDirectory, { recursive: true, force: true });
  });

  it('keygen with PIN and touch policies, attestation, CSR: ours and yubico-piv-tool agree', async () => {
    const keygen = await run([
      'keygen',
      '--container',
      '9a',
      '--alg',
      'p256',
      '--pin-policy',
      'once',
      '--touch-policy',
      'cached',
      '--admin-key',
      'default',
      '--json',
    ]);
    expect(keygen.status, keygen.stderr).toBe(0);
    const publicKey = createPublicKey(JSON.parse(keygen.stdout).publicKey);
    const ours = await run(['piv', 'attest', '9a']);
    expect(ours.status, ours.stderr).toBe(0);
    const attested = new X509Certificate(ours.stdout);
    expect(attested.publicKey.equals(publicKey)).toBe(true);
    // yubico-piv-tool's attest (INS F9) gets a certificate for the same key, from the same F9 issuer.
    const theirs = pivTool('-a', 'attest', '-s', '9a');
    expect(theirs.status, theirs.stderr).toBe(0);
    const theirCertificate = new X509Certificate(theirs.stdout);
    expect(theirCertificate.publicKey.equals(publicKey)).toBe(true);
    expect(theirCertificate.issuer).toBe(attested.issuer);
    const info = JSON.parse((await run(['piv', 'info', '--json'])).stdout);
    expect(info.slots).toContainEqual({
      slot: '9a',
      algorithm: 'p256',
      pinPolicy: 'once',
      touchPolicy: 'cached',
      origin: 'generated',
    });
    const csrFile = join(stateDirectory, 'req.csr');
    const csr = await run([
      'csr',
      '--container',
      '9a',
      '--subject',
      'CN=Through pcscd',
      '--pin-env',
      'PIN',
      '--out',
      csrFile,
    ]);
    expect(csr.status, csr.stderr).toBe(0);
    const checked = spawnSync('openssl', ['req', '-in', csrFile, '-noout', '-verify'], { encoding: 'utf8' });
    expect(`${checked.stdout}${checked.stderr}`).toMatch(/verify OK/i);
  });

  it('retry limits set by minidriver are what yubico-piv-tool reports; a PUK we change unblocks in yubico-piv-tool', async () => {
    const set = await run(['piv', 'set-retries', '5', '7', '--admin-key', 'default', '--pin-env', 'PIN', '--force']);
    expect(set.status, set.stderr).toBe(0);
    const status = pivTool('-a', 'status');
    expect(status.stdout).toMatch(/PIN tries left:\s+5/);
    const puk = await run(['pin', 'change', '--role', 'puk', '--pin-stdin'], {}, '12345678\n11223344\n');
    expect(puk.status, puk.stderr).toBe(0);
    const unblock = pivTool('-a', 'unblock-pin', '-P', '11223344', '-N', '135790');
    expect(unblock.status, `${unblock.stdout}${unblock.stderr}`).toBe(0);
    expect((await run(['pin', 'verify', '--pin-env', 'NEW'], { NEW: '135790' })).status).toBe(0);
  });

  it('a management key yubico-piv-tool sets is the one minidriver uses, and the one minidriver sets back works in yubico-piv-tool', async () => {
    // This yubico-piv-tool sets 3DES management keys only (-A has no AES choices); AES is covered with
    // minidriver alone (cli-management.test.ts).
    const fresh = '00112233445566778899aabbccddeeff0011223344556677';
    const setByTool = pivTool(`--key=${DEFAULT_KEY}`, '-a', 'set-mgm-key', '-n', fresh);
    expect(setByTool.status, `${setByTool.stdout}${setByTool.stderr}`).toBe(0);
    expect(JSON.parse((await run(['piv', 'info', '--json'])).stdout).managementKey).toMatchObject({
      algorithm: '3des',
      isDefault: false,
    });
    const refused = await run(['keygen', '--container', '9d', '--alg', 'rsa2048', '--admin-key', 'default']);
    expect(refused.stderr).toContain('SCARD_W_WRONG_CHV');
    const used = await run(['keygen', '--container', '9d', '--alg', 'rsa2048', '--admin-key-env', 'KEY'], {
      KEY: fresh,
    });
    expect(used.status, used.stderr).toBe(0);
    const back = await run(
      ['piv', 'set-management-key', '--algorithm', '3des', '--new-key-env', 'NEW', '--admin-key-env', 'OLD', '--json'],
      {
        NEW: DEFAULT_KEY,
        OLD: fresh,
      },
    );
    expect(back.status, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).via).toBe('contract');
    const usedByTool = pivTool(`--key=${DEFAULT_KEY}`, '-a', 'delete-certificate', '-s', '9c');
    expect(usedByTool.status, `${usedByTool.stdout}${usedByTool.stderr}`).toBe(0);
  });

  it('resets: yubico-piv-tool -a reset once PIN and PUK are blocked, and minidriver piv reset on its own', async () => {
    for (let i = 0; i < 5; i++) pivTool('-a', 'verify-pin', '-P', '000000');
    for (let i = 0; i < 7; i++) pivTool('-a', 'change-puk', '-P', '00000000', '-N', '00000001');
    const reset = pivTool('-a', 'reset');
    expect(reset.status, `${reset.stdout}${reset.stderr}`).toBe(0);
    expect((await run(['pin', 'verify', '--pin-env', 'PIN'])).status).toBe(0);
    expect((await run(['keygen', '--container', '9c', '--alg', 'p256', '--admin-key', 'default'])).status).toBe(0);
    const ours = await run(['piv', 'reset', '--force']);
    expect(ours.status, ours.stderr).toBe(0);
    expect(JSON.parse((await run(['containers', '--json'])).stdout).containers).toEqual([]);
    expect(pivTool('-a', 'verify-pin', '-P', '123456').status).toBe(0);
  });
});

describeWithTools(['pcscd', 'gpg', 'gpgconf'], 'OpenPGP management through pcscd', () => {
  let stateDirectory: string;
  let gnupgHome: string;
  let served: ServedCard;
  const run = (args: string[]) =>
    runCli(['--reader', served.reader, ...args], { stateDirectory, env: { PW3: '12345678' } });
  /** `gpg --card-status`, again after a pause while a restarted scdaemon is not ready (Broken pipe). */
  const cardStatus = async () => {
    let result = spawnSync('true', { encoding: 'utf8' });
    for (let attempt = 0; attempt < 5; attempt++) {
      result = spawnSync('gpg', ['--batch', '--card-status'], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, GNUPGHOME: gnupgHome, LC_ALL: 'C', LANGUAGE: 'C' },
      });
      if (result.status === 0) break;
      await sleep(1000);
    }
    return result;
  };

  beforeAll(async () => {
    ensureBuilt();
    stateDirectory = temporaryStateDirectory();
    gnupgHome = mkdtempSync(join(tmpdir(), 'minidriver-cli-gnupg-'));
    served = await serveCard('openpgp', 35964, stateDirectory);
    writeFileSync(join(gnupgHome, 'scdaemon.conf'), `disable-ccid\nreader-port ${served.reader}\ncard-timeout 1\n`);
  }, 600_000);

  afterAll(async () => {
    spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: gnupgHome } });
    await served?.stop();
    if (stateDirectory) rmSync(stateDirectory, { recursive: true, force: true });
    if (gnupgHome) rmSync(gnupgHome, { recursive: true, force: true });
  });

  it('cardholder data set by minidriver is what gpg --card-status shows; key attributes agree', async () => {
    const set = await run([
      'openpgp',
      'cardholder',
      '--name',
      'Doe<<Jane',
      '--language',
      'en',
      '--sex',
      'female',
      '--url',
      'https://example.org/jane.asc',
      '--admin-pin-env',
      'PW3',
    ]);
    expect(set.status, set.stderr).toBe(0);
    expect((await run(['keygen', '--container', 'sig', '--alg', 'rsa2048', '--admin-pin-env', 'PW3'])).status).toBe(0);
    const keys = JSON.parse((await run(['openpgp', 'keys', '--json'])).stdout).keys;
    spawnSync('gpgconf', ['--kill', 'scdaemon'], { env: { ...process.env, GNUPGHOME: gnupgHome } });
    const status = await cardStatus();
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/Name of cardholder: Jane Doe/);
    expect(status.stdout).toMatch(/Language prefs \.*: en/);
    expect(status.stdout).toMatch(/URL of public key : https:\/\/example\.org\/jane\.asc/);
    expect(status.stdout).toMatch(/Key attributes \.*: rsa2048/);
    // gpg prints the signature key's fingerprint in groups of four hex digits.
    const grouped = (keys[0].fingerprint as string).toUpperCase().match(/.{4}/g)?.join(' ');
    expect(status.stdout.replace(/ {2}/g, ' ')).toContain(grouped as string);
  });

  it('openpgp reset through pcscd: gpg then sees an empty card', async () => {
    // scdaemon keeps the reader until it is stopped.
    spawnSync('gpgconf', ['--kill', 'scdaemon'], { env: { ...process.env, GNUPGHOME: gnupgHome } });
    const reset = await run(['openpgp', 'reset', '--force']);
    expect(reset.status, reset.stderr).toBe(0);
    spawnSync('gpgconf', ['--kill', 'scdaemon'], { env: { ...process.env, GNUPGHOME: gnupgHome } });
    const status = await cardStatus();
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/Name of cardholder: \[not set\]/);
    expect(status.stdout).toMatch(/Signature key \.*: \[none\]/);
  });
});
