/**
 * Little-endian integer access and the two failure kinds shared by every codec: a malformed
 * caller-supplied structure (SCARD_E_INVALID_PARAMETER) and a corrupt on-card file (SCARD_E_COMM_DATA_LOST).
 * Internal: not re-exported from the package.
 *
 * @packageDocumentation
 */
import { ScardError } from '@minidriver/spec';

/** Throws the error for a malformed structure handed in by a caller. */
export function invalidInput(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/** Throws the error for an on-card file that exists but cannot be parsed. */
export function corruptFile(message: string): never {
  throw new ScardError('SCARD_E_COMM_DATA_LOST', message);
}

/** Requires a `Uint8Array` argument (typed callers always pass one; this guards JS callers). */
export function requireBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) invalidInput(`${what} must be a Uint8Array`);
}

/** Requires an integer in [0, max]. */
export function requireUint(value: unknown, max: number, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    invalidInput(`${what} must be an integer from 0 to ${max}`);
  }
}

export function readUint16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
}

export function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] as number) |
      ((bytes[offset + 1] as number) << 8) |
      ((bytes[offset + 2] as number) << 16) |
      ((bytes[offset + 3] as number) << 24)) >>>
    0
  );
}

export function writeUint16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
}

export function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/** Encodes a list of DWORDs, little-endian. */
export function encodeUint32s(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((value, index) => {
    writeUint32(out, index * 4, value);
  });
  return out;
}
