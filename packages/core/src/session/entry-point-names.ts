/**
 * @module The specification's names of the entry points (`CardReadFile`, `MDImportSessionKey` ...), so
 * that errors name the call the way the spec does.
 */
import type { EntryPointName } from '../contract/entry-points.js';

const SPECIAL_NAMES: Partial<Record<EntryPointName, string>> = {
  rsaDecrypt: 'CardRSADecrypt',
  constructDHAgreement: 'CardConstructDHAgreement',
  destroyDHAgreement: 'CardDestroyDHAgreement',
  mdImportSessionKey: 'MDImportSessionKey',
  mdEncryptData: 'MDEncryptData',
};

/** `readFile` → `CardReadFile`, `rsaDecrypt` → `CardRSADecrypt`, `mdEncryptData` → `MDEncryptData`. */
export function specEntryPointName(name: EntryPointName): string {
  return SPECIAL_NAMES[name] ?? `Card${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}
