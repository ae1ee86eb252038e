import { fromHex, ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CommandApdu,
  encodeCommandApdu,
  encodeResponseApdu,
  isChained,
  parseCommandApdu,
  parseResponseApdu,
} from './apdu.js';
import { expectScardError, hex } from './test-support.js';

describe('encodeCommandApdu, short form', () => {
  it('case 1: ACTIVATE FILE 00 44 00 00 (docs/spec/iso7816.md §6.5)', () => {
    expect(hex(encodeCommandApdu({ cla: 0, ins: 0x44, p1: 0, p2: 0 }))).toBe('00 44 00 00');
  });

  it('case 2: OpenPGP GET DATA 00 CA 00 6E 00, Le 256 (docs/spec/iso7816.md §6.4)', () => {
    expect(hex(encodeCommandApdu({ cla: 0, ins: 0xca, p1: 0, p2: 0x6e, le: 256 }))).toBe('00 ca 00 6e 00');
  });

  it('case 2: GET RESPONSE 00 C0 00 00 08 (docs/spec/iso7816.md §2, SP 800-73 example)', () => {
    expect(hex(encodeCommandApdu({ cla: 0, ins: 0xc0, p1: 0, p2: 0, le: 8 }))).toBe('00 c0 00 00 08');
  });

  it('case 3: GIDS SELECT 00 A4 00 0C 02 3F FF (docs/spec/iso7816.md §6.1)', () => {
    const apdu = { cla: 0, ins: 0xa4, p1: 0, p2: 0x0c, data: fromHex('3fff') };
    expect(hex(encodeCommandApdu(apdu))).toBe('00 a4 00 0c 02 3f ff');
  });

  it('case 4: PIV GET DATA 00 CB 3F FF 05 5C 03 5F C1 05 00 (docs/spec/piv.md §6.2)', () => {
    const apdu = { cla: 0, ins: 0xcb, p1: 0x3f, p2: 0xff, data: fromHex('5c035fc105'), le: 256 };
    expect(hex(encodeCommandApdu(apdu))).toBe('00 cb 3f ff 05 5c 03 5f c1 05 00');
  });

  it('case 4: PIV GENERATE RSA-2048 00 47 00 9A 05 AC 03 80 01 07 00 (docs/spec/piv.md §6.7)', () => {
    const apdu = { cla: 0, ins: 0x47, p1: 0, p2: 0x9a, data: fromHex('ac03800107'), le: 256 };
    expect(hex(encodeCommandApdu(apdu))).toBe('00 47 00 9a 05 ac 03 80 01 07 00');
  });

  it('empty data is no data: an Lc of zero is never encoded (docs/spec/iso7816.md §1)', () => {
    expect(hex(encodeCommandApdu({ cla: 0, ins: 0x20, p1: 0, p2: 0x80, data: new Uint8Array(0) }))).toBe('00 20 00 80');
  });

  it('255 data bytes and Le 256 still fit the short form', () => {
    const bytes = encodeCommandApdu({ cla: 0, ins: 0xdb, p1: 0x3f, p2: 0xff, data: new Uint8Array(255), le: 256 });
    expect(bytes.length).toBe(4 + 1 + 255 + 1);
    expect(bytes[4]).toBe(0xff);
    expect(bytes[260]).toBe(0x00);
  });
});

