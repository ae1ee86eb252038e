/**
 * The structures the minidriver entry points exchange (docs/spec/minidriver.md §3), as typed objects. The byte-exact
 * forms (what a C caller or the card stores) are in ../codecs. `dwVersion` members are handled by
 * CardSession (the 0 → 1 rule, "greater than current → ERROR_REVISION_MISMATCH") and so do not appear
 * in what a plugin returns.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import type {
  FileAccessCondition,
  HashAlgorithm,
  KdfName,
  KeySpec,
  PinCachePolicyType,
  PinId,
  PinSet,
  SecretPurpose,
  SecretType,
} from './constants.js';

/** Directory argument: a name of 1..8 ANSI characters, or null for the root directory. */
export type DirectoryName = string | null;

/** `CARD_CAPABILITIES` (docs/spec/minidriver.md §3.2). */
export interface CardCapabilities {
  /** TRUE: the card/minidriver compresses certificates itself; FALSE: the caller compresses them. */
  readonly certificateCompression: boolean;
  /** TRUE: the card can generate key pairs on card. */
  readonly keyGeneration: boolean;
}

/** `CARD_FILE_INFO` (docs/spec/minidriver.md §3.3). */
export interface CardFileInfo {
  /** Logical (uncompressed) size of the contents in bytes. */
  readonly size: number;
  readonly accessCondition: FileAccessCondition;
}

/** `CARD_FREE_SPACE_INFO` (docs/spec/minidriver.md §3.4). Unknown values are CARD_DATA_VALUE_UNKNOWN (0xFFFFFFFF). */
export interface CardFreeSpaceInfo {
  readonly bytesAvailable: number;
  readonly keyContainersAvailable: number;
  readonly maxKeyContainers: number;
}

/** `CARD_KEY_SIZES` (docs/spec/minidriver.md §3.5). */
export interface CardKeySizes {
  readonly minimumBitLength: number;
  readonly defaultBitLength: number;
  readonly maximumBitLength: number;
  readonly incrementalBitLength: number;
}

/**
 * `CONTAINER_INFO` (docs/spec/minidriver.md §3.6): the public keys of a container as key BLOBs (docs/spec/minidriver.md §9.1): an RSA key is a CryptoAPI
 * PUBLICKEYBLOB (little-endian integers), an ECC key a BCRYPT_ECCKEY_BLOB (big-endian coordinates).
 * An absent half is undefined.
 */
export interface ContainerInfo {
  /** AT_SIGNATURE RSA key or ECDSA key. */
  readonly signaturePublicKey?: Uint8Array;
  /** AT_KEYEXCHANGE RSA key or ECDH key. */
  readonly keyExchangePublicKey?: Uint8Array;
}

/** One 86-byte `CONTAINER_MAP_RECORD` of `mscp/cmapfile` (docs/spec/minidriver.md §3.7). */
export interface ContainerMapRecord {
  /** Container name, at most 39 characters, usually a braced GUID. Empty for an unused record. */
  readonly guid: string;
  /** CONTAINER_MAP_VALID_CONTAINER (1) | CONTAINER_MAP_DEFAULT_CONTAINER (2). */
  readonly flags: number;
  readonly signatureKeySizeBits: number;
  readonly keyExchangeKeySizeBits: number;
}

/** `CARD_CACHE_FILE_FORMAT`, the contents of `cardcf` (docs/spec/minidriver.md §3.8). */
export interface CardCacheFile {
  readonly version: number;
  /** 8-bit counter, wraps at 255. */
  readonly pinsFreshness: number;
  /** 16-bit counter. */
  readonly containersFreshness: number;
  /** 16-bit counter. */
  readonly filesFreshness: number;
  /** Bytes after the first 6, preserved as found (older per-application counters). */
  readonly trailing?: Uint8Array;
}

/** `PIN_CACHE_POLICY` (docs/spec/minidriver.md §3.9). */
export interface PinCachePolicy {
  readonly type: PinCachePolicyType;
  /** Lifetime in seconds for PinCacheTimed, else 0. */
  readonly info: number;
}

/** `PIN_INFO` (docs/spec/minidriver.md §3.9). */
export interface PinInfo {
  readonly pinType: SecretType;
  readonly purpose: SecretPurpose;
  readonly changePermission: PinSet;
  readonly unblockPermission: PinSet;
  readonly cachePolicy: PinCachePolicy;
  /** PIN_INFO_REQUIRE_SECURE_ENTRY (1) or 0. */
  readonly flags: number;
}

