/**
 * Helpers shared by this package's tests (not exported from the package).
 */
import { ScardError, toHex } from '@minidriver/spec';
import { expect } from 'vitest';

/** Space-separated lower-case hex, as the vectors in the tests are written. */
export const hex = (bytes: Uint8Array) => toHex(bytes, ' ');

/** Asserts that `action` throws a ScardError with the given name. */
export function expectScardError(action: () => unknown, code: string): void {
  try {
    action();
  } catch (error) {
    expect(ScardError.isInstance(error)).toBe(true);
    expect((error as ScardError).name).toBe(code);
    return;
  }
  throw new Error('expected a ScardError');
}
