/**
 * @module The few DER encoders a minimal X.509 certificate needs (X.690): lengths, SEQUENCE, INTEGER,
 * OID, strings, times, BIT STRING, explicit context tags.
 */

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** One TLV: `tag`, DER length, `content`. */
export function derElement(tag: number, ...content: readonly Uint8Array[]): Uint8Array {
  const body = concat(content);
  return concat([Uint8Array.of(tag), encodeLength(body.length), body]);
}

/** SEQUENCE of the given encoded elements. */
export const derSequence = (...elements: readonly Uint8Array[]): Uint8Array => derElement(0x30, ...elements);

/** SET of the given encoded elements (callers pass one element, so no sorting is needed). */
export const derSet = (...elements: readonly Uint8Array[]): Uint8Array => derElement(0x31, ...elements);

/** INTEGER from unsigned big-endian bytes (leading zeros trimmed, a 00 added when the top bit is set). */
export function derUnsignedInteger(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const needsZero = ((trimmed[0] ?? 0) & 0x80) !== 0 || trimmed.length === 0;
  return derElement(0x02, needsZero ? Uint8Array.of(0) : new Uint8Array(0), trimmed);
}

/** A small non-negative INTEGER. */
export function derSmallInteger(value: number): Uint8Array {
  return derUnsignedInteger(
    Uint8Array.of((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff),
  );
}

/** OBJECT IDENTIFIER from dotted text. */
export function derObjectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  // The first two arcs share one subidentifier (X.690 §8.19.4); every subidentifier is base 128.
  const subidentifiers = [40 * (arcs[0] as number) + (arcs[1] as number), ...arcs.slice(2)];
  const bytes: number[] = [];
  for (const value of subidentifiers) {
    const group: number[] = [value & 0x7f];
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128))
      group.unshift(0x80 | (rest & 0x7f));
    bytes.push(...group);
  }
  return derElement(0x06, Uint8Array.from(bytes));
}

/** NULL. */
export const derNull = (): Uint8Array => Uint8Array.of(0x05, 0x00);

/** UTF8String. */
export const derUtf8String = (text: string): Uint8Array => derElement(0x0c, new TextEncoder().encode(text));

/** UTCTime (years 1950-2049) or GeneralizedTime, as RFC 5280 §4.1.2.5 requires. */
export function derTime(date: Date): Uint8Array {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
  return year >= 1950 && year < 2050 ? derElement(0x17, ascii(digits.slice(2))) : derElement(0x18, ascii(digits));
}

/** BIT STRING with no unused bits. */
export const derBitString = (bytes: Uint8Array): Uint8Array => derElement(0x03, Uint8Array.of(0), bytes);

/** OCTET STRING. */
export const derOctetString = (bytes: Uint8Array): Uint8Array => derElement(0x04, bytes);

/** BOOLEAN. */
export const derBoolean = (value: boolean): Uint8Array => Uint8Array.of(0x01, 0x01, value ? 0xff : 0x00);

/** Explicit context-specific tag `[number]` (constructed). */
export const derExplicit = (number: number, ...content: readonly Uint8Array[]): Uint8Array =>
  derElement(0xa0 | number, ...content);
