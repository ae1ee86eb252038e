/**
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */

import { fromHex, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCardApps, encodeCardApps } from './cardapps.js';
import { cardIdToGuidString, decodeCardId, encodeCardId, guidStringToCardId } from './cardid.js';
import { compressCertificate, decodeCertificateFile } from './certificate-file.js';
import { CONTAINER_MAP_RECORD_SIZE, decodeContainerMap, encodeContainerMap } from './cmapfile.js';
import { certificateFileName, normalizeFileName, parseCertificateFileName, validateFileName } from './file-names.js';
import { onlyScardErrors } from './test-support.js';

describe('cardid', () => {
  const id = fromHex('00112233445566778899aabbccddeeff');

  it('is exactly 16 bytes, returned as a copy', () => {
    const decoded = decodeCardId(id);
    expect(decoded).toEqual(id);
    expect(decoded).not.toBe(id);
    expect(() => decodeCardId(new Uint8Array(15))).toThrowError(/SCARD_E_COMM_DATA_LOST/);
    expect(() => encodeCardId(new Uint8Array(17))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('prints as a Windows GUID with Data1-3 little-endian (GUID struct layout worked by hand)', () => {
    expect(cardIdToGuidString(id)).toBe('{33221100-5544-7766-8899-AABBCCDDEEFF}');
    expect(guidStringToCardId('{33221100-5544-7766-8899-aabbccddeeff}')).toEqual(id);
    expect(() => guidStringToCardId('{33221100-5544-7766-8899-aabbccddeeff')).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        expect(guidStringToCardId(cardIdToGuidString(bytes))).toEqual(bytes);
        expect(decodeCardId(encodeCardId(bytes))).toEqual(bytes);
      }),
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => onlyScardErrors(() => decodeCardId(bytes))));
  });
});

describe('cardapps', () => {
  it('a created card holds 6D 73 63 70 00 00 00 00 (spec docs/spec/minidriver.md §4.3 example)', () => {
    expect(toHex(encodeCardApps(['mscp']), ' ')).toBe('6d 73 63 70 00 00 00 00');
    expect(decodeCardApps(fromHex('6D 73 63 70 00 00 00 00'))).toEqual(['mscp']);
  });

  it('allows a full 8-byte name without terminator and keeps empty records in place', () => {
    const bytes = encodeCardApps(['mscp', '', 'abcdefgh']);
    expect(toHex(bytes)).toBe(`6d73637000000000${'00'.repeat(8)}6162636465666768`);
    expect(decodeCardApps(bytes)).toEqual(['mscp', '', 'abcdefgh']);
  });

  it('rejects a length that is not a multiple of 8 and invalid names', () => {
    expect(() => decodeCardApps(new Uint8Array(9))).toThrowError(/SCARD_E_COMM_DATA_LOST/);
    expect(() => encodeCardApps(['toolongname'])).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => encodeCardApps(['a/b'])).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('round-trips and never throws anything but ScardError (property)', () => {
    const name = fc.string({
      unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-'),
      minLength: 1,
      maxLength: 8,
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(name, fc.constant(''))), (names) => {
        expect(decodeCardApps(encodeCardApps(names))).toEqual(names);
      }),
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => onlyScardErrors(() => decodeCardApps(bytes))));
  });
});

describe('cmapfile', () => {
  const guid = '{6ab5e2b3-7b0d-4a6c-9b61-3d8e2f1c0a55}';

  it('lays out an 86-byte record (docs/spec/minidriver.md §3.7 worked by hand)', () => {
    const bytes = encodeContainerMap([{ guid, flags: 3, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 2048 }]);
    expect(bytes.length).toBe(CONTAINER_MAP_RECORD_SIZE);
    expect(toHex(bytes.subarray(0, 6))).toBe('7b0036006100'); // "{6a" UTF-16LE
    // unit 37 = "}", unit 38 = NUL, unit 39 = fill, then bFlags 03, bReserved 00, wSig 0, wKeyEx 2048 LE
    expect(toHex(bytes.subarray(74, 86))).toBe('7d00' + '0000' + '0000' + '03' + '00' + '0000' + '0008');
  });

  it('decodes records, a deleted (zero) record and rejects bad lengths', () => {
    const records = [
      { guid, flags: 3, signatureKeySizeBits: 256, keyExchangeKeySizeBits: 0 },
      { guid: '', flags: 0, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 0 },
    ];
    expect(decodeContainerMap(encodeContainerMap(records))).toEqual(records);
    expect(decodeContainerMap(new Uint8Array(0))).toEqual([]);
    expect(() => decodeContainerMap(new Uint8Array(85))).toThrowError(/SCARD_E_COMM_DATA_LOST/);
    expect(() => decodeContainerMap(new Uint8Array(86).fill(0x41))).toThrowError(/SCARD_E_COMM_DATA_LOST/);
    expect(() => encodeContainerMap([{ ...records[0]!, guid: 'x'.repeat(40) }])).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
    expect(() => encodeContainerMap([{ ...records[0]!, flags: 256 }])).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('refuses what cardmod.h CONTAINER_MAP_RECORD does not allow: "\\" in a name, DEFAULT without VALID, reserved bits', () => {
    // cardmod.h: bFlags holds CONTAINER_MAP_VALID_CONTAINER (1) and CONTAINER_MAP_DEFAULT_CONTAINER (2),
    // the default container being a valid one; wszGuid is a container name, not a path.
    const record = { guid: 'name', flags: 1, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 2048 };
    expect(() => encodeContainerMap([{ ...record, guid: 'a\\b' }])).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => encodeContainerMap([{ ...record, flags: 2 }])).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => encodeContainerMap([{ ...record, flags: 5 }])).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => encodeContainerMap([{ ...record, flags: 0x80 }])).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(encodeContainerMap([{ ...record, flags: 3 }]).length).toBe(86);
  });

  it('round-trips any record (property) and never throws anything but ScardError', () => {
    const record = fc.record({
      guid: fc.string({
        unit: fc
          .integer({ min: 1, max: 0xffff })
          .filter((code) => code !== 0x5c)
          .map((code) => String.fromCharCode(code)),
        maxLength: 39,
      }),
      flags: fc.constantFrom(0, 1, 3),
      signatureKeySizeBits: fc.integer({ min: 0, max: 0xffff }),
      keyExchangeKeySizeBits: fc.integer({ min: 0, max: 0xffff }),
    });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 5 }), (records) => {
        expect(decodeContainerMap(encodeContainerMap(records))).toEqual(records);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => onlyScardErrors(() => decodeContainerMap(bytes))),
    );
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 3 })
          .chain((count) => fc.uint8Array({ minLength: count * 86, maxLength: count * 86 })),
        (bytes) => onlyScardErrors(() => decodeContainerMap(bytes)),
      ),
    );
  });
});

