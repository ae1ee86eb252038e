/**
 * Hostile or mistaken command lines (issue #11 items 7 and 8): inputs are bounded by what they are for,
 * secrets put in the wrong place are never echoed.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';

let stateDirectory: string;
const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { stateDirectory, env });

beforeAll(() => {
  ensureBuilt();
  stateDirectory = temporaryStateDirectory();
}, 300_000);

afterAll(() => {
  rmSync(stateDirectory, { recursive: true, force: true });
});

describe('bounded inputs (item 8)', () => {
  it.skipIf(process.platform === 'win32')(
    'sign, write and decrypt stop reading /dev/zero at their bound with a usage error',
    async () => {
      const out = join(stateDirectory, 'out.bin');
      const sign = await run([
        'sign',
        '--sim',
        'piv',
        '--container',
        '0',
        '--hash',
        'sha256',
        '--in',
        '/dev/zero',
        '--out',
        out,
      ]);
      expect(sign.status).toBe(2);
      expect(sign.stderr).toContain('/dev/zero is larger than 268435456 bytes, the most a message to sign can be');
      const write = await run(['write', '--sim', 'piv', 'mscp/ksc00', '--in', '/dev/zero']);
      expect(write.status).toBe(2);
      expect(write.stderr).toContain('/dev/zero is larger than 65535 bytes, the most a card file can be');
      const decrypt = await run(['decrypt', '--sim', 'piv', '--container', '0', '--in', '/dev/zero', '--out', out]);
      expect(decrypt.status).toBe(2);
      expect(decrypt.stderr).toContain('larger than 512 bytes');
      const stdin = await runCli(['pin', 'verify', '--sim', 'piv', '--pin-stdin'], {
        stateDirectory,
        input: '1'.repeat(10_000),
      });
      expect(stdin.status).toBe(2);
      expect(stdin.stderr).toContain('--pin-stdin: more than 4096 bytes on stdin');
    },
    120_000,
  );
});

describe('misplaced secrets are never echoed (item 7)', () => {
  const SECRET = '918273';
  const SECRET_HEX = '393138323733';

  it('a PIN given as the name of its environment variable, as a command or as a pin action', async () => {
    const runs = [
      await run(['pin', 'verify', '--sim', 'piv', '--pin-env', SECRET]),
      await run(['pin', 'change', '--sim', 'piv', '--pin-env', 'PIN', '--new-pin-env', SECRET], { PIN: '123456' }),
      await run(['keygen', '--sim', 'piv', '--container', '0', '--alg', 'p256', '--admin-key-env', SECRET]),
      await run(['keygen', '--sim', 'piv', '--container', '0', '--alg', 'p256', '--admin-key-env', 'K'], {
        K: SECRET + 'zz',
      }),
      await run([SECRET]),
      await run(['pin', SECRET, '--sim', 'piv']),
      await run(['sim', SECRET]),
      await run(['--sim', SECRET, 'info']),
      await run(['-9', SECRET]),
    ];
    for (const result of runs) {
      expect(result.status).toBe(2);
      expect(result.stderr + result.stdout).not.toContain(SECRET);
    }
  });

  it('a malformed raw APDU that carries a PIN is refused without being shown', async () => {
    const result = await run(['apdu', '--sim', 'piv', `00 20 00 80 06 ${SECRET_HEX} 0`]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('APDU argument 1 is not an APDU');
    expect(result.stderr.replace(/\s/g, '')).not.toContain(SECRET_HEX);
  });
});
