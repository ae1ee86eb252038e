/**
 * The specification's names of the entry points (`CardReadFile`, `MDImportSessionKey` ...), so
 * that errors name the call the way the spec does.
 *
 * @packageDocumentation
 */
import type { EntryPointName } from './entry-points.js';

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
