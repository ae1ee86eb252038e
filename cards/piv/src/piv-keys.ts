/**
 * Public keys of PIV slots: read from a certificate's SubjectPublicKeyInfo (how every PIV
 * minidriver learns a key it cannot query, docs/spec/piv.md §10.1) and turned into the interface's key BLOBs.
 */
import { X509Certificate } from 'node:crypto';
import { encodeEccPublicKeyBlob, encodeRsaPublicKeyBlob } from '@minidriver/card-kit';
import { ScardError } from '@minidriver/spec';
import type { PivPublicKey } from './piv-objects.js';

function fromBase64Url(text: string | undefined): Uint8Array {
  if (text === undefined) throw new ScardError('SCARD_E_COMM_DATA_LOST', 'certificate public key is incomplete');
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/** The public key of a DER certificate, or SCARD_E_COMM_DATA_LOST when it does not parse or is not RSA/P-256/P-384. */
export function publicKeyOfCertificate(der: Uint8Array): PivPublicKey {
  let jwk: { kty?: string; n?: string; e?: string; crv?: string; x?: string; y?: string };
  try {
    jwk = new X509Certificate(der).publicKey.export({ format: 'jwk' });
  } catch (error) {
    throw new ScardError('SCARD_E_COMM_DATA_LOST', 'the slot certificate does not parse', { cause: error });
  }
  if (jwk.kty === 'RSA') {
    const modulus = fromBase64Url(jwk.n);
    return { kind: 'rsa', bits: modulus.length * 8, modulus, publicExponent: fromBase64Url(jwk.e) };
  }
  if (jwk.kty === 'EC' && (jwk.crv === 'P-256' || jwk.crv === 'P-384')) {
    return {
      kind: 'ecc',
      curve: jwk.crv,
      bits: jwk.crv === 'P-256' ? 256 : 384,
      x: fromBase64Url(jwk.x),
      y: fromBase64Url(jwk.y),
    };
  }
  throw new ScardError('SCARD_E_COMM_DATA_LOST', `the slot certificate has an unsupported key type ${String(jwk.kty)}`);
}

/** The key BLOB of a container half: PUBLICKEYBLOB for RSA, BCRYPT_ECCKEY_BLOB (ECDSA or ECDH magic) for ECC. */
export function publicKeyBlob(key: PivPublicKey, half: 'signature' | 'keyExchange'): Uint8Array {
  if (key.kind === 'rsa')
    return encodeRsaPublicKeyBlob({ modulus: key.modulus, publicExponent: key.publicExponent }, half);
  return encodeEccPublicKeyBlob({ curve: key.curve, x: key.x, y: key.y }, half === 'signature' ? 'ecdsa' : 'ecdh');
}

/** True when both keys are the same public key. */
export function samePublicKey(left: PivPublicKey, right: PivPublicKey): boolean {
  const equal = (a: Uint8Array, b: Uint8Array): boolean =>
    a.length === b.length && a.every((byte, index) => byte === b[index]);
  if (left.kind === 'rsa' && right.kind === 'rsa') {
    return equal(left.modulus, right.modulus) && equal(left.publicExponent, right.publicExponent);
  }
  if (left.kind === 'ecc' && right.kind === 'ecc')
    return left.curve === right.curve && equal(left.x, right.x) && equal(left.y, right.y);
  return false;
}
