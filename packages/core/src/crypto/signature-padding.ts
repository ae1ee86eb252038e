/**
 * Signature padding the caller does for a card that can only do raw RSA (pfnCspPadData, docs/spec/minidriver.md §5.6.1):
 * PKCS #1 v1.5 type 01 with or without DigestInfo (docs/spec/minidriver.md §8.3), EMSA-PSS with MGF1 (RFC 8017 §9.1.1), and
 * 'none'. Every output is big-endian, as the card wants it.
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { DIGEST_INFO_PREFIX, digest, hashLength, isHashAlgorithm, mgf1 } from '@minidriver/card-kit';
import type { HashAlgorithm, SignDataRequest } from '@minidriver/spec';
import { concatBytes, ScardError } from '@minidriver/spec';

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

function requireModulusBytes(modulusBytes: number): void {
  if (!Number.isInteger(modulusBytes) || modulusBytes < 1 || modulusBytes > 2048) {
    invalid(`invalid modulus length ${modulusBytes}`);
  }
}

/**
 * PKCS #1 v1.5 type 01 block: `00 01 FF…FF 00 ‖ DigestInfo ‖ data`, `modulusBytes` long, at least 8 FF.
 * With a hash algorithm, `data` must be exactly that hash's length (SHAMD5: 36 bytes, no DigestInfo);
 * with null, `data` is padded as it is ("no hash OID").
 */
export function padPkcs1Type1(data: Uint8Array, hashAlgorithm: HashAlgorithm | null, modulusBytes: number): Uint8Array {
  requireModulusBytes(modulusBytes);
  let payload = data;
  if (hashAlgorithm !== null) {
    if (!isHashAlgorithm(hashAlgorithm)) {
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `hash algorithm ${String(hashAlgorithm)} is not supported`);
    }
    if (data.length !== hashLength(hashAlgorithm)) {
      invalid(`a ${hashAlgorithm} hash is ${hashLength(hashAlgorithm)} bytes, got ${data.length}`);
    }
    payload = concatBytes(DIGEST_INFO_PREFIX[hashAlgorithm], data);
  }
  const fillLength = modulusBytes - 3 - payload.length;
  if (fillLength < 8) invalid(`${payload.length} bytes do not fit a ${modulusBytes}-byte PKCS #1 block`);
  const block = new Uint8Array(modulusBytes);
  block[1] = 0x01;
  block.fill(0xff, 2, 2 + fillLength);
  block.set(payload, 3 + fillLength);
  return block;
}

/**
 * EMSA-PSS encoding (RFC 8017 §9.1.1) of the hash value `hash` with MGF1 of the same hash and a random
 * salt of `saltLength` bytes, for a modulus of `modulusBits` bits (emBits = modulusBits − 1). The result
 * is ⌈modulusBits/8⌉ bytes, big-endian (a leading zero byte when emLen is one shorter than the modulus).
 */
export function encodePss(
  hash: Uint8Array,
  hashAlgorithm: HashAlgorithm,
  saltLength: number,
  modulusBits: number,
): Uint8Array {
  if (!Number.isInteger(modulusBits) || modulusBits < 16 || modulusBits > 16384)
    invalid(`invalid modulus size ${modulusBits}`);
  if (!isHashAlgorithm(hashAlgorithm) || hashAlgorithm === 'SHAMD5') {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `PSS with hash ${String(hashAlgorithm)} is not supported`);
  }
  const hLen = hashLength(hashAlgorithm);
  if (hash.length !== hLen) invalid(`a ${hashAlgorithm} hash is ${hLen} bytes, got ${hash.length}`);
  if (!Number.isInteger(saltLength) || saltLength < 0) invalid(`invalid PSS salt length ${saltLength}`);
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + saltLength + 2)
    invalid(`PSS with a ${saltLength}-byte salt does not fit a ${modulusBits}-bit key`);
  const salt = new Uint8Array(randomBytes(saltLength));
  const mPrime = concatBytes(new Uint8Array(8), hash, salt);
  const h = digest(hashAlgorithm, mPrime);
  const dbLength = emLen - hLen - 1;
  const db = new Uint8Array(dbLength);
  db[dbLength - saltLength - 1] = 0x01;
  db.set(salt, dbLength - saltLength);
  const mask = mgf1(hashAlgorithm, h, dbLength);
  for (let index = 0; index < dbLength; index++) (db[index] as number) ^= mask[index] as number;
  (db[0] as number) &= 0xff >>> (8 * emLen - emBits);
  const modulusBytes = Math.ceil(modulusBits / 8);
  const out = new Uint8Array(modulusBytes);
  out.set(db, modulusBytes - emLen);
  out.set(h, modulusBytes - emLen + dbLength);
  out[modulusBytes - 1] = 0xbc;
  return out;
}

/**
 * pfnCspPadData: pads `request.data` as `request.padding` says to a `modulusBytes` big-endian block.
 * PSS assumes a full-length modulus (modulusBits = 8·modulusBytes), as for every key a card generates.
 * 'none' returns a copy of the data when it is exactly `modulusBytes` long.
 * Errors: SCARD_E_INVALID_PARAMETER (wrong lengths, salt too long, unknown padding),
 * SCARD_E_UNSUPPORTED_FEATURE (a hash that cannot be used with the padding).
 */
export function padSignature(request: SignDataRequest, modulusBytes: number): Uint8Array {
  requireModulusBytes(modulusBytes);
  const { data, padding } = request;
  if (!(data instanceof Uint8Array) || data.length === 0) invalid('no data to sign');
  switch (padding?.type) {
    case 'pkcs1':
      return padPkcs1Type1(data, padding.hashAlgorithm, modulusBytes);
    case 'pss':
      return encodePss(data, padding.hashAlgorithm, padding.saltLength, modulusBytes * 8);
    case 'none':
      if (data.length !== modulusBytes) invalid(`raw RSA needs a ${modulusBytes}-byte block, got ${data.length}`);
      return new Uint8Array(data);
    default:
      return invalid('unknown signature padding');
  }
}
