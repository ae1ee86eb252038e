import { fromHex, ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  announcesExtendedLength,
  isContactlessAtr,
  matchAtr,
  parseAtr,
  parseAtrPattern,
  parseHistoricalBytes,
} from './atr.js';
import { expectScardError, hex } from './test-support.js';

// Origin: docs/spec/piv.md §8 (OpenSC/Yubico ATR tables); the same bytes appear in pcsc-tools smartcard_list.txt.
const YUBIKEY5 = fromHex('3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40');
const YUBIKEY4 = fromHex('3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4');
const YUBIKEY5_NFC_CONTACTLESS = fromHex('3B 8D 80 01 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 F9');
// Origin: OpenPGP card 3.x / Nitrokey Pro 2 ATR (Nitrokey docs, pico-openpgp test script, OpenSC card-openpgp.c family).
const OPENPGP3 = fromHex('3b da 18 ff 81 b1 fe 75 1f 03 00 31 f5 73 c0 01 60 00 90 00 1c');
// Origin: OpenSC card-openpgp.c pgp_atrs, "OpenPGP card v2.x".
const OPENPGP2 = fromHex('3b da 18 ff 81 b1 fe 75 1f 03 00 31 c5 73 c0 01 40 00 90 00 0c');
// Origin: pcsc-tools smartcard_list.txt, "Schlumberger Multiflex 3k" (T=0 only, no TCK).
const MULTIFLEX = fromHex('3B 02 14 50');

