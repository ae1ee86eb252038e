/**
 * A small DER writer (X.690): the few encodings an X.509 certificate needs — lengths, any
 * tag-length-value, SEQUENCE, SET, INTEGER, OBJECT IDENTIFIER, NULL, BOOLEAN, UTF8String, UTCTime /
 * GeneralizedTime, BIT STRING, OCTET STRING and explicit context tags. Writing only; no parser.
 *
 * @packageDocumentation
 */
import { concatBytes, ScardError } from '@minidriver/spec';

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/** DER length octets: short form below 128, long form (minimal) above (X.690 docs/spec/minidriver.md §8.1.3). */
export function derLength(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) invalid('DER length must be a non-negative integer');
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

/** One tag-length-value: `tag` (a single identifier octet), DER length, then `content` concatenated. */
export function derElement(tag: number, ...content: readonly Uint8Array[]): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f)
    invalid('DER tag must be a single identifier octet');
  const body = concatBytes(...content);
  return concatBytes(Uint8Array.of(tag), derLength(body.length), body);
}

/** SEQUENCE of already encoded elements. */
export const derSequence = (...elements: readonly Uint8Array[]): Uint8Array => derElement(0x30, ...elements);

/** SET of already encoded elements, in the order given (DER sorts SET OF; callers pass one element or sort). */
export const derSet = (...elements: readonly Uint8Array[]): Uint8Array => derElement(0x31, ...elements);

/** INTEGER from an unsigned big-endian magnitude: leading zeros trimmed, a 00 added when the top bit is set. */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length === 0) return Uint8Array.of(0x02, 0x01, 0x00);
  return derElement(0x02, (trimmed[0] as number) & 0x80 ? Uint8Array.of(0) : new Uint8Array(0), trimmed);
}

/** INTEGER from a small non-negative number (0 … 2³²−1). */
export function derSmallInteger(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) invalid('small INTEGER out of range');
  return derUnsignedInteger(Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff));
}

/** OBJECT IDENTIFIER from dotted text (`1.2.840.113549.1.1.11`); the first two arcs share one subidentifier. */
export function derObjectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((arc) => (/^\d+$/.test(arc) ? Number(arc) : Number.NaN));
  const [first, second] = arcs as [number, number];
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc)) || first > 2 || (first < 2 && second > 39))
    invalid(`not an object identifier: ${dotted}`);
  const octets: number[] = [];
  // X.690 docs/spec/minidriver.md §8.19: base-128 subidentifiers, high bit set on all but the last octet of each.
  for (const value of [40 * first + second, ...arcs.slice(2)]) {
    const group = [value % 128];
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128))
      group.unshift(0x80 | (rest % 128));
    octets.push(...group);
  }
  return derElement(0x06, Uint8Array.from(octets));
}

/** NULL. */
export const derNull = (): Uint8Array => Uint8Array.of(0x05, 0x00);

/** BOOLEAN (DER: TRUE is FF). */
export const derBoolean = (value: boolean): Uint8Array => Uint8Array.of(0x01, 0x01, value ? 0xff : 0x00);

/** UTF8String. */
export const derUtf8String = (text: string): Uint8Array => derElement(0x0c, new TextEncoder().encode(text));

/**
 * A certificate time as RFC 5280 §4.1.2.5 requires: UTCTime `YYMMDDHHMMSSZ` for 1950–2049, GeneralizedTime
 * `YYYYMMDDHHMMSSZ` otherwise; seconds precision (milliseconds dropped).
 */
export function derTime(date: Date): Uint8Array {
  const year = date.getTime() ? date.getUTCFullYear() : Number.NaN;
  if (!(year >= 0 && year <= 9999)) invalid('certificate time must be a valid date in years 0000-9999');
  const two = (value: number) => String(value).padStart(2, '0');
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  const ascii = (text: string) => new TextEncoder().encode(text);
  return year >= 1950 && year < 2050
    ? derElement(0x17, ascii(`${two(year % 100)}${rest}`))
    : derElement(0x18, ascii(`${String(year).padStart(4, '0')}${rest}`));
}

/** BIT STRING of whole octets (no unused bits). */
export const derBitString = (bytes: Uint8Array): Uint8Array => derElement(0x03, Uint8Array.of(0), bytes);

/** OCTET STRING. */
export const derOctetString = (bytes: Uint8Array): Uint8Array => derElement(0x04, bytes);

/** Explicit context-specific tag `[number]` (constructed, number 0–30) around `content`. */
export function derExplicit(number: number, ...content: readonly Uint8Array[]): Uint8Array {
  if (!Number.isInteger(number) || number < 0 || number > 30) invalid('context tag number must be 0-30');
  return derElement(0xa0 | number, ...content);
}
