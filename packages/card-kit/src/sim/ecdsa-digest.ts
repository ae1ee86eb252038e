/**
 * ECDSA over a digest the host computed (FIPS 186-5 docs/spec/minidriver.md §6.4.1, https://csrc.nist.gov/pubs/fips/186-5/final),
 * what a card's signing command does and node:crypto cannot (it hashes the message itself). The nonce
 * point k·G comes from node's ECDH (the public key of k); the arithmetic mod n is BigInt. Simulators only:
 * not constant-time.
 *
 * @packageDocumentation
 */
import { createECDH, type KeyObject, randomBytes } from 'node:crypto';

/** The curves a card signs with, with their order n and coordinate size. */
export const ECDSA_CURVES = {
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
} as const;

/** A curve of {@link ECDSA_CURVES}. */
export type EcdsaCurveName = keyof typeof ECDSA_CURVES;

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function toFixedBytes(value: bigint, length: number): Uint8Array {
  return Uint8Array.from(Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex'));
}

function modInverse(value: bigint, modulus: bigint): bigint {
  let [oldR, r] = [((value % modulus) + modulus) % modulus, modulus];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  return ((oldS % modulus) + modulus) % modulus;
}

/**
 * Signs `digest` with the EC private key `privateKey` of `curve`. A digest longer than the order is
 * truncated to its leftmost bits (FIPS 186-5 docs/spec/minidriver.md §6.4.1 step 2). Returns `r ‖ s`, each left-padded to the
 * coordinate size (the form CardSignData returns; DER with `ecdsaRawToDer`).
 */
export function ecdsaSignDigest(privateKey: KeyObject, curve: EcdsaCurveName, digest: Uint8Array): Uint8Array {
  const info = ECDSA_CURVES[curve];
  const jwk = privateKey.export({ format: 'jwk' });
  if (jwk.d === undefined) throw new TypeError('ecdsaSignDigest needs a private key');
  const d = toBigInt(Buffer.from(jwk.d, 'base64url'));
  const orderBits = info.order.toString(2).length;
  let e = toBigInt(digest);
  const excess = digest.length * 8 - orderBits;
  if (excess > 0) e >>= BigInt(excess);
  const n = info.order;
  for (;;) {
    const k = (toBigInt(randomBytes(info.size + 8)) % (n - 1n)) + 1n;
    const ecdh = createECDH(info.nodeName);
    ecdh.setPrivateKey(toFixedBytes(k, info.size));
    const point = ecdh.getPublicKey();
    const r = toBigInt(point.subarray(1, 1 + info.size)) % n;
    if (r === 0n) continue;
    const s = (modInverse(k, n) * ((e + r * d) % n)) % n;
    if (s === 0n) continue;
    const out = new Uint8Array(2 * info.size);
    out.set(toFixedBytes(r, info.size), 0);
    out.set(toFixedBytes(s, info.size), info.size);
    return out;
  }
}
