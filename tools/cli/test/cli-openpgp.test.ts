/**
 * End-to-end tests of the built `minidriver` binary on the built-in simulated OpenPGP card
 * (`--sim openpgp`): the card-generic demo, info, PIN status, keygen without --usage into the signature
 * slot, a signature made in a second invocation, and certificates. The factory PW1 "123456" and PW3
 * "12345678" are the simulator's defaults (cards/openpgp/sim, as on a factory-fresh OpenPGP card).
 */
import { verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';

const ENV = { TEST_PIN: '123456', ADMIN_PIN: '12345678' };
/** The PINs as text or as the hex of their ASCII, not inside a longer hex run (the card serial is ffff12345678). */
const SECRET_PATTERN = /(?<![0-9a-f])(123456|12345678|313233343536|3132333435363738)(?![0-9a-f])/i;

let stateRoot: string;
/** A fresh state directory per test: each starts with a factory-fresh simulated card. */
const freshState = () => mkdtempSync(join(stateRoot, 'case-'));
const pgp = (...args: string[]) => ['--sim', 'openpgp', ...args];

beforeAll(() => {
  ensureBuilt();
  stateRoot = temporaryStateDirectory();
}, 300_000);

afterAll(() => {
  rmSync(stateRoot, { recursive: true, force: true });
});

describe('minidriver demo --sim openpgp', () => {
  it('runs the tour on the simulated OpenPGP card, says so, and never prints a PIN', async () => {
    const result = await runCli(pgp('demo', '--trace'), { stateDirectory: freshState() });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('This card is SIMULATED: an in-process OpenPGP card 3.4');
    expect(result.stdout).toMatch(/^plugin: +@minidriver\/card-openpgp \(OpenPGP card 3\)$/m);
    expect(result.stdout).toContain('exact ATR match');
    expect(result.stdout).toContain('admin (AlphaNumericPinType)');
    expect(result.stdout).toContain('factory admin PIN PW3 (PIN_INFO: AlphaNumericPinType; not shown');
    expect(result.stdout).toMatch(/^key: +RSA 2048 \(AT_SIGNATURE\)$/m);
    // The signature PIN is PIN 4 on every card built on @minidriver/card-kit (PIV and OpenPGP alike).
    expect(result.stdout).toContain('PIN 4 is verified again before each signature');
    expect(result.stdout).toContain('CN=minidriver demo (simulated OpenPGP)');
    expect(result.stdout).toContain('verified with node:crypto X509Certificate.verify');
    expect(result.stdout).toMatch(/^written to: +mscp\/ksc00 \((\d+) bytes, read back \1 bytes\)$/m);
    expect(result.stdout).toMatch(/^verified: +yes \(node:crypto\)$/m);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^APDUs: \d+ \(\d+ bytes\), cache hits: \d+$/);
    // --trace shows every VERIFY (PW1 82/81, PW3 83) with its data as **.
    expect(result.stderr).toMatch(/VERIFY +00200083 Lc=8 \*\*/);
    expect(result.stderr).toMatch(/VERIFY +00200081 Lc=6 \*\*/);
    expect(result.stdout).not.toMatch(SECRET_PATTERN);
    expect(result.stderr).not.toMatch(SECRET_PATTERN);
  });

  it('--json: one document naming the simulator, the admin method and the ksc00 certificate', async () => {
    const result = await runCli(pgp('demo', '--json'), { stateDirectory: freshState() });
    expect(result.status, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({
      simulated: true,
      simulator: 'openpgp',
      plugin: { package: '@minidriver/card-openpgp', name: 'OpenPGP' },
      adminAuthentication: 'admin-pin',
      container: 0,
      key: { algorithm: 'RSA', bits: 2048, keySpec: 'AT_SIGNATURE' },
      pinBeforeEachSignature: 4,
      certificate: { file: 'mscp/ksc00', verified: true },
      signature: { message: 'Hello from minidriver', bytes: 256, verified: true },
    });
    expect(document.card.pins.find((pin: { role: string }) => pin.role === 'admin').type).toBe('AlphaNumericPinType');
    expect(document.apdus).toBeGreaterThan(0);
  });

  it('--sim piv (the default) takes the challenge/response path and keeps kxc00', async () => {
    const result = await runCli(['demo', '--sim', 'piv', '--json'], { stateDirectory: freshState() });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      simulator: 'piv',
      plugin: { package: '@minidriver/card-piv' },
      adminAuthentication: 'default-admin-key',
      key: { keySpec: 'AT_KEYEXCHANGE' },
      certificate: { file: 'mscp/kxc00', verified: true },
      signature: { verified: true },
    });
    expect(JSON.parse(result.stdout)).not.toHaveProperty('pinBeforeEachSignature');
  });

  it('an unknown simulator or a --reader is a usage error (exit 2)', async () => {
    const unknown = await runCli(['demo', '--sim', 'nosuchcard'], { stateDirectory: freshState() });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown simulated card (choose piv, openpgp, gids)');
    const reader = await runCli(['demo', '--reader', '0'], { stateDirectory: freshState() });
    expect(reader.status).toBe(2);
    expect(reader.stderr).toContain('use --sim piv, --sim openpgp or --sim gids');
  });
});

