/**
 * The application side of the minidriver model: `CardSession` (version negotiation, parameter checks, one
 * transaction per call, the cardcf-validated data cache with a persistent store, card management) and the caller's cryptography (pfnCspPadData / pfnCspUnpadData padding, a DER writer, PEM
 * armour and an X.509 certificate builder).
 *
 * @packageDocumentation
 */

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
export {
  unpadDecryption,
  unpadOaep,
  unpadPkcs1Type2,
} from './crypto/decryption-padding.js';
export {
  derBitString,
  derBoolean,
  derElement,
  derExplicit,
  derLength,
  derNull,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSet,
  derSmallInteger,
  derTime,
  derUnsignedInteger,
  derUtf8String,
} from './crypto/der.js';
export { toPem } from './crypto/pem.js';
export {
  encodePss,
  padPkcs1Type1,
  padSignature,
} from './crypto/signature-padding.js';
export {
  type CertificateExtension,
  type CertificateHash,
  type CertificateOptions,
  createCertificate,
  createSelfSignedCertificate,
  type SelfSignedCertificateOptions,
  type TbsCertificateSigner,
} from './crypto/x509-certificate.js';
export type {
  CacheModeDecision,
  CacheModeReason,
} from './session/cache-coordinator.js';
export type {
  CardManagementAccess,
  CardManagementOperation,
} from './session/card-management.js';
export {
  CardSession,
  type CardSessionOptions,
  type CardSessionStats,
} from './session/card-session.js';
export type {
  CardDeriveKeyInfo,
  CardDhAgreementInfo,
  CardRsaDecryptInfo,
  CardSigningInfo,
} from './session/crypto-requests.js';
export {
  type CacheNamespace,
  type CardCacheStore,
  CardDataCache,
  DataCacheStore,
  type FreshnessCategory,
  processDataCacheStore,
} from './session/data-cache.js';
export {
  DEFAULT_REQUESTED_VERSION,
  negotiateCardDataVersion,
  requireEntryPointVersion,
  resolveStructureVersion,
  validateCardDataVersions,
} from './session/negotiate.js';
export { InsufficientBufferError } from './session/request-checks.js';
export {
  type TransactionScope,
  withTransaction,
} from './session/with-transaction.js';
