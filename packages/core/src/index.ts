/**
 * @module @minidriver/core — the minidriver contract (every entry point of the Smart Card Minidriver
 * Specification v7), its errors, CARD_DATA version negotiation, the logical file system codecs, and
 * `CardSession`, the card interface layer applications use.
 */

export * from './bytes.js';
export { defaultCacheDirectory } from './cache-store/cache-directory.js';
export type { CacheValue } from './cache-store/cache-value.js';
export type {
  PersistedCard,
  PersistedEntry,
  PersistedFreshness,
  PersistedNamespace,
} from './cache-store/entry-file.js';
export {
  type PersistentCacheStats,
  PersistentCacheStore,
  type PersistentCacheStoreOptions,
} from './cache-store/persistent-store.js';
export { isPublicCacheEntry } from './cache-store/public-data.js';
export * from './codecs/index.js';
export * from './codes.js';
export * from './contract/index.js';
export * from './crypto/index.js';
export * from './errors.js';
export * from './session/index.js';
export * from './transport.js';
