/**
 * What every minidriver plugin shares, so that a card package holds only what is specific to its card:
 * the byte-exact codecs of the logical file system (cardid, cardcf, cardapps, cmapfile, certificate files,
 * key BLOBs, structures and property values), a virtual file system with its access conditions in one
 * table, the in-context cardcf, cmapfile synthesis and its write policy, certificate files bound to
 * containers, a declarative PIN role table, the standard card properties, DH agreements, the per-call
 * memo, PC/SC part 10 PIN-pad structures, and the cryptographic glue a plugin needs (ECDSA signature
 * forms, checks of card answers, hash tables, CardDeriveKey KDFs). Simulator helpers are in
 * `@minidriver/card-kit/sim`.
 *
 * @packageDocumentation
 */
export { DhAgreements } from './agreements/dh-agreements.js';
export {
  CARD_APPS_RECORD_SIZE,
  decodeCardApps,
  encodeCardApps,
} from './codecs/cardapps.js';
export {
  bumpFreshness,
  CARD_CACHE_FILE_SIZE,
  decodeCardCacheFile,
  EMPTY_CARD_CACHE_FILE,
  encodeCardCacheFile,
} from './codecs/cardcf.js';
export {
  CARD_ID_SIZE,
  cardIdToGuidString,
  decodeCardId,
  encodeCardId,
  guidStringToCardId,
} from './codecs/cardid.js';
export {
  compressCertificate,
  decodeCertificateFile,
} from './codecs/certificate-file.js';
export {
  CONTAINER_MAP_RECORD_SIZE,
  decodeContainerMap,
  encodeContainerMap,
} from './codecs/cmapfile.js';
export {
  type CertificateFileKind,
  certificateFileName,
  normalizeFileName,
  parseCertificateFileName,
  validateFileName,
} from './codecs/file-names.js';
export {
  decodeEccPrivateKeyBlob,
  decodeEccPublicKeyBlob,
  decodeRsaPrivateKeyBlob,
  decodeRsaPublicKeyBlob,
  type EccCurve,
  type EccKeyUse,
  type EccPrivateKey,
  type EccPrivateKeyBlob,
  type EccPublicKey,
  type EccPublicKeyBlob,
  encodeEccPrivateKeyBlob,
  encodeEccPublicKeyBlob,
  encodeRsaPrivateKeyBlob,
  encodeRsaPublicKeyBlob,
  type KeySlot,
  keyBlobInfo,
  keyObjectToPublicKeyBlob,
  privateKeyBlobToKeyObject,
  publicKeyBlobToKeyObject,
  type RsaPrivateKey,
  type RsaPrivateKeyBlob,
  type RsaPublicKey,
  type RsaPublicKeyBlob,
} from './codecs/key-blobs.js';
export {
  decodeCardProperty,
  decodeContainerProperty,
  encodeCardProperty,
  encodeContainerProperty,
} from './codecs/properties.js';
export {
  CARD_CAPABILITIES_SIZE,
  CARD_FILE_INFO_SIZE,
  CARD_FREE_SPACE_INFO_SIZE,
  CARD_KEY_SIZES_SIZE,
  decodeCardCapabilities,
  decodeCardFileInfo,
  decodeCardFreeSpaceInfo,
  decodeCardKeySizes,
  decodePinInfo,
  encodeCardCapabilities,
  encodeCardFileInfo,
  encodeCardFreeSpaceInfo,
  encodeCardKeySizes,
  encodePinInfo,
  PIN_CACHE_POLICY_SIZE,
  PIN_INFO_SIZE,
} from './codecs/structures.js';
export {
  decodeMultiString,
  decodeWideString,
  encodeMultiString,
  encodeWideString,
} from './codecs/wide-string.js';
export {
  cardEcdsaDerSignature,
  cardEcdsaRawSignature,
  cardRsaBlock,
} from './crypto/card-answers.js';
export { ecdhPeerPoint } from './crypto/ecdh-peer.js';
export {
  ecdsaDerToRaw,
  ecdsaRawToDer,
} from './crypto/ecdsa.js';
export {
  DIGEST_INFO_PREFIX,
  digest,
  hashAlgorithmFromCalg,
  hashLength,
  hmac,
  isHashAlgorithm,
  mgf1,
} from './crypto/hash.js';
export {
  concatKdf,
  deriveKeyFromSecret,
  TLS_PRF_OUTPUT_LENGTH,
  tlsPrf,
} from './crypto/kdf.js';
export {
  rsaCiphertextForCard,
  rsaDecryptAnswer,
} from './crypto/rsa-decrypt.js';
export {
  type CertificateWriter,
  fileAccessCondition,
  STANDARD_FILE_ACCESS,
  type StandardFileKind,
} from './files/access-table.js';
export { type CardCfStore, InContextCardCf } from './files/cardcf-store.js';
export {
  type CertificateFileRef,
  type CertificateFileStore,
  certificateFileRef,
  certificateKindOfHalf,
  certificateOfWrittenFile,
  MAX_CERTIFICATE_FILE,
} from './files/certificate-files.js';
export {
  type ContainerKeySummary,
  ContainerMap,
} from './files/container-map.js';
export {
  VirtualFileSystem,
  type VirtualFileSystemSource,
} from './files/virtual-file-system.js';
export { MapCallMemo } from './memo/call-memo.js';
export {
  type KitContainerEntryPoints,
  type KitCryptoEntryPoints,
  type KitFileEntryPoints,
  KitMinidriver,
  type KitPinEntryPoints,
} from './minidriver/kit-minidriver.js';
export {
  hasPinPad,
  type PinPadTransport,
  pinPadStatusError,
  verifyPinOnPinPad,
} from './pin-pad/pin-pad-entry.js';
export {
  encodePinModifyStructure,
  encodePinVerifyStructure,
  insertPin,
  PIN_PAD_CANCELLED,
  PIN_PAD_LENGTH_INVALID,
  PIN_PAD_PINS_DIFFER,
  PIN_PAD_TIMEOUT,
  type PinEntryOptions,
  type PinFormat,
  type PinModifyStructure,
  type PinVerifyStructure,
  parsePinModifyStructure,
  parsePinVerifyStructure,
} from './pin-pad/pin-pad-structures.js';
export {
  type PinRole,
  PinRoleTable,
  type PinStrengthOperation,
  requireNoRetryCountChange,
  requireNoSessionPin,
  SIGNATURE_PIN_ID,
  UNBLOCK_PIN_ID,
} from './pins/pin-roles.js';
export {
  getStandardProperty,
  type InContextCacheMode,
  type StandardPropertySource,
  setStandardProperty,
} from './properties/standard-properties.js';
