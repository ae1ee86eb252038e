import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { fromHex, ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unpadDecryption, unpadOaep, unpadPkcs1Type2 } from './decryption-padding.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** The raw block a card returns (node's private operation with no padding removal). */
function rawDecrypt(ciphertext: Uint8Array): Uint8Array {
  return new Uint8Array(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext));
}

function expectDecryptionError(action: () => unknown): void {
  try {
    action();
    expect.unreachable('no error');
  } catch (error) {
    expect(ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')).toBe(true);
    expect((error as Error).message).toBe('SCARD_E_INVALID_PARAMETER: decryption error');
  }
}

describe('unpadPkcs1Type2', () => {
  it('recovers what node:crypto encrypted with RSA_PKCS1_PADDING', () => {
    for (const length of [0, 1, 16, 48, 245]) {
      const message = randomBytes(length);
      const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, message);
      expect(toHex(unpadDecryption(rawDecrypt(ciphertext), { type: 'pkcs1' }))).toBe(message.toString('hex'));
    }
  });

  it('parses a hand-built block (docs/spec/minidriver.md §8.3 type-02 layout)', () => {
    expect(toHex(unpadPkcs1Type2(fromHex('00 02 11 22 33 44 55 66 77 88 00 ca fe')))).toBe('cafe');
  });

  it('rejects every malformed block with one generic error', () => {
    expectDecryptionError(() => unpadPkcs1Type2(fromHex('01 02 11 22 33 44 55 66 77 88 00 ca fe')));
    expectDecryptionError(() => unpadPkcs1Type2(fromHex('00 01 11 22 33 44 55 66 77 88 00 ca fe')));
    expectDecryptionError(() => unpadPkcs1Type2(fromHex('00 02 11 22 33 44 55 66 77 00 aa ca fe'))); // 7 bytes of PS
    expectDecryptionError(() => unpadPkcs1Type2(fromHex('00 02 11 22 33 44 55 66 77 88 99 ca fe'))); // no separator
    expectDecryptionError(() => unpadPkcs1Type2(new Uint8Array(5)));
  });
});

describe('unpadOaep', () => {
  it('recovers what node:crypto encrypted with RSA_PKCS1_OAEP_PADDING, every hash and a label', () => {
    for (const [algorithm, oaepHash] of [
      ['SHA1', 'sha1'],
      ['SHA256', 'sha256'],
      ['SHA384', 'sha384'],
      ['SHA512', 'sha512'],
    ] as const) {
      for (const oaepLabel of [undefined, Buffer.from('label')]) {
        const message = randomBytes(40);
        const ciphertext = publicEncrypt(
          { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash, oaepLabel },
          message,
        );
        const padding = oaepLabel
          ? { type: 'oaep' as const, hashAlgorithm: algorithm, label: new Uint8Array(oaepLabel) }
          : { type: 'oaep' as const, hashAlgorithm: algorithm };
        expect(toHex(unpadDecryption(rawDecrypt(ciphertext), padding)), algorithm).toBe(message.toString('hex'));
      }
    }
  });

  it('rejects a wrong label, wrong hash or tampered block with the same error', () => {
    const ciphertext = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('secret'),
    );
    const block = rawDecrypt(ciphertext);
    expectDecryptionError(() => unpadOaep(block, 'SHA256', Uint8Array.of(1)));
    expectDecryptionError(() => unpadOaep(block, 'SHA1'));
    const tampered = new Uint8Array(block);
    (tampered[0] as number) ^= 1;
    expectDecryptionError(() => unpadOaep(tampered, 'SHA256'));
    const tamperedDb = new Uint8Array(block);
    (tamperedDb[200] as number) ^= 0x40;
    expectDecryptionError(() => unpadOaep(tamperedDb, 'SHA256'));
  });

  it('returns a raw copy for padding none', () => {
    const block = Uint8Array.of(1, 2, 3);
    const copy = unpadDecryption(block, { type: 'none' });
    expect(copy).toEqual(block);
    expect(copy).not.toBe(block);
  });

  it('random blocks never throw anything but ScardError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('SHA1', 'SHA256', 'MD5'), (block, hash) => {
        for (const padding of [{ type: 'pkcs1' }, { type: 'oaep', hashAlgorithm: hash }] as const) {
          try {
            unpadDecryption(block, padding);
          } catch (error) {
            expect(ScardError.isInstance(error)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
