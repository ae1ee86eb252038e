/**
 * The data cache of one session (docs/spec/minidriver.md §4.8): the cache mode the plugin asked for
 * (GLOBAL / SESSION_ONLY / NO_CACHE), the cardcf freshness check at the start of each transaction and the
 * counter bump after each write, the plugin's cache functions (pfnCspCacheAddFile / LookupFile /
 * DeleteFile), and the session-level cache of files, container info and key sizes.
 *
 * Whatever the mode, what is read inside one card transaction is reused until it ends (nobody else can
 * change the card meanwhile): in NO_CACHE mode a cache that lives for one transaction only, in GLOBAL mode
 * the entries the plugin's cardcf cannot prove fresh, both dropped when the transaction ends, on a write
 * that covers them, and on a reset or removal.
 *
 * In GLOBAL mode the entries live in a {@link CardCacheStore} shared by the process's sessions, keyed by
 * `<plugin name>:<cardid hex>`, and optionally in a {@link PersistentCacheStore} shared with other
 * processes: what another process saved is restored before the first cardcf check, and the public entries
 * the plugin can prove fresh are saved after each transaction (docs/cache.md). Every entry is validated
 * against the card's cardcf before use.
 *
 * @packageDocumentation
 */
import { bumpFreshness, decodeCardCacheFile, encodeCardCacheFile } from '@minidriver/card-kit';
import {
  CacheMode,
  type CardCacheFile,
  type CardDataVersion,
  CardProperty,
  type DirectoryName,
  LogicalName,
  type Minidriver,
  type PluginCache,
  ScardError,
  type TransportEvent,
  toHex,
} from '@minidriver/spec';
import type { PersistentCacheStore } from '../cache-store/persistent-store.js';
import { type CardCacheStore, CardDataCache, DataCacheStore } from './data-cache.js';
import { applyFreshness } from './freshness.js';
import {
  forgetProvenCardId,
  loadProvenCardId,
  PersistentCacheLink,
  type PersistPolicy,
  saveProvenCardId,
} from './persistent-cache.js';

/** How a session's data cache is set up (CardSessionOptions and the plugin's declarations). */
export interface CacheOptions {
  /** The process store shared by sessions in GLOBAL mode. */
  readonly store: CardCacheStore;
  /** The cross-process store, if any. */
  readonly persistent?: PersistentCacheStore;
  /** The plugin's provableCacheEntries. */
  readonly provable?: PersistPolicy;
  /** The plugin's publicPluginCacheEntries. */
  readonly publicPluginTags?: readonly string[];
  /** The transport's presence token (Transport.presenceToken), asked inside the acquire transaction. */
  readonly presenceToken?: () => Promise<string | undefined>;
}

function isFileMissing(error: unknown): boolean {
  return ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND') || ScardError.hasCode(error, 'SCARD_E_DIR_NOT_FOUND');
}

/** The session cache tag of a file. */
export function cacheTagOf(directory: DirectoryName, name: string): string {
  return `${directory ?? ''}/${name}`;
}

/** Why a session runs in its cache mode ({@link CacheModeDecision}). */
export type CacheModeReason =
  /** CARD_DATA 4 and 5 have no CP_CARD_CACHE_MODE: GLOBAL, as the specification says. */
  | 'card-data-before-v6'
  /** The plugin does not answer CP_CARD_CACHE_MODE: GLOBAL, the specification's default. */
  | 'plugin-default'
  /** The plugin answered a value outside 1..3: nothing is cached. */
  | 'plugin-invalid'
  /** The plugin's CP_CARD_CACHE_MODE (its CP_CACHE_MODE_REASON, when it gives one, is the detail). */
  | 'plugin-choice'
  /** GLOBAL was asked, but cardid or cardcf cannot be read to validate a shared cache: SESSION_ONLY. */
  | 'no-cardcf';

/** The cache mode of a session, why, and the reason in words (e.g. a card whose cardcf the user cannot write). */
export interface CacheModeDecision {
  readonly mode: CacheMode;
  readonly reason: CacheModeReason;
  /** For people: the plugin's own reason (CP_CACHE_MODE_REASON) when it gives one, else the session's. */
  readonly detail: string;
}

const MODE_NAMES: Readonly<Record<number, string>> = {
  [CacheMode.GLOBAL_CACHE]: 'GLOBAL_CACHE',
  [CacheMode.SESSION_ONLY]: 'SESSION_ONLY',
  [CacheMode.NO_CACHE]: 'NO_CACHE',
};

