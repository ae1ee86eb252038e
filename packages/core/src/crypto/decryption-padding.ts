/**
 * Removal of RSA encryption padding after a raw private-key operation (pfnCspUnpadData,
 * docs/spec/minidriver.md §5.6.2): PKCS #1 v1.5 type 02 and OAEP (RFC 8017 §7.1.2). Input blocks are big-endian, modulus length.
 * Every check runs over the whole block and every failure throws the same SCARD_E_INVALID_PARAMETER
 * "decryption error", so callers cannot build a padding oracle (Bleichenbacher / Manger / Marvin).
 *
 * @packageDocumentation
 */
import { timingSafeEqual } from 'node:crypto';
import { digest, hashLength, isHashAlgorithm, mgf1 } from '@minidriver/card-kit';
import type { DecryptPadding, HashAlgorithm } from '@minidriver/spec';
import { ScardError } from '@minidriver/spec';

/** The one error every padding failure produces. */
function decryptionError(): ScardError {
  return new ScardError('SCARD_E_INVALID_PARAMETER', 'decryption error');
}

/** 1 when `value` is 0, else 0, without a branch on the value. */
function isZero(value: number): number {
  return ((value | -value) >>> 31) ^ 1;
}

/**
 * Removes PKCS #1 v1.5 type 02 padding: `00 02 <≥ 8 non-zero bytes> 00 ‖ message`. Returns a copy of
 * the message.
 */
export function unpadPkcs1Type2(block: Uint8Array): Uint8Array {
  if (!(block instanceof Uint8Array) || block.length < 11) throw decryptionError();
  let bad = (block[0] as number) | ((block[1] as number) ^ 0x02);
  // Scan the whole block: the separator is the first zero after offset 1; remember it without branching.
  let separator = 0;
  let found = 0;
  for (let index = 2; index < block.length; index++) {
    const zero = isZero(block[index] as number) & (found ^ 1);
    separator |= index * zero;
    found |= zero;
  }
  bad |= found ^ 1;
  bad |= separator < 10 ? 1 : 0; // at least 8 bytes of padding string
  if (bad !== 0) throw decryptionError();
  return block.slice(separator + 1);
}

/**
 * Removes OAEP padding (EME-OAEP decoding, RFC 8017 §7.1.2 step 3) with MGF1 of `hashAlgorithm` and
 * `label` (default empty). Returns a copy of the message.
 */
export function unpadOaep(
  block: Uint8Array,
  hashAlgorithm: HashAlgorithm,
  label: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (!isHashAlgorithm(hashAlgorithm) || hashAlgorithm === 'SHAMD5') {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `OAEP with hash ${String(hashAlgorithm)} is not supported`);
  }
  const hLen = hashLength(hashAlgorithm);
  if (!(block instanceof Uint8Array) || !(label instanceof Uint8Array) || block.length < 2 * hLen + 2) {
    throw decryptionError();
  }
  const maskedSeed = block.subarray(1, 1 + hLen);
  const maskedDb = block.subarray(1 + hLen);
  const seedMask = mgf1(hashAlgorithm, maskedDb, hLen);
  const seed = new Uint8Array(hLen);
  for (let index = 0; index < hLen; index++) seed[index] = (maskedSeed[index] as number) ^ (seedMask[index] as number);
  const dbMask = mgf1(hashAlgorithm, seed, maskedDb.length);
  const db = new Uint8Array(maskedDb.length);
  for (let index = 0; index < db.length; index++) db[index] = (maskedDb[index] as number) ^ (dbMask[index] as number);
  const labelHash = digest(hashAlgorithm, label);
  let bad = (block[0] as number) | (timingSafeEqual(labelHash, db.subarray(0, hLen)) ? 0 : 1);
  // After lHash: zero bytes, then 01, then the message. Walk it all, branch-free on the contents.
  let separator = 0;
  let found = 0;
  for (let index = hLen; index < db.length; index++) {
    const byte = db[index] as number;
    const isOne = isZero(byte ^ 0x01) & (found ^ 1);
    bad |= (found ^ 1) & (isZero(byte) ^ 1) & (isOne ^ 1); // a byte before 01 that is neither 00 nor 01
    separator |= index * isOne;
    found |= isOne;
  }
  bad |= found ^ 1;
  const message = db.slice(separator + 1);
  db.fill(0);
  seed.fill(0);
  if (bad !== 0) {
    message.fill(0);
    throw decryptionError();
  }
  return message;
}

/**
 * pfnCspUnpadData: removes `padding` from a raw decrypted RSA block (big-endian, modulus length) and
 * returns the plaintext in message order. 'none' returns a copy of the block. Any padding failure →
 * SCARD_E_INVALID_PARAMETER "decryption error"; an OAEP hash that cannot be used → SCARD_E_UNSUPPORTED_FEATURE.
 */
export function unpadDecryption(block: Uint8Array, padding: DecryptPadding): Uint8Array {
  switch (padding?.type) {
    case 'none':
      if (!(block instanceof Uint8Array)) throw decryptionError();
      return new Uint8Array(block);
    case 'pkcs1':
      return unpadPkcs1Type2(block);
    case 'oaep':
      return unpadOaep(block, padding.hashAlgorithm, padding.label);
    default:
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'unknown decryption padding is not supported');
  }
}