describe('minidriver demo --sim gids', () => {
  it('runs the tour on the GIDS simulator: GLOBAL cache, admin by mutual authentication, key, certificate, signature', async () => {
    const result = await runCli(['demo', '--sim', 'gids'], { stateDirectory: freshState() });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('plugin:     @minidriver/card-gids');
    expect(result.stdout).toContain('cache mode:         GLOBAL_CACHE');
    expect(result.stdout).toContain('written to:  mscp/kxc00');
    expect(result.stdout).toContain('verified:   yes (node:crypto)');
  });
});

describe('commands on --sim openpgp', () => {
  it('info names the plugin and lists the four OpenPGP PINs with PW3 as an AlphaNumericPinType admin', async () => {
    const stateDirectory = freshState();
    const result = await runCli(pgp('info', '--json'), { stateDirectory });
    expect(result.status, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({
      simulated: true,
      reader: 'Simulated OpenPGP (built-in)',
      plugin: { package: '@minidriver/card-openpgp', name: 'OpenPGP' },
      version: 7,
      capabilities: { keyGeneration: true, certificateCompression: true },
      freeSpace: { containersAvailable: 3, maxContainers: 3 },
      cacheMode: 'GLOBAL_CACHE',
    });
    expect(
      document.pins.map((pin: { id: number; role: string; type: string; purpose: string }) => [
        pin.id,
        pin.role,
        pin.type,
        pin.purpose,
      ]),
    ).toEqual([
      [1, 'user', 'AlphaNumericPinType', 'PrimaryCardPin'],
      [2, 'admin', 'AlphaNumericPinType', 'AdministratorPin'],
      [3, 'unblock', 'AlphaNumericPinType', 'UnblockOnlyPin'],
      [4, 'signature', 'AlphaNumericPinType', 'DigitalSignaturePin'],
    ]);
    const human = await runCli(pgp('info'), { stateDirectory });
    expect(human.stdout).toMatch(/^plugin: +@minidriver\/card-openpgp \(OpenPGP card 3\)$/m);
  });

  it('pin status shows PW1, PW3 and the signature PIN with 3 retries, and a wrong PW1 costs one', async () => {
    const stateDirectory = freshState();
    const before = JSON.parse((await runCli(pgp('pin', 'status', '--json'), { stateDirectory })).stdout).pins;
    for (const role of ['user', 'admin', 'signature'])
      expect(before.find((pin: { role: string }) => pin.role === role)).toMatchObject({ retriesLeft: 3 });
    const wrong = await runCli(pgp('pin', 'verify', '--pin-env', 'WRONG'), {
      stateDirectory,
      env: { WRONG: '654321' },
    });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('SCARD_W_WRONG_CHV');
    const after = JSON.parse((await runCli(pgp('pin', 'status', '--json'), { stateDirectory })).stdout).pins;
    expect(after.find((pin: { role: string }) => pin.role === 'user')).toMatchObject({ retriesLeft: 2 });
  });

  it('keygen --container 0 --alg rsa2048 (no --usage) lands in the signature slot; sign in a second run verifies', async () => {
    const stateDirectory = freshState();
    const publicKeyFile = join(stateDirectory, 'sig.pem');
    const keygen = await runCli(
      pgp(
        'keygen',
        '--container',
        '0',
        '--alg',
        'rsa2048',
        '--admin-pin-env',
        'ADMIN_PIN',
        '--out',
        publicKeyFile,
        '--json',
      ),
      { stateDirectory, env: ENV },
    );
    expect(keygen.status, keygen.stderr).toBe(0);
    expect(JSON.parse(keygen.stdout)).toMatchObject({ container: 0, algorithm: 'RSA', bits: 2048 });
    const containers = JSON.parse((await runCli(pgp('containers', '--json'), { stateDirectory })).stdout);
    expect(JSON.stringify(containers)).toContain('signature');

    const message = join(stateDirectory, 'message');
    const signatureFile = join(stateDirectory, 'message.sig');
    writeFileSync(message, 'signed by the OpenPGP signature key');
    const sign = await runCli(
      pgp(
        'sign',
        '--container',
        '0',
        '--hash',
        'sha256',
        '--in',
        message,
        '--out',
        signatureFile,
        '--pin-env',
        'TEST_PIN',
      ),
      { stateDirectory, env: ENV },
    );
    expect(sign.status, sign.stderr).toBe(0);
    expect(readFileSync(signatureFile)).toHaveLength(256);
    expect(verify('sha256', readFileSync(message), readFileSync(publicKeyFile), readFileSync(signatureFile))).toBe(
      true,
    );
    // A different message does not verify (the check can fail).
    expect(
      verify('sha256', Buffer.from('another message'), readFileSync(publicKeyFile), readFileSync(signatureFile)),
    ).toBe(false);
  });

  it('certs lists the certificate keygen --self-signed stored in 7F21 (mscp/ksc00), and cat returns it', async () => {
    const stateDirectory = freshState();
    const publicKeyFile = join(stateDirectory, 'sig.pem');
    const keygen = await runCli(
      pgp(
        'keygen',
        '--container',
        '0',
        '--alg',
        'rsa2048',
        '--self-signed',
        'OpenPGP E2E',
        '--admin-pin-env',
        'ADMIN_PIN',
        '--pin-env',
        'TEST_PIN',
        '--out',
        publicKeyFile,
      ),
      { stateDirectory, env: ENV },
    );
    expect(keygen.status, keygen.stderr).toBe(0);
    expect(keygen.stdout).toContain('self-signed certificate "CN=OpenPGP E2E" written to mscp/ksc00');
    expect(keygen.stdout + keygen.stderr).not.toMatch(SECRET_PATTERN);

    const certs = await runCli(pgp('certs', '--json'), { stateDirectory });
    expect(certs.status, certs.stderr).toBe(0);
    expect(JSON.parse(certs.stdout).certificates).toEqual([
      expect.objectContaining({
        container: 0,
        file: 'mscp/ksc00',
        subject: 'CN=OpenPGP E2E',
        issuer: 'CN=OpenPGP E2E',
      }),
    ]);
    expect((await runCli(pgp('certs'), { stateDirectory })).stdout).toMatch(/^0 +sig +mscp\/ksc00 +CN=OpenPGP E2E/m);

    const certificateFile = join(stateDirectory, 'cert.der');
    expect((await runCli(pgp('cat', 'mscp/ksc00', '--out', certificateFile), { stateDirectory })).status).toBe(0);
    const certificate = new X509Certificate(readFileSync(certificateFile));
    expect(certificate.subject).toBe('CN=OpenPGP E2E');
    expect(certificate.publicKey.export({ type: 'spki', format: 'pem' })).toBe(readFileSync(publicKeyFile, 'utf8'));
    expect(certificate.verify(certificate.publicKey)).toBe(true);
  });
});
