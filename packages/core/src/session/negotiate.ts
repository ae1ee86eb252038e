/**
 * CARD_DATA version negotiation (docs/spec/minidriver.md §1.6) and the version rules of versioned structures.
 *
 * - The caller asks for a version; below the plugin's `min` is ERROR_REVISION_MISMATCH; otherwise the
 *   context runs at `min(requested, current)` for its whole life. A request above 7 is allowed and
 *   negotiates down (docs/spec/minidriver.md §11: "dwVersion 8 → success with 7").
 * - An entry point newer than the negotiated version is refused with SCARD_E_UNSUPPORTED_FEATURE. The spec
 *   names no code for this (docs/spec/minidriver.md §3.1 only says such slots "may be left untouched"), so we use the code it gives
 *   for any slot a context does not offer.
 * - A versioned structure with `dwVersion` 0 counts as 1; above the current version is
 *   ERROR_REVISION_MISMATCH (docs/spec/minidriver.md §1.6, §14 item 16).
 *
 * @packageDocumentation
 */
import type { CardDataVersion, CardDataVersions } from '@minidriver/spec';
import { ENTRY_POINT_VERSION, type EntryPointName, ScardError, specEntryPointName } from '@minidriver/spec';

/** The CARD_DATA version a caller asks for when it does not say: the current one. */
export const DEFAULT_REQUESTED_VERSION = 7;

function isCardDataVersion(value: unknown): value is CardDataVersion {
  return value === 4 || value === 5 || value === 6 || value === 7;
}

/**
 * Checks a plugin's declared `cardDataVersions` (min and current both in 4..7, min ≤ current).
 * A plugin that breaks this is broken, not the caller: SCARD_E_UNEXPECTED.
 */
export function validateCardDataVersions(pluginName: string, versions: CardDataVersions | undefined): void {
  if (
    versions === undefined ||
    !isCardDataVersion(versions.min) ||
    !isCardDataVersion(versions.current) ||
    versions.min > versions.current
  ) {
    throw new ScardError(
      'SCARD_E_UNEXPECTED',
      `plugin "${pluginName}" declares invalid cardDataVersions ${JSON.stringify(versions)}; need 4 <= min <= current <= 7`,
    );
  }
}

/**
 * CardAcquireContext's negotiation: `requested` < `min` → ERROR_REVISION_MISMATCH, else
 * `min(requested, current)`. A requested value that is not a non-negative integer is
 * SCARD_E_INVALID_PARAMETER.
 */
export function negotiateCardDataVersion(requested: number, versions: CardDataVersions): CardDataVersion {
  if (!Number.isInteger(requested) || requested < 0 || requested > 0xffffffff) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `requested CARD_DATA version ${requested} is not a DWORD`);
  }
  if (requested < versions.min) {
    throw new ScardError(
      'ERROR_REVISION_MISMATCH',
      `requested CARD_DATA version ${requested} is below the plugin's minimum ${versions.min}`,
    );
  }
  return Math.min(requested, versions.current) as CardDataVersion;
}

/** Refuses an entry point that the negotiated CARD_DATA version does not have. */
export function requireEntryPointVersion(name: EntryPointName, negotiated: CardDataVersion): void {
  const needed = ENTRY_POINT_VERSION[name];
  if (needed > negotiated) {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `${specEntryPointName(name)} needs CARD_DATA version ${needed}; this context negotiated ${negotiated}`,
    );
  }
}

/**
 * The effective version of an IN/OUT versioned structure (CARD_CAPABILITIES, CONTAINER_INFO, ...):
 * 0 counts as 1, above `current` is ERROR_REVISION_MISMATCH, a non-DWORD is SCARD_E_INVALID_PARAMETER.
 */
export function resolveStructureVersion(structure: string, given: number, current: number): number {
  if (!Number.isInteger(given) || given < 0 || given > 0xffffffff) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `${structure}.dwVersion ${given} is not a DWORD`);
  }
  const effective = given === 0 ? 1 : given;
  if (effective > current) {
    throw new ScardError(
      'ERROR_REVISION_MISMATCH',
      `${structure}.dwVersion ${given} is above the current version ${current}`,
    );
  }
  return effective;
}