describe('encodeCommandApdu, extended form (hand-worked from docs/spec/iso7816.md §1 table)', () => {
  it('case 2E: Le 65536 → 00 00 00', () => {
    expect(hex(encodeCommandApdu({ cla: 0, ins: 0xca, p1: 0, p2: 0x6e, le: 65536 }))).toBe('00 ca 00 6e 00 00 00');
  });

  it('case 2E: Le 257 → 00 01 01 (automatic)', () => {
    expect(hex(encodeCommandApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 257 }))).toBe('00 b0 00 00 00 01 01');
  });

  it('case 2E forced: Le 256 → 00 01 00', () => {
    expect(hex(encodeCommandApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 256 }, { extended: true }))).toBe(
      '00 b0 00 00 00 01 00',
    );
  });

  it('case 3E: 256 data bytes → 00 01 00 data', () => {
    const data = new Uint8Array(256).map((_, index) => index);
    const bytes = encodeCommandApdu({ cla: 0, ins: 0xdb, p1: 0x3f, p2: 0xff, data });
    expect(hex(bytes.subarray(0, 7))).toBe('00 db 3f ff 00 01 00');
    expect(bytes.length).toBe(7 + 256);
    expect(bytes.subarray(7)).toEqual(data);
  });

  it('case 4E: 300 data bytes, Le 65536 → 00 01 2C data 00 00 (no second leading 00)', () => {
    const bytes = encodeCommandApdu({ cla: 0, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: new Uint8Array(300), le: 65536 });
    expect(hex(bytes.subarray(0, 7))).toBe('00 2a 9e 9a 00 01 2c');
    expect(bytes.length).toBe(7 + 300 + 2);
    expect(hex(bytes.subarray(307))).toBe('00 00');
  });

  it('case 4E forced: 2 data bytes, Le 0x1234', () => {
    const bytes = encodeCommandApdu(
      { cla: 0, ins: 1, p1: 2, p2: 3, data: fromHex('aabb'), le: 0x1234 },
      { extended: true },
    );
    expect(hex(bytes)).toBe('00 01 02 03 00 00 02 aa bb 12 34');
  });
});

describe('encodeCommandApdu rejects invalid fields with SCARD_E_INVALID_PARAMETER', () => {
  const base = { cla: 0, ins: 0xa4, p1: 4, p2: 0 };
  it.each([
    ['CLA 256', { ...base, cla: 256 }],
    ['INS -1', { ...base, ins: -1 }],
    ['P1 1.5', { ...base, p1: 1.5 }],
    ['P2 NaN', { ...base, p2: Number.NaN }],
    ['Le 0', { ...base, le: 0 }],
    ['Le 65537', { ...base, le: 65537 }],
    ['data 65536 bytes', { ...base, data: new Uint8Array(65536) }],
  ])('%s', (_label, apdu) => {
    expectScardError(() => encodeCommandApdu(apdu as CommandApdu), 'SCARD_E_INVALID_PARAMETER');
  });
});

describe('parseCommandApdu', () => {
  it('parses each short case (vectors above)', () => {
    expect(parseCommandApdu(fromHex('00440000'))).toEqual({
      cla: 0,
      ins: 0x44,
      p1: 0,
      p2: 0,
      extended: false,
      case: 1,
    });
    expect(parseCommandApdu(fromHex('00ca006e00'))).toEqual({
      cla: 0,
      ins: 0xca,
      p1: 0,
      p2: 0x6e,
      le: 256,
      extended: false,
      case: 2,
    });
    expect(parseCommandApdu(fromHex('00a4000c023fff'))).toEqual({
      cla: 0,
      ins: 0xa4,
      p1: 0,
      p2: 0x0c,
      data: fromHex('3fff'),
      extended: false,
      case: 3,
    });
    expect(parseCommandApdu(fromHex('00cb3fff055c035fc10500'))).toEqual({
      cla: 0,
      ins: 0xcb,
      p1: 0x3f,
      p2: 0xff,
      data: fromHex('5c035fc105'),
      le: 256,
      extended: false,
      case: 4,
    });
  });

  it('parses each extended case', () => {
    expect(parseCommandApdu(fromHex('00ca006e000000'))).toMatchObject({ le: 65536, extended: true, case: 2 });
    expect(parseCommandApdu(fromHex('000102030000 02 aabb 1234'.replace(/ /g, '')))).toMatchObject({
      data: fromHex('aabb'),
      le: 0x1234,
      extended: true,
      case: 4,
    });
    const case3 = parseCommandApdu(encodeCommandApdu({ cla: 0, ins: 0xdb, p1: 0, p2: 0, data: new Uint8Array(256) }));
    expect(case3).toMatchObject({ extended: true, case: 3 });
    expect(case3.data?.length).toBe(256);
  });

  it.each([
    ['3 bytes', '00a404'],
    ['Lc larger than the data', '00a4040005a000'],
    ['short case 4 with two trailing bytes', '00a40400 02 3fff 00 00'],
    ['6 bytes starting extended', '00a404000001'],
    ['extended Lc = 0 with a body', '00a40400 0000 00 00'],
    ['extended Lc inconsistent', '00a40400 0003 aabb'],
  ])('rejects %s with SCARD_E_INVALID_PARAMETER', (_label, text) => {
    expectScardError(() => parseCommandApdu(fromHex(text)), 'SCARD_E_INVALID_PARAMETER');
  });

  it('returns a copy of the data', () => {
    const bytes = fromHex('00a4000c023fff');
    const parsed = parseCommandApdu(bytes);
    bytes[5] = 0;
    expect(parsed.data).toEqual(fromHex('3fff'));
  });
});

