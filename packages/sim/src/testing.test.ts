import { describe, expect, it } from 'vitest';
import { missingToolsReason, toolAvailable } from './testing.js';

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
});
