/**
 * Constants of the minidriver specification (cardmod.h values, docs/spec/minidriver.md §2).
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */

/** CARD_DATA versions a plugin and a caller can negotiate (docs/spec/minidriver.md §1.6). */
export type CardDataVersion = 4 | 5 | 6 | 7;
export const CARD_DATA_VERSION_FOUR = 4;
export const CARD_DATA_VERSION_FIVE = 5;
export const CARD_DATA_VERSION_SIX = 6;
export const CARD_DATA_VERSION_SEVEN = 7;
export const CARD_DATA_CURRENT_VERSION = 7;

/** Current versions of the versioned structures (docs/spec/minidriver.md §2.1). */
export const StructureVersion = {
  CARD_CAPABILITIES: 1,
  CARD_FILE_INFO: 1,
  CARD_FREE_SPACE_INFO: 1,
  CARD_KEY_SIZES: 1,
  CONTAINER_INFO: 1,
  CARD_CACHE_FILE: 1,
  PIN_CACHE_POLICY: 6,
  PIN_INFO: 6,
  CARD_RSA_DECRYPT_INFO: 2,
  CARD_SIGNING_INFO_BASIC: 1,
  CARD_SIGNING_INFO: 2,
  CARD_DH_AGREEMENT_INFO: 2,
  CARD_DERIVE_KEY: 2,
} as const;

/** `CARD_DATA_VALUE_UNKNOWN`: a numeric answer the card cannot give. */
export const CARD_DATA_VALUE_UNKNOWN = 0xffffffff;
/** Longest container name in cmapfile, in characters (without the NUL). */
export const MAX_CONTAINER_NAME_LEN = 39;
export const CONTAINER_MAP_VALID_CONTAINER = 1;
export const CONTAINER_MAP_DEFAULT_CONTAINER = 2;
export const CARD_CREATE_CONTAINER_KEY_GEN = 1;
export const CARD_CREATE_CONTAINER_KEY_IMPORT = 2;
export const CARD_SECURE_KEY_INJECTION_NO_CARD_MODE = 0x1;
export const CARD_RETURN_KEY_HANDLE = 0x01000000;
export const CARD_BUFFER_SIZE_ONLY = 0x20000000;
export const CARD_PADDING_INFO_PRESENT = 0x40000000;
export const CARD_PADDING_NONE = 0x1;
export const CARD_PADDING_PKCS1 = 0x2;
export const CARD_PADDING_PSS = 0x4;
export const CARD_PADDING_OAEP = 0x8;
export const CRYPT_NOHASHOID = 0x1;
export const CARD_KEY_IMPORT_PLAIN_TEXT = 0x1;
export const CARD_KEY_IMPORT_RSA_KEYEST = 0x2;
export const CARD_KEY_IMPORT_ECC_KEYEST = 0x4;
export const CARD_KEY_IMPORT_SHARED_SYMMETRIC = 0x8;
export const CARD_CIPHER_OPERATION = 0x1;
export const CARD_ASYMMETRIC_OPERATION = 0x2;

/** Key specifications (`dwKeySpec`, docs/spec/minidriver.md §2.3). */
export const KeySpec = {
  AT_KEYEXCHANGE: 1,
  AT_SIGNATURE: 2,
  AT_ECDSA_P256: 3,
  AT_ECDSA_P384: 4,
  AT_ECDSA_P521: 5,
  AT_ECDHE_P256: 6,
  AT_ECDHE_P384: 7,
  AT_ECDHE_P521: 8,
} as const;
export type KeySpec = (typeof KeySpec)[keyof typeof KeySpec];

