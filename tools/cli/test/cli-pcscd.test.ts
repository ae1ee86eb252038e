/**
 * End-to-end tests through the real PC/SC stack: `minidriver sim serve piv` puts the simulated card into
 * pcscd through vpcd (reader "Virtual PCD 00 00", port 35963), and the main commands use it as a reader.
 * Skipped when pcscd is not running (a failure when CI=true).
 */
import { verify } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithTools } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';
import { type ServedCard, serveCard } from './served-card.js';

const READER = 'Virtual PCD 00 00';
const PIN = '123456';

describeWithTools(['pcscd'], 'minidriver through pcscd + vpcd', () => {
  let stateDirectory: string;
  let served: ServedCard | undefined;
  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { stateDirectory, env });

  beforeAll(async () => {
    ensureBuilt();
    stateDirectory = temporaryStateDirectory();
    // Prepare the card state with the in-process simulator; `sim serve` then serves that same state.
    const keygen = await run(
      [
        '--sim',
        'piv',
        'keygen',
        '--container',
        '0',
        '--alg',
        'rsa2048',
        '--admin-key',
        'default',
        '--pin-env',
        'TEST_PIN',
        '--self-signed',
        'Served User',
        '--out',
        join(stateDirectory, 'pub.pem'),
      ],
      { TEST_PIN: PIN },
    );
    expect(keygen.status, keygen.stderr).toBe(0);
    served = await serveCard('piv', 35963, stateDirectory);
  }, 300_000);

  afterAll(async () => {
    await served?.stop();
    if (stateDirectory) rmSync(stateDirectory, { recursive: true, force: true });
  });

  it('sim serve says what it serves and that pcscd connected', () => {
    expect(served?.output()).toContain('serving simulated PIV card');
    expect(served?.output()).toContain('connected to pcscd');
  });

  it('readers lists the vpcd reader with the card and its ATR', async () => {
    const result = await run(['readers']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /Virtual PCD 00 00\s+present\s+3b fd 13 00 00 81 31 fe 15 80 73 c0 21 c0 57 59 75 62 69 4b 65 79 40/,
    );
  });

  it('info --reader names the reader and the plugin chosen by ATR', async () => {
    const result = await run(['info', '--reader', READER, '--json']);
    expect(result.status, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({
      simulated: false,
      reader: READER,
      plugin: { package: '@minidriver/card-piv' },
      version: 7,
    });
    expect(document.pins[0]).toMatchObject({ role: 'user', retriesLeft: 3 });
  });

  it('certs reads the certificate made in the earlier invocation', async () => {
    const result = await run(['certs', '--reader', READER, '--json']);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).certificates).toEqual([
      expect.objectContaining({ container: 0, subject: 'CN=Served User' }),
    ]);
  });

  it('sign through pcscd gives a signature node:crypto verifies', async () => {
    const message = join(stateDirectory, 'message');
    writeFileSync(message, 'signed through pcscd');
    const signature = join(stateDirectory, 'signature');
    const result = await run(
      [
        'sign',
        '--reader',
        READER,
        '--container',
        '0',
        '--hash',
        'sha256',
        '--in',
        message,
        '--out',
        signature,
        '--pin-env',
        'TEST_PIN',
      ],
      { TEST_PIN: PIN },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(
      verify('sha256', readFileSync(message), readFileSync(join(stateDirectory, 'pub.pem')), readFileSync(signature)),
    ).toBe(true);
  });

  it('a reader that does not exist is exit 1 with the SCARD code', async () => {
    const result = await run(['info', '--reader', 'No Such Reader']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('SCARD_E_UNKNOWN_READER');
  });
});
