import { constants, createHash, generateKeyPairSync, privateDecrypt, publicEncrypt, verify } from 'node:crypto';
import { DIGEST_INFO_PREFIX, hashAlgorithmFromCalg } from '@minidriver/card-kit';
import type { HashAlgorithm } from '@minidriver/spec';
import { fromHex, ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePss, padPkcs1Type1, padSignature } from './signature-padding.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** Raw RSA private-key operation on a big-endian block (node: private "decrypt" with no padding = m^d). */
function rawSign(block: Uint8Array): Buffer {
  return privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, block);
}

describe('DigestInfo prefixes', () => {
  it('match docs/spec/minidriver.md §8.3 byte for byte', () => {
    expect(toHex(DIGEST_INFO_PREFIX.SHA256)).toBe('3031300d060960864801650304020105000420');
    expect(toHex(DIGEST_INFO_PREFIX.SHA1)).toBe('3021300906052b0e03021a05000414');
    expect(toHex(DIGEST_INFO_PREFIX.MD5)).toBe('3020300c06082a864886f70d020505000410');
    expect(DIGEST_INFO_PREFIX.SHAMD5.length).toBe(0);
  });

  it('agree with the DER node:crypto signs with, for every hash node signs PKCS #1 with', () => {
    for (const [algorithm, nodeName] of [
      ['SHA1', 'sha1'],
      ['SHA224', 'sha224'],
      ['SHA256', 'sha256'],
      ['SHA384', 'sha384'],
      ['SHA512', 'sha512'],
      ['MD5', 'md5'],
      ['RIPEMD160', 'ripemd160'],
    ] as const) {
      const message = Buffer.from('minidriver');
      const hash = createHash(nodeName).update(message).digest();
      const signature = rawSign(padPkcs1Type1(hash, algorithm, 256));
      expect(verify(nodeName, message, publicKey, signature), algorithm).toBe(true);
    }
  });

  it('maps CryptoAPI ALG_IDs (docs/spec/minidriver.md §8.5)', () => {
    expect(hashAlgorithmFromCalg(0)).toBeNull();
    expect(hashAlgorithmFromCalg(0x8004)).toBe('SHA1');
    expect(hashAlgorithmFromCalg(0x800c)).toBe('SHA256');
    expect(hashAlgorithmFromCalg(0x8008)).toBe('SHAMD5');
    expect(hashAlgorithmFromCalg(0x8001)).toBeUndefined();
    expect(hashAlgorithmFromCalg(0x1234)).toBeUndefined();
  });
});

describe('padPkcs1Type1', () => {
  it('builds 00 01 FF.. 00 DigestInfo hash (docs/spec/minidriver.md §8.3 worked by hand)', () => {
    const hash = fromHex('a9993e364706816aba3e25717850c26c9cd0d89d'); // SHA-1("abc"), FIPS 180 example
    const block = padPkcs1Type1(hash, 'SHA1', 64);
    expect(toHex(block)).toBe(`0001${'ff'.repeat(64 - 3 - 35)}00${'3021300906052b0e03021a05000414'}${toHex(hash)}`);
  });

  it('pads raw data with no DigestInfo (no OID, SHAMD5)', () => {
    expect(toHex(padPkcs1Type1(fromHex('aabb'), null, 16))).toBe(`0001${'ff'.repeat(11)}00aabb`);
    const shamd5 = new Uint8Array(36).fill(7);
    expect(padPkcs1Type1(shamd5, 'SHAMD5', 128).subarray(128 - 37)).toEqual(Uint8Array.of(0, ...shamd5));
  });

  it('rejects a wrong hash length and too little room', () => {
    expect(() => padPkcs1Type1(new Uint8Array(20), 'SHA256', 256)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => padPkcs1Type1(new Uint8Array(6), null, 16)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(padPkcs1Type1(new Uint8Array(5), null, 16).length).toBe(16);
  });
});

describe('encodePss', () => {
  it('verifies with node:crypto RSA_PKCS1_PSS_PADDING for every salt length node checks', () => {
    for (const [algorithm, nodeName] of [
      ['SHA256', 'sha256'],
      ['SHA1', 'sha1'],
      ['SHA384', 'sha384'],
      ['SHA512', 'sha512'],
    ] as const) {
      const message = Buffer.from(`pss ${algorithm}`);
      const hash = createHash(nodeName).update(message).digest();
      for (const saltLength of [0, hash.length, 10]) {
        const signature = rawSign(encodePss(hash, algorithm, saltLength, 2048));
        const ok = verify(
          nodeName,
          message,
          { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
          signature,
        );
        expect(ok, `${algorithm} salt ${saltLength}`).toBe(true);
      }
    }
  });

  it('handles a modulus whose bit length is 1 mod 8 (emLen one shorter)', () => {
    const hash = createHash('sha256').update('x').digest();
    const encoded = encodePss(hash, 'SHA256', 32, 1025);
    expect(encoded.length).toBe(129);
    expect(encoded[0]).toBe(0);
    expect(encoded[128]).toBe(0xbc);
  });

  it('rejects a salt that does not fit and SHAMD5', () => {
    expect(() => encodePss(new Uint8Array(64), 'SHA512', 64, 1024)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => encodePss(new Uint8Array(36), 'SHAMD5', 0, 1024)).toThrowError(/SCARD_E_UNSUPPORTED_FEATURE/);
  });
});

describe('padSignature (pfnCspPadData)', () => {
  const hash = createHash('sha256').update('doc').digest();

  it('dispatches pkcs1 / pss / none', () => {
    const base = { containerIndex: 0, keySpec: 2 as const, data: hash };
    expect(padSignature({ ...base, padding: { type: 'pkcs1', hashAlgorithm: 'SHA256' } }, 256)).toEqual(
      padPkcs1Type1(hash, 'SHA256', 256),
    );
    const pss = padSignature({ ...base, padding: { type: 'pss', hashAlgorithm: 'SHA256', saltLength: 32 } }, 256);
    expect(
      verify(
        'sha256',
        Buffer.from('doc'),
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        rawSign(pss),
      ),
    ).toBe(true);
    const block = new Uint8Array(256).fill(1);
    expect(padSignature({ ...base, data: block, padding: { type: 'none' } }, 256)).toEqual(block);
    expect(() => padSignature({ ...base, padding: { type: 'none' } }, 256)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('never throws anything but ScardError for arbitrary requests (property)', () => {
    const algorithms: (HashAlgorithm | null)[] = [
      null,
      'MD5',
      'SHA1',
      'SHA224',
      'SHA256',
      'SHA384',
      'SHA512',
      'SHAMD5',
      'RIPEMD160',
    ];
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        fc.constantFrom(...algorithms),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 1, max: 300 }),
        (data, algorithm, saltLength, modulusBytes) => {
          for (const padding of [
            { type: 'pkcs1', hashAlgorithm: algorithm },
            { type: 'pss', hashAlgorithm: algorithm ?? 'SHA1', saltLength },
            { type: 'none' },
          ] as const) {
            try {
              expect(padSignature({ containerIndex: 0, keySpec: 1, data, padding }, modulusBytes).length).toBe(
                modulusBytes,
              );
            } catch (error) {
              expect(ScardError.isInstance(error)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('sanity of the raw RSA helper used above', () => {
  it('is the inverse of a raw public operation', () => {
    const block = padPkcs1Type1(new Uint8Array(32), 'SHA256', 256);
    const back = publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, rawSign(block));
    expect(new Uint8Array(back)).toEqual(block);
  });
});
