/**
 * @module @minidriver/core — the minidriver contract (every entry point of the Smart Card Minidriver
 * Specification v7), its errors, CARD_DATA version negotiation, the logical file system codecs, and
 * `CardSession`, the card interface layer applications use.
 */

export * from './bytes.js';
export * from './codecs/index.js';
export * from './codes.js';
export * from './contract/index.js';
export * from './crypto/index.js';
export * from './errors.js';
export * from './session/index.js';
export * from './transport.js';
