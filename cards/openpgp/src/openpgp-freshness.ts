/**
 * What keeps the OpenPGP plugin's data cache honest across processes (docs/cache.md): the card has no
 * standard `cardcf`, so the plugin's `cardcf` carries, as its trailing bytes, a witness of the key parts
 * of the Application Related Data (GET DATA 6E, docs/spec/openpgp.md §3.2): the AID, the algorithm
 * attributes C1-C3, the fingerprints C5, the CA fingerprints C6, the generation dates CD and the key
 * information DE. Every writer of a key records its fingerprint and generation date there (the card
 * specification asks it of the terminal; GnuPG, OpenSC and ykman do), so a key generated or imported by
 * any tool changes the witness, and the session then drops everything it had cached. The PW status C4 is
 * left out: it changes with every PIN try.
 *
 * The cardholder certificates (7F21) are not in 6E: `gpg --card-edit` and other tools rewrite them
 * without any trace 6E or another cheap object would show. So the certificate files and the `mscp`
 * listing (which says which certificates exist) are not provable: they are read from the card in every
 * transaction and never saved to the cross-process store ({@link isProvableOpenPgpEntry}).
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { decodeTlv, findTlvValue, type TlvNode } from '@minidriver/iso7816';
import { ScardError } from '@minidriver/spec';

/** The data objects of 6E whose change means the card's keys may have changed, in witness order. */
export const KEY_PART_TAGS: readonly number[] = [0x4f, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xcd, 0xde];

/** Bytes of the witness (a SHA-256). */
export const WITNESS_SIZE = 32;

function keyPart(nodes: readonly TlvNode[], tag: number): Uint8Array | undefined {
  // v3 cards nest C0-DE in 73 (discretionary data objects), v2 cards put them directly in 6E.
  return findTlvValue(nodes, 0x6e, 0x73, tag) ?? findTlvValue(nodes, 0x6e, tag);
}

/**
 * The witness of the key parts of a GET DATA 6E answer (with its own 6E tag): SHA-256 over, for each tag
 * of {@link KEY_PART_TAGS}, the tag, a presence byte, the value's length (2 bytes) and the value.
 * Malformed 6E → SCARD_E_COMM_DATA_LOST.
 */
export function applicationDataWitness(applicationData: Uint8Array): Uint8Array {
  const nodes = decodeTlv(applicationData, { malformedError: 'SCARD_E_COMM_DATA_LOST' });
  if (findTlvValue(nodes, 0x6e) === undefined) {
    throw new ScardError('SCARD_E_COMM_DATA_LOST', 'OpenPGP card data: application related data (6E) is missing');
  }
  const hash = createHash('sha256');
  for (const tag of KEY_PART_TAGS) {
    const value = keyPart(nodes, tag);
    const header = Uint8Array.of(
      tag,
      value === undefined ? 0 : 1,
      ((value?.length ?? 0) >>> 8) & 0xff,
      (value?.length ?? 0) & 0xff,
    );
    hash.update(header);
    if (value !== undefined) hash.update(value);
  }
  return new Uint8Array(hash.digest());
}

const CERTIFICATE_FILE = /^mscp\/k[xs]c[0-9a-f]{2}$/;

/**
 * The plugin's `provableCacheEntries`: everything but the certificate files and the `mscp` listing, which
 * another tool can change without changing 6E.
 */
export function isProvableOpenPgpEntry(namespace: 'file' | 'container', tag: string): boolean {
  if (namespace !== 'file') return true;
  return tag !== 'mscp/' && !CERTIFICATE_FILE.test(tag);
}

/** The private use DO that holds our counters: readable by everyone, written after PW3 (docs/spec/openpgp.md §3). */
export const COUNTERS_DO = 0x0102;
const COUNTERS_MAGIC = [0x4d, 0x44, 0x43, 0x46]; // "MDCF"
const COUNTERS_SIZE = 9;

/** The containers and files counters of `cardcf` as this plugin keeps them on the card. */
export interface CardCounters {
  readonly containersFreshness: number;
  readonly filesFreshness: number;
}

/**
 * What the counters DO holds: `ours` (our "MDCF" record, version 1, containers and files big-endian),
 * `empty` (nothing yet: we may write it), or `foreign` (someone else's data, e.g. `gpg --card-edit
 * privatedo`: never overwritten, never trusted).
 */
export type CountersDo =
  | { readonly kind: 'ours'; readonly counters: CardCounters }
  | { readonly kind: 'empty' | 'foreign' };

export function decodeCountersDo(bytes: Uint8Array): CountersDo {
  if (bytes.length === 0) return { kind: 'empty' };
  if (bytes.length !== COUNTERS_SIZE || COUNTERS_MAGIC.some((byte, index) => bytes[index] !== byte) || bytes[4] !== 1) {
    return { kind: 'foreign' };
  }
  return {
    kind: 'ours',
    counters: {
      containersFreshness: ((bytes[5] as number) << 8) | (bytes[6] as number),
      filesFreshness: ((bytes[7] as number) << 8) | (bytes[8] as number),
    },
  };
}

export function encodeCountersDo(counters: CardCounters): Uint8Array {
  const { containersFreshness: c, filesFreshness: f } = counters;
  if (![c, f].every((value) => Number.isInteger(value) && value >= 0 && value <= 0xffff)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'cardcf counters are 16-bit');
  }
  return Uint8Array.of(...COUNTERS_MAGIC, 1, c >>> 8, c & 0xff, f >>> 8, f & 0xff);
}
