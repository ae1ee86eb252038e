/**
 * @packageDocumentation
 * @minidriver/keystore — the key storage provider over any card, as Windows' Smart Card Key Storage Provider
 * is over minidrivers: {@link KeyStore} watches readers (or uses given transports or simulated cards) and
 * keeps one {@link Token} per card; a token lists its PINs and {@link Key}s and logs in under the card's PIN
 * cache policy; a key signs, decrypts and derives with inputs and outputs in node:crypto / OpenSSL formats.
 */

export { isAbsent, readOptional } from './absent.js';
export {
  algorithmName,
  type EcAlgorithm,
  type EcCurve,
  KEY_ALGORITHM_NAMES,
  type KeyAlgorithm,
  type KeyAlgorithmName,
  type KeyUsage,
  parseKeyAlgorithm,
  type RsaAlgorithm,
} from './algorithms.js';
export { Key } from './key.js';
export {
  type CardFailure,
  KeyStore,
  type KeyStoreEvents,
  type KeyStoreOptions,
  type WaitForTokenOptions,
} from './key-store.js';
export { type DecryptOptions, HASH_NAMES, type HashName, type SignOptions } from './operation-options.js';
export type {
  PinCachePolicy,
  PinDescription,
  PinPrompt,
  PinPurpose,
  PinRequest,
  PinRole,
  PinSource,
  PinType,
} from './pins.js';
export { adminKeyBytes, answerChallenge } from './pins.js';
export { type GenerateKeyOptions, type OpenTokenOptions, openToken, Token, type TokenPlugin } from './token.js';
