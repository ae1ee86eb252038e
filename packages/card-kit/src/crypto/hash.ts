/**
 * Hash algorithm tables: PKCS #1 v1.5 DigestInfo prefixes (docs/spec/minidriver.md §8.3), CryptoAPI ALG_ID → CNG name
 * (docs/spec/minidriver.md §8.5), CNG name → node:crypto name, and digest helpers.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { createHash, createHmac } from 'node:crypto';
import { fromHex, HASH_LENGTH, type HashAlgorithm, ScardError } from '@minidriver/spec';

/**
 * DER DigestInfo prefix of each hash (docs/spec/minidriver.md §8.3, byte for byte). `SHAMD5` (the 36-byte MD5 ‖ SHA-1 of
 * SSL3/TLS ≤ 1.1) has none: its prefix is empty.
 */
export const DIGEST_INFO_PREFIX: Readonly<Record<HashAlgorithm, Uint8Array>> = Object.freeze({
  MD5: fromHex('30 20 30 0C 06 08 2A 86 48 86 F7 0D 02 05 05 00 04 10'),
  SHA1: fromHex('30 21 30 09 06 05 2B 0E 03 02 1A 05 00 04 14'),
  SHA224: fromHex('30 2D 30 0D 06 09 60 86 48 01 65 03 04 02 04 05 00 04 1C'),
  SHA256: fromHex('30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20'),
  SHA384: fromHex('30 41 30 0D 06 09 60 86 48 01 65 03 04 02 02 05 00 04 30'),
  SHA512: fromHex('30 51 30 0D 06 09 60 86 48 01 65 03 04 02 03 05 00 04 40'),
  RIPEMD160: fromHex('30 21 30 09 06 05 2B 24 03 02 01 05 00 04 14'),
  SHAMD5: new Uint8Array(0),
});

const HASH_BY_CALG: ReadonlyMap<number, HashAlgorithm> = new Map([
  [0x8003, 'MD5'],
  [0x8004, 'SHA1'],
  [0x8007, 'RIPEMD160'],
  [0x8008, 'SHAMD5'],
  [0x800c, 'SHA256'],
  [0x800d, 'SHA384'],
  [0x800e, 'SHA512'],
]);

/**
 * The hash named by a CARD_SIGNING_INFO `aiHashAlg` (docs/spec/minidriver.md §5.6.1 basic mode): 0 → null (pad the data with no
 * DigestInfo); an ALG_ID this library cannot pad for (MD2, MD4, HMAC, unknown) → undefined, which the
 * session turns into SCARD_E_UNSUPPORTED_FEATURE.
 */
export function hashAlgorithmFromCalg(aiHashAlg: number): HashAlgorithm | null | undefined {
  if (aiHashAlg === 0) return null;
  return HASH_BY_CALG.get(aiHashAlg >>> 0);
}

const HASH_NAMES: readonly HashAlgorithm[] = [
  'MD5',
  'SHA1',
  'SHA224',
  'SHA256',
  'SHA384',
  'SHA512',
  'SHAMD5',
  'RIPEMD160',
];

/** True for the hash algorithm names of {@link HashAlgorithm}. */
export function isHashAlgorithm(value: unknown): value is HashAlgorithm {
  return typeof value === 'string' && (HASH_NAMES as readonly string[]).includes(value);
}

/**
 * The node:crypto name of a hash. SHAMD5 is not a single hash (it is MD5 ‖ SHA-1), so it has no
 * name: using it where one hash is needed (PSS, OAEP, HMAC, KDFs) → SCARD_E_UNSUPPORTED_FEATURE.
 */
export function nodeHashName(algorithm: HashAlgorithm): string {
  switch (algorithm) {
    case 'MD5':
      return 'md5';
    case 'SHA1':
      return 'sha1';
    case 'SHA224':
      return 'sha224';
    case 'SHA256':
      return 'sha256';
    case 'SHA384':
      return 'sha384';
    case 'SHA512':
      return 'sha512';
    case 'RIPEMD160':
      return 'ripemd160';
    default:
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `hash algorithm ${String(algorithm)} is not usable here`);
  }
}

/** Digest length in bytes. */
export function hashLength(algorithm: HashAlgorithm): number {
  return HASH_LENGTH[algorithm];
}

/** `H(parts[0] ‖ parts[1] ‖ …)`. */
export function digest(algorithm: HashAlgorithm, ...parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash(nodeHashName(algorithm));
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** `HMAC_key(parts[0] ‖ parts[1] ‖ …)`. */
export function hmac(algorithm: HashAlgorithm, key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  const mac = createHmac(nodeHashName(algorithm), key);
  for (const part of parts) mac.update(part);
  return new Uint8Array(mac.digest());
}

/** MGF1 (RFC 8017 B.2.1) of `seed`, `length` bytes. */
export function mgf1(algorithm: HashAlgorithm, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  let offset = 0;
  for (let block = 0; offset < length; block++) {
    counter[0] = block >>> 24;
    counter[1] = (block >>> 16) & 0xff;
    counter[2] = (block >>> 8) & 0xff;
    counter[3] = block & 0xff;
    const chunk = digest(algorithm, seed, counter);
    out.set(chunk.subarray(0, Math.min(chunk.length, length - offset)), offset);
    offset += chunk.length;
  }
  return out;
}
