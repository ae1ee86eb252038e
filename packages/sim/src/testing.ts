/**
 * Test support shared by every package: is an external tool installed, is pcscd running, and a
 * skip reason for tests that need them. With CI=true a missing tool must fail instead of skip, so a
 * misconfigured CI machine cannot silently skip integration tests: `describeWithTools` in
 * `@minidriver/sim/testing` does that for vitest suites. This module does not import vitest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireFileLock } from './file-lock.js';

/** True when `command` is found on PATH (checked with `command -v`, no side effects). */
export function toolAvailable(command: string): boolean {
  if (!/^[\w.+-]+$/.test(command)) return false;
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  return result.status === 0;
}

/** True when a pcscd daemon is running (its socket exists and `pidof`/pgrep finds the process). */
export function pcscdRunning(): boolean {
  const socketPaths = ['/run/pcscd/pcscd.comm', '/var/run/pcscd/pcscd.comm'];
  if (process.env['PCSCLITE_CSOCK_NAME']) socketPaths.unshift(process.env['PCSCLITE_CSOCK_NAME']);
  if (!socketPaths.some((path) => existsSync(path))) return false;
  const result = spawnSync('pgrep', ['-x', 'pcscd'], { stdio: 'ignore' });
  // Without pgrep we trust the socket.
  return result.error ? true : result.status === 0;
}

/** Why tests needing `tools` (and "pcscd" meaning the daemon) cannot run here, or undefined when they can. */
export function missingToolsReason(tools: readonly string[]): string | undefined {
  const missing = tools.filter((tool) => (tool === 'pcscd' ? !pcscdRunning() : !toolAvailable(tool)));
  if (missing.length === 0) return undefined;
  return `needs ${missing.map((tool) => (tool === 'pcscd' ? 'a running pcscd' : tool)).join(', ')}`;
}

/** True when running on CI, where missing tools fail instead of skipping. */
export function onCi(): boolean {
  return process.env['CI'] === 'true';
}

/** The lock file that serialises tests serving a card on one vpcd port: /tmp/minidriver-vpcd-<port>.lock. */
export function vpcdPortLockPath(port: number): string {
  // /tmp literally on POSIX: every package's tests must agree on the path whatever TMPDIR says.
  return join(process.platform === 'win32' ? tmpdir() : '/tmp', `minidriver-vpcd-${port}.lock`);
}

/**
 * Waits until this process owns vpcd `port` for its tests and returns the release function. vpcd serves
 * one card per reader, so test files of different packages that use the same port must take turns.
 * The lock is a file created exclusively (`wx`) holding the owner's pid; a dead owner's lock is taken
 * over. The same file convention is used by the card packages' interop tests.
 */
export function acquireVpcdPortLock(port: number, timeoutMs = 300_000): Promise<() => void> {
  return acquireFileLock(vpcdPortLockPath(port), { timeoutMs, what: `vpcd port ${port} (another test)` });
}
