/**
 * @packageDocumentation
 * A private key file (PEM or DER: PKCS #8, PKCS #1, SEC 1) turned into what CardCreateContainer imports:
 * the key spec and the PRIVATEKEYBLOB (RSA) or BCRYPT_ECCPRIVATE_BLOB (EC). Every buffer that held private
 * material is wiped; the caller wipes the BLOB after the import.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { encodeEccPrivateKeyBlob, encodeRsaPrivateKeyBlob } from '@minidriver/card-kit';
import { KeySpec, wipe } from '@minidriver/spec';
import { UsageError } from '../parse/usage-error.js';

/** What to import: the key spec, its size (RSA bits, 0 for EC) and the key BLOB. */
export interface KeyImport {
  readonly keySpec: number;
  readonly keySize: number;
  readonly blob: Uint8Array;
  readonly algorithm: 'RSA' | 'ECDSA' | 'ECDH';
  readonly bits: number;
  /** The public half, to name the key and check what the card answers. */
  readonly publicKey: KeyObject;
}

/** Parses a private key file; anything else is a usage error naming the file. */
export function parsePrivateKey(bytes: Uint8Array, file: string): KeyObject {
  const text = Buffer.from(bytes);
  try {
    const pem = text.includes('-----BEGIN');
    return pem
      ? createPrivateKey({ key: text.toString('latin1'), format: 'pem' })
      : createPrivateKey({ key: text, format: 'der', type: 'pkcs8' });
  } catch {
    throw new UsageError(`${file} is not a private key (PEM or DER PKCS #8, PKCS #1 or SEC 1)`);
  } finally {
    text.fill(0);
  }
}

const b64 = (value: string | undefined): Uint8Array => new Uint8Array(Buffer.from(value ?? '', 'base64url'));

/** The import request for `key` with usage `sign` or `exchange` (RSA default exchange, EC default sign). */
export function keyImportOf(key: KeyObject, usage: 'sign' | 'exchange' | undefined): KeyImport {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') {
    const parts = {
      modulus: b64(jwk.n),
      publicExponent: b64(jwk.e),
      privateExponent: b64(jwk.d),
      prime1: b64(jwk.p),
      prime2: b64(jwk.q),
      exponent1: b64(jwk.dp),
      exponent2: b64(jwk.dq),
      coefficient: b64(jwk.qi),
    };
    const bits = parts.modulus.length * 8;
    const slot = usage === 'sign' ? 'signature' : 'keyExchange';
    try {
      return {
        keySpec: usage === 'sign' ? KeySpec.AT_SIGNATURE : KeySpec.AT_KEYEXCHANGE,
        keySize: bits,
        blob: encodeRsaPrivateKeyBlob(parts, slot),
        algorithm: 'RSA',
        bits,
        publicKey: createPublicKey(key),
      };
    } finally {
      wipe(parts.privateExponent, parts.prime1, parts.prime2, parts.exponent1, parts.exponent2, parts.coefficient);
    }
  }
  if (jwk.kty === 'EC' && (jwk.crv === 'P-256' || jwk.crv === 'P-384')) {
    const ecdh = usage === 'exchange';
    const d = b64(jwk.d);
    try {
      const bits = jwk.crv === 'P-256' ? 256 : 384;
      return {
        keySpec: ecdh
          ? bits === 256
            ? KeySpec.AT_ECDHE_P256
            : KeySpec.AT_ECDHE_P384
          : bits === 256
            ? KeySpec.AT_ECDSA_P256
            : KeySpec.AT_ECDSA_P384,
        keySize: 0,
        blob: encodeEccPrivateKeyBlob({ curve: jwk.crv, x: b64(jwk.x), y: b64(jwk.y), d }, ecdh ? 'ecdh' : 'ecdsa'),
        algorithm: ecdh ? 'ECDH' : 'ECDSA',
        bits,
        publicKey: createPublicKey(key),
      };
    } finally {
      wipe(d);
    }
  }
  throw new UsageError(
    `a ${jwk.kty === 'EC' ? `${jwk.crv} EC` : (jwk.kty ?? 'unknown')} key cannot go on a card (RSA, P-256 or P-384)`,
  );
}
