import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acquireVpcdPortLock, missingToolsReason, toolAvailable, vpcdPortLockPath } from './testing.js';

describe('test support', () => {
  it('finds a tool every POSIX system has, and not a made-up one', () => {
    expect(toolAvailable('sh')).toBe(true);
    expect(toolAvailable('no-such-tool-minidriver-xyz')).toBe(false);
    // Shell metacharacters are refused, never run.
    expect(toolAvailable('sh; echo')).toBe(false);
  });

  it('explains what is missing in one line', () => {
    expect(missingToolsReason(['sh'])).toBeUndefined();
    expect(missingToolsReason(['sh', 'no-such-tool-minidriver-xyz'])).toBe('needs no-such-tool-minidriver-xyz');
  });

  it('the vpcd port lock excludes a second owner and is taken over from a dead one', async () => {
    const port = 60_000 + (process.pid % 5000); // a port no real test uses
    const release = await acquireVpcdPortLock(port);
    await expect(acquireVpcdPortLock(port, 300)).rejects.toThrow(/stayed locked/);
    release();
    const again = await acquireVpcdPortLock(port, 1000);
    again();
    // A lock left by a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max).
    writeFileSync(vpcdPortLockPath(port), String(2 ** 22 + 1));
    const takenOver = await acquireVpcdPortLock(port, 1000);
    takenOver();
  });
});