/** True for the eight defined AT_* values. */
export function isKeySpec(value: number): value is KeySpec {
  return Number.isInteger(value) && value >= 1 && value <= 8;
}
/** RSA key specs. */
export function isRsaKeySpec(spec: number): boolean {
  return spec === KeySpec.AT_KEYEXCHANGE || spec === KeySpec.AT_SIGNATURE;
}
/** ECDSA key specs (signature half of a container). */
export function isEcdsaKeySpec(spec: number): boolean {
  return spec >= KeySpec.AT_ECDSA_P256 && spec <= KeySpec.AT_ECDSA_P521;
}
/** ECDH key specs (key-exchange half of a container). */
export function isEcdhKeySpec(spec: number): boolean {
  return spec >= KeySpec.AT_ECDHE_P256 && spec <= KeySpec.AT_ECDHE_P521;
}
/** Curve size in bits of an ECC key spec, e.g. 256 for AT_ECDSA_P256. */
export function eccKeySpecBits(spec: number): 256 | 384 | 521 | undefined {
  switch (spec) {
    case KeySpec.AT_ECDSA_P256:
    case KeySpec.AT_ECDHE_P256:
      return 256;
    case KeySpec.AT_ECDSA_P384:
    case KeySpec.AT_ECDHE_P384:
      return 384;
    case KeySpec.AT_ECDSA_P521:
    case KeySpec.AT_ECDHE_P521:
      return 521;
    default:
      return undefined;
  }
}

/** Logical names of the card file system (docs/spec/minidriver.md §2.4). */
export const LogicalName = {
  BASE_CSP_DIR: 'mscp',
  INTERMEDIATE_CERTS_DIR: 'mscerts',
  CACHE_FILE: 'cardcf',
  CARD_IDENTIFIER_FILE: 'cardid',
  CARD_APPS_FILE: 'cardapps',
  CONTAINER_MAP_FILE: 'cmapfile',
  ROOT_STORE_FILE: 'msroots',
  USER_SIGNATURE_CERT_PREFIX: 'ksc',
  USER_KEYEXCHANGE_CERT_PREFIX: 'kxc',
} as const;

/** v4 string principals (`wszCARD_USER_*`). */
export type UserId = 'user' | 'admin';
export const CARD_USER_EVERYONE = 'anonymous';
export const CARD_USER_USER = 'user';
export const CARD_USER_ADMIN = 'admin';

/** PIN ids (`PIN_ID`, docs/spec/minidriver.md §6.1): 0..7. */
export type PinId = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
export const MAX_PINS = 8;
export const ROLE_EVERYONE = 0;
export const ROLE_USER = 1;
export const ROLE_ADMIN = 2;
/** A set of PIN ids as a bit mask (`PIN_SET`). */
export type PinSet = number;
export const PIN_SET_NONE = 0x00;
export const PIN_SET_ALL_ROLES = 0xff;
/** `CREATE_PIN_SET(id)`. */
export function createPinSet(...ids: PinId[]): PinSet {
  let set = 0;
  for (const id of ids) set |= 1 << id;
  return set;
}
/** `IS_PIN_SET(set, id)`. */
export function isPinInSet(set: PinSet, id: number): boolean {
  return (set & (1 << id)) !== 0;
}
/** True for 0..7. */
export function isPinId(value: number): value is PinId {
  return Number.isInteger(value) && value >= 0 && value < MAX_PINS;
}

export const PIN_CHANGE_FLAG_UNBLOCK = 0x01;
export const PIN_CHANGE_FLAG_CHANGEPIN = 0x02;
export const CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE = 1;
export const CARD_AUTHENTICATE_PIN_PIN = 2;
export const CARD_AUTHENTICATE_GENERATE_SESSION_PIN = 0x10000000;
export const CARD_AUTHENTICATE_SESSION_PIN = 0x20000000;
export const CARD_PIN_SILENT_CONTEXT = 0x00000040;
export const CARD_PIN_STRENGTH_PLAINTEXT = 0x1;
export const CARD_PIN_STRENGTH_SESSION_PIN = 0x2;
export const PIN_INFO_REQUIRE_SECURE_ENTRY = 1;

/** `CP_CARD_CACHE_MODE` values. */
export const CacheMode = {
  GLOBAL_CACHE: 1,
  SESSION_ONLY: 2,
  NO_CACHE: 3,
} as const;
export type CacheMode = (typeof CacheMode)[keyof typeof CacheMode];

/** `CARD_DIRECTORY_ACCESS_CONDITION`. */
export const DirectoryAccessCondition = {
  InvalidDirAc: 0,
  UserCreateDeleteDirAc: 1,
  AdminCreateDeleteDirAc: 2,
} as const;
export type DirectoryAccessCondition = (typeof DirectoryAccessCondition)[keyof typeof DirectoryAccessCondition];

