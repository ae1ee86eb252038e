/**
 * The CNG key derivation functions of CardDeriveKey (docs/spec/minidriver.md §5.6.4) over an ECDH secret Z (big-endian
 * x-coordinate): HASH, HMAC, TLS_PRF (TLS 1.0/1.1 and 1.2), SP800_56A_CONCAT and TRUNCATE.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */

import type { DeriveKeyRequest, KdfParameter } from '@minidriver/spec';
import {
  concatBytes,
  type HashAlgorithm,
  KDF_USE_SECRET_AS_HMAC_KEY_FLAG,
  KdfBufferType,
  reverseBytes,
  ScardError,
} from '@minidriver/spec';
import { decodeWideString } from '../codecs/wide-string.js';
import { digest, hashLength, hmac } from './hash.js';

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

const KNOWN_TYPES = new Set<number>(Object.values(KdfBufferType));

/** CNG hash names (case-insensitive, as CNG compares algorithm ids) usable in a KDF. */
const KDF_HASHES: ReadonlyMap<string, HashAlgorithm> = new Map([
  ['MD5', 'MD5'],
  ['SHA1', 'SHA1'],
  ['SHA256', 'SHA256'],
  ['SHA384', 'SHA384'],
  ['SHA512', 'SHA512'],
]);

/** Parameters by type; unknown type, duplicate, or KDF_SECRET_HANDLE → SCARD_E_INVALID_PARAMETER. */
function collectParameters(parameters: readonly KdfParameter[]): Map<number, Uint8Array> {
  if (!Array.isArray(parameters)) invalid('KDF parameters must be an array');
  const byType = new Map<number, Uint8Array>();
  for (const parameter of parameters) {
    const { type, value } = parameter ?? {};
    if (typeof type !== 'number' || !KNOWN_TYPES.has(type)) invalid(`unknown KDF buffer type ${String(type)}`);
    if (!(value instanceof Uint8Array)) invalid(`KDF buffer ${type} must be a Uint8Array`);
    if (byType.has(type)) invalid(`KDF buffer type ${type} given twice`);
    if (type === KdfBufferType.KDF_SECRET_HANDLE) {
      invalid('KDF_SECRET_HANDLE must be resolved to its agreement (pfnCspGetDHAgreement) before deriving');
    }
    byType.set(type, value);
  }
  return byType;
}

/**
 * The KDF_HASH_ALGORITHM buffer — a NUL-terminated UTF-16LE wide string such as `L"SHA256"` — as a hash,
 * or `fallback` when absent. MD2/MD4 → SCARD_E_UNSUPPORTED_FEATURE; anything else unknown →
 * SCARD_E_INVALID_PARAMETER.
 */
function hashParameter(byType: Map<number, Uint8Array>, fallback: HashAlgorithm): HashAlgorithm {
  const buffer = byType.get(KdfBufferType.KDF_HASH_ALGORITHM);
  if (buffer === undefined) return fallback;
  const name = decodeWideString(buffer).toUpperCase();
  const algorithm = KDF_HASHES.get(name);
  if (algorithm) return algorithm;
  if (name === 'MD2' || name === 'MD4')
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `KDF hash ${name} is not supported`);
  return invalid(`unknown KDF hash algorithm "${name.slice(0, 32)}"`);
}

const empty = new Uint8Array(0);

/** TLS P_hash (RFC 5246 §5): HMAC_secret(A(i) ‖ seed) for A(0) = seed, A(i) = HMAC_secret(A(i−1)). */
export function tlsPHash(algorithm: HashAlgorithm, secret: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let a = seed;
  for (let offset = 0; offset < length; ) {
    a = hmac(algorithm, secret, a);
    const block = hmac(algorithm, secret, a, seed);
    out.set(block.subarray(0, Math.min(block.length, length - offset)), offset);
    offset += block.length;
  }
  return out;
}

