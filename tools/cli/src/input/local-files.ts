/**
 * @packageDocumentation
 * Reading and writing the user's files (`--in`, `--out`). `-` is stdin for an input and stdout for an
 * output. A file that cannot be read or written is the user's mistake, so it is a usage error (exit 2)
 * naming the file, not a card error. Every read is bounded: an input larger than what it is for
 * (`/dev/zero` as `--in`) stops at the bound with a usage error, in bounded memory and time.
 */
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
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

/** What a bounded read is for: its limit in bytes and the words of the error past it. */
export interface InputBound {
  /** The most bytes accepted. */
  readonly maxBytes: number;
  /** What the input is, for the message ("a card file", "an RSA ciphertext"). */
  readonly what: string;
}

/** The bound of `minidriver write`: a card file is at most 65,535 bytes (the largest BER-TLV object of a card). */
export const CARD_FILE_INPUT: InputBound = { maxBytes: 65_535, what: 'a card file' };
/** The bound of `minidriver decrypt`: an RSA-4096 ciphertext is 512 bytes. */
export const CIPHERTEXT_INPUT: InputBound = { maxBytes: 512, what: 'an RSA ciphertext' };
/** The bound of a certificate to import (PEM of the largest card file). */
export const CERTIFICATE_INPUT: InputBound = { maxBytes: 128 * 1024, what: 'a certificate' };
/** The bound of a message to sign: it is hashed here, streamed, never held whole. */
export const MESSAGE_INPUT: InputBound = { maxBytes: 256 * 1024 * 1024, what: 'a message to sign' };

function tooLarge(path: string, bound: InputBound): UsageError {
  return new UsageError(`${path} is larger than ${bound.maxBytes} bytes, the most ${bound.what} can be`);
}

/**
 * Streams `path` to `consume` chunk by chunk, failing with a usage error as soon as more than
 * `bound.maxBytes` arrived (works for regular files, pipes and devices alike).
 */
export async function streamInputFile(
  path: string,
  bound: InputBound,
  consume: (chunk: Uint8Array) => void,
): Promise<number> {
  let total = 0;
  const stream = path === STDIO ? process.stdin : createReadStream(path, { highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      total += bytes.length;
      if (total > bound.maxBytes) {
        bytes.fill(0);
        throw tooLarge(path, bound);
      }
      consume(bytes);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${path}: ${reason(error)}`);
  } finally {
    if (stream !== process.stdin) stream.destroy();
  }
  return total;
}

/** The bytes of `path`, at most `bound.maxBytes` of them (more is a usage error). */
export async function readInputFile(path: string, bound: InputBound): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  try {
    await streamInputFile(path, bound, (chunk) => chunks.push(new Uint8Array(chunk)));
    return new Uint8Array(Buffer.concat(chunks));
  } finally {
    for (const chunk of chunks) chunk.fill(0);
  }
}

/** The file name that means stdin (inputs) or stdout (outputs). */
export const STDIO = '-';

/** How an output file is named in messages: `-` is "stdout". */
export function outputName(path: string): string {
  return path === STDIO ? 'stdout' : path;
}

/**
 * Writes `data` to `path` (private to the user: 0600, as it may be a key or plaintext); `-` writes to
 * stdout.
 */
export async function writeOutputFile(path: string, data: Uint8Array | string): Promise<void> {
  if (path === STDIO) {
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(data, (error) =>
        error ? reject(new UsageError(`cannot write stdout: ${reason(error)}`)) : resolve(),
      ),
    );
    return;
  }
  try {
    await writeFile(path, data, { mode: 0o600 });
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${reason(error)}`);
  }
}
