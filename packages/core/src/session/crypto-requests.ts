/**
 * Turning the spec-shaped info structures of the cryptographic entry points (CARD_SIGNING_INFO,
 * CARD_RSA_DECRYPT_INFO, CARD_DH_AGREEMENT_INFO, CARD_DERIVE_KEY) into the validated requests a plugin
 * receives, with the version rules of docs/spec/minidriver.md §1.6 and the decision tables of docs/spec/minidriver.md §9.2 and §9.3.
 *
 * @packageDocumentation
 */

import { hashAlgorithmFromCalg } from '@minidriver/card-kit';
import type {
  DecryptPadding,
  DeriveKeyRequest,
  DhAgreementRequest,
  KdfParameter,
  RsaDecryptRequest,
  SignaturePadding,
  SignDataRequest,
} from '@minidriver/spec';
import {
  CARD_BUFFER_SIZE_ONLY,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_NONE,
  CARD_PADDING_OAEP,
  CARD_PADDING_PKCS1,
  CARD_PADDING_PSS,
  CARD_RETURN_KEY_HANDLE,
  type CardDataVersion,
  HASH_LENGTH,
  type HashAlgorithm,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  KDF_USE_SECRET_AS_HMAC_KEY_FLAG,
  type KdfName,
  KeySpec,
  ScardError,
} from '@minidriver/spec';
import { checkBytes, checkContainerIndex, checkDword, checkKeySpec } from './parameters.js';

/** `CARD_SIGNING_INFO` as a caller fills it (docs/spec/minidriver.md §3.10). */
export interface CardSigningInfo {
  /** 1 = basic, 2 = with padding info; 0 counts as 1. */
  readonly version: number;
  readonly containerIndex: number;
  readonly keySpec: number;
  /** CARD_PADDING_INFO_PRESENT, CARD_BUFFER_SIZE_ONLY, and the tolerated low bits 0x1-0x8. */
  readonly signingFlags: number;
  /** CryptoAPI hash ALG_ID (`aiHashAlg`); 0 = no DigestInfo. Used when padding info is absent. */
  readonly hashAlgorithmId: number;
  /** The hash value (or, for CARD_PADDING_NONE, the whole block). */
  readonly data: Uint8Array;
  /** Version 2: CARD_PADDING_NONE / _PKCS1 / _PSS. */
  readonly paddingType?: number;
  /** Version 2: `pszAlgId` (null = none) and, for PSS, `cbSalt`. */
  readonly paddingInfo?: { readonly algorithm: string | null; readonly saltLength?: number };
}

/** `CARD_RSA_DECRYPT_INFO` as a caller fills it (docs/spec/minidriver.md §3.11). */
export interface CardRsaDecryptInfo {
  /** 1 or 2; 0 counts as 1. Version 1 is refused when the context negotiated CARD_DATA 7. */
  readonly version: number;
  readonly containerIndex: number;
  readonly keySpec: number;
  /** Ciphertext, modulus length, little-endian. */
  readonly data: Uint8Array;
  /** Version 2: CARD_PADDING_NONE / _PKCS1 / _OAEP. */
  readonly paddingType?: number;
  /** Version 2 with OAEP: the hash (`pszAlgId`) and label. */
  readonly paddingInfo?: { readonly algorithm: string | null; readonly label?: Uint8Array };
}

/** `CARD_DH_AGREEMENT_INFO` (docs/spec/minidriver.md §3.12). */
export interface CardDhAgreementInfo {
  /** 2 (1 is obsolete and refused with CARD_DATA 7). */
  readonly version: number;
  readonly containerIndex: number;
  /** Reserved, 0. */
  readonly flags?: number;
  /** The peer key: BCRYPT_ECCKEY_BLOB + X + Y. */
  readonly publicKey: Uint8Array;
}

/** `CARD_DERIVE_KEY` (docs/spec/minidriver.md §3.13). */
export interface CardDeriveKeyInfo {
  /** 1 or 2 (Windows passes 1 even with CARD_DATA 7). */
  readonly version: number;
  /** KDF_USE_SECRET_AS_HMAC_KEY_FLAG, CARD_RETURN_KEY_HANDLE (v2), CARD_BUFFER_SIZE_ONLY. */
  readonly flags: number;
  readonly kdf: string;
  readonly agreementIndex: number;
  readonly parameters?: readonly KdfParameter[];
  readonly algorithmId?: string;
  readonly keyLength?: number;
}

