/**
 * @module Byte-exact codecs of the minidriver's logical file system and structures (§3, §4, §7, §9).
 * Decoders of caller-supplied structures throw SCARD_E_INVALID_PARAMETER; decoders of on-card files
 * (cardcf, cardid, cardapps, cmapfile, certificate files) throw SCARD_E_COMM_DATA_LOST.
 */

export * from './cardapps.js';
export * from './cardcf.js';
export * from './cardid.js';
export * from './certificate-file.js';
export * from './cmapfile.js';
export * from './file-names.js';
export * from './key-blobs.js';
export * from './properties.js';
export * from './structures.js';
export * from './wide-string.js';
