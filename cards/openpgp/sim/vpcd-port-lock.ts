/**
 * @module A cross-process exclusive lock on one vpcd port, so the test files of different card packages
 * that serve a simulator on the same port (here 35964, "Virtual PCD 00 01") take turns instead of
 * colliding. The lock is a file created with `O_EXCL` (`wx`), holding the owner's pid; a lock whose
 * owner is dead is taken over (a lock file without a pid, as other helpers write, only when 15 minutes old). Test support only, not exported from the package.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The lock file path for a port: /tmp/minidriver-vpcd-<port>.lock. */
export function vpcdLockPath(port: number): string {
  return `/tmp/minidriver-vpcd-${port}.lock`;
}

/** A lock without a pid (other helpers write none) counts as stale only after this long. */
const ANONYMOUS_LOCK_STALE_MS = 15 * 60_000;

function lockHeld(path: string): boolean {
  try {
    const content = readFileSync(path, 'utf8').trim();
    const pid = Number.parseInt(content, 10);
    if (!/^\d+$/.test(content) || pid <= 0) return Date.now() - statSync(path).mtimeMs < ANONYMOUS_LOCK_STALE_MS;
    process.kill(pid, 0);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ESRCH: the owner is gone. ENOENT: released meanwhile. Anything else (EPERM: the owner exists but is
    // not ours to signal): keep treating the lock as held, never remove what we do not understand.
    return code !== 'ESRCH' && code !== 'ENOENT';
  }
}

/**
 * Waits until this process holds the lock for `port` (polling every 250 ms, at most `timeoutMs`), and
 * returns the function that releases it.
 */
export async function acquireVpcdPortLock(port: number, timeoutMs = 300_000): Promise<() => void> {
  const path = vpcdLockPath(port);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const descriptor = openSync(path, 'wx');
      writeSync(descriptor, String(process.pid));
      closeSync(descriptor);
      return () => {
        if (readFileSync(path, 'utf8') === String(process.pid)) rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!lockHeld(path)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`vpcd port ${port} stayed locked by another test for ${timeoutMs} ms`);
      await sleep(250);
    }
  }
}
