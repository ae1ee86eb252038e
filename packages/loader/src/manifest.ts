/**
 * Validation of the `minidriver` manifest of a card package's package.json. The loader reads manifests
 * without importing plugin code, so this is the only check a plugin gets before it is indexed. The shape
 * is checked against the JSON Schema the package ships (`@minidriver/loader/manifest.schema.json`), then
 * what a schema cannot say (ATR/mask agreement, `min <= current`) is checked here.
 *
 * @packageDocumentation
 */
import { Validator } from '@cfworker/json-schema';
import type { CardDataVersions, ManifestSimulator, PluginManifest } from '@minidriver/spec';
import { fromHex, ScardError } from '@minidriver/spec';
import manifestSchema from '../manifest.schema.json' with { type: 'json' };
import { type AtrPattern, parseManifestAtr } from './atr-pattern.js';

/** A manifest that passed validation, with its ATR patterns and AIDs decoded. */
export interface ValidatedManifest {
  readonly manifest: PluginManifest;
  /** One per manifest ATR, in manifest order; `name` from the ATR entry when given. */
  readonly patterns: readonly { readonly pattern: AtrPattern; readonly name?: string }[];
  /** The probe AIDs as bytes, in manifest order. */
  readonly aids: readonly Uint8Array[];
}

/** The JSON Schema (draft 2020-12) of the `minidriver` manifest, as shipped in manifest.schema.json. */
export const MANIFEST_SCHEMA: Readonly<Record<string, unknown>> = manifestSchema;

const validator = new Validator(manifestSchema as object, '2020-12', false);

/** Keywords whose errors only say that something deeper failed. */
const WRAPPER_KEYWORDS = new Set(['properties', 'items', 'prefixItems', 'allOf', 'anyOf', 'oneOf', '$ref', 'false']);

/**
 * Validates a `minidriver` manifest. Throws SCARD_E_INVALID_PARAMETER whose message names the first
 * problem (the caller adds the package's name).
 */
export function validateManifest(value: unknown): ValidatedManifest {
  const problem = schemaProblem(value);
  if (problem !== undefined) throw invalid(problem);
  const raw = value as {
    name: string;
    atrs: { atr: string; mask?: string; name?: string }[];
    aids?: string[];
    cardDataVersions: CardDataVersions;
    entry?: string;
    simulator?: ManifestSimulator;
  };
  if (raw.atrs.length === 0 && (raw.aids === undefined || raw.aids.length === 0)) {
    throw invalid('the manifest has neither "atrs" nor "aids", so no card could ever select it');
  }
  const patterns = raw.atrs.map((atrEntry, index) => {
    try {
      const pattern = parseManifestAtr(atrEntry.atr, atrEntry.mask);
      return atrEntry.name === undefined ? { pattern } : { pattern, name: atrEntry.name };
    } catch (error) {
      throw invalid(`"atrs[${index}]": ${problemOf(error)}`);
    }
  });
  const aids = (raw.aids ?? []).map((aid) => fromHex(aid));
  const { min, current } = raw.cardDataVersions;
  if (min > current) throw invalid(`"cardDataVersions.min" (${min}) exceeds "current" (${current})`);
  const manifest: PluginManifest = {
    name: raw.name,
    atrs: raw.atrs.map((atrEntry) => ({
      atr: atrEntry.atr,
      ...(atrEntry.mask === undefined ? {} : { mask: atrEntry.mask }),
      ...(atrEntry.name === undefined ? {} : { name: atrEntry.name }),
    })),
    ...(raw.aids === undefined ? {} : { aids: [...raw.aids] }),
    cardDataVersions: { min, current },
    ...(raw.entry === undefined ? {} : { entry: raw.entry }),
    ...(raw.simulator === undefined ? {} : { simulator: { name: raw.simulator.name, module: raw.simulator.module } }),
  };
  return { manifest, patterns, aids };
}

/** The first problem the JSON Schema finds, in words; undefined when the manifest has the right shape. */
function schemaProblem(value: unknown): string | undefined {
  const result = validator.validate(value);
  if (result.valid) return undefined;
  // An unknown property first: it is usually a misspelling of the property a "required" error misses.
  const specific = result.errors.filter((candidate) => !WRAPPER_KEYWORDS.has(candidate.keyword));
  const error =
    specific.find((candidate) => candidate.keyword === 'additionalProperties') ?? specific[0] ?? result.errors[0];
  if (!error) return 'the manifest does not match its schema';
  const where = locationName(error.instanceLocation);
  const here = valueAt(value, error.instanceLocation) as Record<string, unknown>;
  const node = schemaNode(error.keywordLocation);
  if (error.keyword === 'required') {
    const missing = ((node?.required ?? []) as string[]).find((property) => !Object.hasOwn(here, property));
    return `${where} lacks ${JSON.stringify(missing ?? '?')}`;
  }
  if (error.keyword === 'additionalProperties') {
    const known = (node?.properties ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(here).find((property) => !Object.hasOwn(known, property));
    const allowed = Object.keys(known)
      .map((name) => JSON.stringify(name))
      .join(', ');
    return `${where} has an unknown property ${JSON.stringify(unknown ?? '?')} (the manifest schema allows ${allowed})`;
  }
  const expected = typeof node?.description === 'string' ? node.description : `valid (${error.error})`;
  return `${where} must be ${expected}${describeValue(valueAt(value, error.instanceLocation))}`;
}

/** `#/atrs/0/atr` -> `"atrs[0].atr"`; `#` -> `the "minidriver" field`. */
function locationName(pointer: string): string {
  const parts = pointerParts(pointer);
  if (parts.length === 0) return 'the "minidriver" field';
  let text = '';
  for (const part of parts) text += /^\d+$/.test(part) ? `[${part}]` : text === '' ? part : `.${part}`;
  return `"${text}"`;
}

function pointerParts(pointer: string): string[] {
  return pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((part) => part !== '')
    .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The schema object that holds the failing keyword (`#/properties/name/minLength` -> the name schema). */
function schemaNode(keywordLocation: string): Record<string, unknown> | undefined {
  let node: unknown = manifestSchema;
  const parts = pointerParts(keywordLocation).slice(0, -1);
  for (const part of parts) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>) : undefined;
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointerParts(pointer)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** `, got "3b zz"` (shortened), or nothing for objects and arrays. */
function describeValue(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? ', got an array' : ', got an object';
  const text = JSON.stringify(value) ?? String(value);
  return `, got ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function invalid(problem: string): ScardError {
  return new ScardError('SCARD_E_INVALID_PARAMETER', problem);
}

/** The message of an error without its SCARD code prefix. */
export function problemOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^SCARD_[A-Z_]+: /, '');
}
