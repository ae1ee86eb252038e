/**
 * ECDSA signature forms: DER `SEQUENCE { INTEGER r, INTEGER s }` (what many cards and X.509
 * produce) and raw `r ‖ s` (what CardSignData returns, docs/spec/minidriver.md §5.6.1: big-endian, each left-padded to 32/48/66).
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { concatBytes, leftPad, ScardError } from '@minidriver/spec';

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/** Reads a DER length at `offset`; returns [length, offset after it]. */
function readLength(der: Uint8Array, offset: number): [number, number] {
  const first = der[offset];
  if (first === undefined) invalid('truncated ECDSA signature');
  if (first < 0x80) return [first, offset + 1];
  const count = first & 0x7f;
  if (count === 0 || count > 2 || offset + 1 + count > der.length) invalid('bad DER length in ECDSA signature');
  let length = 0;
  for (let index = 0; index < count; index++) length = (length << 8) | (der[offset + 1 + index] as number);
  if (length < 0x80 || (count === 2 && length < 0x100)) invalid('non-minimal DER length in ECDSA signature');
  return [length, offset + 1 + count];
}

function readInteger(der: Uint8Array, offset: number): [Uint8Array, number] {
  if (der[offset] !== 0x02) invalid('ECDSA signature component is not an INTEGER');
  const [length, start] = readLength(der, offset + 1);
  if (length === 0 || start + length > der.length) invalid('bad INTEGER in ECDSA signature');
  const value = der.subarray(start, start + length);
  if ((value[0] as number) & 0x80) invalid('negative INTEGER in ECDSA signature');
  if (length > 1 && value[0] === 0 && !((value[1] as number) & 0x80)) invalid('non-minimal INTEGER in ECDSA signature');
  return [value, start + length];
}

/**
 * DER ECDSA signature → raw `r ‖ s`, each left-padded to `coordinateBytes` (32, 48 or 66). Strict DER;
 * malformed input or a component that does not fit → SCARD_E_INVALID_PARAMETER.
 */
export function ecdsaDerToRaw(der: Uint8Array, coordinateBytes: number): Uint8Array {
  if (!(der instanceof Uint8Array) || der[0] !== 0x30) invalid('ECDSA signature is not a DER SEQUENCE');
  if (!Number.isInteger(coordinateBytes) || coordinateBytes < 1 || coordinateBytes > 132)
    invalid('invalid coordinate length');
  const [length, start] = readLength(der, 1);
  if (start + length !== der.length) invalid('ECDSA signature length does not match');
  const [r, afterR] = readInteger(der, start);
  const [s, afterS] = readInteger(der, afterR);
  if (afterS !== der.length) invalid('extra data in ECDSA signature');
  return concatBytes(leftPad(r, coordinateBytes), leftPad(s, coordinateBytes));
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  if (length < 0x100) return Uint8Array.of(0x81, length);
  return Uint8Array.of(0x82, length >>> 8, length & 0xff);
}

function encodeInteger(value: Uint8Array): Uint8Array {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const minimal = value.subarray(start);
  const body = (minimal[0] as number) & 0x80 ? concatBytes(Uint8Array.of(0), minimal) : minimal;
  return concatBytes(Uint8Array.of(0x02), encodeLength(body.length), body);
}

/** Raw `r ‖ s` (even length, halves equal) → DER `SEQUENCE { INTEGER r, INTEGER s }`, minimal encoding. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (!(raw instanceof Uint8Array) || raw.length === 0 || raw.length % 2 !== 0)
    invalid('raw ECDSA signature must have an even, non-zero length');
  const half = raw.length / 2;
  const body = concatBytes(encodeInteger(raw.subarray(0, half)), encodeInteger(raw.subarray(half)));
  return concatBytes(Uint8Array.of(0x30), encodeLength(body.length), body);
}