/**
 * The TLS PRF. `protocol` 0x0301/0x0302 (TLS 1.0/1.1, RFC 2246 §5): P_MD5(S1, label ‖ seed) XOR
 * P_SHA1(S2, label ‖ seed), S1/S2 the halves of the secret sharing the middle byte when its length is odd;
 * 0x0303 (TLS 1.2, RFC 5246 §5): P_hash(secret, label ‖ seed).
 */
export function tlsPrf(
  protocol: 0x0301 | 0x0302 | 0x0303,
  hashAlgorithm: HashAlgorithm,
  secret: Uint8Array,
  label: Uint8Array,
  seed: Uint8Array,
  length: number,
): Uint8Array {
  const labelSeed = concatBytes(label, seed);
  if (protocol === 0x0303) return tlsPHash(hashAlgorithm, secret, labelSeed, length);
  const halfLength = Math.ceil(secret.length / 2);
  const md5 = tlsPHash('MD5', secret.subarray(0, halfLength), labelSeed, length);
  const sha1 = tlsPHash('SHA1', secret.subarray(secret.length - halfLength), labelSeed, length);
  for (let index = 0; index < length; index++) (md5[index] as number) ^= sha1[index] as number;
  return md5;
}

/** NIST SP 800-56A single-step (concatenation) KDF: H(counter32be ‖ Z ‖ OtherInfo) blocks from counter 1. */
export function concatKdf(
  hashAlgorithm: HashAlgorithm,
  secretZ: Uint8Array,
  otherInfo: Uint8Array,
  length: number,
): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  for (let block = 1, offset = 0; offset < length; block++) {
    new DataView(counter.buffer).setUint32(0, block, false);
    const chunk = digest(hashAlgorithm, counter, secretZ, otherInfo);
    out.set(chunk.subarray(0, Math.min(chunk.length, length - offset)), offset);
    offset += chunk.length;
  }
  return out;
}

/** Size in bytes of TLS_PRF output (a TLS master secret). */
export const TLS_PRF_OUTPUT_LENGTH = 48;

/**
 * CardDeriveKey's derivation (docs/spec/minidriver.md §5.6.4) from the agreement secret Z (big-endian) and the request's KDF,
 * parameters and flags:
 * - HASH: H(prepend ‖ Z ‖ append), hash from KDF_HASH_ALGORITHM (default SHA1); hash-size output.
 * - HMAC: HMAC_key(prepend ‖ Z ‖ append), key = KDF_HMAC_KEY or Z with KDF_USE_SECRET_AS_HMAC_KEY_FLAG
 *   (exactly one of the two); default SHA1.
 * - TLS_PRF: 48 bytes from KDF_TLS_PRF_LABEL (required), KDF_TLS_PRF_SEED (required, exactly 64 bytes),
 *   KDF_TLS_PRF_PROTOCOL (DWORD LE; absent/0 = 0x0301 TLS 1.0; 0x0302; 0x0303 TLS 1.2 with
 *   KDF_HASH_ALGORITHM SHA256 (default) or SHA384).
 * - SP800_56A_CONCAT: OtherInfo = ALGORITHMID ‖ PARTYUINFO ‖ PARTYVINFO (all three required) ‖
 *   SUPPPUBINFO ‖ SUPPPRIVINFO (optional); default SHA1. Output length: `request.keyLength` read as bits
 *   when it is set and non-zero (as CNG key lengths are), else one hash length. [I]
 * - TRUNCATE: Z reversed to little-endian, as CNG's BCRYPT_KDF_RAW_SECRET returns it (docs/spec/minidriver.md §14 #28,
 *   unverified for minidrivers).
 * Parameters that the chosen KDF does not use are ignored (as CNG does); unknown buffer types,
 * duplicates, missing required ones, bad sizes → SCARD_E_INVALID_PARAMETER.
 */
