import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt, modInverse } from './bigint.js';

describe('simulator bigint arithmetic', () => {
  it('reads and writes big-endian bytes, minimal or left-padded', () => {
    expect(bytesToBigInt(new Uint8Array(0))).toBe(0n);
    expect(bytesToBigInt(Uint8Array.of(0x00, 0x01, 0x00))).toBe(256n);
    expect(bigIntToBytes(0n)).toEqual(Uint8Array.of(0));
    expect(bigIntToBytes(0x10001n)).toEqual(Uint8Array.of(1, 0, 1));
    expect(bigIntToBytes(0x10001n, 5)).toEqual(Uint8Array.of(0, 0, 1, 0, 1));
    expect(bigIntToBytes(0x10001n, 2)).toEqual(Uint8Array.of(1, 0, 1));
    expect(() => bigIntToBytes(-1n)).toThrow(RangeError);
  });

  it('bytes → bigint → bytes of the same length is the identity (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        expect(bigIntToBytes(bytesToBigInt(bytes), bytes.length)).toEqual(
          bytes.length === 0 ? Uint8Array.of(0) : bytes,
        );
      }),
    );
  });

  it('the modular inverse, or undefined when there is none', () => {
    expect(modInverse(3n, 11n)).toBe(4n);
    expect(modInverse(-3n, 11n)).toBe(7n);
    expect(modInverse(17n, 3120n)).toBe(2753n);
    expect(modInverse(6n, 9n)).toBeUndefined();
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: n - 1n }), (value) => {
        expect((value * modInverse(value, n)!) % n).toBe(1n);
      }),
    );
  });
});
