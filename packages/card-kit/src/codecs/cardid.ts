/**
 * `cardid`, the 16-byte card identifier (docs/spec/minidriver.md §4.3), and its GUID text form.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { corruptFile, invalidInput, requireBytes } from './binary.js';

/** Length of `cardid` and of `CP_CARD_GUID`. */
export const CARD_ID_SIZE = 16;

/** Decodes the on-card `cardid`: exactly 16 bytes, else SCARD_E_COMM_DATA_LOST. Returns a copy. */
export function decodeCardId(bytes: Uint8Array): Uint8Array {
  requireBytes(bytes, 'cardid');
  if (bytes.length !== CARD_ID_SIZE) corruptFile(`cardid is ${bytes.length} bytes, 16 expected`);
  return new Uint8Array(bytes);
}

/** Encodes a card identifier: exactly 16 bytes, else SCARD_E_INVALID_PARAMETER. Returns a copy. */
export function encodeCardId(id: Uint8Array): Uint8Array {
  requireBytes(id, 'card identifier');
  if (id.length !== CARD_ID_SIZE) invalidInput(`a card identifier is 16 bytes, got ${id.length}`);
  return new Uint8Array(id);
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

/**
 * The card identifier as Windows prints the `UUID CardIdentifier` it caches under (StringFromGUID2):
 * `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`, upper case, with the GUID struct's mixed-endian layout —
 * Data1 (bytes 0–3), Data2 (4–5) and Data3 (6–7) are little-endian and printed reversed, Data4 (8–15) in
 * order. Chosen because Windows reinterprets the 16 cardid bytes as a GUID struct in memory.
 */
export function cardIdToGuidString(bytes: Uint8Array): string {
  const id = encodeCardId(bytes);
  const data1 = hex(id.slice(0, 4).reverse());
  const data2 = hex(id.slice(4, 6).reverse());
  const data3 = hex(id.slice(6, 8).reverse());
  return `{${data1}-${data2}-${data3}-${hex(id.slice(8, 10))}-${hex(id.slice(10, 16))}}`.toUpperCase();
}

/** The inverse of {@link cardIdToGuidString}; braces optional, any case. Else SCARD_E_INVALID_PARAMETER. */
export function guidStringToCardId(text: string): Uint8Array {
  const match =
    typeof text === 'string'
      ? /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i.exec(text)
      : null;
  if (!match || text.startsWith('{') !== text.endsWith('}')) invalidInput('not a GUID string');
  const field = (part: string): number[] => (part.match(/../g) ?? []).map((pair) => Number.parseInt(pair, 16));
  const [, data1, data2, data3, data4a, data4b] = match as unknown as string[];
  return Uint8Array.from([
    ...field(data1 as string).reverse(),
    ...field(data2 as string).reverse(),
    ...field(data3 as string).reverse(),
    ...field(data4a as string),
    ...field(data4b as string),
  ]);
}
