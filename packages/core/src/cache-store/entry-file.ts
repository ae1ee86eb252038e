/**
 * One entry file of the persistent data cache: the public data cached for one card, and the cardcf
 * contents it is valid for. Layout: a header line `minidriver-cache 1 <SHA-256 of the body, hex>` then
 * the body, JSON `{"key", "freshness", "entries"}`. The body names the card it belongs to (`key`), so a file
 * copied under another card's name is refused; the digest refuses a truncated or edited file. Anything
 * that does not decode exactly is "no entry", never an error.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { type CacheValue, decodeCacheValue, encodeCacheValue } from './cache-value.js';

/**
 * What a persisted entry may hold: file contents, container data (key BLOBs, key sizes, properties), or a
 * plugin's public entry (one it declared in `publicPluginCacheEntries`).
 */
export type PersistedNamespace = 'file' | 'container' | 'plugin';

/** One cached value. */
export interface PersistedEntry {
  readonly namespace: PersistedNamespace;
  readonly tag: string;
  readonly value: CacheValue;
}

/** The cardcf contents (docs/spec/minidriver.md §3.8) every entry of a card was read under. */
export interface PersistedFreshness {
  readonly version: number;
  readonly pinsFreshness: number;
  readonly containersFreshness: number;
  readonly filesFreshness: number;
  /** Bytes after the counters (a plugin's witness of the card's state), when there are any. */
  readonly trailing?: Uint8Array;
}

/** The cached data of one card. */
export interface PersistedCard {
  readonly freshness: PersistedFreshness;
  readonly entries: readonly PersistedEntry[];
}

const MAGIC = 'minidriver-cache 1 ';
/** Most entries one card may have on disk. */
export const MAX_PERSISTED_ENTRIES = 4096;
const MAX_TAG_LENGTH = 256;
const MAX_TRAILING_LENGTH = 64;

/** The file contents for `card` under `key`. Throws TypeError when a value is not plain cache data. */
export function encodeEntryFile(key: string, card: PersistedCard): Buffer {
  const body = JSON.stringify({
    key,
    freshness: encodeCacheValue(freshnessValue(card.freshness)),
    entries: card.entries.map((entry) => [entry.namespace, entry.tag, encodeCacheValue(entry.value)]),
  });
  const digest = createHash('sha256').update(body).digest('hex');
  return Buffer.from(`${MAGIC}${digest}\n${body}`, 'utf8');
}

/** The card data in `bytes` when it is a well-formed entry file for `key`; otherwise undefined. */
export function decodeEntryFile(key: string, bytes: Uint8Array): PersistedCard | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const newline = text.indexOf('\n');
  if (!text.startsWith(MAGIC) || newline !== MAGIC.length + 64) return undefined;
  const digest = text.slice(MAGIC.length, newline);
  const body = text.slice(newline + 1);
  if (createHash('sha256').update(body).digest('hex') !== digest) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { key: storedKey, freshness: freshnessJson, entries } = parsed as Record<string, unknown>;
  if (storedKey !== key || !Array.isArray(entries) || entries.length > MAX_PERSISTED_ENTRIES) return undefined;
  const freshnessDecoded = decodeCacheValue(freshnessJson);
  const freshness = freshnessDecoded.ok ? checkFreshness(freshnessDecoded.value) : undefined;
  if (freshness === undefined) return undefined;
  const decoded: PersistedEntry[] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 3) return undefined;
    const [namespace, tag, json] = entry as [unknown, unknown, unknown];
    if (namespace !== 'file' && namespace !== 'container' && namespace !== 'plugin') return undefined;
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH) return undefined;
    const value = decodeCacheValue(json);
    if (!value.ok) return undefined;
    decoded.push({ namespace, tag, value: value.value });
  }
  return { freshness, entries: decoded };
}

function freshnessValue(freshness: PersistedFreshness): CacheValue {
  const { version, pinsFreshness, containersFreshness, filesFreshness, trailing } = freshness;
  return { version, pinsFreshness, containersFreshness, filesFreshness, ...(trailing ? { trailing } : {}) };
}

/** The freshness in `value` when it is exactly one (counters in range, trailing bounded). */
function checkFreshness(value: CacheValue): PersistedFreshness | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
    return undefined;
  const record = value as Record<string, CacheValue>;
  const keys = Object.keys(record).sort().join();
  if (
    keys !== 'containersFreshness,filesFreshness,pinsFreshness,version' &&
    keys !== 'containersFreshness,filesFreshness,pinsFreshness,trailing,version'
  )
    return undefined;
  const inRange = (item: CacheValue, max: number): item is number =>
    typeof item === 'number' && Number.isInteger(item) && item >= 0 && item <= max;
  const { version, pinsFreshness, containersFreshness, filesFreshness, trailing } = record;
  if (!inRange(version, 0xff) || !inRange(pinsFreshness, 0xff)) return undefined;
  if (!inRange(containersFreshness, 0xffff) || !inRange(filesFreshness, 0xffff)) return undefined;
  if (trailing !== undefined && !(trailing instanceof Uint8Array && trailing.length <= MAX_TRAILING_LENGTH))
    return undefined;
  return { version, pinsFreshness, containersFreshness, filesFreshness, ...(trailing ? { trailing } : {}) };
}
