/**
 * Byte-order helpers for the CryptoAPI boundary (docs/spec/minidriver.md §8.1): RSA integers are little-endian at the
 * interface and big-endian on cards; ECC coordinates are big-endian and left-padded to the field size.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { requireBytes } from './bytes.js';
import { ScardError } from './errors.js';

/** A reversed copy of `bytes` (the input is not touched). */
export function reverseBytes(bytes: Uint8Array): Uint8Array {
  requireBytes(bytes, 'reverseBytes input');
  const out = new Uint8Array(bytes.length);
  for (let index = 0; index < bytes.length; index++) out[index] = bytes[bytes.length - 1 - index] as number;
  return out;
}

/**
 * A copy of big-endian `bytes` left-padded with zeros to `length`. Leading zero bytes beyond `length` are
 * dropped; a value that does not fit (a non-zero byte would be lost) → SCARD_E_INVALID_PARAMETER.
 */
export function leftPad(bytes: Uint8Array, length: number): Uint8Array {
  requireBytes(bytes, 'leftPad input');
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'invalid padded length');
  }
  let start = 0;
  while (bytes.length - start > length) {
    if (bytes[start] !== 0) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `a ${bytes.length}-byte value does not fit in ${length} bytes`);
    }
    start++;
  }
  const out = new Uint8Array(length);
  out.set(bytes.subarray(start), length - (bytes.length - start));
  return out;
}
