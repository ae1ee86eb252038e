/**
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { createECDH, createHash, createHmac, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { DeriveKeyRequest, KdfParameter } from '@minidriver/spec';
import { concatBytes, fromHex, KdfBufferType, leftPad, reverseBytes, ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeWideString } from '../codecs/wide-string.js';
import { ecdsaDerToRaw, ecdsaRawToDer } from './ecdsa.js';
import { concatKdf, deriveKeyFromSecret, tlsPrf } from './kdf.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const request = (
  kdf: DeriveKeyRequest['kdf'],
  parameters: KdfParameter[],
  flags = 0,
  keyLength?: number,
): DeriveKeyRequest => ({
  agreementIndex: 0,
  kdf,
  parameters,
  flags,
  ...(keyLength === undefined ? {} : { keyLength }),
});
const hashName = (name: string): KdfParameter => ({
  type: KdfBufferType.KDF_HASH_ALGORITHM,
  value: encodeWideString(name),
});

describe('TLS PRF known-answer vectors (as published in BearSSL test_crypto.c)', () => {
  it('TLS 1.0/1.1 MD5 ^ SHA1: 48 × 0xab, "PRF Testvector", 64 × 0xcd (old IETF TLS WG vector)', () => {
    const expected =
      'd3d4d1e349b5d515044666d51de32bab258cb521b6b053463e354832fd976754443bcf9a296519bc289abcbc1187e4ebd31e602353776c408aafb74cbc85eff69255f9788faa184cbb957a9819d84a5d7eb006eb459d3ae8de9810454b8b2d8f1afbc655a8c9a013';
    const secret = new Uint8Array(48).fill(0xab);
    const seed = new Uint8Array(64).fill(0xcd);
    expect(toHex(tlsPrf(0x0301, 'SHA1', secret, ascii('PRF Testvector'), seed, 104))).toBe(expected);
    // Through CardDeriveKey: protocol absent = TLS 1.0, 48-byte output.
    const derived = deriveKeyFromSecret(
      secret,
      request('TLS_PRF', [
        { type: KdfBufferType.KDF_TLS_PRF_LABEL, value: ascii('PRF Testvector') },
        { type: KdfBufferType.KDF_TLS_PRF_SEED, value: seed },
      ]),
    );
    expect(toHex(derived)).toBe(expected.slice(0, 96));
  });

  it('TLS 1.2 SHA-256 and SHA-384 (IETF TLS WG msg03416)', () => {
    expect(
      toHex(
        tlsPrf(
          0x0303,
          'SHA256',
          fromHex('9bbe436ba940f017b17652849a71db35'),
          ascii('test label'),
          fromHex('a0ba9f936cda311827a6f796ffd5198c'),
          100,
        ),
      ),
    ).toBe(
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
    expect(
      toHex(
        tlsPrf(
          0x0303,
          'SHA384',
          fromHex('b80b733d6ceefcdc71566ea48e5567df'),
          ascii('test label'),
          fromHex('cd665cf6a8447dd6ff8b27555edb7465'),
          148,
        ),
      ),
    ).toBe(
      '7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f',
    );
  });

  it('selects TLS 1.2 with the protocol DWORD and the hash wide string', () => {
    const secret = new Uint8Array(32).fill(3);
    const seed = new Uint8Array(64).fill(4);
    const derived = deriveKeyFromSecret(
      secret,
      request('TLS_PRF', [
        { type: KdfBufferType.KDF_TLS_PRF_LABEL, value: ascii('master secret') },
        { type: KdfBufferType.KDF_TLS_PRF_SEED, value: seed },
        { type: KdfBufferType.KDF_TLS_PRF_PROTOCOL, value: fromHex('03030000') },
        hashName('SHA384'),
      ]),
    );
    expect(derived).toEqual(tlsPrf(0x0303, 'SHA384', secret, ascii('master secret'), seed, 48));
    expect(() =>
      deriveKeyFromSecret(
        secret,
        request('TLS_PRF', [
          { type: KdfBufferType.KDF_TLS_PRF_LABEL, value: ascii('x') },
          { type: KdfBufferType.KDF_TLS_PRF_SEED, value: new Uint8Array(32) },
        ]),
      ),
    ).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });
});

describe('deriveKeyFromSecret (docs/spec/minidriver.md §5.6.4)', () => {
  // Z from a real ECDH agreement, as a card would produce it (big-endian x-coordinate).
  const alice = createECDH('prime256v1');
  alice.generateKeys();
  const bob = createECDH('prime256v1');
  bob.generateKeys();
  const z = new Uint8Array(alice.computeSecret(bob.getPublicKey()));
  const prepend = ascii('pre');
  const append = ascii('post');

  it('HASH = H(prepend ‖ Z ‖ append), SHA1 by default (cross-checked with node:crypto)', () => {
    expect(toHex(deriveKeyFromSecret(z, request('HASH', [])))).toBe(createHash('sha1').update(z).digest('hex'));
    const derived = deriveKeyFromSecret(
      z,
      request('HASH', [hashName('SHA256'), { type: 1, value: prepend }, { type: 2, value: append }]),
    );
    expect(toHex(derived)).toBe(createHash('sha256').update(prepend).update(z).update(append).digest('hex'));
  });

  it('HMAC with KDF_HMAC_KEY or the secret as key', () => {
    const key = ascii('hmac key');
    expect(
      toHex(
        deriveKeyFromSecret(
          z,
          request('HMAC', [
            hashName('sha512'),
            { type: KdfBufferType.KDF_HMAC_KEY, value: key },
            { type: 1, value: prepend },
          ]),
        ),
      ),
    ).toBe(createHmac('sha512', key).update(prepend).update(z).digest('hex'));
    expect(toHex(deriveKeyFromSecret(z, request('HMAC', [], 1)))).toBe(createHmac('sha1', z).update(z).digest('hex'));
    expect(() => deriveKeyFromSecret(z, request('HMAC', []))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() =>
      deriveKeyFromSecret(z, request('HMAC', [{ type: KdfBufferType.KDF_HMAC_KEY, value: key }], 1)),
    ).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('SP800_56A_CONCAT = H(00000001 ‖ Z ‖ OtherInfo) ‖ H(00000002 ‖ …) (independent formulation)', () => {
    const parameters = [
      { type: KdfBufferType.KDF_ALGORITHMID, value: ascii('AES') },
      { type: KdfBufferType.KDF_PARTYUINFO, value: ascii('U') },
      { type: KdfBufferType.KDF_PARTYVINFO, value: ascii('V') },
      { type: KdfBufferType.KDF_SUPPPUBINFO, value: fromHex('00000100') },
      hashName('SHA256'),
    ];
    const otherInfo = concatBytes(ascii('AES'), ascii('U'), ascii('V'), fromHex('00000100'));
    const block = (counter: string): string =>
      createHash('sha256').update(fromHex(counter)).update(z).update(otherInfo).digest('hex');
    expect(toHex(deriveKeyFromSecret(z, request('SP800_56A_CONCAT', parameters)))).toBe(block('00000001'));
    expect(toHex(deriveKeyFromSecret(z, request('SP800_56A_CONCAT', parameters, 0, 384)))).toBe(
      (block('00000001') + block('00000002')).slice(0, 96),
    );
    expect(concatKdf('SHA256', z, otherInfo, 16)).toEqual(fromHex(block('00000001').slice(0, 32)));
    expect(() => deriveKeyFromSecret(z, request('SP800_56A_CONCAT', parameters.slice(1)))).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
  });

  it('TRUNCATE returns Z little-endian (docs/spec/minidriver.md §14 #28, unverified)', () => {
    expect(deriveKeyFromSecret(z, request('TRUNCATE', []))).toEqual(reverseBytes(z));
  });

  it('rejects unknown, duplicated and handle parameters, unknown hashes and KDFs', () => {
    expect(() => deriveKeyFromSecret(z, request('HASH', [{ type: 0x42, value: new Uint8Array(1) }]))).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
    expect(() => deriveKeyFromSecret(z, request('HASH', [hashName('SHA1'), hashName('SHA1')]))).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
    expect(() =>
      deriveKeyFromSecret(z, request('HASH', [{ type: KdfBufferType.KDF_SECRET_HANDLE, value: new Uint8Array(8) }])),
    ).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => deriveKeyFromSecret(z, request('HASH', [hashName('WHIRLPOOL')]))).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
    expect(() => deriveKeyFromSecret(z, request('HASH', [hashName('MD4')]))).toThrowError(
      /SCARD_E_UNSUPPORTED_FEATURE/,
    );
    expect(() => deriveKeyFromSecret(z, request('PBKDF2' as never, []))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('never throws anything but ScardError for random parameters (property)', () => {
    const parameter = fc.record({ type: fc.integer({ min: 0, max: 0x11 }), value: fc.uint8Array({ maxLength: 70 }) });
    fc.assert(
      fc.property(
        fc.constantFrom('HASH', 'HMAC', 'TLS_PRF', 'SP800_56A_CONCAT', 'TRUNCATE') as fc.Arbitrary<
          DeriveKeyRequest['kdf']
        >,
        fc.array(parameter, { maxLength: 4 }),
        fc.integer({ min: 0, max: 1 }),
        (kdf, parameters, flags) => {
          try {
            deriveKeyFromSecret(z, request(kdf, parameters, flags));
          } catch (error) {
            expect(ScardError.isInstance(error)).toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('ECDSA signature forms and byte order', () => {
  for (const [curve, size] of [
    ['P-256', 32],
    ['P-384', 48],
    ['P-521', 66],
  ] as const) {
    it(`converts node's DER ${curve} signatures to r ‖ s and back`, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
      for (let round = 0; round < 8; round++) {
        const message = Buffer.from(`m${round}`);
        const der = new Uint8Array(sign('sha256', message, privateKey));
        const raw = ecdsaDerToRaw(der, size);
        expect(raw.length).toBe(2 * size);
        expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
        expect(ecdsaRawToDer(raw)).toEqual(der);
      }
    });
  }

  it('encodes minimal INTEGERs and rejects malformed DER', () => {
    expect(toHex(ecdsaRawToDer(fromHex('0080 0001')))).toBe('3007020200800201' + '01');
    expect(() => ecdsaDerToRaw(fromHex('3006020100020100 00'), 32)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => ecdsaDerToRaw(fromHex('300602010002 0200ff'), 32)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => ecdsaDerToRaw(fromHex('3006020180020101'), 32)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('round-trips and only throws ScardError on random input (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 66 }).chain((size) => fc.uint8Array({ minLength: 2 * size, maxLength: 2 * size })),
        (raw) => {
          expect(ecdsaDerToRaw(ecdsaRawToDer(raw), raw.length / 2)).toEqual(raw);
        },
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.integer({ min: 1, max: 66 }), (bytes, size) => {
        try {
          ecdsaDerToRaw(bytes, size);
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
    );
  });

  it('reverses and left-pads copies', () => {
    const bytes = Uint8Array.of(1, 2, 3);
    expect(reverseBytes(bytes)).toEqual(Uint8Array.of(3, 2, 1));
    expect(bytes).toEqual(Uint8Array.of(1, 2, 3));
    expect(leftPad(bytes, 5)).toEqual(Uint8Array.of(0, 0, 1, 2, 3));
    expect(leftPad(Uint8Array.of(0, 0, 7), 1)).toEqual(Uint8Array.of(7));
    expect(() => leftPad(bytes, 2)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });
});
