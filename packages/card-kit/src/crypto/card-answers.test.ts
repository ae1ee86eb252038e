/**
 * Card answers that do not parse are SCARD_E_UNEXPECTED (the card's fault), never the caller's
 * SCARD_E_INVALID_PARAMETER. Reference: the error conventions of the Smart Card Minidriver Specification
 * and cardmod.h (SCARD_E_UNEXPECTED for an unexpected failure, INVALID_PARAMETER for the caller's bad
 * arguments), docs/spec/minidriver.md §1.5.
 */
import { fromHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cardEcdsaDerSignature, cardEcdsaRawSignature, cardRsaBlock } from './card-answers.js';

describe('card answers', () => {
  it('an RSA answer longer than the modulus is SCARD_E_UNEXPECTED; a short one is left-padded', () => {
    expect(cardRsaBlock(fromHex('01 02'), 4)).toEqual(fromHex('00 00 01 02'));
    expect(() => cardRsaBlock(fromHex('01 02 03 04 05'), 4, 'RSA signature')).toThrow('SCARD_E_UNEXPECTED');
  });

  it('a malformed DER ECDSA signature is SCARD_E_UNEXPECTED', () => {
    expect(cardEcdsaDerSignature(fromHex('30 06 02 01 01 02 01 02'), 2)).toEqual(fromHex('00 01 00 02'));
    expect(() => cardEcdsaDerSignature(fromHex('30 06 02 01'), 32)).toThrow('SCARD_E_UNEXPECTED');
    expect(() => cardEcdsaRawSignature(new Uint8Array(63), 32)).toThrow('SCARD_E_UNEXPECTED');
  });

  it('any bytes from the card: a signature or SCARD_E_UNEXPECTED, never INVALID_PARAMETER (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          cardEcdsaDerSignature(bytes, 32);
        } catch (error) {
          expect((error as Error).name).toBe('SCARD_E_UNEXPECTED');
        }
      }),
    );
  });
});
