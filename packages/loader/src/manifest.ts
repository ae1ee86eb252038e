/**
 * @module Validation of the `minidriver` manifest of a card package's package.json (shared/design.md).
 * The loader reads manifests without importing plugin code, so this is the only check a plugin gets
 * before it is indexed.
 */
import type { CardDataVersions, PluginManifest } from '@minidriver/core';
import { fromHex, ScardError } from '@minidriver/core';
import { type AtrPattern, parseManifestAtr } from './atr-pattern.js';

/** A manifest that passed validation, with its ATR patterns and AIDs decoded. */
export interface ValidatedManifest {
  readonly manifest: PluginManifest;
  /** One per manifest ATR, in manifest order; `name` from the ATR entry when given. */
  readonly patterns: readonly { readonly pattern: AtrPattern; readonly name?: string }[];
  /** The probe AIDs as bytes, in manifest order. */
  readonly aids: readonly Uint8Array[];
}

/**
 * Validates a `minidriver` manifest. Throws SCARD_E_INVALID_PARAMETER whose message names the problem
 * (the caller adds the package's name).
 */
export function validateManifest(value: unknown): ValidatedManifest {
  if (!isRecord(value)) throw invalid('the "minidriver" field is not an object');
  const { name, atrs, aids, cardDataVersions, entry } = value;
  if (typeof name !== 'string' || name.trim() === '') throw invalid('"name" must be a non-empty string');
  if (!Array.isArray(atrs)) throw invalid('"atrs" must be an array');
  if (aids !== undefined && !Array.isArray(aids)) throw invalid('"aids" must be an array of hex strings');
  if (atrs.length === 0 && (aids === undefined || aids.length === 0)) {
    throw invalid('the manifest has neither "atrs" nor "aids", so no card could ever select it');
  }
  const patterns = atrs.map((atrEntry, index) => {
    if (!isRecord(atrEntry) || typeof atrEntry.atr !== 'string')
      throw invalid(`"atrs[${index}].atr" must be a hex string`);
    if (atrEntry.mask !== undefined && typeof atrEntry.mask !== 'string')
      throw invalid(`"atrs[${index}].mask" must be a hex string`);
    if (atrEntry.name !== undefined && typeof atrEntry.name !== 'string')
      throw invalid(`"atrs[${index}].name" must be a string`);
    try {
      const pattern = parseManifestAtr(atrEntry.atr, atrEntry.mask as string | undefined);
      return atrEntry.name === undefined ? { pattern } : { pattern, name: atrEntry.name as string };
    } catch (error) {
      throw invalid(`"atrs[${index}]": ${problemOf(error)}`);
    }
  });
  const aidBytes = (aids ?? []).map((aid: unknown, index: number) => {
    if (typeof aid !== 'string') throw invalid(`"aids[${index}]" must be a hex string`);
    let bytes: Uint8Array;
    try {
      bytes = fromHex(aid);
    } catch (error) {
      throw invalid(`"aids[${index}]": ${problemOf(error)}`);
    }
    // ISO/IEC 7816-4: an AID has 5 to 16 bytes.
    if (bytes.length < 5 || bytes.length > 16)
      throw invalid(`"aids[${index}]" has ${bytes.length} bytes (5 to 16 allowed)`);
    return bytes;
  });
  const versions = validateVersions(cardDataVersions);
  if (entry !== undefined) {
    if (typeof entry !== 'string' || entry === '') throw invalid('"entry" must be a non-empty relative path');
    if (entry.startsWith('/') || /^[a-zA-Z]:/.test(entry) || entry.split(/[\\/]/).includes('..')) {
      throw invalid(`"entry" "${entry}" must stay inside the package`);
    }
  }
  const manifest: PluginManifest = {
    name,
    atrs: (atrs as Record<string, unknown>[]).map((atrEntry) => ({
      atr: atrEntry.atr as string,
      ...(atrEntry.mask === undefined ? {} : { mask: atrEntry.mask as string }),
      ...(atrEntry.name === undefined ? {} : { name: atrEntry.name as string }),
    })),
    ...(aids === undefined ? {} : { aids: [...(aids as string[])] }),
    cardDataVersions: versions,
    ...(entry === undefined ? {} : { entry: entry as string }),
  };
  return { manifest, patterns, aids: aidBytes };
}

function validateVersions(value: unknown): CardDataVersions {
  if (!isRecord(value)) throw invalid('"cardDataVersions" must be an object { min, current }');
  const { min, current } = value;
  for (const [label, version] of [
    ['min', min],
    ['current', current],
  ] as const) {
    if (version !== 4 && version !== 5 && version !== 6 && version !== 7) {
      throw invalid(`"cardDataVersions.${label}" must be 4, 5, 6 or 7 (got ${JSON.stringify(version)})`);
    }
  }
  if ((min as number) > (current as number))
    throw invalid(`"cardDataVersions.min" (${min}) exceeds "current" (${current})`);
  return { min, current } as CardDataVersions;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(problem: string): ScardError {
  return new ScardError('SCARD_E_INVALID_PARAMETER', problem);
}

/** The message of an error without its SCARD code prefix. */
export function problemOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^SCARD_[A-Z_]+: /, '');
}
