/**
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { generateKeyPairSync, privateDecrypt, publicEncrypt, sign, verify } from 'node:crypto';
import { fromHex, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeEccPrivateKeyBlob,
  decodeEccPublicKeyBlob,
  decodeRsaPrivateKeyBlob,
  decodeRsaPublicKeyBlob,
  encodeEccPrivateKeyBlob,
  encodeEccPublicKeyBlob,
  encodeRsaPrivateKeyBlob,
  encodeRsaPublicKeyBlob,
  keyBlobInfo,
  keyObjectToPublicKeyBlob,
  privateKeyBlobToKeyObject,
  publicKeyBlobToKeyObject,
} from './key-blobs.js';
import { onlyScardErrors } from './test-support.js';

const b64 = (text: string | undefined): Uint8Array => new Uint8Array(Buffer.from(text ?? '', 'base64url'));

describe('RSA key blobs (docs/spec/minidriver.md §9.1.1, §9.1.3)', () => {
  for (const bits of [1024, 2048]) {
    it(`round-trips a ${bits}-bit key through PUBLICKEYBLOB / PRIVATEKEYBLOB and KeyObject`, () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      const blob = keyObjectToPublicKeyBlob(publicKey, 'keyExchange');
      expect(blob.length).toBe(20 + bits / 8);
      // docs/spec/minidriver.md §9.1.1 header example, for this size.
      expect(toHex(blob.subarray(0, 20))).toBe(
        `0602000000a4000052534131${toHex(Uint8Array.of(0, bits >> 8, 0, 0))}01000100`,
      );
      const jwk = publicKey.export({ format: 'jwk' });
      expect(blob.subarray(20)).toEqual(b64(jwk.n).reverse()); // modulus little-endian
      expect(publicKeyBlobToKeyObject(blob).equals(publicKey)).toBe(true);
      expect(keyBlobInfo(blob)).toEqual({ algorithm: 'RSA', bits });

      const privateJwk = privateKey.export({ format: 'jwk' });
      const components = {
        modulus: b64(privateJwk.n),
        publicExponent: b64(privateJwk.e),
        privateExponent: b64(privateJwk.d),
        prime1: b64(privateJwk.p),
        prime2: b64(privateJwk.q),
        exponent1: b64(privateJwk.dp),
        exponent2: b64(privateJwk.dq),
        coefficient: b64(privateJwk.qi),
      };
      const privateBlob = encodeRsaPrivateKeyBlob(components, 'signature');
      expect(privateBlob.length).toBe(20 + (9 * bits) / 16);
      expect(toHex(privateBlob.subarray(0, 12))).toBe('070200000024000052534132');
      expect(decodeRsaPrivateKeyBlob(privateBlob)).toEqual({ ...components, keySlot: 'signature', bits });
      const imported = privateKeyBlobToKeyObject(privateBlob);
      const message = Buffer.from('import');
      expect(verify('sha256', message, publicKey, sign('sha256', message, imported))).toBe(true);
      const ciphertext = publicEncrypt(publicKey, Buffer.from('x'));
      expect(privateDecrypt(imported, ciphertext).toString()).toBe('x');
      expect(keyObjectToPublicKeyBlob(imported, 'signature')[5]).toBe(0x24); // CALG_RSA_SIGN
    });
  }

  it('rejects wrong type, magic, algorithm or length', () => {
    const blob = encodeRsaPublicKeyBlob(
      { modulus: new Uint8Array(64).fill(0xc1), publicExponent: fromHex('010001') },
      'signature',
    );
    expect(decodeRsaPublicKeyBlob(blob)).toMatchObject({ keySlot: 'signature', bits: 512 });
    for (const [offset, value] of [
      [0, 7],
      [1, 1],
      [4, 0x01],
      [8, 0x53],
    ] as const) {
      const bad = new Uint8Array(blob);
      bad[offset] = value;
      expect(() => decodeRsaPublicKeyBlob(bad), `offset ${offset}`).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    }
    expect(() => decodeRsaPublicKeyBlob(blob.subarray(0, blob.length - 1))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() =>
      encodeRsaPublicKeyBlob(
        { modulus: new Uint8Array(64).fill(1), publicExponent: fromHex('0100000001') },
        'signature',
      ),
    ).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });
});

describe('ECC key blobs (docs/spec/minidriver.md §9.1.2, §9.1.4)', () => {
  for (const [curve, size, magicPublic] of [
    ['P-256', 32, '45435331'],
    ['P-384', 48, '45435333'],
    ['P-521', 66, '45435335'],
  ] as const) {
    it(`round-trips ${curve} through BCRYPT_ECCKEY_BLOB and KeyObject`, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const blob = keyObjectToPublicKeyBlob(publicKey, 'signature');
      expect(blob.length).toBe(8 + 2 * size);
      expect(toHex(blob.subarray(0, 8))).toBe(`${magicPublic}${toHex(Uint8Array.of(size, 0, 0, 0))}`);
      expect(publicKeyBlobToKeyObject(blob).equals(publicKey)).toBe(true);
      const ecdh = keyObjectToPublicKeyBlob(privateKey, 'keyExchange');
      expect(toHex(ecdh.subarray(0, 3))).toBe('45434b'); // "ECK"
      expect(decodeEccPublicKeyBlob(ecdh).use).toBe('ecdh');
      expect(keyBlobInfo(ecdh)).toEqual({
        algorithm: 'ECDH',
        bits: { 'P-256': 256, 'P-384': 384, 'P-521': 521 }[curve],
      });

      const jwk = privateKey.export({ format: 'jwk' });
      const key = { curve, x: b64(jwk.x), y: b64(jwk.y), d: b64(jwk.d) };
      const privateBlob = encodeEccPrivateKeyBlob(key, 'ecdsa');
      expect(privateBlob.length).toBe(8 + 3 * size);
      expect(decodeEccPrivateKeyBlob(privateBlob)).toEqual({ ...key, use: 'ecdsa' });
      const imported = privateKeyBlobToKeyObject(privateBlob);
      expect(verify(null, Buffer.from('m'), publicKey, sign('sha256', Buffer.from('m'), imported))).toBe(true);
      expect(keyBlobInfo(privateBlob).algorithm).toBe('ECDSA');
    });
  }

  it('rejects a point off the curve, a public/private mix-up and a wrong cbKey', () => {
    const blob = encodeEccPublicKeyBlob(
      { curve: 'P-256', x: new Uint8Array(32).fill(1), y: new Uint8Array(32).fill(2) },
      'ecdh',
    );
    expect(() => publicKeyBlobToKeyObject(blob)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => decodeEccPrivateKeyBlob(blob)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    const bad = new Uint8Array(blob);
    bad[4] = 48;
    expect(() => decodeEccPublicKeyBlob(bad)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('round-trips arbitrary coordinates and only throws ScardError on random bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('P-256' as const, 'P-384' as const, 'P-521' as const),
        fc.constantFrom('ecdsa' as const, 'ecdh' as const),
        fc.uint8Array({ minLength: 66, maxLength: 66 }),
        (curve, use, bytes) => {
          const size = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }[curve];
          const key = { curve, x: bytes.slice(0, size), y: bytes.slice(66 - size), d: bytes.slice(0, size).reverse() };
          expect(decodeEccPublicKeyBlob(encodeEccPublicKeyBlob(key, use))).toEqual({ curve, x: key.x, y: key.y, use });
          expect(decodeEccPrivateKeyBlob(encodeEccPrivateKeyBlob(key, use))).toEqual({ ...key, use });
        },
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const decode of [
          decodeRsaPublicKeyBlob,
          decodeRsaPrivateKeyBlob,
          decodeEccPublicKeyBlob,
          decodeEccPrivateKeyBlob,
          keyBlobInfo,
          publicKeyBlobToKeyObject,
          privateKeyBlobToKeyObject,
        ]) {
          onlyScardErrors(() => decode(bytes));
        }
      }),
      { numRuns: 300 },
    );
    // Valid headers with random bodies reach the KeyObject conversion.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (body) => {
        onlyScardErrors(() => publicKeyBlobToKeyObject(Uint8Array.of(0x45, 0x43, 0x53, 0x31, 32, 0, 0, 0, ...body)));
        onlyScardErrors(() =>
          publicKeyBlobToKeyObject(
            Uint8Array.of(6, 2, 0, 0, 0, 0xa4, 0, 0, 0x52, 0x53, 0x41, 0x31, 0, 2, 0, 0, 3, 0, 0, 0, ...body),
          ),
        );
      }),
    );
  });

  it('round-trips RSA public blobs of random moduli (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 2, maxLength: 64 }).filter((bytes) => bytes[0] !== 0),
        fc.uint8Array({ minLength: 1, maxLength: 4 }).filter((bytes) => bytes[0] !== 0),
        fc.constantFrom('signature' as const, 'keyExchange' as const),
        (modulus, publicExponent, keySlot) => {
          expect(decodeRsaPublicKeyBlob(encodeRsaPublicKeyBlob({ modulus, publicExponent }, keySlot))).toEqual({
            modulus,
            publicExponent,
            keySlot,
            bits: modulus.length * 8,
          });
        },
      ),
    );
  });
});
