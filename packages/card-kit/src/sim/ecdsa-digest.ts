/**
 * ECDSA over a digest the host computed (FIPS 186-5 docs/spec/minidriver.md §6.4.1, https://csrc.nist.gov/pubs/fips/186-5/final),
 * what a card's signing command does and node:crypto cannot (it hashes the message itself). The nonce
 * point k·G comes from node's ECDH (the public key of k); the arithmetic mod n is BigInt. Simulators only:
 * not constant-time.
 *
 * @packageDocumentation
 */
import { createECDH, type KeyObject, randomBytes } from 'node:crypto';
import { bigIntToBytes, bytesToBigInt, modInverse } from './bigint.js';

/**
 * The curves a card signs with, with their order n and coordinate size: the NIST curves (SEC 2,
 * https://www.secg.org/sec2-v2.pdf) and the brainpool r1 curves (RFC 5639) OpenPGP cards offer.
 */
export const ECDSA_CURVES = {
  'P-224': {
    nodeName: 'secp224r1',
    size: 28,
    order: 0xffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3dn,
  },
  'P-256': {
    nodeName: 'prime256v1',
    size: 32,
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  'P-384': {
    nodeName: 'secp384r1',
    size: 48,
    order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  'P-521': {
    nodeName: 'secp521r1',
    size: 66,
    order:
      0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
  brainpoolP256r1: {
    nodeName: 'brainpoolP256r1',
    size: 32,
    order: 0xa9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7n,
  },
  brainpoolP384r1: {
    nodeName: 'brainpoolP384r1',
    size: 48,
    order: 0x8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7cf3ab6af6b7fc3103b883202e9046565n,
  },
  brainpoolP512r1: {
    nodeName: 'brainpoolP512r1',
    size: 64,
    order:
      0xaadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069n,
  },
} as const;

/** A curve of {@link ECDSA_CURVES}. */
export type EcdsaCurveName = keyof typeof ECDSA_CURVES;

/** The DER length at `offset`: its value and where the contents start. */
function derLength(der: Uint8Array, offset: number): { length: number; start: number } {
  const first = der[offset] ?? 0;
  if (first < 0x80) return { length: first, start: offset + 1 };
  let length = 0;
  for (let index = 1; index <= (first & 0x7f); index++) length = (length << 8) | (der[offset + index] ?? 0);
  return { length, start: offset + 1 + (first & 0x7f) };
}

/**
 * The private scalar d of an EC key, from its SEC 1 ECPrivateKey (RFC 5915: SEQUENCE { version, OCTET STRING d,
 * ... }) — JWK export would do, but node:crypto has no JWK form for every curve (P-224).
 */
function privateScalar(privateKey: KeyObject): Uint8Array {
  if (privateKey.type !== 'private') throw new TypeError('ecdsaSignDigest needs a private key');
  const der = new Uint8Array(privateKey.export({ format: 'der', type: 'sec1' }));
  const sequence = derLength(der, 1);
  const version = derLength(der, sequence.start + 1);
  const octets = version.start + version.length;
  if (der[0] !== 0x30 || der[sequence.start] !== 0x02 || der[octets] !== 0x04) {
    throw new TypeError('ecdsaSignDigest needs an EC private key');
  }
  const scalar = derLength(der, octets + 1);
  const d = der.slice(scalar.start, scalar.start + scalar.length);
  der.fill(0);
  return d;
}

/**
 * Signs `digest` with the EC private key `privateKey` of `curve`. A digest longer than the order is
 * truncated to its leftmost bits (FIPS 186-5 docs/spec/minidriver.md §6.4.1 step 2). Returns `r ‖ s`, each left-padded to the
 * coordinate size (the form CardSignData returns; DER with `ecdsaRawToDer`).
 */
export function ecdsaSignDigest(privateKey: KeyObject, curve: EcdsaCurveName, digest: Uint8Array): Uint8Array {
  const info = ECDSA_CURVES[curve];
  const scalar = privateScalar(privateKey);
  const d = bytesToBigInt(scalar);
  scalar.fill(0);
  const orderBits = info.order.toString(2).length;
  let e = bytesToBigInt(digest);
  const excess = digest.length * 8 - orderBits;
  if (excess > 0) e >>= BigInt(excess);
  const n = info.order;
  for (;;) {
    const k = (bytesToBigInt(randomBytes(info.size + 8)) % (n - 1n)) + 1n;
    const ecdh = createECDH(info.nodeName);
    ecdh.setPrivateKey(bigIntToBytes(k, info.size));
    const point = ecdh.getPublicKey();
    const r = bytesToBigInt(point.subarray(1, 1 + info.size)) % n;
    if (r === 0n) continue;
    // n is prime and 0 < k < n: k has an inverse.
    const s = (modInverse(k, n)! * ((e + r * d) % n)) % n;
    if (s === 0n) continue;
    const out = new Uint8Array(2 * info.size);
    out.set(bigIntToBytes(r, info.size), 0);
    out.set(bigIntToBytes(s, info.size), info.size);
    return out;
  }
}
