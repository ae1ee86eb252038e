/**
 * DO codecs: byte vectors from docs/spec/openpgp.md (§1, §3.2-§3.5, §4.8) and RFC 4880 §5.5.2 / §12.2, plus
 * fast-check properties: round trips, and random bytes never throw anything but ScardError.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { decodeTlv, encodeTlv } from '@minidriver/iso7816';
import { fromHex, ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cardIdFromAid,
  computeFingerprint,
  containerNameOf,
  decodeAid,
  decodeAlgorithmAttributes,
  decodeApplicationData,
  decodePasswordStatus,
  decodePublicKeyTemplate,
  encodeAlgorithmAttributes,
  encodeKeyImportTemplate,
  encodePublicKeyPacket,
  isSlotOccupied,
} from './openpgp-objects.js';

// docs/spec/openpgp.md §1: D2 76 00 01 24 | 01 | 03 04 | 00 06 (Yubico) | 12 34 56 78 | 00 00.
const AID = fromHex('D2 76 00 01 24 01 03 04 00 06 12 34 56 78 00 00');

function applicationData(overrides: { c4?: string; c5?: string; de?: string } = {}): Uint8Array {
  const discretionary = [
    encodeTlv(0xc0, fromHex('7D 00 0B FE 08 00 00 FF 00 00')),
    encodeTlv(0xc1, fromHex('01 08 00 00 20 00')),
    encodeTlv(0xc2, fromHex('12 2A 86 48 CE 3D 03 01 07')),
    encodeTlv(0xc3, fromHex('16 2B 06 01 04 01 DA 47 0F 01')),
    encodeTlv(0xc4, fromHex(overrides.c4 ?? '00 7F 7F 7F 03 00 03')),
    encodeTlv(0xc5, fromHex(overrides.c5 ?? `${'11'.repeat(20)}${'00'.repeat(40)}`)),
    ...(overrides.de ? [encodeTlv(0xde, fromHex(overrides.de))] : []),
  ];
  return encodeTlv(0x6e, [
    ...decodeTlv(encodeTlv(0x4f, AID)),
    ...decodeTlv(encodeTlv(0x73, Buffer.concat(discretionary))),
  ]);
}

describe('AID and cardid', () => {
  it('parses version, manufacturer and serial (docs/spec/openpgp.md §1)', () => {
    const aid = decodeAid(AID);
    expect(aid.version).toEqual([3, 4]);
    expect(aid.manufacturer).toBe(0x0006);
    expect(toHex(aid.serial)).toBe('000612345678');
  });

  it('derives a 16-byte cardid that ignores the version bytes', () => {
    const upgraded = AID.slice();
    upgraded[7] = 0x05;
    expect(cardIdFromAid(decodeAid(AID))).toEqual(cardIdFromAid(decodeAid(upgraded)));
    expect(toHex(cardIdFromAid(decodeAid(AID)))).toBe('d27600012401000000061234567800 00'.replace(' ', ''));
  });

  it('rejects what is not an OpenPGP AID with SCARD_E_COMM_DATA_LOST', () => {
    expect(() => decodeAid(AID.subarray(0, 15))).toThrow(expect.objectContaining({ name: 'SCARD_E_COMM_DATA_LOST' }));
  });

  it('names containers like OpenSC: SHA-1(key id ‖ serial) as a GUID', () => {
    const digest = createHash('sha1').update(fromHex('01 00 06 12 34 56 78')).digest('hex');
    expect(containerNameOf(0, decodeAid(AID).serial)).toBe(
      `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`,
    );
  });
});

describe('application related data 6E', () => {
  it('decodes algorithms, PW status and fingerprints (v3 layout: C0-C5 inside 73)', () => {
    const data = decodeApplicationData(applicationData());
    expect(data.algorithms[0]).toEqual({ kind: 'rsa', modulusBits: 2048, exponentBits: 32, importFormat: 0 });
    expect(data.algorithms[1]).toMatchObject({ kind: 'ecc', algorithmId: 0x12, curve: 'P-256' });
    // Ed25519 cannot be expressed through the minidriver key specs.
    expect(data.algorithms[2].kind).toBe('other');
    expect(data.passwordStatus).toMatchObject({
      signaturePinOncePerSignature: true,
      retriesPw1: 3,
      retriesResetCode: 0,
    });
    expect(isSlotOccupied(data, 0)).toBe(true);
    expect(isSlotOccupied(data, 1)).toBe(false);
  });

  it('a slot holds a key when DE does not say it is absent and its fingerprint is set (docs/spec/openpgp.md §6.2 note)', () => {
    const all = `${'11'.repeat(20)}${'22'.repeat(20)}${'33'.repeat(20)}`;
    const data = decodeApplicationData(applicationData({ c5: all, de: '01 00 02 01 03 02' }));
    expect([0, 1, 2].map((slot) => isSlotOccupied(data, slot as 0 | 1 | 2))).toEqual([false, true, true]);
    // A key without its fingerprint (an interrupted generation) is an empty slot, as GnuPG sees it (#11 item 2).
    const unfinished = decodeApplicationData(applicationData({ de: '01 00 02 01 03 02' }));
    expect([0, 1, 2].map((slot) => isSlotOccupied(unfinished, slot as 0 | 1 | 2))).toEqual([false, false, false]);
  });

  it('decodes C4 byte 1 = 01 as "PW1 valid for several signatures"', () => {
    expect(decodePasswordStatus(fromHex('01 20 20 20 02 01 03'))).toEqual({
      signaturePinOncePerSignature: false,
      maxLengthPw1: 0x20,
      maxLengthResetCode: 0x20,
      maxLengthPw3: 0x20,
      retriesPw1: 2,
      retriesResetCode: 1,
      retriesPw3: 3,
    });
  });

  it('throws only ScardError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const decode of [decodeApplicationData, decodePublicKeyTemplate, decodeAid, decodePasswordStatus]) {
          try {
            decode(bytes);
          } catch (error) {
            expect(ScardError.isInstance(error)).toBe(true);
          }
        }
        decodeAlgorithmAttributes(bytes);
      }),
    );
  });

  it('throws only ScardError on truncations of a valid 6E', () => {
    const valid = applicationData();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), (length) => {
        try {
          decodeApplicationData(valid.subarray(0, length));
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
    );
  });
});

describe('algorithm attributes', () => {
  it('encodes the byte forms of docs/spec/openpgp.md §3.5', () => {
    expect(
      toHex(encodeAlgorithmAttributes({ kind: 'rsa', modulusBits: 2048, exponentBits: 32, importFormat: 0 })),
    ).toBe('010800002000');
    const p384 = decodeAlgorithmAttributes(fromHex('13 2B 81 04 00 22'));
    expect(p384).toMatchObject({ kind: 'ecc', algorithmId: 0x13, curve: 'P-384' });
    // A trailing FF (import with public key) is tolerated.
    expect(decodeAlgorithmAttributes(fromHex('13 2B 81 04 00 23 FF'))).toMatchObject({ curve: 'P-521' });
  });

  it('round-trips RSA and NIST attributes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({
            kind: fc.constant('rsa' as const),
            modulusBits: fc.constantFrom(2048, 3072, 4096),
            exponentBits: fc.integer({ min: 17, max: 32 }),
            importFormat: fc.integer({ min: 0, max: 3 }),
          }),
          fc.record({
            kind: fc.constant('ecc' as const),
            algorithmId: fc.constantFrom(0x12, 0x13),
            curve: fc.constantFrom('P-256' as const, 'P-384' as const, 'P-521' as const),
          }),
        ),
        (algorithm) => {
          const encoded = encodeAlgorithmAttributes(
            algorithm.kind === 'rsa' ? algorithm : { ...algorithm, oid: new Uint8Array(0) },
          );
          expect(decodeAlgorithmAttributes(encoded)).toMatchObject(algorithm);
        },
      ),
    );
  });
});

describe('public key template 7F49 and fingerprints', () => {
  it('decodes RSA (81 modulus, 82 exponent) and ECC (86 point)', () => {
    expect(decodePublicKeyTemplate(fromHex('7F 49 09 81 03 C0 FF EE 82 02 01 01'))).toEqual({
      kind: 'rsa',
      modulus: fromHex('C0 FF EE'),
      publicExponent: fromHex('01 01'),
    });
    expect(decodePublicKeyTemplate(fromHex('7F 49 05 86 03 04 01 02'))).toEqual({
      kind: 'ecc',
      point: fromHex('04 01 02'),
    });
  });

  it('builds the RSA v4 packet of RFC 4880 §5.5.2 and hashes it per docs/spec/minidriver.md §12.2', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    const modulus = new Uint8Array(Buffer.from(jwk.n as string, 'base64url'));
    const exponent = new Uint8Array(Buffer.from(jwk.e as string, 'base64url'));
    const time = 0x5f000000;
    const body = encodePublicKeyPacket(
      { kind: 'rsa', modulusBits: 2048, exponentBits: 32, importFormat: 0 },
      { kind: 'rsa', modulus, publicExponent: exponent },
      time,
    );
    // 04 | time | 01 | MPI n (2048 bits = 08 00) | MPI e (65537 = 17 bits = 00 11, 01 00 01).
    expect(toHex(body.subarray(0, 8))).toBe('045f000000010800');
    expect(toHex(body.subarray(8 + 256))).toBe('0011010001');
    const expected = createHash('sha1')
      .update(Buffer.concat([Buffer.of(0x99, body.length >> 8, body.length & 0xff), body]))
      .digest('hex');
    expect(toHex(computeFingerprint(body))).toBe(expected);
  });

  it('adds the ECDH KDF parameters (RFC 6637 §9: 03 01 08 07 for P-256)', () => {
    const point = new Uint8Array(65);
    point[0] = 4;
    point[1] = 0x80;
    const body = encodePublicKeyPacket(
      { kind: 'ecc', algorithmId: 0x12, curve: 'P-256', oid: fromHex('2A 86 48 CE 3D 03 01 07') },
      { kind: 'ecc', point },
      1,
    );
    expect(toHex(body.subarray(0, 6))).toBe('040000000112');
    expect(toHex(body.subarray(6, 15))).toBe('082a8648ce3d030107');
    expect(toHex(body.subarray(15, 17))).toBe('0203');
    expect(toHex(body.subarray(body.length - 4))).toBe('03010807');
  });
});

describe('key import template (docs/spec/openpgp.md §4.8)', () => {
  it('encodes 4D { B8 00, 7F48 { 91 04 92 81 80 93 81 80 }, 5F48 e ‖ p ‖ q }', () => {
    const prime = new Uint8Array(128).fill(0xaa);
    const template = encodeKeyImportTemplate(
      0xb8,
      { kind: 'rsa', modulusBits: 2048, exponentBits: 32, importFormat: 0 },
      { kind: 'rsa', publicExponent: fromHex('01 00 01'), prime1: prime, prime2: prime },
    );
    const [list] = decodeTlv(template);
    expect(list?.tag).toBe(0x4d);
    expect(toHex(list?.value.subarray(0, 2) ?? new Uint8Array())).toBe('b800');
    const rest = decodeTlv(list?.value.subarray(2) ?? new Uint8Array());
    expect(toHex(rest[0]?.value ?? new Uint8Array())).toBe('9104928180938180');
    expect(toHex(rest[1]?.value.subarray(0, 4) ?? new Uint8Array())).toBe('00010001');
    expect(rest[1]?.value).toHaveLength(4 + 256);
  });
});
