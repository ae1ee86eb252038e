/**
 * The examples (examples/keystore-esm, examples/keystore-cjs) run as a user runs them — `node <app>/src/sign.*`
 * from another working directory, against the built packages — on a PIV simulator served in "Virtual PCD
 * 00 00" through pcscd + vpcd. Each must find its plugins from its own package.json (the loader's
 * application root), list every key, and print signatures node:crypto verifies.
 * Skipped when pcscd is not running (a failure when CI=true).
 */
import { spawn, spawnSync } from 'node:child_process';
import { verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { acquireVpcdPortLock, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { describeWithTools } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Key, KeyStore, type Token } from '../src/index.js';
import { PACKAGE_ROOT, provision, testLoader, USER_PIN } from './support.js';
import { READER_00, READER_01, waitForReaderStates } from './vpcd-support.js';

const REPOSITORY = join(PACKAGE_ROOT, '..', '..');
const EXAMPLES = [
  { name: 'ESM', entry: join(REPOSITORY, 'examples', 'keystore-esm', 'src', 'sign.mjs') },
  { name: 'CJS', entry: join(REPOSITORY, 'examples', 'keystore-cjs', 'src', 'sign.cjs') },
];
const MESSAGE = 'signed by an example app';

/**
 * Runs `node entry message` without blocking this process's event loop: the vpcd bridge serving the card
 * runs here, and pcscd waits for it while the example talks to the card.
 */
function runExample(entry: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, MESSAGE], {
      cwd: tmpdir(),
      env: { ...process.env, PIN: USER_PIN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describeWithTools(['pcscd'], 'examples through pcscd + vpcd', () => {
  const releases: (() => void)[] = [];
  const card = new PivSimulator({ seed: 'examples' });
  let server: VpcdServer | undefined;
  let keys: Key[] = [];

  beforeAll(async () => {
    // The examples import the built packages (ESM and CJS), as an installed application would.
    const build = spawnSync(
      'pnpm',
      ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', '--filter=@minidriver/keystore...'],
      { cwd: REPOSITORY, encoding: 'utf8' },
    );
    const plugins = spawnSync(
      'pnpm',
      [
        'exec',
        'turbo',
        'run',
        'build',
        '--output-logs=errors-only',
        '--filter=@minidriver/card-piv',
        '--filter=@minidriver/card-openpgp',
      ],
      { cwd: REPOSITORY, encoding: 'utf8' },
    );
    if (build.status !== 0 || plugins.status !== 0) throw new Error(`build failed: ${build.stderr}${plugins.stderr}`);
    const local = await KeyStore.open({ simulators: [card], loader: testLoader() });
    const token = local.tokens[0] as Token;
    await provision(token, [
      { container: 0, algorithm: 'rsa2048' },
      { container: 2, algorithm: 'p256' },
      { container: 3, algorithm: 'p384' },
    ]);
    keys = await token.keys();
    await local.close();
    releases.push(await acquireVpcdPortLock(35963));
    releases.push(await acquireVpcdPortLock(35964));
    await waitForReaderStates({ [READER_00]: false, [READER_01]: false });
    server = serveVpcd(card, { port: 35963 });
    await server.connected;
    await waitForReaderStates({ [READER_00]: true, [READER_01]: false });
  }, 600_000);

  afterAll(async () => {
    await server?.close();
    if (server) await waitForReaderStates({ [READER_00]: false });
    for (const release of releases) release();
  });

  for (const example of EXAMPLES) {
    it(`the ${example.name} app (under 15 lines) lists the keys and signs, run from another directory`, async () => {
      const source = readFileSync(example.entry, 'utf8').trimEnd().split('\n');
      expect(source.length).toBeLessThan(15);
      const run = await runExample(example.entry);
      expect(run.status, run.stderr).toBe(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines).toHaveLength(keys.length);
      for (const key of keys) {
        const line = lines.find((candidate) => candidate.startsWith(`${key.id} `));
        if (!line) throw new Error(`key ${key.id} missing from:\n${run.stdout}`);
        const [, algorithm, usages, signature] = line.split(' ');
        expect(algorithm).toBe(`${key.algorithm.type}${key.algorithm.bits}`);
        expect(usages).toBe(key.usages.join('+'));
        if (!key.usages.includes('sign')) {
          expect(signature).toBe('-');
          continue;
        }
        const bytes = Buffer.from(signature ?? '', 'base64');
        expect(verify('sha256', Buffer.from(MESSAGE), key.publicKey, bytes)).toBe(true);
      }
    }, 180_000);
  }
});
