/**
 * Big-endian byte strings ↔ bigint and the modular inverse: the arithmetic a simulator needs to compute
 * what node:crypto does not (ECDSA over a given digest, RSA keys imported from their primes). Simulators
 * only: not constant-time.
 *
 * @packageDocumentation
 */

/** The unsigned big-endian integer `bytes` (0 for no bytes). */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

/**
 * The non-negative `value` as big-endian bytes: minimal (one byte for 0), or left-padded with zeros to
 * `length` when it is shorter than that (a longer value is not cut).
 */
export function bigIntToBytes(value: bigint, length = 0): Uint8Array {
  if (value < 0n) throw new RangeError('bigIntToBytes takes a non-negative value');
  const hex = value.toString(16);
  const digits = Math.max(hex.length + (hex.length % 2), length * 2);
  return Uint8Array.from(Buffer.from(hex.padStart(digits, '0'), 'hex'));
}

/** The inverse of `value` modulo `modulus` (extended Euclid), or undefined when they are not coprime. */
export function modInverse(value: bigint, modulus: bigint): bigint | undefined {
  let [oldR, r] = [((value % modulus) + modulus) % modulus, modulus];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) return undefined;
  return ((oldS % modulus) + modulus) % modulus;
}
