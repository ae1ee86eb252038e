/**
 * @module CardSession, the card interface layer: version negotiation, parameter checks, one transaction
 * per call, the cardcf-validated data cache, and APDU tracing.
 */

export type { CardManagementAccess, CardManagementOperation } from './card-management.js';
export {
  CardSession,
  type CardSessionOptions,
  type CardSessionStats,
  InsufficientBufferError,
} from './card-session.js';
export type { CardDeriveKeyInfo, CardDhAgreementInfo, CardRsaDecryptInfo, CardSigningInfo } from './crypto-requests.js';
export {
  type CacheNamespace,
  CardDataCache,
  DataCacheStore,
  type FreshnessCategory,
  processDataCacheStore,
} from './data-cache.js';
export { specEntryPointName } from './entry-point-names.js';
export {
  DEFAULT_REQUESTED_VERSION,
  negotiateCardDataVersion,
  requireEntryPointVersion,
  resolveStructureVersion,
  validateCardDataVersions,
} from './negotiate.js';
export {
  createSecretApduTracker,
  ISO_SECRET_APDUS,
  redactCommand,
  redactResponse,
  type SecretApduTracker,
  type SecretParts,
  secretPartsOf,
  traceTransport,
} from './trace.js';
export { type TransactionScope, withTransaction } from './with-transaction.js';