const KDF_NAMES: readonly KdfName[] = ['HASH', 'HMAC', 'TLS_PRF', 'SP800_56A_CONCAT', 'TRUNCATE'];
const SIGNING_FLAGS_ALLOWED = CARD_PADDING_INFO_PRESENT | CARD_BUFFER_SIZE_ONLY | 0xf;

function revisionMismatch(message: string): never {
  throw new ScardError('ERROR_REVISION_MISMATCH', message);
}

function infoVersion(structure: string, version: unknown): number {
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    revisionMismatch(`${structure}.dwVersion ${String(version)} is not a version`);
  }
  return version === 0 ? 1 : version;
}

function hashByName(name: string): HashAlgorithm {
  if (!Object.hasOwn(HASH_LENGTH, name)) {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `hash algorithm "${name}" is not supported`);
  }
  return name as HashAlgorithm;
}

function checkHashLength(data: Uint8Array, hash: HashAlgorithm | null): void {
  if (hash !== null && data.length !== HASH_LENGTH[hash]) {
    throw new ScardError(
      'SCARD_E_INVALID_PARAMETER',
      `${data.length} bytes of data do not fit a ${hash} hash of ${HASH_LENGTH[hash]} bytes`,
    );
  }
}

/** A validated signing request plus whether only the size was asked for. */
export interface NormalisedSigning {
  readonly request: SignDataRequest;
  readonly sizeOnly: boolean;
}

/**
 * CardSignData's checks (docs/spec/minidriver.md §5.6.1 table, in its order up to the card I/O) and the normalisation of
 * aiHashAlg / padding info to a {@link SignaturePadding}.
 */
export function normaliseSigningInfo(info: CardSigningInfo | null | undefined): NormalisedSigning {
  if (info === null || info === undefined || typeof info !== 'object') {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'CARD_SIGNING_INFO is missing');
  }
  const version = infoVersion('CARD_SIGNING_INFO', info.version);
  if (version > 2) revisionMismatch(`CARD_SIGNING_INFO.dwVersion ${info.version} is not 1 or 2`);
  const data = checkBytes(info.data, 'CARD_SIGNING_INFO.pbData');
  const keySpec = checkKeySpec(info.keySpec);
  const containerIndex = checkContainerIndex(info.containerIndex);
  const flags = info.signingFlags;
  if (
    typeof flags !== 'number' ||
    !Number.isInteger(flags) ||
    flags < 0 ||
    flags > 0xffffffff ||
    (flags & ~SIGNING_FLAGS_ALLOWED) >>> 0
  ) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `dwSigningFlags ${String(flags)} has unknown bits`);
  }
  const paddingInfoPresent = (flags & CARD_PADDING_INFO_PRESENT) !== 0;
  if (paddingInfoPresent && version === 1) {
    revisionMismatch('CARD_PADDING_INFO_PRESENT with a version 1 CARD_SIGNING_INFO, which has no padding members');
  }
  if (isEcdhKeySpec(keySpec)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'an ECDH key (AT_ECDHE_*) cannot sign');
  }
  const sizeOnly = (flags & CARD_BUFFER_SIZE_ONLY) !== 0;
  // ECDSA ignores aiHashAlg and padding (docs/spec/minidriver.md §9.3): the plugin signs the hash as given.
  if (isEcdsaKeySpec(keySpec)) {
    return { request: { containerIndex, keySpec, data: new Uint8Array(data), padding: { type: 'none' } }, sizeOnly };
  }
  const padding = paddingInfoPresent ? paddingFromInfo(info, data) : paddingFromCalg(info.hashAlgorithmId, data);
  return { request: { containerIndex, keySpec, data: new Uint8Array(data), padding }, sizeOnly };
}

function paddingFromCalg(hashAlgorithmId: unknown, data: Uint8Array): SignaturePadding {
  if (typeof hashAlgorithmId !== 'number' || !Number.isInteger(hashAlgorithmId)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'aiHashAlg is not an ALG_ID');
  }
  const hash = hashAlgorithmFromCalg(hashAlgorithmId);
  if (hash === undefined) {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `aiHashAlg 0x${hashAlgorithmId.toString(16)} is not a supported hash`,
    );
  }
  checkHashLength(data, hash);
  return { type: 'pkcs1', hashAlgorithm: hash };
}

