/**
 * Test support: the exclusive lock on vpcd port 35963, shared with the pcsc package's tests. The lock is
 * a file created with O_EXCL holding the owner's pid; a lock whose owner is dead is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const VPCD_LOCK_FILE = '/tmp/minidriver-vpcd-35963.lock';

function ownerAlive(path: string): boolean {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return true; // Being written right now: treat as held.
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits (up to `timeoutMs`) for the lock and takes it; returns the function that releases it. */
export async function acquireVpcdLock(timeoutMs = 180_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const descriptor = openSync(VPCD_LOCK_FILE, 'wx');
      writeSync(descriptor, String(process.pid));
      closeSync(descriptor);
      return () => rmSync(VPCD_LOCK_FILE, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!ownerAlive(VPCD_LOCK_FILE)) {
        rmSync(VPCD_LOCK_FILE, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${VPCD_LOCK_FILE} is held by another test run`);
      await sleep(250);
    }
  }
}
