/**
 * Names of the logical file system (docs/spec/minidriver.md §4.1) and of the certificate files `kscNN` / `kxcNN` (docs/spec/minidriver.md §4.3).
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { invalidInput } from './binary.js';

/** Characters Windows forbids in file names, besides control characters. */
const FORBIDDEN = new Set(['<', '>', ':', '"', '/', '\\', '|', '?', '*']);

/**
 * Checks a directory or file name (docs/spec/minidriver.md §4.1): 1–8 characters, each printable ASCII (0x20–0x7E: the part of
 * every ANSI code page that is the same everywhere), none of `< > : " / \ | ? *`, no leading or trailing
 * space, no trailing dot, not "." or "..". Anything else → SCARD_E_INVALID_PARAMETER.
 */
export function validateFileName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) invalidInput('a file or directory name is required');
  if (name.length > 8) invalidInput(`"${name.slice(0, 16)}" is longer than 8 characters`);
  for (const character of name) {
    const code = character.charCodeAt(0);
    if (code < 0x20 || code > 0x7e || FORBIDDEN.has(character))
      invalidInput(`"${name}" contains a forbidden character`);
  }
  if (name.startsWith(' ') || name.endsWith(' ') || name.endsWith('.')) {
    invalidInput(`"${name}" may not start or end with a space or end with a dot`);
  }
}

/** Validates `name` (see {@link validateFileName}) and folds it to lower case, the canonical form (docs/spec/minidriver.md §4.1). */
export function normalizeFileName(name: string): string {
  validateFileName(name);
  return name.toLowerCase();
}

/** The two certificate file kinds: signature (`ksc`) and key exchange (`kxc`). */
export type CertificateFileKind = 'ksc' | 'kxc';

/**
 * The certificate file name of a container: `ksc`/`kxc` + the index as two lowercase hex digits
 * (`%02x`, the spec's recommendation, docs/spec/minidriver.md §14 #4): container 10 → `kxc0a`. Index 0–255, else
 * SCARD_E_INVALID_PARAMETER.
 */
export function certificateFileName(kind: CertificateFileKind, containerIndex: number): string {
  if (kind !== 'ksc' && kind !== 'kxc') invalidInput(`unknown certificate file kind "${String(kind)}"`);
  if (!Number.isInteger(containerIndex) || containerIndex < 0 || containerIndex > 0xff) {
    invalidInput(`container index ${containerIndex} is not 0..255`);
  }
  return `${kind}${containerIndex.toString(16).padStart(2, '0')}`;
}

/**
 * Recognises a certificate file name written by any implementation (docs/spec/minidriver.md §4.3): case-insensitive `ksc`/`kxc`
 * followed by
 * - one or two hex digits (`kxc2`, `kxc0a`, `KXC0A`, `kxc10`) → read as **hexadecimal**, or
 * - three decimal digits (`kxc100`, OpenSC's `%02i` beyond 99) → read as decimal.
 *
 * Ambiguity: two-digit names made only of decimal digits mean different containers in the decimal scheme
 * (OpenSC minidriver `%02i`) and the hex schemes (Windows / Gemalto / our writer): `kxc10` is container
 * 16 here, container 10 for a decimal writer. Indices 0–9 agree in every scheme. We read hex because that
 * is what we and the Base CSP write. Returns undefined for any other name.
 */
export function parseCertificateFileName(
  name: string,
): { kind: CertificateFileKind; containerIndex: number } | undefined {
  if (typeof name !== 'string') return undefined;
  const match = /^(ksc|kxc)([0-9a-f]{1,2}|[0-9]{3})$/i.exec(name);
  if (!match) return undefined;
  const kind = (match[1] as string).toLowerCase() as CertificateFileKind;
  const digits = match[2] as string;
  const containerIndex = digits.length === 3 ? Number.parseInt(digits, 10) : Number.parseInt(digits, 16);
  return containerIndex > 0xff ? undefined : { kind, containerIndex };
}
