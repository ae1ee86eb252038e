/**
 * What a card package exports (a MinidriverPlugin), what it receives (a CardContext, the
 * counterpart of the caller-owned members of CARD_DATA), and the manifest the loader reads.
 *
 * @packageDocumentation
 */
import type { CardDataVersion } from './constants.js';
import type { Minidriver } from './minidriver-v7.js';
import type { DecryptPadding, SignDataRequest } from './structures.js';
import type { SecretApdu, Transport } from './transport.js';

/**
 * The cache functions of CARD_DATA (pfnCspCacheAddFile / LookupFile / DeleteFile). Entries live in the
 * session's data cache and are dropped when the card's freshness counters change (conservatively: on
 * any change of cardcf) and after deauthentication. Must not be used while reading cardid or cardcf.
 */
export interface PluginCache {
  /** Stores a copy of `data` under `tag`. */
  addFile(tag: string, data: Uint8Array): void;
  /** A copy of the data stored under `tag`, or undefined when absent or stale. */
  lookupFile(tag: string): Uint8Array | undefined;
  /** Removes the entry. */
  deleteFile(tag: string): void;
}

/**
 * Values a plugin learnt during the current entry point (a card object read once, not again within the
 * same call). The session empties it at every call boundary, before and after each entry point, so a
 * plugin never resets it by hand and nothing learnt in one call leaks into the next.
 */
export interface CallMemo {
  /** The value remembered under `key`, or the result of `load()`, remembered for the rest of the call. */
  get<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** The value remembered under `key`, or undefined. */
  peek<T>(key: string): T | undefined;
  /** Remembers `value` under `key` for the rest of the call. */
  set<T>(key: string, value: T): void;
  /** Forgets `key` (after the plugin changed the card object it stands for). */
  delete(key: string): void;
  /** Forgets everything (the session calls this at call boundaries). */
  clear(): void;
}

/** What CardAcquireContext hands a plugin: the caller's half of CARD_DATA. */
export interface CardContext {
  /** The negotiated CARD_DATA version, fixed for the life of the context. */
  readonly version: CardDataVersion;
  /** The card's ATR. */
  readonly atr: Uint8Array;
  /** The card's name (from the loader's match, or the plugin name). */
  readonly cardName: string;
  /** The connection to the card. Every call but deleteContext runs inside a transaction the session holds. */
  readonly transport: Transport;
  /** The data cache functions. */
  readonly cache: PluginCache;
  /** The per-call memo, emptied by the session at every call boundary. */
  readonly memo: CallMemo;
  /**
   * pfnCspPadData: pads `request.data` as `request.padding` says (PKCS #1 v1.5 type 01 with DigestInfo,
   * or PSS) to `modulusBytes`, big-endian, for a card that can only do raw RSA.
   */
  padData(request: SignDataRequest, modulusBytes: number): Uint8Array;
  /**
   * pfnCspUnpadData: removes PKCS #1 v1.5 type 02 or OAEP padding from a raw decrypted block (big-endian).
   * A bad block throws SCARD_E_INVALID_PARAMETER whose message is only "decryption error" (no padding oracle).
   */
  unpadData(block: Uint8Array, padding: DecryptPadding): Uint8Array;
}

/** CARD_DATA versions a plugin supports: negotiation runs at min(requested, current). */
export interface CardDataVersions {
  readonly min: CardDataVersion;
  readonly current: CardDataVersion;
}

/**
 * A card plugin: what a card package exports as `plugin` (and as its default export).
 */
export interface MinidriverPlugin {
  /** The card family's name, e.g. "PIV". */
  readonly name: string;
  /** Must equal the manifest's cardDataVersions. */
  readonly cardDataVersions: CardDataVersions;
  /**
   * CardAcquireContext: checks that the card is one this plugin drives (SCARD_E_UNKNOWN_CARD if not),
   * selects its application, and returns the per-context minidriver. Runs inside the session's
   * transaction. `flags` is 0 or CARD_SECURE_KEY_INJECTION_NO_CARD_MODE (validated by the session).
   */
  acquireContext(context: CardContext, flags: number): Promise<Minidriver>;
  /**
   * The card's secret-bearing commands beyond the ISO ones (VERIFY, CHANGE REFERENCE DATA, RESET RETRY
   * COUNTER, GET CHALLENGE): the session's APDU trace redacts them. The plugin's channel should wipe them
   * with the same list.
   */
  readonly secretApdus?: readonly SecretApdu[];
  /**
   * GLOBAL cache mode: which public data cache entries this card's cardcf proves fresh against every
   * writer, other tools included (`namespace` `file` with tag `directory/name`, or `container`). Absent or
   * true: all of them. Entries it cannot prove are kept only inside one card transaction and never reach
   * the cross-process store; so are the plugin's own cache entries (CardContext.cache) other than its
   * publicPluginCacheEntries.
   */
  readonly provableCacheEntries?: true | ((namespace: 'file' | 'container', tag: string) => boolean);
  /**
   * Tags of the entries the plugin keeps through its cache functions (CardContext.cache) that hold only
   * data everyone may read on the card (e.g. a file table) and may therefore be kept across processes,
   * validated by cardcf like every entry (any change of cardcf drops all plugin entries). Absent: none.
   */
  readonly publicPluginCacheEntries?: readonly string[];
}

/** One ATR pattern of a manifest. */
export interface ManifestAtr {
  /** Hex ATR, spaces allowed. */
  readonly atr: string;
  /** Hex mask of the same length; absent = exact match. */
  readonly mask?: string;
  /** A name for cards matching this pattern. */
  readonly name?: string;
}

/** The `minidriver` field of a card package's package.json (its JSON Schema ships in @minidriver/loader; see docs/writing-a-plugin.md). */
export interface PluginManifest {
  readonly name: string;
  readonly atrs: readonly ManifestAtr[];
  /** Hex AIDs the loader may SELECT to probe for the application when no ATR matches. */
  readonly aids?: readonly string[];
  readonly cardDataVersions: CardDataVersions;
  /** Module to import relative to the package (default: the package's main export). */
  readonly entry?: string;
  /** The package's simulator of its card, for tools that run a plugin without a reader. */
  readonly simulator?: ManifestSimulator;
}

/** The `simulator` of a manifest: where a card package's simulator lives. */
export interface ManifestSimulator {
  /** Its name for `minidriver --sim <name>` and `sim serve <name>`: lowercase letters, digits, dashes. */
  readonly name: string;
  /**
   * A subpath of the package (an `exports` key such as `./sim`, or a file such as `./dist/sim.js`) whose
   * module exports `createSimulator(options?: { seed?: string })`, returning a fresh simulated card.
   */
  readonly module: string;
}
