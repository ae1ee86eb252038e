/**
 * `@minidriver/pcsc` — the platform's PC/SC library (libpcsclite, PCSC.framework, winscard.dll)
 * through koffi: `PcscContext` (SCARDCONTEXT), `PcscCard` (SCARDHANDLE, a core Transport with real
 * SCardBeginTransaction/SCardEndTransaction), `CardTransaction`, reader/card watching, PIN pad features,
 * and an adapter for the `pcsclite` npm package.
 *
 * @packageDocumentation
 */

export { CardTransaction, withTransaction } from './card-transaction.js';
export * from './constants.js';
export { check, scardFailure, succeeded } from './errors.js';
export { type CardStatus, dispositionCode, PcscCard } from './pcsc-card.js';
export {
  type ConnectOptions,
  type EstablishOptions,
  PcscContext,
  type ReaderStateQuery,
  type ReaderStatus,
} from './pcsc-context.js';
export { type PcscliteReader, PcscliteTransport, wrapPcscliteReader } from './pcsclite-adapter.js';
export { type PcscPlatform, pcscPlatform } from './platform.js';
export {
  type PresenceParts,
  presenceTokenOf,
  type ResourceManagerFiles,
  resourceManagerInstance,
} from './presence.js';
export { encodeFeatureList, parseFeatureList, type ReaderFeatureMap, toReaderFeatures } from './reader-features.js';
export { parseMultiString } from './reader-names.js';
export { type ReaderEvent, ReaderWatch, type WatchOptions } from './reader-watch.js';
