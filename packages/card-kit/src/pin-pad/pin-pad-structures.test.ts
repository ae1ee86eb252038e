/**
 * PC/SC part 10 v2.02.09 structures (docs/spec/minidriver.md §2.5.2 PIN_VERIFY_STRUCTURE, docs/spec/minidriver.md §2.5.3 PIN_MODIFY_STRUCTURE), worked by
 * hand for the PIV VERIFY 00 20 00 80 template (8-byte ASCII block padded FF).
 */
import { fromHex, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodePinModifyStructure,
  encodePinVerifyStructure,
  insertPin,
  type PinFormat,
  parsePinModifyStructure,
  parsePinVerifyStructure,
} from './pin-pad-structures.js';

const ASCII_8: PinFormat = {
  unitsBytes: true,
  pinPosition: 0,
  rightJustify: false,
  encoding: 'ascii',
  lengthFieldBits: 0,
  blockSize: 8,
  lengthUnitsBytes: false,
  lengthPosition: 0,
  minLength: 6,
  maxLength: 8,
};

const formatArbitrary: fc.Arbitrary<PinFormat> = fc.record({
  unitsBytes: fc.boolean(),
  pinPosition: fc.integer({ min: 0, max: 15 }),
  rightJustify: fc.boolean(),
  encoding: fc.constantFrom('binary', 'bcd', 'ascii'),
  lengthFieldBits: fc.integer({ min: 0, max: 15 }),
  blockSize: fc.integer({ min: 0, max: 15 }),
  lengthUnitsBytes: fc.boolean(),
  lengthPosition: fc.integer({ min: 0, max: 15 }),
  minLength: fc.integer({ min: 0, max: 255 }),
  maxLength: fc.integer({ min: 0, max: 255 }),
});

describe('PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE', () => {
  it('encodes the PIV VERIFY structure byte for byte', () => {
    const apdu = fromHex('00 20 00 80 08 FF FF FF FF FF FF FF FF');
    expect(toHex(encodePinVerifyStructure(ASCII_8, apdu), ' ')).toBe(
      '00 00 82 08 00 08 06 02 01 09 04 00 00 00 00 0d 00 00 00 00 20 00 80 08 ff ff ff ff ff ff ff ff',
    );
  });

  it('encodes the PIV CHANGE REFERENCE DATA modify structure byte for byte', () => {
    const apdu = fromHex(`00 24 00 80 10 ${'FF '.repeat(16)}`);
    const structure = encodePinModifyStructure(ASCII_8, apdu, {
      insertionOffsetOld: 0,
      insertionOffsetNew: 8,
      enterCurrentPin: true,
      confirmNewPin: true,
    });
    expect(toHex(structure.subarray(0, 24), ' ')).toBe(
      '00 00 82 08 00 00 08 08 06 03 02 03 09 04 00 01 02 00 00 00 15 00 00 00',
    );
  });

  it('parse(encode(x)) gives x back for every format (property)', () => {
    fc.assert(
      fc.property(formatArbitrary, fc.uint8Array({ minLength: 5, maxLength: 40 }), (format, apdu) => {
        const verify = parsePinVerifyStructure(encodePinVerifyStructure(format, apdu));
        expect(verify.format).toEqual(format);
        expect(verify.apdu).toEqual(apdu);
        const modify = parsePinModifyStructure(
          encodePinModifyStructure(format, apdu, {
            insertionOffsetOld: 1,
            insertionOffsetNew: 9,
            enterCurrentPin: false,
            confirmNewPin: true,
          }),
        );
        expect(modify.format).toEqual(format);
        expect([modify.insertionOffsetNew, modify.confirmNewPin, modify.enterCurrentPin]).toEqual([9, true, false]);
      }),
    );
  });

  it('parsers take any bytes: a structure or SCARD_E_INVALID_PARAMETER, nothing else (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const parse of [parsePinVerifyStructure, parsePinModifyStructure]) {
          try {
            parse(bytes);
          } catch (error) {
            expect((error as Error).name).toBe('SCARD_E_INVALID_PARAMETER');
          }
        }
      }),
    );
  });

  it('inserts an ASCII PIN into the template', () => {
    const apdu = fromHex('00 20 00 80 08 FF FF FF FF FF FF FF FF');
    insertPin(apdu, ASCII_8, '123456');
    expect(toHex(apdu, ' ')).toBe('00 20 00 80 08 31 32 33 34 35 36 ff ff');
  });
});
