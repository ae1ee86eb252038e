/**
 * PIV object codecs. Layouts from docs/spec/piv.md §4.1 (certificate object), docs/spec/piv.md §4.2 (CHUID), docs/spec/piv.md §4.5 (key history),
 * docs/spec/piv.md §6.7 (7F49 template), docs/spec/piv.md §8 (metadata); properties: round trips, and random bytes never throw anything
 * but ScardError.
 */
import { ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCertificateObject,
  decodeChuid,
  decodeGeneratedKey,
  decodeKeyHistory,
  decodeSlotMetadata,
  encodeCertificateObject,
  encodeKeyHistory,
  encodeSlotMetadata,
  padPin,
  retiredSlotsOfHistory,
} from './piv-objects.js';

const fakeDer = Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x05]);

describe('certificate objects (docs/spec/piv.md §4.1)', () => {
  it('encodes 53 { 70 <DER> 71 01 00 FE 00 } byte for byte and decodes it', () => {
    const encoded = encodeCertificateObject(fakeDer);
    expect(toHex(encoded)).toBe('530c7005300302010571010 0fe00'.replace(/ /g, ''));
    expect(decodeCertificateObject(encoded)).toEqual({ certificate: fakeDer, compressed: false });
  });

  it('gzip with CertInfo 01 inflates back to the DER', () => {
    const encoded = encodeCertificateObject(fakeDer, true);
    expect(toHex(encoded.subarray(-5))).toBe('710101fe00');
    expect(decodeCertificateObject(encoded)).toEqual({ certificate: fakeDer, compressed: true });
  });

  it('53 00 and an empty 70 mean "no certificate"', () => {
    expect(decodeCertificateObject(Uint8Array.of(0x53, 0x00)).certificate).toBeUndefined();
    expect(
      decodeCertificateObject(Uint8Array.of(0x53, 0x07, 0x70, 0x00, 0x71, 0x01, 0x00, 0xfe, 0x00)).certificate,
    ).toBeUndefined();
  });

  it('a compressed flag over bytes that do not inflate is SCARD_E_COMM_DATA_LOST', () => {
    const bad = Uint8Array.of(0x53, 0x09, 0x70, 0x02, 0x1f, 0x8b, 0x71, 0x01, 0x01, 0xfe, 0x00);
    expect(() => decodeCertificateObject(bad)).toThrow(expect.objectContaining({ name: 'SCARD_E_COMM_DATA_LOST' }));
  });

  it('round trip for any certificate bytes, compressed or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.boolean(), (der, compress) => {
        const value = Uint8Array.from([0x30, ...der]);
        expect(decodeCertificateObject(encodeCertificateObject(value, compress)).certificate).toEqual(value);
      }),
    );
  });
});

describe('CHUID, key history, public keys, metadata', () => {
  it('reads GUID and FASC-N from a CHUID (Yubico layout, docs/spec/piv.md §4.2)', () => {
    const fascn = Uint8Array.from(Buffer.from('d4e739da739ced39ce739d836858210842108421c84210c3eb', 'hex'));
    const guid = Uint8Array.from({ length: 16 }, (_, index) => index + 1);
    const value = Uint8Array.from([
      0x30,
      25,
      ...fascn,
      0x34,
      16,
      ...guid,
      0x35,
      8,
      ...Buffer.from('20300101'),
      0x3e,
      0x00,
      0xfe,
      0x00,
    ]);
    const chuid = decodeChuid(Uint8Array.from([0x53, value.length, ...value]));
    expect(chuid.guid).toEqual(guid);
    expect(chuid.fascn).toEqual(fascn);
  });

  it('key history C1 01 14 C2 01 00 exposes all 20 retired slots (docs/spec/piv.md §4.5)', () => {
    const history = decodeKeyHistory(Uint8Array.from([0x53, 0x08, 0xc1, 0x01, 0x14, 0xc2, 0x01, 0x00, 0xfe, 0x00]));
    expect(retiredSlotsOfHistory(history).size).toBe(20);
    expect(toHex(encodeKeyHistory(history))).toBe('5308c10114c20100fe00');
    expect([
      ...retiredSlotsOfHistory({ keysWithOnCardCerts: 1, keysWithOffCardCerts: 2, offCardCertUrl: undefined }),
    ]).toEqual([0x82, 0x95, 0x94]);
  });

  it('decodes a GENERATE response 7F49 { 86 41 04||X||Y } (docs/spec/piv.md §6.7)', () => {
    const point = Uint8Array.from([0x04, ...new Uint8Array(32).fill(1), ...new Uint8Array(32).fill(2)]);
    const key = decodeGeneratedKey(Uint8Array.from([0x7f, 0x49, 0x43, 0x86, 0x41, ...point]), 0x11);
    expect(key).toMatchObject({ kind: 'ecc', curve: 'P-256', bits: 256 });
  });

  it('slot metadata round trips through its own encoding', () => {
    const point = Uint8Array.from([0x04, ...new Uint8Array(48).fill(3), ...new Uint8Array(48).fill(4)]);
    const metadata = decodeSlotMetadata(
      Uint8Array.from([0x01, 0x01, 0x14, 0x02, 0x02, 0x02, 0x01, 0x03, 0x01, 0x01, 0x04, 0x63, 0x86, 0x61, ...point]),
    );
    expect(metadata).toMatchObject({ algorithmId: 0x14, pinPolicy: 2, touchPolicy: 1 });
    expect(decodeSlotMetadata(encodeSlotMetadata(metadata))).toEqual(metadata);
  });

  it('pads a PIN with FF to 8 bytes (docs/spec/piv.md §5.2) and refuses 0 or more than 8 bytes without the card', () => {
    expect(toHex(padPin(new TextEncoder().encode('123456')))).toBe('313233343536ffff');
    expect(() => padPin(new Uint8Array(9))).toThrow(expect.objectContaining({ name: 'SCARD_E_INVALID_CHV' }));
    expect(() => padPin(new Uint8Array(0))).toThrow(expect.objectContaining({ name: 'SCARD_E_INVALID_CHV' }));
  });

  it('random card bytes never throw anything but ScardError', () => {
    const decoders = [
      decodeCertificateObject,
      decodeChuid,
      decodeKeyHistory,
      decodeSlotMetadata,
      (bytes: Uint8Array) => decodeGeneratedKey(bytes, 0x07),
      (bytes: Uint8Array) => decodeGeneratedKey(bytes, 0x11),
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const decode of decoders) {
          try {
            decode(bytes);
          } catch (error) {
            expect(ScardError.isInstance(error)).toBe(true);
          }
        }
      }),
    );
  });
});