function paddingFromInfo(info: CardSigningInfo, data: Uint8Array): SignaturePadding {
  switch (info.paddingType) {
    case CARD_PADDING_NONE:
      return { type: 'none' };
    case CARD_PADDING_PKCS1: {
      if (info.paddingInfo === undefined || info.paddingInfo === null) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'CARD_PADDING_PKCS1 without BCRYPT_PKCS1_PADDING_INFO');
      }
      const algorithm = info.paddingInfo.algorithm;
      const hash = algorithm === null ? null : hashByName(algorithm);
      checkHashLength(data, hash);
      return { type: 'pkcs1', hashAlgorithm: hash };
    }
    case CARD_PADDING_PSS: {
      if (info.paddingInfo === undefined || info.paddingInfo === null) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'CARD_PADDING_PSS without BCRYPT_PSS_PADDING_INFO');
      }
      // A NULL pszAlgId means SHA-1, as OpenSC reads it (docs/spec/minidriver.md §5.6.1).
      const hash = hashByName(info.paddingInfo.algorithm ?? 'SHA1');
      checkHashLength(data, hash);
      const saltLength = checkDword(info.paddingInfo.saltLength, 'cbSalt');
      return { type: 'pss', hashAlgorithm: hash, saltLength };
    }
    default:
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `dwPaddingType ${String(info.paddingType)} is not NONE, PKCS1 or PSS`,
      );
  }
}

/**
 * CardRSADecrypt's checks up to the card I/O (docs/spec/minidriver.md §5.6.2 rows 1-4 and 8): the version rules (v > 2, or
 * v < 2 with CARD_DATA 7 → ERROR_REVISION_MISMATCH), AT_KEYEXCHANGE only, and the padding of a
 * version 2 info. A version 1 info means padding 'none' (the raw block).
 */
export function normaliseDecryptInfo(
  info: CardRsaDecryptInfo | null | undefined,
  negotiated: CardDataVersion,
): RsaDecryptRequest {
  if (info === null || info === undefined || typeof info !== 'object') {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'CARD_RSA_DECRYPT_INFO is missing');
  }
  const data = checkBytes(info.data, 'CARD_RSA_DECRYPT_INFO.pbData');
  const version = infoVersion('CARD_RSA_DECRYPT_INFO', info.version);
  if (version > 2) revisionMismatch(`CARD_RSA_DECRYPT_INFO.dwVersion ${info.version} is above 2`);
  if (version < 2 && negotiated === 7) {
    revisionMismatch('CARD_RSA_DECRYPT_INFO version 1 is not allowed when the context negotiated CARD_DATA 7');
  }
  if (info.keySpec !== KeySpec.AT_KEYEXCHANGE) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'CardRSADecrypt needs dwKeySpec AT_KEYEXCHANGE');
  }
  const containerIndex = checkContainerIndex(info.containerIndex);
  const padding: DecryptPadding = version === 1 ? { type: 'none' } : decryptPadding(info);
  return { containerIndex, keySpec: KeySpec.AT_KEYEXCHANGE, data: new Uint8Array(data), padding };
}

function decryptPadding(info: CardRsaDecryptInfo): DecryptPadding {
  switch (info.paddingType) {
    case CARD_PADDING_NONE:
      return { type: 'none' };
    case CARD_PADDING_PKCS1:
      return { type: 'pkcs1' };
    case CARD_PADDING_OAEP: {
      const hash = hashByName(info.paddingInfo?.algorithm ?? 'SHA1');
      const label = info.paddingInfo?.label;
      return label === undefined || label.length === 0
        ? { type: 'oaep', hashAlgorithm: hash }
        : { type: 'oaep', hashAlgorithm: hash, label: new Uint8Array(label) };
    }
    default:
      // The same code as CardSignData's unknown padding type: a bad parameter of the caller.
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `dwPaddingType ${String(info.paddingType)} is not NONE, PKCS1 or OAEP`,
      );
  }
}

