/**
 * End-to-end tests of the built `minidriver` binary on the built-in simulated PIV card (`--sim piv`):
 * every command, human and --json output, exit codes, PIN handling and --trace redaction.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createPublicKey, constants as cryptoConstants, publicEncrypt, verify, X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';

const PIN = '123456';
const PUK = '12345678';
let stateDirectory: string;
const sim = (...args: string[]) => ['--sim', 'piv', ...args];
const run = (args: string[], options: { env?: Record<string, string>; input?: string } = {}) =>
  runCli(args, { stateDirectory, ...options });
const file = (name: string) => join(stateDirectory, name);

beforeAll(() => {
  ensureBuilt();
  stateDirectory = temporaryStateDirectory();
}, 300_000);

afterAll(() => {
  rmSync(stateDirectory, { recursive: true, force: true });
});

describe('minidriver demo', () => {
  it('runs the whole stack on the simulated card and ends with the APDU and cache counts', async () => {
    const result = await run(['demo']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('SIMULATED');
    expect(result.stdout).toContain('@minidriver/card-piv');
    expect(result.stdout).toContain('exact ATR match');
    expect(result.stdout).toContain('PIN verified');
    expect(result.stdout).toContain('DEFAULT management key');
    expect(result.stdout).toContain('verified with node:crypto X509Certificate.verify');
    expect(result.stdout).toContain('yes (node:crypto)');
    expect(result.stdout).not.toContain(PIN);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^APDUs: \d+ \(\d+ bytes\), cache hits: [1-9]\d*$/);
  });

  it('prints one JSON document with --json', async () => {
    const result = await run(['demo', '--json']);
    expect(result.status).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document.simulated).toBe(true);
    expect(document.plugin).toMatchObject({ package: '@minidriver/card-piv', name: 'PIV', method: 'atr' });
    expect(document.key).toMatchObject({ algorithm: 'RSA', bits: 2048 });
    expect(document.certificate.verified).toBe(true);
    expect(document.signature.verified).toBe(true);
    expect(document.apdus).toBeGreaterThan(0);
    expect(document.cacheHits).toBeGreaterThan(0);
  });
});

describe('usage and exit codes', () => {
  it('--help lists every command and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.status).toBe(0);
    for (const command of [
      'readers',
      'identify',
      'info',
      'ls',
      'cat',
      'write',
      'rm',
      'mkdir',
      'containers',
      'certs',
      'pin',
      'keygen',
      'import-cert',
      'sign',
      'decrypt',
      'rm-container',
      'apdu',
      'sim',
      'demo',
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('an unknown command, an unknown option and a missing option exit 2', async () => {
    expect((await run(['bogus'])).status).toBe(2);
    expect((await run(sim('info', '--bogus'))).status).toBe(2);
    const missing = await run(sim('sign', '--hash', 'sha256'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--container is required');
    expect((await run(sim('keygen', '--container', '0', '--alg', 'rsa1000'))).status).toBe(2);
    expect((await run(['--sim', 'nosuchcard', 'info'])).status).toBe(2);
  });

  it('a usage error under --json is a JSON document too', async () => {
    const result = await run(sim('sign', '--json'));
    expect(result.status).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({ error: { kind: 'usage', message: '--container is required' } });
  });

  it('without pcscd: a one-line explanation naming the SCARD code and the hint to try --sim piv, exit 1', async () => {
    const result = await run(['info'], { env: { PCSCLITE_CSOCK_NAME: '/nonexistent/pcscd.comm' } });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/SCARD_E_NO_SERVICE \(0x8010001d\)/);
    expect(lines[0]).toContain('pcscd is not running');
    expect(lines[0]).toContain('--sim piv');
    const readers = await run(['readers', '--json'], { env: { PCSCLITE_CSOCK_NAME: '/nonexistent/pcscd.comm' } });
    expect(readers.status).toBe(1);
    expect(JSON.parse(readers.stdout).error.code).toBe('SCARD_E_NO_SERVICE');
  });
});

describe('card inspection', () => {
  it('readers shows the simulated reader with its card and ATR', async () => {
    const result = await run(sim('readers', '--json'));
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).readers).toEqual([
      {
        index: 0,
        name: 'Simulated PIV (built-in)',
        cardPresent: true,
        atr: '3b fd 13 00 00 81 31 fe 15 80 73 c0 21 c0 57 59 75 62 69 4b 65 79 40',
      },
    ]);
    expect((await run(sim('readers'))).stdout).toMatch(/Simulated PIV \(built-in\)\s+present\s+3b fd 13/);
  });

  it('identify explains the choice for the card and for an --atr', async () => {
    const card = await run(sim('identify'));
    expect(card.status).toBe(0);
    expect(card.stdout).toMatch(/plugin:\s+@minidriver\/card-piv \(PIV, card "YubiKey 5"\)/);
    expect(card.stdout).toMatch(/why:\s+exact ATR match/);
    const openpgp = await run(['identify', '--atr', '3bda18ff81b1fe751f030031f573c00160009000 1c', '--json']);
    expect(openpgp.status).toBe(0);
    const document = JSON.parse(openpgp.stdout);
    expect(document.plugin).toMatchObject({ package: '@minidriver/card-openpgp', method: 'atr' });
    expect(document.parsed.protocols).toEqual([1]);
    const unknown = await run(['identify', '--atr', '3b 02 14 50', '--json']);
    expect(unknown.status).toBe(0);
    expect(JSON.parse(unknown.stdout).plugin).toBeNull();
    expect((await run(['identify', '--atr', 'xyz'])).status).toBe(2);
  });

  it('info shows plugin, version, GUID, key sizes, cache mode and PINs with retries left', async () => {
    const result = await run(sim('info'));
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('(simulated card)');
    expect(result.stdout).toMatch(/CARD_DATA version:\s+7/);
    expect(result.stdout).toMatch(/card GUID:\s+[0-9a-f]{32}/);
    expect(result.stdout).toMatch(/1\s+user\s+AlphaNumericPinType\s+PrimaryCardPin\s+3 tries left/);
    const document = JSON.parse((await run(sim('info', '--json'))).stdout);
    expect(document).toMatchObject({
      simulated: true,
      plugin: { package: '@minidriver/card-piv', name: 'PIV', card: 'YubiKey 5' },
      version: 7,
      cacheMode: 'NO_CACHE',
    });
    expect(document.keySizes['rsa-exchange']).toMatchObject({ max: 2048 });
    expect(document.pins.find((pin: { id: number }) => pin.id === 1)).toMatchObject({ role: 'user', retriesLeft: 3 });
    // From the plugin's CP_PIN_RETRIES_LEFT: the PUK through GET METADATA 81; the management key has no counter.
    expect(document.pins.find((pin: { id: number }) => pin.id === 3)).toMatchObject({ retriesLeft: 3 });
    expect(document.pins.find((pin: { id: number }) => pin.id === 2)).toMatchObject({
      role: 'admin',
      retriesLeft: null,
    });
    expect(result.stdout).toMatch(/2\s+admin\s+\S+\s+\S+\s+\?/);
  });

  it('--stats prints the APDUs sent (as many as --trace shows) and the cache hits; --json carries them', async () => {
    const result = await run(sim('certs', '--stats', '--trace'));
    expect(result.status).toBe(0);
    const line = result.stderr.trimEnd().split('\n').at(-1) as string;
    const match =
      /^stats: (\d+) APDUs sent \((\d+) bytes out, (\d+) in\), cache hits: (\d+), cache misses: (\d+)$/.exec(line);
    expect(match, line).not.toBeNull();
    const traced = result.stderr.split('\n').filter((traceLine) => /^> /.test(traceLine)).length;
    expect(Number(match?.[1])).toBe(traced);
    expect(traced).toBeGreaterThan(0);
    const document = JSON.parse((await run(sim('info', '--json', '--stats'))).stdout);
    expect(document.stats).toEqual({
      apdus: expect.any(Number),
      bytesSent: expect.any(Number),
      bytesReceived: expect.any(Number),
      cacheHits: expect.any(Number),
      cacheMisses: expect.any(Number),
    });
    expect(document.stats.apdus).toBeGreaterThan(0);
    expect(document.simulated).toBe(true);
  });

  it('ls lists the root (with the mscp directory) and mscp', async () => {
    const root = JSON.parse((await run(sim('ls', '--json'))).stdout);
    expect(root.entries.map((entry: { name: string }) => entry.name)).toEqual(
      expect.arrayContaining(['mscp', 'cardid', 'cardcf', 'cardapps']),
    );
    const mscp = await run(sim('ls', 'mscp'));
    expect(mscp.status).toBe(0);
    expect(mscp.stdout).toMatch(/cmapfile\s+\d+/);
  });

  it('cat dumps a file as hex, or writes it with --out', async () => {
    const dump = await run(sim('cat', 'cardid'));
    expect(dump.status).toBe(0);
    expect(dump.stdout).toMatch(/^000000 {2}([0-9a-f]{2} ){15}[0-9a-f]{2}/);
    const out = await run(sim('cat', 'cardid', '--out', file('cardid.bin'), '--json'));
    expect(JSON.parse(out.stdout)).toMatchObject({ path: 'cardid', size: 16 });
    expect(readFileSync(file('cardid.bin'))).toHaveLength(16);
    const missing = await run(sim('cat', 'mscp/nothere'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('SCARD_E_FILE_NOT_FOUND (0x80100024)');
  });
});

describe('keys, certificates, signing and decryption', () => {
  it('keygen needs the admin key and says how to give it', async () => {
    const result = await run(sim('keygen', '--container', '0', '--alg', 'rsa2048'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--admin-key default');
  });

  it('keygen generates RSA and ECDSA keys and prints or writes the public key', async () => {
    const rsa = await run(
      sim('keygen', '--container', '0', '--alg', 'rsa2048', '--admin-key', 'default', '--out', file('pub0.pem')),
    );
    expect(rsa.status).toBe(0);
    expect(createPublicKey(readFileSync(file('pub0.pem'))).asymmetricKeyDetails?.modulusLength).toBe(2048);
    const ec = await run(sim('keygen', '--container', '1', '--alg', 'p256', '--admin-key', 'default'));
    expect(ec.status).toBe(0);
    expect(ec.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    writeFileSync(file('pub1.pem'), ec.stdout);
    expect(createPublicKey(ec.stdout).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('keygen --self-signed stores a certificate signed by the card', async () => {
    const result = await run(
      sim(
        'keygen',
        '--container',
        '2',
        '--alg',
        'rsa2048',
        '--admin-key',
        'default',
        '--pin-env',
        'TEST_PIN',
        '--self-signed',
        'E2E User',
        '--json',
      ),
      { env: { TEST_PIN: PIN } },
    );
    expect(result.status).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document.certificate.file).toBe('mscp/kxc02');
    writeFileSync(file('pub2.pem'), document.publicKey);
  });

  it('containers lists index, GUID, flags, key and SPKI fingerprint', async () => {
    const document = JSON.parse((await run(sim('containers', '--json'))).stdout);
    const indexes = document.containers.map((container: { index: number }) => container.index);
    expect(indexes).toEqual([0, 1, 2]);
    expect(document.containers[0].keys[0]).toMatchObject({ type: 'RSA exchange', bits: 2048 });
    expect(document.containers[1].keys[0]).toMatchObject({ type: 'ECDSA', bits: 256 });
    expect(document.containers[0].flags).toContain('valid');
    expect(document.containers[0].keys[0].spkiSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('certs lists the certificate; cat + import-cert round-trips it; a foreign key is refused', async () => {
    const certs = JSON.parse((await run(sim('certs', '--json'))).stdout).certificates;
    expect(certs).toHaveLength(1);
    expect(certs[0]).toMatchObject({ container: 2, file: 'mscp/kxc02', subject: 'CN=E2E User', issuer: 'CN=E2E User' });
    expect((await run(sim('cat', 'mscp/kxc02', '--out', file('cert.der')))).status).toBe(0);
    const certificate = new X509Certificate(readFileSync(file('cert.der')));
    expect(certificate.verify(createPublicKey(readFileSync(file('pub2.pem'))))).toBe(true);
    writeFileSync(file('cert.pem'), certificate.toString());
    const imported = await run(sim('import-cert', '--container', '2', file('cert.pem'), '--admin-key', 'default'));
    expect(imported.status).toBe(0);
    expect(imported.stdout).toContain('written to mscp/kxc02');
    const wrong = await run(sim('import-cert', '--container', '0', file('cert.pem'), '--admin-key', 'default'));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('SCARD_E_INVALID_PARAMETER');
  });

  it('sign with a key generated in an earlier invocation; RSA PKCS#1, PSS and ECDSA verify with node:crypto', async () => {
    const message = Buffer.from('signed by the simulated card');
    writeFileSync(file('message'), message);
    const env = { TEST_PIN: PIN };
    /** `minidriver sign` of the message with `container`'s key and `hash` (then `options`) into file(`output`). */
    const sign = (container: string, hash: string, output: string, ...options: string[]) =>
      run(
        sim(
          'sign',
          '--container',
          container,
          '--hash',
          hash,
          ...options,
          '--in',
          file('message'),
          '--out',
          file(output),
          '--pin-env',
          'TEST_PIN',
        ),
        { env },
      );
    const pkcs1 = await sign('0', 'sha256', 'sig0');
    expect(pkcs1.status).toBe(0);
    expect(verify('sha256', message, readFileSync(file('pub0.pem')), readFileSync(file('sig0')))).toBe(true);
    const pss = await sign('0', 'sha384', 'sig0pss', '--pss');
    expect(pss.status).toBe(0);
    expect(
      verify(
        'sha384',
        message,
        { key: readFileSync(file('pub0.pem')), padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
        readFileSync(file('sig0pss')),
      ),
    ).toBe(true);
    const der = await sign('1', 'sha256', 'sig1');
    expect(der.status).toBe(0);
    expect(verify('sha256', message, readFileSync(file('pub1.pem')), readFileSync(file('sig1')))).toBe(true);
    const raw = await run(
      sim(
        'sign',
        '--container',
        '1',
        '--hash',
        'sha256',
        '--format',
        'raw',
        '--in',
        file('message'),
        '--out',
        file('sig1raw'),
        '--pin-stdin',
      ),
      { input: `${PIN}\n` },
    );
    expect(raw.status).toBe(0);
    expect(readFileSync(file('sig1raw'))).toHaveLength(64);
    expect(
      verify(
        'sha256',
        message,
        { key: readFileSync(file('pub1.pem')), dsaEncoding: 'ieee-p1363' },
        readFileSync(file('sig1raw')),
      ),
    ).toBe(true);
  });

  it('sign without a PIN source on a non-TTY is a usage error', async () => {
    writeFileSync(file('message'), 'x');
    const result = await run(
      sim('sign', '--container', '0', '--hash', 'sha256', '--in', file('message'), '--out', file('sig')),
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--pin-stdin');
  });

  it('decrypt recovers what node:crypto encrypted to the container key', async () => {
    const ciphertext = publicEncrypt(
      { key: readFileSync(file('pub2.pem')), padding: cryptoConstants.RSA_PKCS1_PADDING },
      Buffer.from('secret message'),
    );
    writeFileSync(file('ciphertext'), ciphertext);
    const result = await run(
      sim('decrypt', '--container', '2', '--in', file('ciphertext'), '--out', file('plaintext'), '--pin-stdin'),
      { input: `${PIN}\n` },
    );
    expect(result.status).toBe(0);
    expect(readFileSync(file('plaintext'), 'utf8')).toBe('secret message');
  });

  it('keygen --self-signed with an ECDSA P-384 key gives an ecdsa-with-SHA256 certificate that verifies', async () => {
    const result = await run(
      sim(
        'keygen',
        '--container',
        '3',
        '--alg',
        'p384',
        '--admin-key',
        'default',
        '--pin-stdin',
        '--self-signed',
        'EC User',
        '--json',
      ),
      { input: `${PIN}\n` },
    );
    expect(result.status, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({ algorithm: 'ECDSA', bits: 384 });
    expect((await run(sim('cat', document.certificate.file, '--out', file('ec-cert.der')))).status).toBe(0);
    const certificate = new X509Certificate(readFileSync(file('ec-cert.der')));
    expect(certificate.subject).toBe('CN=EC User');
    expect(certificate.verify(createPublicKey(document.publicKey))).toBe(true);
  });

  it('rm-container on a PIV card below firmware 5.7 is SCARD_E_UNSUPPORTED_FEATURE, exit 1', async () => {
    const result = await run(sim('rm-container', '1', '--admin-key', 'default', '--force'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('SCARD_E_UNSUPPORTED_FEATURE');
  });
});

describe('PINs', () => {
  it('pin status shows retries left; verify, change and unblock work from stdin and never echo the PIN', async () => {
    const status = await run(sim('pin', 'status', '--json'));
    expect(JSON.parse(status.stdout).pins[0]).toMatchObject({ id: 1, retriesLeft: 3 });
    const verified = await run(sim('pin', 'verify', '--pin-stdin'), { input: `${PIN}\n` });
    expect(verified.status).toBe(0);
    expect(verified.stdout + verified.stderr).not.toContain(PIN);
    const changed = await run(sim('pin', 'change', '--pin-stdin'), { input: `${PIN}\n654321\n` });
    expect(changed.status).toBe(0);
    expect(changed.stdout + changed.stderr).not.toMatch(/123456|654321/);
    const wrong = await run(sim('pin', 'verify', '--pin-env', 'TEST_PIN'), { env: { TEST_PIN: PIN } });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/SCARD_W_WRONG_CHV \(0x8010006b\).*2 tries left/);
    expect(wrong.stderr).not.toContain(PIN);
    const unblocked = await run(sim('pin', 'unblock', '--admin-pin-env', 'TEST_PUK', '--new-pin-env', 'NEW_PIN'), {
      env: { TEST_PUK: PUK, NEW_PIN: PIN },
    });
    expect(unblocked.status).toBe(0);
    expect(unblocked.stdout).toContain('3 tries left');
    expect((await run(sim('pin', 'verify', '--pin-stdin'), { input: `${PIN}\n` })).status).toBe(0);
  });

  it('pin verify --role admin uses the admin key', async () => {
    const result = await run(sim('pin', 'verify', '--role', 'admin', '--admin-key-env', 'ADMIN_KEY'), {
      env: { ADMIN_KEY: '010203040506070801020304050607080102030405060708' },
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('admin authenticated (admin-key)');
    const wrongKey = await run(sim('pin', 'verify', '--role', 'admin', '--admin-key-env', 'ADMIN_KEY'), {
      env: { ADMIN_KEY: '00'.repeat(24) },
    });
    expect(wrongKey.status).toBe(1);
    expect(wrongKey.stderr).toContain('SCARD_W_WRONG_CHV');
    expect(wrongKey.stderr).not.toContain('00'.repeat(24));
  });

  it('--trace decodes every APDU and shows VERIFY data as **', async () => {
    const result = await run(sim('--trace', 'pin', 'verify', '--pin-stdin'), { input: `${PIN}\n` });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/> SELECT {2}00a40400/);
    expect(result.stderr).toMatch(/> VERIFY {2}00200080 Lc=8 \*\*/);
    expect(result.stderr).toMatch(/< 9000 success/);
    expect(result.stderr).not.toContain('313233343536');
    expect(result.stderr).not.toContain(PIN);
  });
});

describe('files and raw APDUs', () => {
  it('write and rm work on the files the card maps; what it cannot hold is SCARD_E_UNSUPPORTED_FEATURE', async () => {
    const write = await run(sim('write', 'mscp/kxc02', '--in', file('cert.der'), '--admin-key', 'default'));
    expect(write.status).toBe(0);
    expect(write.stdout).toMatch(/^\d+ bytes written to mscp\/kxc02$/m);
    expect(
      JSON.parse((await run(sim('certs', '--json'))).stdout).certificates.map((entry: { file: string }) => entry.file),
    ).toContain('mscp/kxc02');
    const rm = await run(sim('rm', 'mscp/kxc02', '--admin-key', 'default', '--force'));
    expect(rm.status).toBe(0);
    const files = JSON.parse((await run(sim('certs', '--json'))).stdout).certificates.map(
      (entry: { file: string }) => entry.file,
    );
    expect(files).not.toContain('mscp/kxc02');
    writeFileSync(file('data.bin'), Buffer.from('hello'));
    // PIV holds only the files it maps onto its objects (docs/spec/piv.md §10): no free-form files or directories.
    const freeForm = await run(sim('write', 'mscp/notes', '--in', file('data.bin'), '--admin-key', 'default'));
    expect(freeForm.status).toBe(1);
    expect(freeForm.stderr).toContain('SCARD_E_UNSUPPORTED_FEATURE (0x80100022)');
    const mkdir = await run(sim('mkdir', 'extra', '--admin-key', 'default'));
    expect(mkdir.status).toBe(1);
    expect(mkdir.stderr).toContain('SCARD_E_UNSUPPORTED_FEATURE');
    expect((await run(sim('write', 'mscp/x', '--in', file('nothere')))).status).toBe(2);
  });

  it('apdu sends raw APDUs and decodes the answers; VERIFY data is shown as **', async () => {
    const result = await run(sim('apdu', '00a4040005a000000308', '00 20 00 80 08 31 32 33 34 35 36 ff ff', '00fd0000'));
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/> SELECT {2}00a40400 Lc=5 a000000308/);
    expect(result.stdout).toMatch(/< 9000 success/);
    expect(result.stdout).toMatch(/> VERIFY {2}00200080 Lc=8 \*\*/);
    expect(result.stdout).not.toContain('313233343536');
    const document = JSON.parse((await run(sim('apdu', '00fd0000', '--json'))).stdout);
    expect(document.exchanges[0]).toMatchObject({ command: '00fd0000', statusWord: '9000' });
    expect((await run(sim('apdu', 'zz'))).status).toBe(2);
  });
});

describe('the simulated OpenPGP card (admin PIN instead of an admin key)', () => {
  const pgp = (...args: string[]) => ['--sim', 'openpgp', ...args];

  it('keygen asks for the admin PIN (PW3), then sign works with the user PIN', async () => {
    const env = { ADMIN_PIN: '12345678', TEST_PIN: PIN };
    const keygen = await run(
      pgp(
        'keygen',
        '--container',
        '0',
        '--alg',
        'rsa2048',
        '--usage',
        'sign',
        '--admin-pin-env',
        'ADMIN_PIN',
        '--pin-env',
        'TEST_PIN',
        '--self-signed',
        'PGP User',
        '--out',
        file('pgp.pem'),
      ),
      { env },
    );
    expect(keygen.status, keygen.stderr).toBe(0);
    expect(keygen.stdout + keygen.stderr).not.toContain('12345678');
    const certs = JSON.parse((await run(pgp('certs', '--json'))).stdout).certificates;
    expect(certs).toEqual([expect.objectContaining({ container: 0, file: 'mscp/ksc00', subject: 'CN=PGP User' })]);
    writeFileSync(file('pgp-message'), 'openpgp');
    const sign = await run(
      pgp(
        'sign',
        '--container',
        '0',
        '--hash',
        'sha512',
        '--in',
        file('pgp-message'),
        '--out',
        file('pgp-sig'),
        '--pin-env',
        'TEST_PIN',
      ),
      { env },
    );
    expect(sign.status, sign.stderr).toBe(0);
    expect(
      verify('sha512', readFileSync(file('pgp-message')), readFileSync(file('pgp.pem')), readFileSync(file('pgp-sig'))),
    ).toBe(true);
  });

  it('pin status reads the retry counters of PW1 and PW3', async () => {
    const pins = JSON.parse((await run(pgp('pin', 'status', '--json'))).stdout).pins;
    expect(pins.find((pin: { role: string }) => pin.role === 'admin')).toMatchObject({ retriesLeft: 3 });
  });
});

describe.skipIf(spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status !== 0)(
  'hidden PIN prompt on a terminal',
  () => {
    it('prompts on the TTY and never echoes what is typed', async () => {
      // `script` gives the CLI a pseudo-terminal; the PIN is typed once the prompt has appeared.
      const child = spawn(
        'script',
        ['-q', '-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --sim piv pin verify`, '/dev/null'],
        {
          env: { ...process.env, NO_COLOR: '1', MINIDRIVER_STATE_DIR: stateDirectory },
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let output = '';
      let typed = false;
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (!typed && /PIN for YubiKey 5 in "Simulated PIV \(built-in\)" \(\d tries left\): /.test(output)) {
          typed = true;
          child.stdin.write(`${PIN}\r`);
        }
      });
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(status).toBe(0);
      expect(output).toContain('PIN for YubiKey 5 in "Simulated PIV (built-in)" (3 tries left): ');
      expect(output).toContain('PIN verified');
      expect(output).not.toContain(PIN);
    });
  },
);
