/**
 * The `--sim` state file under stress (issue #11 items 10 and 11): concurrent invocations take turns on
 * the state file so no card change is lost, and a state directory that cannot be written is refused before
 * the card runs anything, so a wrong PIN is never "forgotten".
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';

let stateDirectory: string;

beforeAll(() => {
  ensureBuilt();
  stateDirectory = temporaryStateDirectory();
}, 300_000);

afterAll(() => {
  rmSync(stateDirectory, { recursive: true, force: true });
});

const WRONG = { WRONG_PIN: '000000' };

describe('--sim state file', () => {
  it('six parallel wrong PINs on a 3-try PIN count three tries, then the PIN is blocked (item 11)', async () => {
    const runs = await Promise.all(
      Array.from({ length: 6 }, () =>
        runCli(['pin', 'verify', '--sim', 'piv', '--pin-env', 'WRONG_PIN'], { stateDirectory, env: WRONG }),
      ),
    );
    for (const run of runs) expect(run.status).toBe(1);
    const messages = runs.map((run) => run.stderr);
    expect(messages.filter((text) => /2 tries left/.test(text))).toHaveLength(1);
    expect(messages.filter((text) => /1 try left/.test(text))).toHaveLength(1);
    expect(messages.filter((text) => /2 tries left|1 try left/.test(text))).toHaveLength(2);
    const info = await runCli(['info', '--sim', 'piv'], { stateDirectory });
    expect(info.status).toBe(0);
    expect(info.stdout).toMatch(/1\s+user\s+AlphaNumericPinType\s+PrimaryCardPin\s+(0 retries left|blocked)/);
  }, 120_000);

  it.skipIf(process.platform !== 'linux')(
    'a state directory that cannot be written is refused before any APDU: a wrong PIN is never forgotten (item 10)',
    async () => {
      // /proc/self exists, but nobody (not even root) can create a file in it.
      for (let attempt = 0; attempt < 4; attempt++) {
        const run = await runCli(['pin', 'verify', '--sim', 'piv', '--pin-env', 'WRONG_PIN'], {
          stateDirectory: '/proc/self',
          env: WRONG,
        });
        expect(run.status).toBe(1);
        expect(run.stderr).toMatch(/SCARD_E_NO_ACCESS .*cannot lock the card state/);
        expect(run.stderr).not.toContain('WRONG_CHV');
      }
    },
    60_000,
  );
});
