/**
 * @module Reading and writing the user's files (`--in`, `--out`). A file that cannot be read or written
 * is the user's mistake, so it is a usage error (exit 2) naming the file, not a card error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { UsageError } from '../parse/usage-error.js';

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file'
    : code === 'EACCES'
      ? 'permission denied'
      : code === 'EISDIR'
        ? 'is a directory'
        : String((error as Error).message);
}

/** The bytes of `path`. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${reason(error)}`);
  }
}

/** Writes `data` to `path` (private to the user: 0600, as it may be a key or plaintext). */
export async function writeOutputFile(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await writeFile(path, data, { mode: 0o600 });
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${reason(error)}`);
  }
}