/** CardConstructDHAgreement's checks (docs/spec/minidriver.md §5.6.3): version rules like CardRSADecrypt, reserved flags 0. */
export function normaliseAgreementInfo(
  info: CardDhAgreementInfo | null | undefined,
  negotiated: CardDataVersion,
): DhAgreementRequest {
  if (info === null || info === undefined || typeof info !== 'object') {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'CARD_DH_AGREEMENT_INFO is missing');
  }
  const publicKey = checkBytes(info.publicKey, 'CARD_DH_AGREEMENT_INFO.pbPublicKey');
  const version = infoVersion('CARD_DH_AGREEMENT_INFO', info.version);
  if (version > 2) revisionMismatch(`CARD_DH_AGREEMENT_INFO.dwVersion ${info.version} is above 2`);
  if (version < 2 && negotiated === 7) {
    revisionMismatch('CARD_DH_AGREEMENT_INFO version 1 is obsolete with CARD_DATA 7');
  }
  if ((info.flags ?? 0) !== 0)
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'CARD_DH_AGREEMENT_INFO.dwFlags must be 0');
  return { containerIndex: checkContainerIndex(info.containerIndex), publicKey: new Uint8Array(publicKey) };
}

/** A validated derivation plus whether only the size was asked for. */
export interface NormalisedDerivation {
  readonly request: DeriveKeyRequest;
  readonly sizeOnly: boolean;
}

/**
 * CardDeriveKey's checks (docs/spec/minidriver.md §5.6.4): version above 2 → ERROR_REVISION_MISMATCH; version 0 counts as 1, like
 * every versioned structure (docs/spec/minidriver.md §1.6); version 1 is accepted with CARD_DATA 7, as Windows sends it; flags;
 * KDF name; agreement index.
 * CARD_RETURN_KEY_HANDLE is refused with SCARD_E_UNSUPPORTED_FEATURE: the contract's deriveKey returns
 * key bytes, not a handle.
 */
export function normaliseDeriveKeyInfo(info: CardDeriveKeyInfo | null | undefined): NormalisedDerivation {
  if (info === null || info === undefined || typeof info !== 'object') {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'CARD_DERIVE_KEY is missing');
  }
  if (typeof info.kdf !== 'string') throw new ScardError('SCARD_E_INVALID_PARAMETER', 'pwszKDF is missing');
  const version = infoVersion('CARD_DERIVE_KEY', info.version);
  if (version > 2) revisionMismatch(`CARD_DERIVE_KEY.dwVersion ${String(info.version)} is above 2`);
  const allowed = KDF_USE_SECRET_AS_HMAC_KEY_FLAG | CARD_RETURN_KEY_HANDLE | CARD_BUFFER_SIZE_ONLY;
  const flags = info.flags;
  if (
    typeof flags !== 'number' ||
    !Number.isInteger(flags) ||
    flags < 0 ||
    flags > 0xffffffff ||
    (flags & ~allowed) >>> 0
  ) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `CARD_DERIVE_KEY.dwFlags ${String(flags)} has unknown bits`);
  }
  if (!KDF_NAMES.includes(info.kdf as KdfName)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `KDF "${info.kdf}" is not supported`);
  }
  if ((flags & CARD_RETURN_KEY_HANDLE) !== 0) {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'CardDeriveKey with CARD_RETURN_KEY_HANDLE is not supported');
  }
  const agreementIndex = checkContainerIndex(info.agreementIndex);
  if (info.parameters !== undefined && !Array.isArray(info.parameters)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'CARD_DERIVE_KEY.pParameterList must be a list');
  }
  const parameters = (info.parameters ?? []).map((parameter) => {
    if (parameter === null || typeof parameter !== 'object') {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'a KDF parameter is missing');
    }
    return {
      type: checkDword(parameter.type, 'NCryptBuffer.BufferType'),
      value: new Uint8Array(checkBytes(parameter.value, 'NCryptBuffer.pvBuffer', true)),
    };
  });
  const request: DeriveKeyRequest = {
    agreementIndex,
    kdf: info.kdf as KdfName,
    parameters,
    flags: flags & ~CARD_BUFFER_SIZE_ONLY,
    ...(version === 2 && info.algorithmId !== undefined ? { algorithmId: info.algorithmId } : {}),
    ...(info.version === 2 && info.keyLength !== undefined
      ? { keyLength: checkDword(info.keyLength, 'dwKeyLen') }
      : {}),
  };
  return { request, sizeOnly: (flags & CARD_BUFFER_SIZE_ONLY) !== 0 };
}
