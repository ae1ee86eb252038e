import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireVpcdPortLock, vpcdLockPath } from './vpcd-port-lock.js';

// A port number no vpcd reader uses, so this test never touches the real 35964 lock.
const PORT = 1;
const path = vpcdLockPath(PORT);

describe('vpcd port lock', () => {
  afterEach(() => rmSync(path, { force: true }));

  it('writes our pid, makes a second taker wait until release, and removes the file', async () => {
    const release = await acquireVpcdPortLock(PORT);
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
    let secondHolds = false;
    const second = acquireVpcdPortLock(PORT, 10_000).then((releaseSecond) => {
      secondHolds = true;
      return releaseSecond;
    });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(secondHolds).toBe(false);
    release();
    (await second)();
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock whose owner process is gone', async () => {
    writeFileSync(path, '999999999');
    const release = await acquireVpcdPortLock(PORT, 2_000);
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
    release();
  });

  it('respects a fresh lock without a pid (as other helpers write) until the timeout', async () => {
    writeFileSync(path, '');
    await expect(acquireVpcdPortLock(PORT, 600)).rejects.toThrow(/stayed locked/);
    expect(readFileSync(path, 'utf8')).toBe('');
  });
});