export function deriveKeyFromSecret(secretZ: Uint8Array, request: DeriveKeyRequest): Uint8Array {
  if (!(secretZ instanceof Uint8Array) || secretZ.length === 0) invalid('no agreement secret');
  const byType = collectParameters(request.parameters ?? []);
  const prepend = byType.get(KdfBufferType.KDF_SECRET_PREPEND) ?? empty;
  const append = byType.get(KdfBufferType.KDF_SECRET_APPEND) ?? empty;
  switch (request.kdf) {
    case 'HASH':
      return digest(hashParameter(byType, 'SHA1'), prepend, secretZ, append);
    case 'HMAC': {
      const useSecret = (request.flags & KDF_USE_SECRET_AS_HMAC_KEY_FLAG) !== 0;
      const key = byType.get(KdfBufferType.KDF_HMAC_KEY);
      if (useSecret === (key !== undefined))
        invalid('HMAC needs exactly one of KDF_HMAC_KEY and KDF_USE_SECRET_AS_HMAC_KEY_FLAG');
      return hmac(hashParameter(byType, 'SHA1'), key ?? secretZ, prepend, secretZ, append);
    }
    case 'TLS_PRF': {
      const label = byType.get(KdfBufferType.KDF_TLS_PRF_LABEL);
      const seed = byType.get(KdfBufferType.KDF_TLS_PRF_SEED);
      if (label === undefined) invalid('TLS_PRF needs KDF_TLS_PRF_LABEL');
      if (seed === undefined || seed.length !== 64) invalid('TLS_PRF needs a 64-byte KDF_TLS_PRF_SEED');
      const protocolBuffer = byType.get(KdfBufferType.KDF_TLS_PRF_PROTOCOL);
      if (protocolBuffer !== undefined && protocolBuffer.length !== 4) invalid('KDF_TLS_PRF_PROTOCOL is a DWORD');
      const protocol = protocolBuffer
        ? new DataView(protocolBuffer.buffer, protocolBuffer.byteOffset, 4).getUint32(0, true) || 0x0301
        : 0x0301;
      if (protocol !== 0x0301 && protocol !== 0x0302 && protocol !== 0x0303)
        invalid(`TLS_PRF protocol 0x${protocol.toString(16)} is not supported`);
      const hashAlgorithm = protocol === 0x0303 ? hashParameter(byType, 'SHA256') : 'SHA1';
      if (protocol === 0x0303 && hashAlgorithm !== 'SHA256' && hashAlgorithm !== 'SHA384')
        invalid('TLS 1.2 PRF needs SHA256 or SHA384');
      return tlsPrf(protocol, hashAlgorithm, secretZ, label, seed, TLS_PRF_OUTPUT_LENGTH);
    }
    case 'SP800_56A_CONCAT': {
      const required = [KdfBufferType.KDF_ALGORITHMID, KdfBufferType.KDF_PARTYUINFO, KdfBufferType.KDF_PARTYVINFO];
      if (required.some((type) => !byType.has(type)))
        invalid('SP800_56A_CONCAT needs KDF_ALGORITHMID, KDF_PARTYUINFO and KDF_PARTYVINFO');
      const otherInfo = concatBytes(
        ...[...required, KdfBufferType.KDF_SUPPPUBINFO, KdfBufferType.KDF_SUPPPRIVINFO].map(
          (type) => byType.get(type) ?? empty,
        ),
      );
      const hashAlgorithm = hashParameter(byType, 'SHA1');
      const keyLength = request.keyLength ?? 0;
      if (!Number.isInteger(keyLength) || keyLength < 0 || keyLength % 8 !== 0 || keyLength > 8 * 1024 * 8) {
        invalid(`invalid key length ${keyLength}`);
      }
      return concatKdf(hashAlgorithm, secretZ, otherInfo, keyLength > 0 ? keyLength / 8 : hashLength(hashAlgorithm));
    }
    case 'TRUNCATE':
      return reverseBytes(secretZ);
    default:
      return invalid(`unknown KDF "${String(request.kdf)}"`);
  }
}
