/**
 * Test support: builds the CLI when dist is missing or older than its sources, and spawns the built
 * `minidriver` binary with a private state directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_DIRECTORY = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPOSITORY_ROOT = resolve(CLI_DIRECTORY, '..', '..');
export const BIN = join(CLI_DIRECTORY, 'dist', 'bin.js');

function newestSourceTime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceTime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the CLI and its workspace dependencies when dist/bin.js is missing or stale. */
export function ensureBuilt(): void {
  const stale = !existsSync(BIN) || statSync(BIN).mtimeMs < newestSourceTime(join(CLI_DIRECTORY, 'src'));
  if (!stale) return;
  const result = spawnSync('pnpm', ['--filter', '@minidriver/cli...', 'build'], {
    cwd: REPOSITORY_ROOT,
    stdio: 'pipe',
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`building the CLI failed:\n${result.stdout}\n${result.stderr}`);
}

/** A fresh directory for simulated card state. */
export function temporaryStateDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'minidriver-cli-test-'));
}

/**
 * For a test file: builds the CLI before its tests, keeps one temporary state root for them (removed
 * after), and returns a factory of fresh state directories under it (a factory-fresh simulated card each).
 */
export function freshStateDirectories(hooks: {
  beforeAll(run: () => void, timeout?: number): void;
  afterAll(run: () => void): void;
}): () => string {
  let root = '';
  hooks.beforeAll(() => {
    ensureBuilt();
    root = temporaryStateDirectory();
  }, 300_000);
  hooks.afterAll(() => rmSync(root, { recursive: true, force: true }));
  return () => mkdtempSync(join(root, 'case-'));
}

/** What a run of the binary produced. */
export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `minidriver <args>` to completion. */
export function runCli(
  args: readonly string[],
  options: {
    readonly stateDirectory: string;
    readonly env?: Record<string, string>;
    readonly input?: string;
    /** The working directory (default: the system's temp directory). */
    readonly cwd?: string;
  } = {
    stateDirectory: '',
  },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? tmpdir(),
      env: { ...process.env, NO_COLOR: '1', MINIDRIVER_STATE_DIR: options.stateDirectory, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status: status ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
