/**
 * The data cache of the card interface layer (docs/spec/minidriver.md §4.8, §10): entries grouped by the cardcf counter
 * that invalidates them, one cache per card, and a store that shares those caches between the sessions of
 * a process (CP_CACHE_MODE_GLOBAL_CACHE). Every value goes in and comes out as a deep copy, so nobody can
 * alter cached data through a returned buffer.
 *
 * @packageDocumentation
 */
import type { CardCacheFile } from '@minidriver/spec';

/** The cardcf counters (docs/spec/minidriver.md §3.8). */
export type FreshnessCategory = 'pins' | 'containers' | 'files';

/**
 * What an entry is. `file`: file contents; `container`: container info, container properties, key
 * sizes; `plugin`: entries a plugin stored through its context's cache functions.
 */
export type CacheNamespace = 'file' | 'container' | 'plugin';

/**
 * The cache tag of `mscp/cmapfile`. It describes the containers, and the minidriver rewrites it itself when it
 * creates or deletes one (where the Base CSP would write it, docs/spec/minidriver.md §5.4.1): a containers change
 * makes a cached copy stale even though the files counter did not move.
 */
const CONTAINER_MAP_TAG = 'mscp/cmapfile';

const NAMESPACES_OF: Readonly<Record<FreshnessCategory, readonly CacheNamespace[]>> = {
  pins: [],
  containers: ['container'],
  // Plugin entries are minidriver-private file data: the files counter covers them (docs/spec/minidriver.md §4.8 table).
  files: ['file', 'plugin'],
};

/** A deep copy of the plain data we cache (Uint8Array, arrays, plain objects, primitives). */
export function cloneValue<T>(value: T): T {
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map((item) => cloneValue(item)) as T;
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = cloneValue(item);
    return copy as T;
  }
  return value;
}

/** The cached data of one card. */
export class CardDataCache {
  /** The cardcf contents this cache's entries are valid for; undefined until first read. */
  freshness: CardCacheFile | undefined;
  private readonly entries = new Map<string, unknown>();
  private changes = 0;

  /** Grows with every change of the entries (a persistent copy is written when it moved). */
  get revision(): number {
    return this.changes;
  }

  /** The tags of the entries of `namespace`. */
  tagsOf(namespace: CacheNamespace): string[] {
    const prefix = `${namespace}:`;
    return [...this.entries.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }

  /** Copies of every entry of `namespace`, as [tag, value]. */
  entriesOf(namespace: CacheNamespace): [tag: string, value: unknown][] {
    const prefix = `${namespace}:`;
    const out: [string, unknown][] = [];
    for (const [key, value] of this.entries) {
      if (key.startsWith(prefix)) out.push([key.slice(prefix.length), cloneValue(value)]);
    }
    return out;
  }

  /** A copy of the entry, or undefined. */
  get<T>(namespace: CacheNamespace, tag: string): T | undefined {
    const key = `${namespace}:${tag}`;
    return this.entries.has(key) ? cloneValue(this.entries.get(key) as T) : undefined;
  }

  /** Stores a copy of `value`. */
  set(namespace: CacheNamespace, tag: string, value: unknown): void {
    this.entries.set(`${namespace}:${tag}`, cloneValue(value));
    this.changes++;
  }

  delete(namespace: CacheNamespace, tag: string): void {
    if (this.entries.delete(`${namespace}:${tag}`)) this.changes++;
  }

  /** Drops every entry of one namespace. */
  dropNamespace(namespace: CacheNamespace): void {
    const prefix = `${namespace}:`;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix)) {
        this.entries.delete(key);
        this.changes++;
      }
    }
  }

  /** Drops what a change of one cardcf counter invalidates (containers: the cached cmapfile too). */
  dropCategory(category: FreshnessCategory): void {
    for (const namespace of NAMESPACES_OF[category]) this.dropNamespace(namespace);
    if (category === 'containers') this.delete('file', CONTAINER_MAP_TAG);
  }

  /** Drops everything, including the remembered cardcf. */
  clear(): void {
    this.entries.clear();
    this.freshness = undefined;
    this.changes++;
  }

  /** Number of entries (for tests and statistics). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * Where a session keeps the data cache of a card in GLOBAL mode: one {@link CardDataCache} per card key
 * (`<plugin name>:<cardid hex>`). {@link DataCacheStore} keeps them in memory; a persistent, cross-process
 * store implements the same interface.
 */
export interface CardCacheStore {
  /** The cache of the card `cardKey` (created empty when new). */
  forCard(cardKey: string): CardDataCache;
}

/**
 * Caches keyed by card (the hex of `cardid`), shared by the sessions that use the same store. Two stores
 * model two processes: each validates its copies against the card's cardcf.
 */
export class DataCacheStore implements CardCacheStore {
  private readonly cards = new Map<string, CardDataCache>();

  /** The cache of one card, created empty on first use. */
  forCard(cardKey: string): CardDataCache {
    let cache = this.cards.get(cardKey);
    if (cache === undefined) {
      cache = new CardDataCache();
      this.cards.set(cardKey, cache);
    }
    return cache;
  }

  /** Forgets one card. */
  delete(cardKey: string): void {
    this.cards.delete(cardKey);
  }

  /** Forgets every card. */
  clear(): void {
    this.cards.clear();
  }
}

/** The process-wide store used by sessions in GLOBAL cache mode unless they are given another. */
export const processDataCacheStore: DataCacheStore = new DataCacheStore();
