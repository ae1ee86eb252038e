/**
 * Cross-process locks as files created exclusively (`wx`) holding the owner's pid. A lock whose owner died
 * is taken over; a lock file without a pid (being written) counts as stale only after a while. Used to
 * serialise the processes that share one vpcd port and the processes that share one simulated card's state.
 *
 * @packageDocumentation
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';

/** A lock file without a pid counts as stale only after this long (it may be being written). */
const ANONYMOUS_LOCK_STALE_MS = 15 * 60_000;

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** How long to wait for another owner to release the lock (default 300,000 ms). */
  readonly timeoutMs?: number;
  /** What the lock protects, for the timeout message (e.g. "vpcd port 35963"). */
  readonly what?: string;
  /** Builds the error thrown when the wait times out (default: an Error naming `what` and the owner). */
  readonly onTimeout?: (message: string) => Error;
}

/** The pid in the lock file at `path`, or undefined when absent or not a pid. */
function lockOwner(path: string): number | undefined {
  try {
    const content = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(content) ? Number(content) : undefined;
  } catch {
    return undefined;
  }
}

/** True while the lock file at `path` belongs to a live process (or is too young to judge). */
export function fileLockHeld(path: string): boolean {
  try {
    const content = readFileSync(path, 'utf8').trim();
    if (!/^\d+$/.test(content)) return Date.now() - statSync(path).mtimeMs < ANONYMOUS_LOCK_STALE_MS;
    process.kill(Number(content), 0);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ESRCH: the owner died. ENOENT: released meanwhile. EPERM and anything else: held.
    return code !== 'ESRCH' && code !== 'ENOENT';
  }
}

/**
 * Waits until this process owns the lock file `path` and returns the release function (which removes the
 * file only while it still holds this process's pid). Errors other than "already locked" (a read-only or
 * missing directory) are thrown at once.
 */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<() => void> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const descriptor = openSync(path, 'wx', 0o600);
      try {
        writeSync(descriptor, String(process.pid));
      } finally {
        closeSync(descriptor);
      }
      return () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) rmSync(path, { force: true });
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!fileLockHeld(path)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        const owner = lockOwner(path);
        const message = `${options.what ?? path} stayed locked${owner === undefined ? '' : ` by process ${owner}`} for ${timeoutMs} ms`;
        throw options.onTimeout ? options.onTimeout(message) : new Error(message);
      }
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 100)));
    }
  }
}
