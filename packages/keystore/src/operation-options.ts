/**
 * @packageDocumentation
 * The options of `Key.sign`, `Key.signDigest` and `Key.decrypt`, checked strictly and turned into what
 * the minidriver contract takes (CNG hash names of BCRYPT_PKCS1_PADDING_INFO / BCRYPT_PSS_PADDING_INFO /
 * BCRYPT_OAEP_PADDING_INFO, docs/spec/minidriver.md §5.6).
 */
import { ScardError } from '@minidriver/spec';
import { checkChoice, checkOptions, describeValue } from './options.js';

/** Hashes a signature or OAEP can use (node:crypto names). */
export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** The hash names, in order. */
export const HASH_NAMES: readonly HashName[] = ['sha1', 'sha256', 'sha384', 'sha512'];

/** Digest length in bytes of each hash. */
export const HASH_BYTES: Readonly<Record<HashName, number>> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/** The CNG algorithm id (`pszAlgId`) of each hash. */
export const CNG_HASH_NAMES: Readonly<Record<HashName, string>> = {
  sha1: 'SHA1',
  sha256: 'SHA256',
  sha384: 'SHA384',
  sha512: 'SHA512',
};

/** Options of `Key.sign` and `Key.signDigest`. */
export interface SignOptions {
  /** The hash (default sha256). `sign` hashes the data with it; `signDigest` takes a digest of its length. */
  readonly hash?: HashName;
  /** RSA only: PKCS #1 v1.5 (default) or PSS (RFC 8017 §8.1). An EC key refuses any padding. */
  readonly padding?: 'pkcs1' | 'pss';
  /** RSA-PSS only: the salt length in bytes (default: the hash length, as `RSA_PSS_SALTLEN_DIGEST`). */
  readonly saltLength?: number;
  /**
   * EC only: `der` (default; the `Ecdsa-Sig-Value` SEQUENCE node:crypto and OpenSSL use) or `ieee-p1363`
   * (`r ‖ s`, each the curve size, as WebCrypto and node's `dsaEncoding: 'ieee-p1363'`). RSA ignores it
   * (an RSA signature has one form), as node:crypto does.
   */
  readonly format?: 'der' | 'ieee-p1363';
}

/** Options of `Key.decrypt`. */
export interface DecryptOptions {
  /** `oaep` (default, as node's privateDecrypt) or `pkcs1` (PKCS #1 v1.5 type 2). */
  readonly padding?: 'pkcs1' | 'oaep';
  /** OAEP only: the hash of OAEP and MGF1 (default sha1, as node's `oaepHash`). */
  readonly hash?: HashName;
  /** OAEP only: the label (default empty). */
  readonly label?: Uint8Array;
}

/** Sign options after checking, with defaults applied. */
export interface CheckedSignOptions {
  readonly hash: HashName;
  readonly padding: 'pkcs1' | 'pss' | undefined;
  readonly saltLength: number | undefined;
  readonly format: 'der' | 'ieee-p1363';
}

/** Decrypt options after checking, with defaults applied. */
export interface CheckedDecryptOptions {
  readonly padding: 'pkcs1' | 'oaep';
  readonly hash: HashName;
  readonly label: Uint8Array | undefined;
}

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/**
 * Checks sign options for a key of type `keyType`: unknown members or values, padding on an EC key,
 * saltLength without PSS → SCARD_E_INVALID_PARAMETER.
 */
export function checkSignOptions(value: unknown, keyType: 'rsa' | 'ec'): CheckedSignOptions {
  const options = checkOptions<SignOptions>(value, ['hash', 'padding', 'saltLength', 'format'], 'sign');
  const hash = checkChoice(options.hash, HASH_NAMES, 'hash', 'sha256');
  const format = checkChoice(options.format, ['der', 'ieee-p1363'] as const, 'format', 'der');
  if (keyType === 'ec') {
    if (options.padding !== undefined) invalid('an ECDSA signature has no padding (padding is for RSA keys)');
    if (options.saltLength !== undefined) invalid('saltLength is for RSA-PSS');
    return { hash, padding: undefined, saltLength: undefined, format };
  }
  const padding = checkChoice(options.padding, ['pkcs1', 'pss'] as const, 'padding', 'pkcs1');
  let saltLength: number | undefined;
  if (padding === 'pss') {
    saltLength = options.saltLength ?? HASH_BYTES[hash];
    if (!Number.isInteger(saltLength) || saltLength < 0 || saltLength > 0xffff) {
      invalid(`saltLength ${describeValue(saltLength)} is not a byte count`);
    }
  } else if (options.saltLength !== undefined) {
    invalid('saltLength is for RSA-PSS (padding "pss")');
  }
  return { hash, padding, saltLength, format };
}

/** Checks decrypt options: unknown members or values, a label or hash without OAEP → SCARD_E_INVALID_PARAMETER. */
export function checkDecryptOptions(value: unknown): CheckedDecryptOptions {
  const options = checkOptions<DecryptOptions>(value, ['padding', 'hash', 'label'], 'decrypt');
  const padding = checkChoice(options.padding, ['pkcs1', 'oaep'] as const, 'padding', 'oaep');
  if (padding === 'pkcs1' && (options.hash !== undefined || options.label !== undefined)) {
    invalid('hash and label are for OAEP (padding "oaep")');
  }
  const hash = checkChoice(options.hash, HASH_NAMES, 'hash', 'sha1');
  if (options.label !== undefined && !(options.label instanceof Uint8Array)) invalid('label must be a Uint8Array');
  return { padding, hash, label: options.label };
}