/** Padding of a signature, as the plugin receives it (normalised from CARD_SIGNING_INFO by the session). */
export type SignaturePadding =
  /** PKCS #1 v1.5 type 01; hashAlgorithm null = no DigestInfo (the data is padded as it is). */
  | { readonly type: 'pkcs1'; readonly hashAlgorithm: HashAlgorithm | null }
  /** RSASSA-PSS with MGF1 of the same hash. */
  | { readonly type: 'pss'; readonly hashAlgorithm: HashAlgorithm; readonly saltLength: number }
  /** Raw RSA: the data is already a full modulus-length block. */
  | { readonly type: 'none' };

/** A validated CardSignData request (docs/spec/minidriver.md §5.6.1). */
export interface SignDataRequest {
  readonly containerIndex: number;
  readonly keySpec: KeySpec;
  /** The hash value (or, for padding 'none', the block to sign). */
  readonly data: Uint8Array;
  /** Ignored for ECDSA keys. */
  readonly padding: SignaturePadding;
}

/** Padding of an RSA decryption (docs/spec/minidriver.md §5.6.2). */
export type DecryptPadding =
  | { readonly type: 'none' }
  | { readonly type: 'pkcs1' }
  | { readonly type: 'oaep'; readonly hashAlgorithm: HashAlgorithm; readonly label?: Uint8Array };

/** A validated CardRSADecrypt request. */
export interface RsaDecryptRequest {
  readonly containerIndex: number;
  readonly keySpec: KeySpec;
  /** Ciphertext, modulus length, little-endian (CryptoAPI byte order). */
  readonly data: Uint8Array;
  /**
   * The padding the caller wants removed. A CARD_RSA_DECRYPT_INFO version 1 (or CARD_DATA below 7) means
   * 'none': the raw block is returned and the caller unpads.
   */
  readonly padding: DecryptPadding;
}

/** A validated CardConstructDHAgreement request (docs/spec/minidriver.md §5.6.3). */
export interface DhAgreementRequest {
  readonly containerIndex: number;
  /** The peer's public key as a BCRYPT_ECCKEY_BLOB (ECDH public magic) + X + Y. */
  readonly publicKey: Uint8Array;
}

/** One NCryptBuffer of a KDF parameter list. */
export interface KdfParameter {
  readonly type: number;
  readonly value: Uint8Array;
}

/** A validated CardDeriveKey request (docs/spec/minidriver.md §5.6.4). */
export interface DeriveKeyRequest {
  readonly agreementIndex: number;
  readonly kdf: KdfName;
  readonly parameters: readonly KdfParameter[];
  /** KDF_USE_SECRET_AS_HMAC_KEY_FLAG and CARD_RETURN_KEY_HANDLE bits (size-only is handled by the session). */
  readonly flags: number;
  /** CARD_DERIVE_KEY v2: algorithm of the key to derive, when a handle is requested. */
  readonly algorithmId?: string;
  /** CARD_DERIVE_KEY v2: requested key length. */
  readonly keyLength?: number;
}

/** What CardCreateContainer / CardCreateContainerEx ask for (docs/spec/minidriver.md §5.4.1). */
export interface CreateContainerRequest {
  readonly mode: 'generate' | 'import';
  readonly keySpec: KeySpec;
  /** RSA bit length for generation; 0 for ECC (the curve is the key spec) and for import. */
  readonly keySize: number;
  /** PRIVATEKEYBLOB (RSA) or BCRYPT_ECCKEY_BLOB private form (ECC), for import. */
  readonly keyData?: Uint8Array;
  /** The PIN that will protect the key: ROLE_USER for CardCreateContainer. */
  readonly pinId: PinId;
}

/** CardChangeAuthenticatorEx (docs/spec/minidriver.md §5.2.9), and the v4 unblock/change calls expressed through it. */
export interface ChangeAuthenticatorRequest {
  readonly operation: 'unblock' | 'change';
  readonly authenticatingPinId: PinId;
  /** A PIN, a PUK, or the response to the last challenge for a challenge/response PIN. */
  readonly authenticatingData: Uint8Array;
  readonly targetPinId: PinId;
  /** The new PIN or key. */
  readonly targetData: Uint8Array;
  /** New retry limit, 0 = unchanged. */
  readonly retryCount: number;
  /** CARD_PIN_SILENT_CONTEXT was given. */
  readonly silent: boolean;
}

/** Result of CardAuthenticateEx. */
export interface AuthenticateExResult {
  /** The session PIN, only for CARD_AUTHENTICATE_GENERATE_SESSION_PIN. */
  readonly sessionPin?: Uint8Array;
}

/** Handle of a symmetric key held by a plugin for secure key injection (`CARD_KEY_HANDLE`). */
export type CardKeyHandle = number;

/** `CARD_ENCRYPTED_DATA`. */
export interface CardEncryptedData {
  readonly data: Uint8Array;
}