describe('certificate files', () => {
  const der = fromHex(`308201${'0a'}${'5a'.repeat(266)}`);

  it('compresses as 01 00 ‖ length LE ‖ zlib (docs/spec/minidriver.md §4.4) and reads it back', () => {
    const file = compressCertificate(der);
    expect(toHex(file.subarray(0, 4))).toBe('01000e01'); // 270 = 0x010e
    expect(file[4]).toBe(0x78); // zlib header (RFC 1950, CMF for deflate with 32K window)
    expect(decodeCertificateFile(file)).toEqual(der);
  });

  it('returns raw DER as is and rejects anything else or a wrong length', () => {
    expect(decodeCertificateFile(der)).toEqual(der);
    expect(() => decodeCertificateFile(fromHex('02 00 00 00'))).toThrowError(/SCARD_E_COMM_DATA_LOST/);
    const file = compressCertificate(der);
    file[2] = 0x0d; // header now says 269
    expect(() => decodeCertificateFile(file)).toThrowError(/SCARD_E_COMM_DATA_LOST/);
    file[2] = 0x0f; // 271
    expect(() => decodeCertificateFile(file)).toThrowError(/SCARD_E_COMM_DATA_LOST/);
    expect(() => compressCertificate(new Uint8Array(0x10000))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('round-trips and never throws anything but ScardError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(decodeCertificateFile(compressCertificate(bytes))).toEqual(bytes);
        onlyScardErrors(() => decodeCertificateFile(bytes));
        onlyScardErrors(() => decodeCertificateFile(Uint8Array.of(1, 0, ...bytes)));
      }),
    );
  });
});

describe('file names', () => {
  it('writes %02x certificate names (docs/spec/minidriver.md §4.3 recommendation)', () => {
    expect(certificateFileName('kxc', 0)).toBe('kxc00');
    expect(certificateFileName('ksc', 10)).toBe('ksc0a');
    expect(certificateFileName('kxc', 255)).toBe('kxcff');
    expect(() => certificateFileName('kxc', 256)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('reads any radix and case; two digits are hex (documented ambiguity)', () => {
    expect(parseCertificateFileName('kxc2')).toEqual({ kind: 'kxc', containerIndex: 2 });
    expect(parseCertificateFileName('KXC0A')).toEqual({ kind: 'kxc', containerIndex: 10 });
    expect(parseCertificateFileName('ksc10')).toEqual({ kind: 'ksc', containerIndex: 16 });
    expect(parseCertificateFileName('kxc100')).toEqual({ kind: 'kxc', containerIndex: 100 });
    expect(parseCertificateFileName('kxc300')).toBeUndefined();
    expect(parseCertificateFileName('cmapfile')).toBeUndefined();
    expect(parseCertificateFileName('kxc')).toBeUndefined();
  });

  it('round-trips every index (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('ksc' as const, 'kxc' as const), fc.integer({ min: 0, max: 255 }), (kind, index) => {
        expect(parseCertificateFileName(certificateFileName(kind, index))).toEqual({ kind, containerIndex: index });
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), (name) => {
        onlyScardErrors(() => parseCertificateFileName(name));
        onlyScardErrors(() => normalizeFileName(name));
      }),
    );
  });

  it('validates 1-8 printable characters and folds to lower case (docs/spec/minidriver.md §4.1)', () => {
    expect(normalizeFileName('CMapFile')).toBe('cmapfile');
    expect(() => validateFileName('')).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => validateFileName('123456789')).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    for (const bad of ['a*b', 'a?', 'a\\b', 'a:b', 'a\u0001', 'é', 'ab.', ' ab']) {
      expect(() => validateFileName(bad), bad).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    }
    expect(() => validateFileName('a.b-c_1')).not.toThrow();
  });
});