/** `CARD_FILE_ACCESS_CONDITION`. */
export const FileAccessCondition = {
  InvalidAc: 0,
  EveryoneReadUserWriteAc: 1,
  UserWriteExecuteAc: 2,
  EveryoneReadAdminWriteAc: 3,
  UnknownAc: 4,
  UserReadWriteAc: 5,
  AdminReadWriteAc: 6,
} as const;
export type FileAccessCondition = (typeof FileAccessCondition)[keyof typeof FileAccessCondition];

/** `SECRET_TYPE`. */
export const SecretType = {
  AlphaNumericPinType: 0,
  ExternalPinType: 1,
  ChallengeResponsePinType: 2,
  EmptyPinType: 3,
} as const;
export type SecretType = (typeof SecretType)[keyof typeof SecretType];

/** `SECRET_PURPOSE`. */
export const SecretPurpose = {
  AuthenticationPin: 0,
  DigitalSignaturePin: 1,
  EncryptionPin: 2,
  NonRepudiationPin: 3,
  AdministratorPin: 4,
  PrimaryCardPin: 5,
  UnblockOnlyPin: 6,
} as const;
export type SecretPurpose = (typeof SecretPurpose)[keyof typeof SecretPurpose];

/** `PIN_CACHE_POLICY_TYPE`. */
export const PinCachePolicyType = {
  PinCacheNormal: 0,
  PinCacheTimed: 1,
  PinCacheNone: 2,
  PinCacheAlwaysPrompt: 3,
} as const;
export type PinCachePolicyType = (typeof PinCachePolicyType)[keyof typeof PinCachePolicyType];

/** CryptoAPI hash ALG_IDs accepted in CARD_SIGNING_INFO.aiHashAlg (docs/spec/minidriver.md §8.5). */
export const CalgHash = {
  CALG_MD2: 0x8001,
  CALG_MD4: 0x8002,
  CALG_MD5: 0x8003,
  CALG_SHA1: 0x8004,
  CALG_RIPEMD160: 0x8007,
  CALG_SSL3_SHAMD5: 0x8008,
  CALG_SHA_256: 0x800c,
  CALG_SHA_384: 0x800d,
  CALG_SHA_512: 0x800e,
} as const;

export const CALG_RSA_SIGN = 0x00002400;
export const CALG_RSA_KEYX = 0x0000a400;

/**
 * Hash algorithms by their CNG names, as they appear in padding info (`pszAlgId`). `SHAMD5` is the 36-byte
 * MD5 || SHA-1 of SSL3/TLS 1.0 (no DigestInfo).
 */
export type HashAlgorithm = 'MD5' | 'SHA1' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512' | 'SHAMD5' | 'RIPEMD160';

/** Digest length in bytes of each hash algorithm. */
export const HASH_LENGTH: Readonly<Record<HashAlgorithm, number>> = {
  MD5: 16,
  SHA1: 20,
  SHA224: 28,
  SHA256: 32,
  SHA384: 48,
  SHA512: 64,
  SHAMD5: 36,
  RIPEMD160: 20,
};

/** KDF names of CardDeriveKey (`pwszKDF`). */
export type KdfName = 'HASH' | 'HMAC' | 'TLS_PRF' | 'SP800_56A_CONCAT' | 'TRUNCATE';

/** NCrypt KDF buffer types (`NCryptBuffer.BufferType`). */
export const KdfBufferType = {
  KDF_HASH_ALGORITHM: 0x0,
  KDF_SECRET_PREPEND: 0x1,
  KDF_SECRET_APPEND: 0x2,
  KDF_HMAC_KEY: 0x3,
  KDF_TLS_PRF_LABEL: 0x4,
  KDF_TLS_PRF_SEED: 0x5,
  KDF_SECRET_HANDLE: 0x6,
  KDF_TLS_PRF_PROTOCOL: 0x7,
  KDF_ALGORITHMID: 0x8,
  KDF_PARTYUINFO: 0x9,
  KDF_PARTYVINFO: 0xa,
  KDF_SUPPPUBINFO: 0xb,
  KDF_SUPPPRIVINFO: 0xc,
  KDF_LABEL: 0xd,
  KDF_CONTEXT: 0xe,
  KDF_SALT: 0xf,
  KDF_ITERATION_COUNT: 0x10,
} as const;
export const KDF_USE_SECRET_AS_HMAC_KEY_FLAG = 0x1;
