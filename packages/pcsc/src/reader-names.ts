/**
 * SCardListReaders as one function for every caller (a context's `listReaders`, the reader watch): the
 * size query, the list, and the retry when a reader arrives between both calls.
 *
 * @packageDocumentation
 */
import { ScardCode, ScardError } from '@minidriver/spec';
import { check } from './errors.js';
import type { NativeHandle, PcscLibrary } from './native.js';

/** Splits a PC/SC multi-string ("a\0b\0\0") into its strings. */
export function parseMultiString(bytes: Uint8Array): string[] {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('utf8')
    .split('\0')
    .filter((name) => name.length > 0);
}

/**
 * The names of the readers of context `handle` (SCardListReaders). An empty list when there are none
 * (pcsclite's SCARD_E_NO_READERS_AVAILABLE); other failures are thrown as ScardError.
 */
export async function listReaderNames(library: PcscLibrary, handle: NativeHandle): Promise<string[]> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const length = [0];
    let code = await library.listReaders(handle, null, length);
    if (code === ScardCode.SCARD_E_NO_READERS_AVAILABLE) return [];
    check(code, 'SCardListReaders');
    const buffer = Buffer.alloc(Math.max(1, Number(length[0])));
    length[0] = buffer.length;
    code = await library.listReaders(handle, buffer, length);
    if (code === ScardCode.SCARD_E_NO_READERS_AVAILABLE) return [];
    // A reader plugged in between both calls makes the buffer too small: ask again.
    if (code === ScardCode.SCARD_E_INSUFFICIENT_BUFFER) continue;
    check(code, 'SCardListReaders');
    return parseMultiString(buffer.subarray(0, Number(length[0])));
  }
  throw new ScardError('SCARD_E_INSUFFICIENT_BUFFER', 'SCardListReaders: the reader list kept changing');
}
