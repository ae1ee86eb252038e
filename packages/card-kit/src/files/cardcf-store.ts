/**
 * `cardcf` kept in the card context, for cards with nowhere standard to store it (docs/spec/minidriver.md
 * docs/spec/minidriver.md §4.1, §4.8): the caller's writes are kept for the life of the context and read back as written.
 *
 * @packageDocumentation
 */
import { ScardError } from '@minidriver/spec';
import {
  CARD_CACHE_FILE_SIZE,
  decodeCardCacheFile,
  EMPTY_CARD_CACHE_FILE,
  encodeCardCacheFile,
} from '../codecs/cardcf.js';

/** Where a card's `cardcf` lives for the {@link VirtualFileSystem}: read and written whole. */
export interface CardCfStore {
  /** The current contents (a copy). */
  read(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the contents; data that is not a cache file is SCARD_E_INVALID_PARAMETER and changes nothing. */
  write(data: Uint8Array): void | Promise<void>;
}

/**
 * The in-context `cardcf`. One policy for writes: the data must be a cache file (at least 6 bytes,
 * decodable by {@link decodeCardCacheFile}); anything else is the caller's error,
 * SCARD_E_INVALID_PARAMETER, and leaves the stored value unchanged.
 */
export class InContextCardCf implements CardCfStore {
  #bytes: Uint8Array = encodeCardCacheFile(EMPTY_CARD_CACHE_FILE);

  /** A copy of the current contents (6 zero bytes until the caller writes). */
  read(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }

  /** Keeps a copy of `data` after checking that it is a cache file. */
  write(data: Uint8Array): void {
    if (!(data instanceof Uint8Array) || data.length < CARD_CACHE_FILE_SIZE) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `cardcf is at least ${CARD_CACHE_FILE_SIZE} bytes`);
    }
    try {
      decodeCardCacheFile(data);
    } catch (error) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the data is not a cardcf cache file', { cause: error });
    }
    this.#bytes = new Uint8Array(data);
  }
}
