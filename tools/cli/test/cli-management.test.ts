/**
 * Card management through the built `minidriver` binary on the built-in simulated cards (#17): PIV reset,
 * management key (3DES, AES-128/192/256), PUK change, retry limits, private-key import, CSR, attestation,
 * PIN/touch policy at keygen; OpenPGP reset, cardholder data, key attributes, Resetting Code; `--pem` and
 * `-` for stdin/stdout; destructive commands; PIN messages; slot names; `sim serve` reader names and errors.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, verify, X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vpcdReaderName } from '../src/commands/sim-serve.js';
import { BIN, ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';

const PIN = '123456';
const PUK = '12345678';
const DEFAULT_KEY = '010203040506070801020304050607080102030405060708';
let stateDirectory: string;
const env = { PIN, PUK, PW3: '12345678' };
const run = (args: string[], options: { env?: Record<string, string>; input?: string } = {}) =>
  runCli(args, { stateDirectory, ...options, env: { ...env, ...options.env } });
const piv = (...args: string[]) => ['--sim', 'piv', ...args];
const pgp = (...args: string[]) => ['--sim', 'openpgp', ...args];
const file = (name: string) => join(stateDirectory, name);
const fresh = () => {
  rmSync(file('sim-piv.json'), { force: true });
  rmSync(file('sim-openpgp.json'), { force: true });
};

beforeAll(() => {
  ensureBuilt();
  stateDirectory = temporaryStateDirectory();
}, 300_000);

afterAll(() => {
  rmSync(stateDirectory, { recursive: true, force: true });
});

describe('PIV management (--sim piv)', () => {
  it('piv reset says what it destroys, needs --force off a terminal, and restores the factory state', async () => {
    fresh();
    expect((await run(piv('keygen', '--container', '9a', '--alg', 'p256', '--admin-key', 'default'))).status).toBe(0);
    const refused = await run(piv('piv', 'reset'));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('this destroys every PIV key and certificate on YubiKey 5');
    expect(refused.stderr).toContain('pass --force');
    const reset = await run(piv('piv', 'reset', '--force', '--json'));
    expect(reset.status, reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({ reset: true });
    expect(JSON.parse((await run(piv('containers', '--json'))).stdout).containers).toEqual([]);
    expect((await run(piv('pin', 'verify', '--pin-env', 'PIN'))).status).toBe(0);
  });

  it('changes the management key to AES-128, AES-192, AES-256 and back to 3DES; only the new key works', async () => {
    fresh();
    let current = DEFAULT_KEY;
    for (const [algorithm, bytes] of [
      ['aes128', 16],
      ['aes192', 24],
      ['aes256', 32],
      ['3des', 24],
    ] as const) {
      const next = randomBytes(bytes).toString('hex');
      const set = await run(
        piv(
          'piv',
          'set-management-key',
          '--algorithm',
          algorithm,
          '--new-key-env',
          'NEW',
          '--admin-key-env',
          'OLD',
          '--json',
        ),
        { env: { NEW: next, OLD: current } },
      );
      expect(set.status, set.stderr).toBe(0);
      expect(JSON.parse(set.stdout)).toMatchObject({ algorithm, touchRequired: false, via: 'management' });
      const info = JSON.parse((await run(piv('piv', 'info', '--json'))).stdout);
      expect(info.managementKey).toMatchObject({ algorithm, isDefault: false });
      const old = await run(piv('keygen', '--container', '9a', '--alg', 'p256', '--admin-key-env', 'OLD', '--force'), {
        env: { OLD: current },
      });
      expect(old.status).toBe(1);
      // The old key is refused: wrong (same length), or not even a key of the new algorithm.
      expect(old.stderr).toMatch(/SCARD_W_WRONG_CHV|does not fit/);
      current = next;
      const ok = await run(piv('keygen', '--container', '9a', '--alg', 'p256', '--admin-key-env', 'KEY', '--force'), {
        env: { KEY: current },
      });
      expect(ok.status, ok.stderr).toBe(0);
    }
    // Within the same algorithm the contract does it (changeAuthenticatorEx).
    const same = await run(
      piv(
        'piv',
        'set-management-key',
        '--algorithm',
        '3des',
        '--new-key-env',
        'NEW',
        '--admin-key-env',
        'OLD',
        '--json',
      ),
      {
        env: { NEW: DEFAULT_KEY, OLD: current },
      },
    );
    expect(JSON.parse(same.stdout)).toMatchObject({ algorithm: '3des', via: 'contract' });
    const touch = await run(
      piv('piv', 'set-management-key', '--algorithm', 'aes256', '--generate', '--touch', '--admin-key', 'default'),
    );
    expect(touch.status, touch.stderr).toBe(0);
    expect(touch.stderr).toMatch(/new management key \(keep it safe; it is not shown again\): [0-9a-f]{64}/);
    expect(JSON.parse((await run(piv('piv', 'info', '--json'))).stdout).managementKey.touchRequired).toBe(true);
    const badLength = await run(piv('piv', 'set-management-key', '--algorithm', 'aes128', '--new-key-env', 'NEW'), {
      env: { NEW: DEFAULT_KEY },
    });
    expect(badLength.status).toBe(2);
    expect(badLength.stderr).toContain('a aes128 management key is 16 bytes');
  });

  it('changes the PUK (pin change --role puk), and the new PUK unblocks the PIN', async () => {
    fresh();
    const changed = await run(piv('pin', 'change', '--role', 'puk', '--pin-stdin'), { input: `${PUK}\n87654321\n` });
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('PUK changed');
    const old = await run(piv('pin', 'unblock', '--pin-stdin'), { input: `${PUK}\n654321\n` });
    expect(old.status).toBe(1);
    expect(old.stderr).toContain('SCARD_W_WRONG_CHV');
    const unblocked = await run(piv('pin', 'unblock', '--pin-stdin'), { input: '87654321\n654321\n' });
    expect(unblocked.status, unblocked.stderr).toBe(0);
    expect((await run(piv('pin', 'verify', '--pin-env', 'NEWPIN'), { env: { NEWPIN: '654321' } })).status).toBe(0);
  });

  it('sets the PIN and PUK retry limits (needs --force: PIN and PUK go back to the defaults)', async () => {
    fresh();
    const refused = await run(piv('piv', 'set-retries', '5', '10', '--admin-key', 'default', '--pin-env', 'PIN'));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('they become 123456 and 12345678');
    const set = await run(
      piv('piv', 'set-retries', '5', '10', '--admin-key', 'default', '--pin-env', 'PIN', '--force'),
    );
    expect(set.status, set.stderr).toBe(0);
    const info = JSON.parse((await run(piv('piv', 'info', '--json'))).stdout);
    expect(info.pin).toEqual({ total: 5, left: 5 });
    expect(info.puk).toEqual({ total: 10, left: 10 });
    expect((await run(piv('piv', 'set-retries', '0', '10', '--force'))).status).toBe(2);
  });

  it('imports RSA and EC private keys (PEM, and DER from stdin) with a PIN policy', async () => {
    fresh();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(file('rsa.pem'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const imported = await run(
      piv('import-key', '--container', '9d', file('rsa.pem'), '--admin-key', 'default', '--json'),
    );
    expect(imported.status, imported.stderr).toBe(0);
    const document = JSON.parse(imported.stdout);
    expect(document).toMatchObject({ container: 2, algorithm: 'RSA', bits: 2048, pinPolicy: 'default' });
    expect(createPublicKey(document.publicKey).equals(rsa.publicKey)).toBe(true);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const der = ec.privateKey.export({ type: 'pkcs8', format: 'der' });
    // DER on stdin (`-`), as bytes.
    const ecImport = spawnSync(
      process.execPath,
      [
        BIN,
        ...piv('import-key', '--container', '9e', '-', '--admin-key', 'default', '--pin-policy', 'always', '--json'),
      ],
      { env: { ...process.env, MINIDRIVER_STATE_DIR: stateDirectory }, input: der },
    );
    expect(ecImport.status, ecImport.stderr.toString()).toBe(0);
    expect(createPublicKey(JSON.parse(ecImport.stdout.toString()).publicKey).equals(ec.publicKey)).toBe(true);
    // A key without PIN is outside the contract: said so, nothing imported.
    const never = await run(
      piv('import-key', '--container', '9a', file('rsa.pem'), '--admin-key', 'default', '--pin-policy', 'never'),
    );
    expect(never.status).toBe(1);
    expect(never.stderr).toContain('SCARD_E_UNSUPPORTED_FEATURE');
    const slots = JSON.parse((await run(piv('piv', 'info', '--json'))).stdout).slots;
    expect(slots).toContainEqual({
      slot: '9d',
      algorithm: 'rsa2048',
      pinPolicy: 'once',
      touchPolicy: 'never',
      origin: 'imported',
    });
    expect(slots).toContainEqual({
      slot: '9e',
      algorithm: 'p384',
      pinPolicy: 'always',
      touchPolicy: 'never',
      origin: 'imported',
    });
    // An imported key cannot be attested.
    const attest = await run(piv('piv', 'attest', '9d'));
    expect(attest.status).toBe(1);
    expect(attest.stderr).toContain('only a key generated on the card can be attested');
    writeFileSync(file('not-a-key.pem'), 'hello');
    expect((await run(piv('import-key', '--container', '9a', file('not-a-key.pem')))).stderr).toContain(
      'is not a private key',
    );
  });

  it('keygen takes PIN and touch policies; attestation is a certificate for that key, signed by slot F9', async () => {
    fresh();
    const keygen = await run(
      piv(
        'keygen',
        '--container',
        '9c',
        '--alg',
        'p256',
        '--pin-policy',
        'always',
        '--touch-policy',
        'cached',
        '--admin-key',
        'default',
        '--json',
      ),
    );
    expect(keygen.status, keygen.stderr).toBe(0);
    const publicKey = createPublicKey(JSON.parse(keygen.stdout).publicKey);
    const info = JSON.parse((await run(piv('piv', 'info', '--json'))).stdout);
    expect(info.slots).toContainEqual({
      slot: '9c',
      algorithm: 'p256',
      pinPolicy: 'always',
      touchPolicy: 'cached',
      origin: 'generated',
    });
    const attest = await run(piv('piv', 'attest', '9c', '--out', file('attest.pem'), '--json'));
    expect(attest.status, attest.stderr).toBe(0);
    const certificate = new X509Certificate(readFileSync(file('attest.pem')));
    expect(certificate.subject).toBe('CN=YubiKey PIV Attestation 9c');
    expect(certificate.publicKey.equals(publicKey)).toBe(true);
    // The policy extension (1.3.6.1.4.1.41482.3.8) says PIN always (03), touch cached (03).
    expect(certificate.raw.toString('hex')).toContain('060a2b0601040182c40a0308040203 03'.replace(' ', ''));
    // A touch policy is a YubiKey PIV feature: the OpenPGP card says it does not have it.
    const pgpTouch = await run(
      pgp('keygen', '--container', 'sig', '--alg', 'rsa2048', '--touch-policy', 'always', '--admin-pin-env', 'PW3'),
    );
    expect(pgpTouch.status).toBe(1);
    expect(pgpTouch.stderr).toContain('not a PIV card');
  });

  it('makes a CSR signed by the card that openssl verifies (RSA and EC)', async () => {
    fresh();
    for (const [slot, alg] of [
      ['9a', 'p256'],
      ['9d', 'rsa2048'],
    ]) {
      expect(
        (await run(piv('keygen', '--container', slot as string, '--alg', alg as string, '--admin-key', 'default')))
          .status,
      ).toBe(0);
      const csr = await run(
        piv(
          'csr',
          '--container',
          slot as string,
          '--subject',
          'CN=Alice,O=Example,C=FR',
          '--pin-env',
          'PIN',
          '--out',
          file(`${slot}.csr`),
        ),
      );
      expect(csr.status, csr.stderr).toBe(0);
      const checked = spawnSync('openssl', ['req', '-in', file(`${slot}.csr`), '-noout', '-verify', '-subject'], {
        encoding: 'utf8',
      });
      expect(checked.status, checked.stderr).toBe(0);
      expect(`${checked.stdout}${checked.stderr}`).toMatch(/verify OK/i);
      expect(checked.stdout).toMatch(/subject=CN\s?=\s?Alice, O\s?=\s?Example, C\s?=\s?FR/);
    }
    const bad = await run(piv('csr', '--container', '9a', '--subject', 'XX=1'));
    expect(bad.status).toBe(2);
  });
});

describe('OpenPGP management (--sim openpgp)', () => {
  it('cardholder data: shown, set with the admin PIN, read back', async () => {
    fresh();
    const set = await run(
      pgp(
        'openpgp',
        'cardholder',
        '--name',
        'Doe<<Jane',
        '--language',
        'en',
        '--sex',
        'female',
        '--url',
        'https://example.org/k.asc',
        '--admin-pin-env',
        'PW3',
        '--json',
      ),
    );
    expect(set.status, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({
      name: 'Doe<<Jane',
      language: 'en',
      sex: 'female',
      url: 'https://example.org/k.asc',
      login: '',
      changed: ['name', 'language', 'url', 'sex'],
    });
    const shown = await run(pgp('openpgp', 'info'));
    expect(shown.stdout).toMatch(/^name: +Doe<<Jane$/m);
    const noPin = await run(pgp('openpgp', 'cardholder', '--name', 'X'));
    expect(noPin.status).toBe(2);
    expect(noPin.stderr).toContain('admin PIN needed: give --pin-stdin or --admin-pin-env VAR');
  });

  it('lists the key attributes of the three slots, and keygen by slot name fills one', async () => {
    fresh();
    const before = JSON.parse((await run(pgp('openpgp', 'keys', '--json'))).stdout).keys;
    expect(before.map((slot: { slot: string; status: string }) => [slot.slot, slot.status])).toEqual([
      ['sig', 'absent'],
      ['dec', 'absent'],
      ['aut', 'absent'],
    ]);
    expect((await run(pgp('keygen', '--container', 'dec', '--alg', 'rsa2048', '--admin-pin-env', 'PW3'))).status).toBe(
      0,
    );
    const after = JSON.parse((await run(pgp('openpgp', 'keys', '--json'))).stdout).keys;
    expect(after[1]).toMatchObject({ slot: 'dec', algorithm: 'rsa2048', status: 'generated' });
    expect(after[1].fingerprint).toMatch(/^[0-9a-f]{40}$/);
  });

  it('sets the Resetting Code (pin change --role puk asks PW3) and it unblocks PW1', async () => {
    fresh();
    const set = await run(pgp('pin', 'change', '--role', 'puk', '--pin-stdin'), { input: '12345678\n87654321\n' });
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toContain('Resetting Code changed');
    const unblock = await run(pgp('pin', 'unblock', '--pin-stdin'), { input: '87654321\n654321\n' });
    expect(unblock.status, unblock.stderr).toBe(0);
    expect((await run(pgp('pin', 'verify', '--pin-env', 'NEWPIN'), { env: { NEWPIN: '654321' } })).status).toBe(0);
  });

  it('openpgp reset needs --force, then keys, data and PINs are the factory ones', async () => {
    fresh();
    await run(pgp('openpgp', 'cardholder', '--name', 'Doe<<Jane', '--admin-pin-env', 'PW3'));
    expect((await run(pgp('keygen', '--container', 'sig', '--alg', 'rsa2048', '--admin-pin-env', 'PW3'))).status).toBe(
      0,
    );
    const refused = await run(pgp('openpgp', 'reset'));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('this destroys every OpenPGP key, certificate and the cardholder data');
    expect((await run(pgp('openpgp', 'reset', '--force'))).status).toBe(0);
    const info = JSON.parse((await run(pgp('openpgp', 'info', '--json'))).stdout);
    expect(info.cardholder.name).toBe('');
    expect(info.keys[0].status).toBe('absent');
    expect((await run(pgp('pin', 'verify', '--pin-env', 'PIN'))).status).toBe(0);
  });
});

describe('files, PEM and stdin/stdout', () => {
  it('certs --pem and cat --pem give PEM; cat --out - writes raw bytes to stdout; import-cert - reads stdin', async () => {
    fresh();
    const keygen = await run(
      piv(
        'keygen',
        '--container',
        '9a',
        '--alg',
        'p256',
        '--admin-key',
        'default',
        '--pin-env',
        'PIN',
        '--self-signed',
        'PEM User',
      ),
    );
    expect(keygen.status, keygen.stderr).toBe(0);
    const certs = await run(piv('certs', '--pem'));
    expect(certs.stdout).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    const certificate = new X509Certificate(certs.stdout);
    expect(certificate.subject).toBe('CN=PEM User');
    const listed = JSON.parse((await run(piv('certs', '--pem', '--json'))).stdout).certificates[0];
    expect(listed).toMatchObject({ container: 0, containerName: '9a', pem: certs.stdout });
    const cat = await run(piv('cat', 'mscp/ksc00', '--pem'));
    expect(cat.stdout).toBe(certs.stdout);
    const raw = spawnSync(process.execPath, [BIN, ...piv('cat', 'cardid', '--out', '-')], {
      env: { ...process.env, MINIDRIVER_STATE_DIR: stateDirectory },
    });
    expect(raw.status).toBe(0);
    expect(raw.stdout.length).toBe(16);
    expect((await run(piv('cat', 'cardid', '--out', '-', '--json'))).status).toBe(2);
    expect((await run(piv('cat', 'mscp/cmapfile', '--pem'))).stderr).toContain('does not hold a certificate');
    const reimport = await run(piv('import-cert', '--container', '9a', '-', '--admin-key', 'default'), {
      input: certs.stdout,
    });
    expect(reimport.status, reimport.stderr).toBe(0);
  });

  it('sign --in - --out - and decrypt --out - work through pipes', async () => {
    fresh();
    const keygen = await run(
      piv('keygen', '--container', '9d', '--alg', 'rsa2048', '--admin-key', 'default', '--json'),
    );
    const publicKey = createPublicKey(JSON.parse(keygen.stdout).publicKey);
    const bin = BIN;
    const signed = spawnSync(
      process.execPath,
      [bin, ...piv('sign', '--container', '9d', '--hash', 'sha256', '--in', '-', '--out', '-', '--pin-env', 'PIN')],
      {
        env: { ...process.env, MINIDRIVER_STATE_DIR: stateDirectory, PIN },
        input: 'piped message',
      },
    );
    expect(signed.status, signed.stderr.toString()).toBe(0);
    expect(verify('sha256', Buffer.from('piped message'), publicKey, signed.stdout)).toBe(true);
  });
});

describe('destructive commands, PIN messages, slot names', () => {
  it('keygen on an occupied container names the key it would destroy; --force replaces it', async () => {
    fresh();
    expect((await run(piv('keygen', '--container', '9a', '--alg', 'p256', '--admin-key', 'default'))).status).toBe(0);
    const again = await run(piv('keygen', '--container', '9a', '--alg', 'rsa2048', '--admin-key', 'default'));
    expect(again.status).toBe(2);
    expect(again.stderr).toBe(
      'minidriver: usage error: this destroys the ECDSA 256 key in container 0 (9a) and its certificate (the new key replaces them): pass --force to do it\n',
    );
    const forced = await run(
      piv('keygen', '--container', '9a', '--alg', 'rsa2048', '--admin-key', 'default', '--force', '--json'),
    );
    expect(JSON.parse(forced.stdout)).toMatchObject({
      container: 0,
      containerName: '9a',
      algorithm: 'RSA',
      bits: 2048,
    });
    const rm = await run(piv('rm-container', '9a'));
    expect(rm.status).toBe(2);
    expect(rm.stderr).toContain('this destroys the RSA 2048 key in container 0 (9a) and its certificate');
  });

  it('a wrong PIN says "1 try left" once, in words; the hint lists only the options that supply that secret', async () => {
    fresh();
    await run(piv('pin', 'verify', '--pin-env', 'BAD'), { env: { BAD: '000000' } });
    const second = await run(piv('pin', 'verify', '--pin-env', 'BAD'), { env: { BAD: '000000' } });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/SCARD_W_WRONG_CHV \(0x8010006b\)/);
    expect(second.stderr).toMatch(/1 try left/);
    expect(second.stderr).not.toMatch(/retries left|1 tries/);
    expect(second.stderr.match(/try left/g)).toHaveLength(1);
    const status = await run(piv('pin', 'status'));
    expect(status.stdout).toMatch(/1\s+user\s+AlphaNumericPinType\s+1 try left/);
    expect((await run(piv('pin', 'verify', '--pin-env', 'PIN'))).status).toBe(0);
    const hint = await run(piv('pin', 'verify'));
    expect(hint.stderr).toBe(
      'minidriver: usage error: PIN needed: give --pin-stdin or --pin-env VAR, or run on a terminal\n',
    );
    const pukHint = await run(piv('pin', 'unblock'));
    expect(pukHint.stderr).toBe(
      'minidriver: usage error: PUK needed: give --pin-stdin or --admin-pin-env VAR, or run on a terminal\n',
    );
  });

  it('containers are named by slot where the card has slots (9a 9c 9d 9e, sig dec aut), in and out', async () => {
    fresh();
    for (const slot of ['9a', '9c', '9d', '9e']) {
      expect((await run(piv('keygen', '--container', slot, '--alg', 'p256', '--admin-key', 'default'))).status).toBe(0);
    }
    const listed = JSON.parse((await run(piv('containers', '--json'))).stdout).containers;
    expect(listed.map((entry: { index: number; name: string }) => [entry.index, entry.name])).toEqual([
      [0, '9a'],
      [1, '9c'],
      [2, '9d'],
      [3, '9e'],
    ]);
    expect((await run(piv('containers'))).stdout).toMatch(/^1\s+9c\s+/m);
    writeFileSync(file('x'), 'data');
    const typo = await run(piv('sign', '--container', '9b', '--hash', 'sha256', '--in', file('x'), '--out', file('y')));
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('"9b" is not a container of this PIV card');
    const pgpNames = await run(
      pgp('keygen', '--container', 'aut', '--alg', 'p256', '--admin-pin-env', 'PW3', '--json'),
    );
    expect(JSON.parse(pgpNames.stdout)).toMatchObject({ container: 2, containerName: 'aut' });
    const pgpTypo = await run(pgp('keygen', '--container', 'sgi', '--alg', 'p256'));
    expect(pgpTypo.stderr).toContain('(did you mean "sig"?)');
  });
});

describe('sim serve', () => {
  it("names the vpcd reader of a port in two hex digits, and none for a port that is not vpcd's", () => {
    expect(vpcdReaderName(35963)).toBe('Virtual PCD 00 00');
    expect(vpcdReaderName(35964)).toBe('Virtual PCD 00 01');
    expect(vpcdReaderName(35979)).toBe('Virtual PCD 00 10');
    expect(vpcdReaderName(35000)).toBeUndefined();
    expect(vpcdReaderName(35963 + 256)).toBeUndefined();
  });

  it('fails at once, exit 1, when nothing listens at the vpcd address', async () => {
    const result = await run(['sim', 'serve', 'piv', '--vpcd', '127.0.0.1:9']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/SCARD_E_NO_SERVICE \(0x8010001d\): vpcd at 127\.0\.0\.1:9 is unreachable/);
  });
});
