/**
 * The card-independent halves of CardRSADecrypt (docs/spec/minidriver.md §5.6.2): the caller's ciphertext
 * for the card, and the card's raw answer back to the caller, with every intermediate buffer wiped.
 */
import { type DecryptPadding, fromHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rsaCiphertextForCard, rsaDecryptAnswer } from './rsa-decrypt.js';

const pkcs1: DecryptPadding = { type: 'pkcs1' };

describe('rsaCiphertextForCard', () => {
  it('turns the little-endian ciphertext big-endian; short is INSUFFICIENT_BUFFER, long INVALID_PARAMETER', () => {
    expect(rsaCiphertextForCard(fromHex('01 02 03 04'), 4)).toEqual(fromHex('04 03 02 01'));
    expect(() => rsaCiphertextForCard(fromHex('01 02 03'), 4)).toThrow('SCARD_E_INSUFFICIENT_BUFFER');
    expect(() => rsaCiphertextForCard(fromHex('01 02 03 04 05'), 4)).toThrow('SCARD_E_INVALID_PARAMETER');
  });
});

describe('rsaDecryptAnswer', () => {
  it('padding none: the whole block, left-padded to the modulus and little-endian; the answer is wiped', () => {
    const answer = fromHex('01 02 03');
    expect(rsaDecryptAnswer(answer, 4, { type: 'none' }, () => expect.fail('no unpadding'))).toEqual(
      fromHex('03 02 01 00'),
    );
    expect(answer).toEqual(new Uint8Array(3));
  });

  it('other paddings: what the unpadding leaves, little-endian; the block and the message are wiped', () => {
    const answer = fromHex('00 02 ff ff 00 0a 0b');
    let block: Uint8Array | undefined;
    let message: Uint8Array | undefined;
    const result = rsaDecryptAnswer(answer, 8, pkcs1, (raw, padding) => {
      expect(padding).toBe(pkcs1);
      expect(raw).toEqual(fromHex('00 00 02 ff ff 00 0a 0b'));
      block = raw;
      message = raw.slice(6);
      return message;
    });
    expect(result).toEqual(fromHex('0b 0a'));
    expect([answer, block, message]).toEqual([new Uint8Array(7), new Uint8Array(8), new Uint8Array(2)]);
  });

  it('an answer longer than the modulus is the card fault SCARD_E_UNEXPECTED, and is still wiped', () => {
    const answer = fromHex('01 02 03 04 05');
    expect(() => rsaDecryptAnswer(answer, 4, pkcs1, (raw) => raw)).toThrow('SCARD_E_UNEXPECTED');
    expect(answer).toEqual(new Uint8Array(5));
  });

  it('a failing unpadding propagates its error; the block is wiped (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 16 }), (bytes) => {
        let block: Uint8Array | undefined;
        expect(() =>
          rsaDecryptAnswer(bytes.slice(), 16, pkcs1, (raw) => {
            block = raw;
            throw new Error('bad padding');
          }),
        ).toThrow('bad padding');
        expect(block).toEqual(new Uint8Array(16));
      }),
    );
  });
});
