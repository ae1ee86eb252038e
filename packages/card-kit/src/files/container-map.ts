/**
 * `mscp/cmapfile` synthesised from the keys a card holds, and the one policy for the caller's writes of
 * it (docs/spec/minidriver.md §3.7, §4.3 "write-through").
 *
 * @packageDocumentation
 */
import {
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  type ContainerMapRecord,
  ScardError,
} from '@minidriver/spec';
import { decodeContainerMap, encodeContainerMap } from '../codecs/cmapfile.js';

/** The key of one container, as the plugin sees it on the card. */
export interface ContainerKeySummary {
  /** Which half of the container the key is. */
  readonly half: 'signature' | 'keyExchange';
  /** Key size in bits (RSA modulus or ECC field). */
  readonly bits: number;
  /** The container's name when nothing else named it (e.g. a GUID derived from the card id). */
  readonly name: string;
}

const EMPTY_RECORD: ContainerMapRecord = Object.freeze({
  guid: '',
  flags: 0,
  signatureKeySizeBits: 0,
  keyExchangeKeySizeBits: 0,
});

/**
 * The container map of a card whose containers are its key objects. Records follow the keys
 * (valid flag and key sizes); names are the plugin's until the caller writes cmapfile.
 *
 * Write policy (one for every plugin): a write is accepted when it agrees with the card — same records
 * valid, same key sizes — and then its names are kept for the life of the context (the caller's
 * GUID ↔ index table). A write that does not decode or disagrees with the card's keys is
 * SCARD_E_INVALID_PARAMETER and changes nothing.
 */
export class ContainerMap {
  readonly #names = new Map<number, string>();
  readonly #defaultIndex: number | undefined;

  /**
   * @param defaultIndex - the container to flag CONTAINER_MAP_DEFAULT_CONTAINER when it holds a key;
   *   otherwise (or when absent) the first valid container is the default.
   */
  constructor(defaultIndex?: number) {
    this.#defaultIndex = defaultIndex;
  }

  /** The records for `keys` (one entry per container; null = empty). */
  records(keys: readonly (ContainerKeySummary | null)[]): ContainerMapRecord[] {
    const preferred =
      this.#defaultIndex !== undefined && keys[this.#defaultIndex] ? this.#defaultIndex : keys.findIndex((key) => key);
    return keys.map((key, index) => {
      if (!key) return EMPTY_RECORD;
      return {
        guid: this.#names.get(index) ?? key.name,
        flags: CONTAINER_MAP_VALID_CONTAINER | (index === preferred ? CONTAINER_MAP_DEFAULT_CONTAINER : 0),
        signatureKeySizeBits: key.half === 'signature' ? key.bits : 0,
        keyExchangeKeySizeBits: key.half === 'keyExchange' ? key.bits : 0,
      };
    });
  }

  /** The cmapfile bytes for `keys`. */
  encode(keys: readonly (ContainerKeySummary | null)[]): Uint8Array {
    return encodeContainerMap(this.records(keys));
  }

  /** Applies the write policy to `data` against the card's `keys`. */
  write(data: Uint8Array, keys: readonly (ContainerKeySummary | null)[]): void {
    let written: ContainerMapRecord[];
    try {
      written = decodeContainerMap(data);
    } catch (error) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'cmapfile data is not a container map', { cause: error });
    }
    const actual = this.records(keys);
    const isValid = (record: ContainerMapRecord | undefined): boolean =>
      record !== undefined && (record.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0;
    for (let index = 0; index < Math.max(written.length, actual.length); index++) {
      const record = written[index];
      const card = actual[index];
      if (isValid(record) !== isValid(card)) {
        throw new ScardError(
          'SCARD_E_INVALID_PARAMETER',
          `cmapfile record ${index} says ${isValid(record) ? 'valid' : 'empty'} but the card's container is ${isValid(card) ? 'in use' : 'empty'}`,
        );
      }
      if (
        isValid(record) &&
        (record!.signatureKeySizeBits !== card!.signatureKeySizeBits ||
          record!.keyExchangeKeySizeBits !== card!.keyExchangeKeySizeBits)
      ) {
        throw new ScardError(
          'SCARD_E_INVALID_PARAMETER',
          `cmapfile record ${index} key sizes do not match the card's key`,
        );
      }
    }
    this.#names.clear();
    written.forEach((record, index) => {
      if (isValid(record)) this.#names.set(index, record.guid);
    });
  }

  /** Forgets the caller's name of container `index` (after its key was replaced or deleted). */
  forgetName(index: number): void {
    this.#names.delete(index);
  }
}
