/**
 * The contract a minidriver plugin implements, and nothing else: the versioned `Minidriver` interfaces
 * (CARD_DATA 4 to 7) and the entry-point table, the structures and constants of the Smart Card Minidriver
 * Specification, card and container property names, `ScardError` with its code table, the `Transport`
 * interface, and byte helpers. No runtime dependencies.
 *
 * @packageDocumentation
 */
export {
  leftPad,
  reverseBytes,
} from './byte-order.js';
export {
  bytesEqual,
  concatBytes,
  copyBytes,
  fromHex,
  toHex,
  wipe,
} from './bytes.js';
export {
  ScardCode,
  type ScardCodeName,
} from './codes.js';
export {
  CALG_RSA_KEYX,
  CALG_RSA_SIGN,
  CARD_ASYMMETRIC_OPERATION,
  CARD_AUTHENTICATE_GENERATE_SESSION_PIN,
  CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
  CARD_AUTHENTICATE_PIN_PIN,
  CARD_AUTHENTICATE_SESSION_PIN,
  CARD_BUFFER_SIZE_ONLY,
  CARD_CIPHER_OPERATION,
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_CREATE_CONTAINER_KEY_IMPORT,
  CARD_DATA_CURRENT_VERSION,
  CARD_DATA_VALUE_UNKNOWN,
  CARD_DATA_VERSION_FIVE,
  CARD_DATA_VERSION_FOUR,
  CARD_DATA_VERSION_SEVEN,
  CARD_DATA_VERSION_SIX,
  CARD_KEY_IMPORT_ECC_KEYEST,
  CARD_KEY_IMPORT_PLAIN_TEXT,
  CARD_KEY_IMPORT_RSA_KEYEST,
  CARD_KEY_IMPORT_SHARED_SYMMETRIC,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_NONE,
  CARD_PADDING_OAEP,
  CARD_PADDING_PKCS1,
  CARD_PADDING_PSS,
  CARD_PIN_SILENT_CONTEXT,
  CARD_PIN_STRENGTH_PLAINTEXT,
  CARD_PIN_STRENGTH_SESSION_PIN,
  CARD_RETURN_KEY_HANDLE,
  CARD_SECURE_KEY_INJECTION_NO_CARD_MODE,
  CARD_USER_ADMIN,
  CARD_USER_EVERYONE,
  CARD_USER_USER,
  CacheMode,
  CalgHash,
  type CardDataVersion,
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  CRYPT_NOHASHOID,
  createPinSet,
  DirectoryAccessCondition,
  eccKeySpecBits,
  FileAccessCondition,
  HASH_LENGTH,
  type HashAlgorithm,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  isKeySpec,
  isPinId,
  isPinInSet,
  isRsaKeySpec,
  KDF_USE_SECRET_AS_HMAC_KEY_FLAG,
  KdfBufferType,
  type KdfName,
  KeySpec,
  LogicalName,
  MAX_CONTAINER_NAME_LEN,
  MAX_PINS,
  PIN_CHANGE_FLAG_CHANGEPIN,
  PIN_CHANGE_FLAG_UNBLOCK,
  PIN_INFO_REQUIRE_SECURE_ENTRY,
  PIN_SET_ALL_ROLES,
  PIN_SET_NONE,
  PinCachePolicyType,
  type PinId,
  type PinSet,
  ROLE_ADMIN,
  ROLE_EVERYONE,
  ROLE_USER,
  SecretPurpose,
  SecretType,
  StructureVersion,
  type UserId,
} from './constants.js';
export { specEntryPointName } from './entry-point-names.js';
export {
  ENTRY_POINT_VERSION,
  type EntryPointName,
  NO_CARD_MODE_ENTRY_POINTS,
  REQUIRED_ENTRY_POINTS,
} from './entry-points.js';
export {
  requireParameter,
  ScardError,
  type ScardErrorDetails,
  scardCodeName,
  unsupported,
} from './errors.js';
export type { MinidriverV4 } from './minidriver-v4.js';
export type { MinidriverV5 } from './minidriver-v5.js';
export type { MinidriverV6 } from './minidriver-v6.js';
export type {
  Minidriver,
  MinidriverV7,
} from './minidriver-v7.js';
export type {
  CallMemo,
  CardContext,
  CardDataVersions,
  ManifestAtr,
  ManifestSimulator,
  MinidriverPlugin,
  PluginCache,
  PluginManifest,
} from './plugin.js';
export {
  CardProperty,
  type CardPropertyName,
  type CardPropertyTypes,
  ContainerProperty,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  KeyProperty,
  SecureFunction,
} from './properties.js';
export {
  createSecretApduTracker,
  ISO_SECRET_APDUS,
  redactCommand,
  redactResponse,
  type SecretApduTracker,
  type SecretParts,
  secretPartsOf,
} from './redact.js';
export type {
  AuthenticateExResult,
  CardCacheFile,
  CardCapabilities,
  CardEncryptedData,
  CardFileInfo,
  CardFreeSpaceInfo,
  CardKeyHandle,
  CardKeySizes,
  ChangeAuthenticatorRequest,
  ContainerInfo,
  ContainerMapRecord,
  CreateContainerRequest,
  DecryptPadding,
  DeriveKeyRequest,
  DhAgreementRequest,
  DirectoryName,
  KdfParameter,
  PinCachePolicy,
  PinInfo,
  RsaDecryptRequest,
  SignaturePadding,
  SignDataRequest,
} from './structures.js';
export { traceTransport } from './trace-transport.js';
export {
  type ApduTraceEntry,
  type ApduTraceHook,
  type CardProtocol,
  type Disposition,
  interceptTransmit,
  type ReaderFeatures,
  type SecretApdu,
  type Transport,
  type TransportEvent,
} from './transport.js';