function isMissingProperty(error: unknown): boolean {
  return (
    ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE') || ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')
  );
}

/** The cache of one session and its freshness bookkeeping. */
export class CacheCoordinator {
  readonly #pluginName: string;
  readonly #minidriver: () => Minidriver;
  readonly #isClosed: () => boolean;
  #decision: CacheModeDecision = { mode: CacheMode.NO_CACHE, reason: 'plugin-choice', detail: 'not set up yet' };
  #cache: CardDataCache | undefined;
  #pluginCacheEnabled = false;
  /** True once {@link setUp} chose the mode (no transaction cache before, nor after close). */
  #ready = false;
  /** The card transaction the transaction-scoped state below belongs to ({@link enterTransaction}). */
  #transactionToken: object | undefined;
  /** The cardcf read (or written) in the current transaction, GLOBAL mode only. */
  #transactionCardcf: { file: CardCacheFile; bytes: Uint8Array } | undefined;
  /** GLOBAL mode with a persistent store: the card's link to it. */
  #persistentLink: PersistentCacheLink | undefined;
  /** GLOBAL mode with a persistent store: the store and the presence token the card was opened under. */
  #presence: { store: PersistentCacheStore; token: string } | undefined;
  /** The plugin's publicPluginCacheEntries. */
  #publicPluginTags: readonly string[] = [];
  /** What {@link prepare} found: the presence token, the card it proves (if any), its restored cache. */
  #prepared:
    | {
        store: PersistentCacheStore;
        token: string;
        cardid?: Uint8Array | undefined;
        cardKey?: string;
        cache?: CardDataCache;
        link?: PersistentCacheLink;
      }
    | undefined;
  /** GLOBAL mode: entries the plugin's cardcf cannot prove fresh (kept one transaction only). */
  #unprovable: ((namespace: 'file' | 'container', tag: string) => boolean) | undefined;
  /** Session-level lookups answered from the cache, and those that went to the plugin. */
  readonly counters = { cacheHits: 0, cacheMisses: 0 };

  constructor(pluginName: string, minidriver: () => Minidriver, isClosed: () => boolean) {
    this.#pluginName = pluginName;
    this.#minidriver = minidriver;
    this.#isClosed = isClosed;
  }

  /** The CP_CARD_CACHE_MODE in effect. */
  get mode(): CacheMode {
    return this.#decision.mode;
  }

  /** The cache mode in effect and why. */
  get decision(): CacheModeDecision {
    return this.#decision;
  }

  /**
   * CP_CARD_CACHE_MODE of the plugin (CARD_DATA ≥ 6; GLOBAL before, or when the plugin lacks it), with the
   * plugin's CP_CACHE_MODE_REASON when it gives one.
   */
  async readCacheMode(version: CardDataVersion): Promise<CacheModeDecision> {
    if (version < 6) {
      return {
        mode: CacheMode.GLOBAL_CACHE,
        reason: 'card-data-before-v6',
        detail: `CARD_DATA ${version} has no CP_CARD_CACHE_MODE: GLOBAL_CACHE`,
      };
    }
    let mode: CacheMode;
    try {
      mode = await this.#minidriver().getProperty(CardProperty.CP_CARD_CACHE_MODE, 0);
    } catch (error) {
      if (!isMissingProperty(error)) throw error;
      return {
        mode: CacheMode.GLOBAL_CACHE,
        reason: 'plugin-default',
        detail: 'the plugin does not answer CP_CARD_CACHE_MODE: GLOBAL_CACHE',
      };
    }
    // An answer outside 1..3 cannot be trusted to keep a cache valid: cache nothing.
    if (mode !== 1 && mode !== 2 && mode !== 3) {
      return {
        mode: CacheMode.NO_CACHE,
        reason: 'plugin-invalid',
        detail: `the plugin answered CP_CARD_CACHE_MODE ${String(mode)}, not 1..3: nothing is cached`,
      };
    }
    let detail = `the plugin answers CP_CARD_CACHE_MODE ${MODE_NAMES[mode]}`;
    try {
      const reason = await this.#minidriver().getProperty(CardProperty.CP_CACHE_MODE_REASON, 0);
      if (typeof reason === 'string' && reason.length > 0) detail = reason.slice(0, 512);
    } catch (error) {
      if (!isMissingProperty(error)) throw error;
    }
    return { mode, reason: 'plugin-choice', detail };
  }

