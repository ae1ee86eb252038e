/**
 * @packageDocumentation
 * What a card may simply not have: a property its plugin does not support, a file that does not exist.
 * Such answers mean "not there" to a key store, never a failure of the whole call.
 */
import { ScardError } from '@minidriver/spec';

/** True when `error` says the thing asked for is not there (unsupported property, missing file or directory). */
export function isAbsent(error: unknown): boolean {
  return (
    ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE') ||
    ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER') ||
    ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND') ||
    ScardError.hasCode(error, 'SCARD_E_DIR_NOT_FOUND')
  );
}

/** `read()`, or undefined when what it reads is absent (see {@link isAbsent}); other failures are thrown. */
export async function readOptional<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isAbsent(error)) return undefined;
    throw error;
  }
}
