/**
 * Small byte helpers every layer needs: hex in and out, concatenation, comparison, wiping.
 *
 * @packageDocumentation
 */
import { ScardError } from './errors.js';

/** Throws SCARD_E_INVALID_PARAMETER unless `value` is a Uint8Array (a TypedArray of another kind is not). */
export function requireBytes(value: unknown, what = 'bytes'): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ScardError('SCARD_E_INVALID_PARAMETER', `${what} must be a Uint8Array`);
}

/** Lower-case hex, no separators: `toHex(Uint8Array.of(0x3b, 0xf8)) === '3bf8'`. */
export function toHex(bytes: Uint8Array, separator = ''): string {
  requireBytes(bytes, 'toHex input');
  if (typeof separator !== 'string')
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'toHex separator must be a string');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0 && separator) out += separator;
    out += (bytes[i] as number).toString(16).padStart(2, '0');
  }
  return out;
}

/**
 * Parses hex with optional spaces, colons or dashes between bytes (`"3b f8:13"`).
 * Throws SCARD_E_INVALID_PARAMETER on anything else.
 */
export function fromHex(text: string): Uint8Array {
  if (typeof text !== 'string') throw new ScardError('SCARD_E_INVALID_PARAMETER', 'fromHex input must be a string');
  const compact = text.replace(/[\s:-]/g, '');
  if (compact.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(compact)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `not a hex byte string: "${text.slice(0, 40)}"`);
  }
  const out = new Uint8Array(compact.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(compact.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) {
    requireBytes(part, 'concatBytes part');
    length += part.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** True when both arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  requireBytes(a, 'bytesEqual input');
  requireBytes(b, 'bytesEqual input');
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Overwrites secrets (PINs, keys) in place. */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const buffer of buffers) {
    if (buffer === undefined || buffer === null) continue;
    requireBytes(buffer, 'wipe input');
    buffer.fill(0);
  }
}

/** A detached copy, so a caller can never alter data held by a cache. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  requireBytes(bytes, 'copyBytes input');
  return new Uint8Array(bytes);
}