  /**
   * Before CardAcquireContext (GLOBAL mode is not known yet): when the transport proves that the card has
   * stayed in the reader since a process read its `cardid` (Transport.presenceToken, a record in the
   * persistent store), the card's cache is chosen and what was saved for it is restored, so the plugin
   * can use its public entries (a file table) from CardAcquireContext on. Nothing restored is used as
   * card data before setUp has checked it against the card's cardcf. Never throws.
   */
  async prepare(options: CacheOptions): Promise<void> {
    const persistent = options.persistent;
    if (persistent === undefined || options.presenceToken === undefined) return;
    try {
      const token = await options.presenceToken();
      if (token === undefined) return;
      const cardid = await loadProvenCardId(persistent, this.#pluginName, token);
      this.#prepared = { store: persistent, token, cardid };
      if (cardid === undefined) return;
      const cardKey = `${this.#pluginName}:${toHex(cardid)}`;
      const cache = options.store.forCard(cardKey);
      const link = new PersistentCacheLink(persistent, cardKey, options.provable ?? true, options.publicPluginTags);
      await link.restore(cache);
      this.#prepared = { store: persistent, token, cardid, cardKey, cache, link };
      // Only the plugin's own entries can be looked up before setUp (files and containers cannot: no call yet).
      this.#cache = cache;
      this.#pluginCacheEnabled = true;
    } catch {
      this.#prepared = undefined;
      this.#cache = undefined;
      this.#pluginCacheEnabled = false;
    }
  }

  /**
   * Sets the cache up for `decision.mode`; GLOBAL degrades to SESSION_ONLY on a card without cardid/cardcf. In
   * GLOBAL mode, the persistent store is restored from before the cardcf check, and the plugin's
   * provableCacheEntries say which entries may outlive a transaction.
   */
  async setUp(decision: CacheModeDecision, options: CacheOptions): Promise<void> {
    const mode = decision.mode;
    let effective = decision;
    const prepared = this.#prepared;
    this.#prepared = undefined;
    this.#ready = true;
    this.#cache = undefined;
    this.#pluginCacheEnabled = false;
    if (mode === CacheMode.NO_CACHE) {
      // Nothing outlives a transaction; within this one, what is read is reused (see beginTransaction).
      this.#decision = decision;
      return;
    }
    if (mode === CacheMode.GLOBAL_CACHE) {
      try {
        const persistent = options.persistent;
        // The same card has stayed in the reader since a process read its cardid: no need to read it again.
        const proven = prepared?.cardid;
        const cardid = proven ?? (await this.readUncached(LogicalName.CARD_IDENTIFIER_FILE));
        const cardKey = `${this.#pluginName}:${toHex(cardid)}`;
        const cache = prepared?.cache ?? options.store.forCard(cardKey);
        const provable = options.provable ?? true;
        if (persistent !== undefined) {
          this.#persistentLink =
            prepared?.link ?? new PersistentCacheLink(persistent, cardKey, provable, options.publicPluginTags);
          // What another process saved is checked against this cardcf like anything cached.
          if (prepared?.link === undefined) await this.#persistentLink.restore(cache);
        }
        // With the card proved, the plugin may find cardcf through its restored public entries (a file
        // table); the counters themselves always come from the card.
        this.#cache = cache;
        const cardcfBytes =
          proven === undefined
            ? await this.readUncached(LogicalName.CACHE_FILE)
            : await this.#readWithPluginCache(LogicalName.CACHE_FILE);
        const cardcf = decodeCardCacheFile(cardcfBytes);
        this.#decision = decision;
        if (provable !== true) this.#unprovable = (namespace, tag) => !provable(namespace, tag);
        this.#publicPluginTags = options.publicPluginTags ?? [];
        if (prepared !== undefined) {
          this.#presence = { store: prepared.store, token: prepared.token };
          if (proven === undefined) await saveProvenCardId(prepared.store, this.#pluginName, prepared.token, cardid);
        }
        applyFreshness(cache, cardcf);
        this.#transactionCardcf = { file: cardcf, bytes: cardcfBytes };
        this.#pluginCacheEnabled = true;
        return;
      } catch (error) {
        this.#cache = undefined;
        this.#persistentLink = undefined;
        // Without cardid and cardcf a shared cache cannot be validated: keep one for this session only.
        if (!isFileMissing(error) && !ScardError.hasCode(error, 'SCARD_E_COMM_DATA_LOST')) throw error;
        effective = {
          mode: CacheMode.SESSION_ONLY,
          reason: 'no-cardcf',
          detail: `GLOBAL_CACHE needs cardid and cardcf, which cannot be read (${(error as Error).message}): SESSION_ONLY`,
        };
      }
    }
    this.#decision = effective;
    this.#cache = new DataCacheStore().forCard('session');
    this.#pluginCacheEnabled = true;
  }

  /** Reads cardid / cardcf through the plugin with its cache functions switched off (docs/spec/minidriver.md §4.8). */
  async readUncached(name: string): Promise<Uint8Array> {
    const wasEnabled = this.#pluginCacheEnabled;
    this.#pluginCacheEnabled = false;
    try {
      return await this.#minidriver().readFile(null, name);
    } finally {
      this.#pluginCacheEnabled = wasEnabled;
    }
  }

  /** Reads a root file through the plugin with its cache functions on (the plugin's restored entries). */
  async #readWithPluginCache(name: string): Promise<Uint8Array> {
    const wasEnabled = this.#pluginCacheEnabled;
    this.#pluginCacheEnabled = true;
    try {
      return await this.#minidriver().readFile(null, name);
    } finally {
      this.#pluginCacheEnabled = wasEnabled;
    }
  }

  /** The cache functions handed to the plugin: a `plugin:` namespace of this session's data cache. */
  pluginCache(): PluginCache {
    const usable = (): CardDataCache | undefined =>
      this.#pluginCacheEnabled && !this.#isClosed() ? this.#cache : undefined;
    return {
      addFile: (tag, data) => {
        if (typeof tag === 'string' && data instanceof Uint8Array) usable()?.set('plugin', tag, data);
      },
      lookupFile: (tag) => (typeof tag === 'string' ? usable()?.get<Uint8Array>('plugin', tag) : undefined),
      deleteFile: (tag) => {
        if (typeof tag === 'string') usable()?.delete('plugin', tag);
      },
    };
  }

  /**
   * A reset or removal: a SESSION_ONLY cache is dropped, and what the current transaction kept (GLOBAL is
   * revalidated by cardcf, read again by the next call).
   */
  onCardEvent(event: TransportEvent): void {
    if (event.type !== 'reset' && event.type !== 'removed') return;
    if (this.#decision.mode === CacheMode.SESSION_ONLY) this.#cache?.clear();
    this.#dropTransactionScope();
  }

  /**
   * Work begins in the card transaction `token` names. Another token than the last one means the last
   * transaction ended (perhaps begun and ended by a caller, around calls that only joined it): what it
   * kept is dropped.
   */
  enterTransaction(token: object): void {
    if (token === this.#transactionToken) return;
    this.#dropTransactionScope();
    this.#transactionToken = token;
  }

  /** Drops what only the current transaction proves fresh; the next call reads cardcf again. */
  #dropTransactionScope(): void {
    this.#transactionCardcf = undefined;
    if (this.#decision.mode === CacheMode.NO_CACHE) {
      this.#cache?.clear();
      this.#cache = undefined;
      this.#pluginCacheEnabled = false;
    } else if (this.#decision.mode === CacheMode.GLOBAL_CACHE && this.#cache !== undefined) {
      this.#dropUnprovable(this.#cache);
    }
  }

  /** GLOBAL mode: the entries the plugin's cardcf cannot prove fresh (another tool may change them). */
  #dropUnprovable(cache: CardDataCache): void {
    const unprovable = this.#unprovable;
    if (unprovable === undefined) return;
    for (const namespace of ['file', 'container'] as const) {
      for (const tag of cache.tagsOf(namespace)) if (unprovable(namespace, tag)) cache.delete(namespace, tag);
    }
    // A plugin whose cardcf does not prove everything keeps only its declared public entries.
    for (const tag of cache.tagsOf('plugin')) {
      if (!this.#publicPluginTags.includes(tag)) cache.delete('plugin', tag);
    }
  }

  /** Entries a plugin made while authenticated must not outlive the authentication (docs/spec/minidriver.md §4.8). */
  dropPluginEntries(): void {
    this.#cache?.dropNamespace('plugin');
  }

  /**
   * At the start of a call's (or a held transaction's) work. GLOBAL: docs/spec/minidriver.md §4.8 / §10
   * step 4, compare the card's cardcf with the cache's copy, once per transaction. NO_CACHE: a cache for
   * this transaction only.
   */
  async beginTransaction(): Promise<void> {
    if (this.#decision.mode === CacheMode.NO_CACHE) {
      if (this.#cache === undefined && this.#ready) {
        this.#cache = new CardDataCache();
        this.#pluginCacheEnabled = true;
      }
      return;
    }
    if (
      this.#decision.mode !== CacheMode.GLOBAL_CACHE ||
      this.#cache === undefined ||
      this.#transactionCardcf !== undefined
    )
      return;
    const bytes = await this.readUncached(LogicalName.CACHE_FILE);
    const file = decodeCardCacheFile(bytes);
    applyFreshness(this.#cache, file);
    this.#transactionCardcf = { file, bytes };
  }

  /** The transaction ended: the next one reads cardcf again; a NO_CACHE transaction's cache goes. */
  endTransaction(): void {
    this.#transactionCardcf = undefined;
    this.#transactionToken = undefined;
    if (this.#decision.mode === CacheMode.NO_CACHE) {
      this.#cache?.clear();
      this.#cache = undefined;
      this.#pluginCacheEnabled = false;
    }
  }

  /**
   * After a transaction (GLOBAL mode): what the card cannot prove fresh goes (another tool may change it as
   * soon as the card is released), and the persistent store gets the public entries. Never throws.
   */
  async afterTransaction(): Promise<void> {
    const cache = this.#cache;
    if (this.#decision.mode !== CacheMode.GLOBAL_CACHE || cache === undefined) return;
    this.#dropUnprovable(cache);
    await this.#persistentLink?.saveIfChanged(cache);
  }

  /** cardcf as read at the start of this call's transaction (GLOBAL), else read through the plugin. */
  async readCardcf(): Promise<Uint8Array> {
    if (this.#transactionCardcf !== undefined) {
      this.counters.cacheHits++;
      return new Uint8Array(this.#transactionCardcf.bytes);
    }
    return new Uint8Array(await this.readUncached(LogicalName.CACHE_FILE));
  }

  /**
   * After a write: increment the counter of `category` in cardcf and write it back (docs/spec/minidriver.md §4.8), and drop what it
   * covers from this session's cache. Skipped in NO_CACHE mode and on cards without cardcf or writeFile.
   */
  async bump(category: 'pins' | 'containers' | 'files'): Promise<void> {
    if (this.#cache !== undefined) {
      this.#cache.dropCategory(category);
      this.#cache.dropNamespace('plugin');
    }
    const minidriver = this.#minidriver();
    if (this.#decision.mode === CacheMode.NO_CACHE || typeof minidriver.writeFile !== 'function') return;
    let current = this.#transactionCardcf?.file;
    if (current === undefined) {
      try {
        current = decodeCardCacheFile(await this.readUncached(LogicalName.CACHE_FILE));
      } catch (error) {
        if (isFileMissing(error)) return;
        throw error;
      }
    }
    const next = bumpFreshness(current, category);
    const bytes = encodeCardCacheFile(next);
    try {
      await minidriver.writeFile(null, LogicalName.CACHE_FILE, new Uint8Array(bytes));
    } catch (error) {
      this.#cache?.clear();
      throw error;
    }
    if (this.#decision.mode === CacheMode.GLOBAL_CACHE && this.#cache !== undefined) {
      this.#cache.freshness = next;
      this.#transactionCardcf = { file: next, bytes };
    }
  }

  /** After a file write or delete: cardcf / cardid changed by the caller invalidate everything. */
  async afterFileChange(directory: DirectoryName, file: string): Promise<void> {
    if (directory === null && (file === LogicalName.CACHE_FILE || file === LogicalName.CARD_IDENTIFIER_FILE)) {
      // The caller changed what validates the cache: trust nothing cached, not even which card this is.
      this.#cache?.clear();
      this.#transactionCardcf = undefined;
      if (this.#presence !== undefined) {
        await forgetProvenCardId(this.#presence.store, this.#pluginName, this.#presence.token);
      }
      return;
    }
    await this.bump('files');
  }

  /** A cached value, or `load()` stored in the cache. */
  async cached<T>(namespace: 'file' | 'container', tag: string, load: () => Promise<T>): Promise<T> {
    const cache = this.#cache;
    if (cache === undefined) return load();
    const hit = cache.get<T>(namespace, tag);
    if (hit !== undefined) {
      this.counters.cacheHits++;
      return hit;
    }
    this.counters.cacheMisses++;
    const value = await load();
    cache.set(namespace, tag, value);
    return value;
  }

  /** Forgets everything cached for this card (after card management changed it behind the contract). */
  clear(): void {
    this.#cache?.clear();
  }

  /** CardDeleteContext: a GLOBAL cache stays for other sessions; any other is dropped. */
  close(): void {
    this.#ready = false;
    if (this.#decision.mode !== CacheMode.GLOBAL_CACHE) this.#cache?.clear();
    this.#cache = undefined;
  }
}