describe('response APDUs', () => {
  it('splits the YubiKey PIV SELECT response (docs/spec/piv.md §2)', () => {
    const response = parseResponseApdu(fromHex('61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 90 00'));
    expect(response.statusWord).toBe(0x9000);
    expect(hex(response.data)).toBe('61 11 4f 06 00 00 10 00 01 00 79 07 4f 05 a0 00 00 03 08');
  });

  it('accepts a bare status word and rejects fewer than 2 bytes with SCARD_F_COMM_ERROR', () => {
    expect(parseResponseApdu(fromHex('6a82'))).toEqual({ data: new Uint8Array(0), statusWord: 0x6a82 });
    expectScardError(() => parseResponseApdu(fromHex('90')), 'SCARD_F_COMM_ERROR');
    expectScardError(() => parseResponseApdu(new Uint8Array(0)), 'SCARD_F_COMM_ERROR');
  });

  it('encodes data ‖ SW1 SW2', () => {
    expect(hex(encodeResponseApdu(fromHex('0102'), 0x6108))).toBe('01 02 61 08');
    expectScardError(() => encodeResponseApdu(new Uint8Array(0), 0x10000), 'SCARD_E_INVALID_PARAMETER');
  });
});

describe('isChained', () => {
  it('reads CLA bit 0x10 (docs/spec/iso7816.md §1.1)', () => {
    expect(isChained({ cla: 0x10 })).toBe(true);
    expect(isChained({ cla: 0x1c })).toBe(true);
    expect(isChained({ cla: 0x0c })).toBe(false);
    expect(isChained(fromHex('10db3fff'))).toBe(true);
    expect(isChained(fromHex('00db3fff'))).toBe(false);
  });
});

const byteArbitrary = fc.integer({ min: 0, max: 255 });
const commandArbitrary = fc.record(
  {
    cla: byteArbitrary,
    ins: byteArbitrary,
    p1: byteArbitrary,
    p2: byteArbitrary,
    data: fc.uint8Array({ minLength: 1, maxLength: 700 }),
    le: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 65536 })),
  },
  { requiredKeys: ['cla', 'ins', 'p1', 'p2'] },
);

describe('property tests', () => {
  it('parseCommandApdu(encodeCommandApdu(x)) gives back x, in short or forced extended form', () => {
    fc.assert(
      fc.property(commandArbitrary, fc.boolean(), (apdu, forceExtended) => {
        const encoded = encodeCommandApdu(apdu, { extended: forceExtended });
        const parsed = parseCommandApdu(encoded);
        const { extended, case: apduCase, ...fields } = parsed;
        expect(fields).toEqual(apdu);
        const hasData = apdu.data !== undefined;
        const hasLe = apdu.le !== undefined;
        expect(apduCase).toBe(hasData ? (hasLe ? 4 : 3) : hasLe ? 2 : 1);
        if (hasData || hasLe) {
          expect(extended).toBe(forceExtended || (apdu.data?.length ?? 0) > 255 || (apdu.le ?? 0) > 256);
        }
        expect(encodeCommandApdu(parsed, { extended })).toEqual(encoded);
      }),
    );
  });

  it('parseCommandApdu on random bytes returns or throws ScardError only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const parsed = parseCommandApdu(bytes);
          // Anything accepted re-encodes to the same bytes.
          expect(encodeCommandApdu(parsed, { extended: parsed.extended })).toEqual(bytes);
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
    );
  });

  it('parseResponseApdu on random bytes returns or throws SCARD_F_COMM_ERROR only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
        try {
          const response = parseResponseApdu(bytes);
          expect(response.data.length).toBe(bytes.length - 2);
        } catch (error) {
          expect(ScardError.hasCode(error, 'SCARD_F_COMM_ERROR')).toBe(true);
        }
      }),
    );
  });

  it('parseResponseApdu(encodeResponseApdu(data, sw)) round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffff }), (data, statusWord) => {
        expect(parseResponseApdu(encodeResponseApdu(data, statusWord))).toEqual({ data, statusWord });
      }),
    );
  });
});
