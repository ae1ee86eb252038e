/**
 * `cardapps`, the application directory (docs/spec/minidriver.md §4.3, §14 #2): 8-byte records, each an application
 * (directory) name zero-padded to 8 bytes, possibly without terminator. A created card holds
 * `6D 73 63 70 00 00 00 00` ("mscp").
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { corruptFile, invalidInput } from './binary.js';
import { validateFileName } from './file-names.js';

/** Size of one `cardapps` record. */
export const CARD_APPS_RECORD_SIZE = 8;

/**
 * Decodes `cardapps` into names in record order (record position = application index). A length that is
 * not a multiple of 8 → SCARD_E_COMM_DATA_LOST. Each name ends at its first NUL; bytes are read as
 * Latin-1. An all-zero record yields "" so later indices keep their positions.
 */
export function decodeCardApps(bytes: Uint8Array): string[] {
  if (!(bytes instanceof Uint8Array)) invalidInput('cardapps must be a Uint8Array');
  if (bytes.length % CARD_APPS_RECORD_SIZE !== 0) corruptFile(`cardapps is ${bytes.length} bytes, not a multiple of 8`);
  const names: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += CARD_APPS_RECORD_SIZE) {
    let name = '';
    for (let index = offset; index < offset + CARD_APPS_RECORD_SIZE && bytes[index] !== 0; index++) {
      name += String.fromCharCode(bytes[index] as number);
    }
    names.push(name);
  }
  return names;
}

/**
 * Encodes application names as 8-byte zero-padded records. Each name must be a valid directory name
 * (docs/spec/minidriver.md §4.1, see validateFileName) or "" for an empty record; else SCARD_E_INVALID_PARAMETER.
 */
export function encodeCardApps(names: readonly string[]): Uint8Array {
  if (!Array.isArray(names)) invalidInput('cardapps names must be an array');
  const out = new Uint8Array(names.length * CARD_APPS_RECORD_SIZE);
  names.forEach((name, record) => {
    if (name !== '') validateFileName(name);
    for (let index = 0; index < name.length; index++)
      out[record * CARD_APPS_RECORD_SIZE + index] = name.charCodeAt(index);
  });
  return out;
}