describe('parseAtr (docs/spec/iso7816.md §7)', () => {
  it('YubiKey 5 (contact/USB): T=1, TA1 13, IFSC FE, historical 80 73 C0 21 C0 57 "YubiKey"', () => {
    const atr = parseAtr(YUBIKEY5);
    expect(atr.convention).toBe('direct');
    expect(atr.interfaceBytes).toEqual([
      { index: 1, ta: 0x13, tb: 0x00, tc: 0x00, td: 0x81 },
      { index: 2, protocol: 1, td: 0x31 },
      { index: 3, protocol: 1, ta: 0xfe, tb: 0x15 },
    ]);
    expect(atr.protocols).toEqual([1]);
    expect(hex(atr.historicalBytes)).toBe('80 73 c0 21 c0 57 59 75 62 69 4b 65 79');
    expect(atr.tck).toBe(0x40);
    expect(atr.tckValid).toBe(true);
    expect(atr.fi).toBe(372);
    expect(atr.di).toBe(4);
    expect(atr.t1).toEqual({ ifsc: 254, bwi: 1, cwi: 5, errorDetection: 'lrc' });
    expect(atr.bytes).toEqual(YUBIKEY5);
  });

  it('YubiKey 4: proprietary historical bytes "Yubikey4"', () => {
    const atr = parseAtr(YUBIKEY4);
    expect(new TextDecoder().decode(atr.historicalBytes)).toBe('Yubikey4');
    expect(atr.tckValid).toBe(true);
    expect(parseHistoricalBytes(atr.historicalBytes)).toEqual({
      categoryIndicator: 0x59,
      format: 'proprietary',
      objects: [],
    });
  });

  it('YubiKey 5 NFC contactless pseudo-ATR 3B 8D 80 01 (docs/spec/iso7816.md §7.6): T=0 and T=1 announced', () => {
    const atr = parseAtr(YUBIKEY5_NFC_CONTACTLESS);
    expect(atr.interfaceBytes).toEqual([
      { index: 1, td: 0x80 },
      { index: 2, protocol: 0, td: 0x01 },
      { index: 3, protocol: 1 },
    ]);
    expect(atr.protocols).toEqual([0, 1]);
    expect(atr.historicalBytes.length).toBe(13);
    expect(atr.tckValid).toBe(true);
    expect(atr.fi).toBeUndefined();
    expect(isContactlessAtr(YUBIKEY5_NFC_CONTACTLESS)).toBe(true);
    expect(isContactlessAtr(YUBIKEY5)).toBe(false);
  });

  it('OpenPGP card 3.x: TA1 18, TC1 FF, T=1 (no TC3 → LRC), TD3 announces T=15 global bytes', () => {
    const atr = parseAtr(OPENPGP3);
    expect(atr.interfaceBytes).toEqual([
      { index: 1, ta: 0x18, tc: 0xff, td: 0x81 },
      { index: 2, protocol: 1, td: 0xb1 },
      { index: 3, protocol: 1, ta: 0xfe, tb: 0x75, td: 0x1f },
      { index: 4, protocol: 15, ta: 0x03 },
    ]);
    expect(atr.protocols).toEqual([1]);
    expect(atr.fi).toBe(372);
    expect(atr.di).toBe(12);
    expect(atr.tckValid).toBe(true);
    expect(atr.t1).toEqual({ ifsc: 254, bwi: 7, cwi: 5, errorDetection: 'lrc' });
  });

  it('T=0-only ATR 3B 02 14 50: no TCK required or present', () => {
    const atr = parseAtr(MULTIFLEX);
    expect(atr.interfaceBytes).toEqual([{ index: 1 }]);
    expect(atr.protocols).toEqual([0]);
    expect(hex(atr.historicalBytes)).toBe('14 50');
    expect(atr.tck).toBeUndefined();
    expect(atr.tckValid).toBeUndefined();
    expect(atr.t1).toBeUndefined();
  });

  it('a wrong TCK is reported, a missing required TCK is reported', () => {
    const wrong = YUBIKEY5.slice();
    wrong[wrong.length - 1] = 0x41;
    expect(parseAtr(wrong).tckValid).toBe(false);
    const missing = parseAtr(YUBIKEY5.subarray(0, YUBIKEY5.length - 1));
    expect(missing.tck).toBeUndefined();
    expect(missing.tckValid).toBe(false);
  });

  it('inverse convention TS 3F', () => {
    expect(parseAtr(fromHex('3f 00')).convention).toBe('inverse');
  });

  it.each([
    ['empty', ''],
    ['TS only', '3b'],
    ['TS 3A', '3a 00'],
    ['missing TA1', '3b 10'],
    ['missing historical bytes', '3b 02 14'],
    ['two bytes after the historical bytes', '3b 02 14 50 00 00'],
    ['34 bytes', `3b 0f ${'00 '.repeat(32)}`],
  ])('rejects %s with SCARD_E_INVALID_ATR', (_label, text) => {
    expectScardError(() => parseAtr(fromHex(text)), 'SCARD_E_INVALID_ATR');
  });

  it('random bytes: parseAtr returns or throws SCARD_E_INVALID_ATR only (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.uint8Array({ minLength: 1, maxLength: 33 }).map((tail) => Uint8Array.of(0x3b, ...tail)),
        ),
        (bytes) => {
          try {
            const atr = parseAtr(bytes);
            expect(atr.bytes).toEqual(bytes);
            expect(atr.protocols.length).toBeGreaterThan(0);
            // What parses also interprets or fails cleanly.
            try {
              parseHistoricalBytes(atr.historicalBytes);
            } catch (error) {
              expect(ScardError.hasCode(error, 'SCARD_E_INVALID_ATR')).toBe(true);
            }
          } catch (error) {
            expect(ScardError.hasCode(error, 'SCARD_E_INVALID_ATR')).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('parseHistoricalBytes (docs/spec/iso7816.md §7.4)', () => {
  it('YubiKey 5: category 80, card capabilities C0 21 C0 (chaining + extended), issuer data "YubiKey"', () => {
    const historical = parseHistoricalBytes(parseAtr(YUBIKEY5).historicalBytes);
    expect(historical.categoryIndicator).toBe(0x80);
    expect(historical.format).toBe('compact-tlv');
    expect(historical.objects.map((object) => [object.tag, hex(object.value)])).toEqual([
      [7, 'c0 21 c0'],
      [5, '59 75 62 69 4b 65 79'],
    ]);
    expect(historical.cardCapabilities).toEqual({
      bytes: fromHex('c021c0'),
      commandChaining: true,
      extendedLength: true,
    });
    expect(historical.status).toBeUndefined();
  });

  it('OpenPGP 3.x: category 00, service data F5, capabilities C0 01 60 (extended, no chaining bit), status 00 90 00', () => {
    const historical = parseHistoricalBytes(parseAtr(OPENPGP3).historicalBytes);
    expect(historical.categoryIndicator).toBe(0x00);
    expect(historical.objects.map((object) => [object.tag, hex(object.value)])).toEqual([
      [3, 'f5'],
      [7, 'c0 01 60'],
    ]);
    expect(historical.cardCapabilities?.extendedLength).toBe(true);
    expect(historical.cardCapabilities?.commandChaining).toBe(false);
    expect(historical.status).toEqual({ lifeCycleStatus: 0, statusWord: 0x9000 });
  });

  it('OpenPGP 2.x: capabilities C0 01 40 → extended length', () => {
    const historical = parseHistoricalBytes(parseAtr(OPENPGP2).historicalBytes);
    expect(historical.cardCapabilities?.extendedLength).toBe(true);
  });

  it('category 80 with a status indicator object 82 90 00; category 10 DIR reference; empty', () => {
    expect(parseHistoricalBytes(fromHex('80 82 90 00')).status).toEqual({ statusWord: 0x9000 });
    expect(parseHistoricalBytes(fromHex('80 81 05')).status).toEqual({ lifeCycleStatus: 5 });
    expect(parseHistoricalBytes(fromHex('10 2f'))).toEqual({
      categoryIndicator: 0x10,
      format: 'dir-reference',
      objects: [],
      dirDataReference: 0x2f,
    });
    expect(parseHistoricalBytes(new Uint8Array(0))).toEqual({
      categoryIndicator: undefined,
      format: 'empty',
      objects: [],
    });
  });

  it('rejects a COMPACT-TLV length past the end and a category 00 without status', () => {
    expectScardError(() => parseHistoricalBytes(fromHex('80 73 c0')), 'SCARD_E_INVALID_ATR');
    expectScardError(() => parseHistoricalBytes(fromHex('00 90')), 'SCARD_E_INVALID_ATR');
  });
});

describe('parsers on random input (property)', () => {
  it('parseHistoricalBytes returns or throws SCARD_E_INVALID_ATR only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.constantFrom(0x00, 0x80, 0x10, 0x41), (tail, category) => {
        try {
          const historical = parseHistoricalBytes(Uint8Array.of(category, ...tail));
          expect(historical.categoryIndicator).toBe(category);
        } catch (error) {
          expect(ScardError.hasCode(error, 'SCARD_E_INVALID_ATR')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parseAtrPattern returns or throws SCARD_E_INVALID_PARAMETER only', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('0', 'a', 'F', '.', ' ', ':', 'g', '-'), maxLength: 40 }),
        (text) => {
          try {
            const { pattern, mask } = parseAtrPattern(text);
            expect(pattern.length).toBe(mask.length);
          } catch (error) {
            expect(ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')).toBe(true);
          }
        },
      ),
    );
  });
});

describe('ATR matching (docs/spec/iso7816.md §8)', () => {
  it('exact match without a mask; length must be equal', () => {
    expect(matchAtr(YUBIKEY5, YUBIKEY5.slice())).toBe(true);
    expect(matchAtr(YUBIKEY5, YUBIKEY4)).toBe(false);
    expect(matchAtr(YUBIKEY5.subarray(0, 5), YUBIKEY5.subarray(0, 4))).toBe(false);
  });

  it('OpenSC Gnuk entry with mask ff..00 ff ff 00 (card-openpgp.c)', () => {
    const { pattern } = parseAtrPattern('3b:da:11:ff:81:b1:fe:55:1f:03:00:31:84:73:80:01:80:00:90:00:e4');
    const { pattern: mask } = parseAtrPattern('ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:00:ff:ff:00');
    const variant = pattern.slice();
    variant[17] = 0x05; // the masked-out byte
    variant[20] = 0xe1; // and the TCK
    expect(matchAtr(variant, pattern, mask)).toBe(true);
    variant[16] = 0x81;
    expect(matchAtr(variant, pattern, mask)).toBe(false);
    expectScardError(() => matchAtr(variant, pattern, mask.subarray(1)), 'SCARD_E_INVALID_PARAMETER');
  });

  it('pcsc-tools style wildcards: ".." bytes match anything, length stays exact', () => {
    const entry = parseAtrPattern('3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 ..');
    expect(hex(entry.mask.subarray(-2))).toBe('ff 00');
    expect(matchAtr(YUBIKEY5, entry.pattern, entry.mask)).toBe(true);
    expect(matchAtr(YUBIKEY5.subarray(0, 22), entry.pattern, entry.mask)).toBe(false);
    const nibble = parseAtrPattern('3b .d');
    expect(hex(nibble.pattern)).toBe('3b 0d');
    expect(hex(nibble.mask)).toBe('ff 0f');
  });

  it('parseAtrPattern rejects junk with SCARD_E_INVALID_PARAMETER', () => {
    expectScardError(() => parseAtrPattern('3b f'), 'SCARD_E_INVALID_PARAMETER');
    expectScardError(() => parseAtrPattern('3b zz'), 'SCARD_E_INVALID_PARAMETER');
    expectScardError(() => parseAtrPattern(''), 'SCARD_E_INVALID_PARAMETER');
  });

  it('property: an ATR always matches itself under any mask, and its hex form as a pattern', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 33 }), (atr) => {
        const mask = atr.map((byte) => byte ^ 0x5a);
        expect(matchAtr(atr, atr.slice(), mask)).toBe(true);
        const { pattern, mask: full } = parseAtrPattern(toHex(atr, ':'));
        expect(pattern).toEqual(atr);
        expect(full.every((byte) => byte === 0xff)).toBe(true);
      }),
    );
  });
});

describe('announcesExtendedLength', () => {
  it('reads b7 of the third card capabilities byte (YubiKey 5: 73 c0 21 c0)', () => {
    const yubikey5 = Uint8Array.from(Buffer.from('3bfd1300008131fe158073c021c057597562694b657940', 'hex'));
    expect(announcesExtendedLength(yubikey5)).toBe(true);
    // YubiKey 4: proprietary historical bytes ("Yubikey4"), nothing announced.
    expect(announcesExtendedLength(Uint8Array.from(Buffer.from('3bf81300008131fe15597562696b657934d4', 'hex')))).toBe(
      false,
    );
    // Command chaining only (third byte 80).
    const chainingOnly = Uint8Array.from(Buffer.from('3bfd1300008131fe158073c02180575975626900657940', 'hex'));
    expect(announcesExtendedLength(chainingOnly)).toBe(false);
  });

  it('never throws, whatever the bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(typeof announcesExtendedLength(bytes)).toBe('boolean');
      }),
    );
  });
});
