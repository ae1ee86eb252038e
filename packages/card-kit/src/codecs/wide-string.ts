/**
 * UTF-16LE wide strings as the C API passes them (docs/spec/minidriver.md §1.3): NUL-terminated strings and multi-sz
 * lists. Conversion is code unit by code unit, so every JavaScript string round-trips exactly.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { invalidInput } from './binary.js';

/** Encodes `text` as UTF-16LE followed by one NUL (2 zero bytes). A NUL inside → SCARD_E_INVALID_PARAMETER. */
export function encodeWideString(text: string): Uint8Array {
  if (typeof text !== 'string' || text.includes('\0')) invalidInput('a wide string must be a string without NUL');
  const out = new Uint8Array((text.length + 1) * 2);
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    out[index * 2] = unit & 0xff;
    out[index * 2 + 1] = unit >>> 8;
  }
  return out;
}

/**
 * Decodes a UTF-16LE string up to its first NUL (or the end when there is none). An odd length →
 * SCARD_E_INVALID_PARAMETER.
 */
export function decodeWideString(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length % 2 !== 0)
    invalidInput('a wide string has an even number of bytes');
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += 2) {
    const unit = (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
    if (unit === 0) break;
    text += String.fromCharCode(unit);
  }
  return text;
}

/**
 * Encodes a multi-sz list: each string NUL-terminated, then one more NUL. The empty list is two wide NULs
 * (`00 00 00 00`), as implementations write it (docs/spec/minidriver.md §7.1). Empty strings or NULs inside → SCARD_E_INVALID_PARAMETER.
 */
export function encodeMultiString(list: readonly string[]): Uint8Array {
  if (!Array.isArray(list)) invalidInput('a multi-sz list must be an array');
  if (list.length === 0) return new Uint8Array(4);
  const parts = list.map((text) => {
    if (text === '') invalidInput('a multi-sz list cannot hold an empty string');
    return encodeWideString(text);
  });
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 2));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Decodes a multi-sz list, stopping at the empty string that ends it. Missing final NULs or an odd
 * length → SCARD_E_INVALID_PARAMETER; bytes after the terminator are ignored.
 */
export function decodeMultiString(bytes: Uint8Array): string[] {
  if (!(bytes instanceof Uint8Array) || bytes.length % 2 !== 0 || bytes.length < 2) invalidInput('not a multi-sz list');
  const list: string[] = [];
  let current = '';
  for (let offset = 0; offset < bytes.length; offset += 2) {
    const unit = (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
    if (unit !== 0) {
      current += String.fromCharCode(unit);
      continue;
    }
    if (current === '') return list;
    list.push(current);
    current = '';
  }
  return invalidInput('multi-sz list is not terminated by an empty string');
}
