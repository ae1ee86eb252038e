/**
 * The link between one card's data cache and the {@link PersistentCacheStore}: in GLOBAL mode a
 * session restores what another process saved for the card before it checks cardcf (so the check drops
 * whatever changed since), and saves the public entries back after each call that changed them.
 * Only entries the plugin's cardcf proves fresh against every writer, its own and other tools, are
 * saved (the plugin's {@link PersistPolicy}); everything else stays in this process.
 *
 * @packageDocumentation
 */

import type { CacheValue } from '../cache-store/cache-value.js';
import type { PersistedEntry } from '../cache-store/entry-file.js';
import type { PersistentCacheStore } from '../cache-store/persistent-store.js';
import { isPublicCacheEntry } from '../cache-store/public-data.js';
import type { CardDataCache } from './data-cache.js';

/**
 * Which public entries a card's cardcf keeps honest across processes: `true` for all of them, or a test
 * per entry (`namespace` `file` with tag `directory/name`, or `container`).
 */
export type PersistPolicy = true | ((namespace: 'file' | 'container', tag: string) => boolean);

/** See the module documentation. */
export class PersistentCacheLink {
  private saved: { revision: number; freshness: string } | undefined;

  constructor(
    private readonly store: PersistentCacheStore,
    /** Plugin + card identity. */
    readonly cardKey: string,
    private readonly policy: PersistPolicy,
    /** The plugin entries the plugin declared public (`publicPluginCacheEntries`). */
    private readonly publicPluginTags: readonly string[] = [],
  ) {}

  /**
   * Fills an empty `cache` with what is saved for the card (entries and the cardcf they were read under).
   * The caller then validates it against the card's cardcf like any cached data. Returns whether it did.
   */
  async restore(cache: CardDataCache): Promise<boolean> {
    if (cache.freshness !== undefined || cache.size > 0) return false;
    const card = await this.store.load(this.cardKey);
    if (card === undefined) return false;
    for (const entry of card.entries) {
      if (this.persistable(entry.namespace, entry.tag)) cache.set(entry.namespace, entry.tag, entry.value);
    }
    cache.freshness = { ...card.freshness };
    this.saved = { revision: cache.revision, freshness: describeFreshness(cache) };
    return true;
  }

  /** Saves the cache's persistable entries when they or its cardcf changed since the last save. */
  async saveIfChanged(cache: CardDataCache): Promise<void> {
    if (cache.freshness === undefined) return;
    const freshness = describeFreshness(cache);
    if (this.saved?.revision === cache.revision && this.saved.freshness === freshness) return;
    const entries: PersistedEntry[] = [];
    for (const namespace of ['file', 'container', 'plugin'] as const) {
      for (const [tag, value] of cache.entriesOf(namespace)) {
        if (this.persistable(namespace, tag)) entries.push({ namespace, tag, value: value as CacheValue });
      }
    }
    this.saved = { revision: cache.revision, freshness };
    await this.store.save(this.cardKey, { freshness: cache.freshness, entries });
  }

  private persistable(namespace: string, tag: string): boolean {
    if (!isPublicCacheEntry(namespace, tag, this.publicPluginTags)) return false;
    // A public plugin entry is validated by cardcf as a whole (any change drops them all).
    if (namespace === 'plugin') return true;
    return this.policy === true || this.policy(namespace as 'file' | 'container', tag);
  }
}

function describeFreshness(cache: CardDataCache): string {
  const freshness = cache.freshness;
  if (freshness === undefined) return '';
  const trailing = freshness.trailing ? Buffer.from(freshness.trailing).toString('hex') : '';
  return `${freshness.version}:${freshness.pinsFreshness}:${freshness.containersFreshness}:${freshness.filesFreshness}:${trailing}`;
}

/** The store key of the record of which card a presence token proved: plugin, then the token. */
function presenceKey(pluginName: string, token: string): string {
  return `presence:${pluginName}:${token}`;
}

const NO_FRESHNESS = { version: 0, pinsFreshness: 0, containersFreshness: 0, filesFreshness: 0 } as const;

/**
 * The `cardid` a process read from the card while the transport's presence token was `token`, or
 * undefined. Equal tokens prove the same card has stayed in the reader since (Transport.presenceToken).
 */
export async function loadProvenCardId(
  store: PersistentCacheStore,
  pluginName: string,
  token: string,
): Promise<Uint8Array | undefined> {
  const record = await store.load(presenceKey(pluginName, token));
  const entry = record?.entries.find((candidate) => candidate.namespace === 'file' && candidate.tag === '/cardid');
  return entry?.value instanceof Uint8Array && entry.value.length > 0 ? entry.value : undefined;
}

/** Records that the card present under `token` has `cardid` (read from the card in this transaction). */
export async function saveProvenCardId(
  store: PersistentCacheStore,
  pluginName: string,
  token: string,
  cardid: Uint8Array,
): Promise<void> {
  await store.save(presenceKey(pluginName, token), {
    freshness: NO_FRESHNESS,
    entries: [{ namespace: 'file', tag: '/cardid', value: new Uint8Array(cardid) }],
  });
}

/** Forgets the record of `token` (the card's identity was rewritten in place). */
export async function forgetProvenCardId(
  store: PersistentCacheStore,
  pluginName: string,
  token: string,
): Promise<void> {
  await store.delete(presenceKey(pluginName, token));
}
