/**
 * `cardcf`, the cache freshness file (docs/spec/minidriver.md §3.8, §4.8): `bVersion`, `bPinsFreshness`,
 * `wContainersFreshness` (LE), `wFilesFreshness` (LE); extra trailing bytes (older per-application
 * counters) are preserved as found.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import type { CardCacheFile } from '@minidriver/spec';
import { corruptFile, invalidInput, readUint16, requireBytes, requireUint, writeUint16 } from './binary.js';

/** Size of the fixed part of `cardcf`. */
export const CARD_CACHE_FILE_SIZE = 6;

/** The `cardcf` of a freshly created card: six zero bytes (docs/spec/minidriver.md §4.6). */
export const EMPTY_CARD_CACHE_FILE: CardCacheFile = Object.freeze({
  version: 0,
  pinsFreshness: 0,
  containersFreshness: 0,
  filesFreshness: 0,
});

/**
 * Decodes `cardcf`. It is an on-card file, so fewer than 6 bytes is SCARD_E_COMM_DATA_LOST.
 * Bytes after the sixth are returned (copied) in `trailing`; absent when there are none.
 */
export function decodeCardCacheFile(bytes: Uint8Array): CardCacheFile {
  requireBytes(bytes, 'cardcf');
  if (bytes.length < CARD_CACHE_FILE_SIZE) corruptFile(`cardcf is ${bytes.length} bytes, at least 6 expected`);
  const file: CardCacheFile = {
    version: bytes[0] as number,
    pinsFreshness: bytes[1] as number,
    containersFreshness: readUint16(bytes, 2),
    filesFreshness: readUint16(bytes, 4),
  };
  return bytes.length > CARD_CACHE_FILE_SIZE ? { ...file, trailing: bytes.slice(CARD_CACHE_FILE_SIZE) } : file;
}

/** Encodes `cardcf`: 6 bytes followed by `trailing`. Out-of-range counters → SCARD_E_INVALID_PARAMETER. */
export function encodeCardCacheFile(file: CardCacheFile): Uint8Array {
  if (typeof file !== 'object' || file === null) invalidInput('cardcf must be an object');
  requireUint(file.version, 0xff, 'cardcf version');
  requireUint(file.pinsFreshness, 0xff, 'cardcf pinsFreshness');
  requireUint(file.containersFreshness, 0xffff, 'cardcf containersFreshness');
  requireUint(file.filesFreshness, 0xffff, 'cardcf filesFreshness');
  if (file.trailing !== undefined) requireBytes(file.trailing, 'cardcf trailing');
  const trailing = file.trailing ?? new Uint8Array(0);
  const out = new Uint8Array(CARD_CACHE_FILE_SIZE + trailing.length);
  out[0] = file.version;
  out[1] = file.pinsFreshness;
  writeUint16(out, 2, file.containersFreshness);
  writeUint16(out, 4, file.filesFreshness);
  out.set(trailing, CARD_CACHE_FILE_SIZE);
  return out;
}

/**
 * Returns a copy of `file` with one counter incremented: pins wrap at 2^8, containers and files at 2^16
 * (docs/spec/minidriver.md §4.8: callers compare for equality only). Trailing bytes are carried over (copied).
 */
export function bumpFreshness(file: CardCacheFile, which: 'pins' | 'containers' | 'files'): CardCacheFile {
  const next: CardCacheFile = {
    version: file.version,
    pinsFreshness: which === 'pins' ? (file.pinsFreshness + 1) & 0xff : file.pinsFreshness,
    containersFreshness: which === 'containers' ? (file.containersFreshness + 1) & 0xffff : file.containersFreshness,
    filesFreshness: which === 'files' ? (file.filesFreshness + 1) & 0xffff : file.filesFreshness,
  };
  if (which !== 'pins' && which !== 'containers' && which !== 'files')
    invalidInput(`unknown freshness counter "${String(which)}"`);
  return file.trailing === undefined ? next : { ...next, trailing: new Uint8Array(file.trailing) };
}
