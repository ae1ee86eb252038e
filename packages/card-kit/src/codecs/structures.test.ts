/**
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */

import type { PinInfo } from '@minidriver/spec';
import { fromHex, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCardProperty,
  decodeContainerProperty,
  encodeCardProperty,
  encodeContainerProperty,
} from './properties.js';
import {
  decodeCardCapabilities,
  decodeCardFileInfo,
  decodeCardFreeSpaceInfo,
  decodeCardKeySizes,
  decodePinInfo,
  encodeCardCapabilities,
  encodeCardFileInfo,
  encodeCardFreeSpaceInfo,
  encodeCardKeySizes,
  encodePinInfo,
} from './structures.js';
import { onlyScardErrors } from './test-support.js';
import { decodeMultiString, encodeMultiString } from './wide-string.js';

const dword = fc.integer({ min: 0, max: 0xffffffff });
const pinInfo = fc.record({
  pinType: fc.constantFrom(0, 1, 2, 3),
  purpose: fc.constantFrom(0, 1, 2, 3, 4, 5, 6),
  changePermission: dword,
  unblockPermission: dword,
  cachePolicy: fc.record({ type: fc.constantFrom(0, 1, 2, 3), info: dword }),
  flags: dword,
}) as fc.Arbitrary<PinInfo>;

describe('versioned structures (layouts of docs/spec/minidriver.md §3.2-§3.5, §3.9 worked by hand)', () => {
  it('CARD_CAPABILITIES is 12 bytes: dwVersion 1, two BOOLs', () => {
    expect(toHex(encodeCardCapabilities({ certificateCompression: true, keyGeneration: false }))).toBe(
      '010000000100000000000000',
    );
    expect(decodeCardCapabilities(fromHex('000000000200000001000000'))).toEqual({
      certificateCompression: true,
      keyGeneration: true,
    });
  });

  it('CARD_FILE_INFO, CARD_FREE_SPACE_INFO, CARD_KEY_SIZES', () => {
    expect(toHex(encodeCardFileInfo({ size: 0x1234, accessCondition: 1 }))).toBe('010000003412000001000000');
    expect(
      toHex(encodeCardFreeSpaceInfo({ bytesAvailable: 0xffffffff, keyContainersAvailable: 3, maxKeyContainers: 8 })),
    ).toBe('01000000ffffffff0300000008000000');
    expect(
      toHex(
        encodeCardKeySizes({
          minimumBitLength: 1024,
          defaultBitLength: 2048,
          maximumBitLength: 4096,
          incrementalBitLength: 1024,
        }),
      ),
    ).toBe('0100000000040000000800000010000000040000');
  });

  it('PIN_INFO is 36 bytes with the 12-byte PIN_CACHE_POLICY at offset 20 (dwVersion 6 both)', () => {
    const info: PinInfo = {
      pinType: 0,
      purpose: 5,
      changePermission: 0x02,
      unblockPermission: 0x04,
      cachePolicy: { type: 1, info: 300 },
      flags: 1,
    };
    const bytes = encodePinInfo(info);
    expect(toHex(bytes)).toBe(
      '06000000' +
        '00000000' +
        '05000000' +
        '02000000' +
        '04000000' +
        '06000000' +
        '01000000' +
        '2c010000' +
        '01000000',
    );
    expect(decodePinInfo(bytes)).toEqual(info);
  });

  it('rejects wrong sizes, undefined enum values and future versions', () => {
    expect(() => decodeCardCapabilities(new Uint8Array(11))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => decodeCardFileInfo(fromHex('010000000000000007000000'))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => decodeCardKeySizes(fromHex('0200000000000000000000000000000000000000'))).toThrowError(
      /ERROR_REVISION_MISMATCH/,
    );
    const pin = encodePinInfo({
      pinType: 0,
      purpose: 0,
      changePermission: 0,
      unblockPermission: 0,
      cachePolicy: { type: 0, info: 0 },
      flags: 0,
    });
    pin[20] = 7;
    expect(() => decodePinInfo(pin)).toThrowError(/ERROR_REVISION_MISMATCH/);
    expect(() => encodeCardFileInfo({ size: -1, accessCondition: 1 })).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('round-trip and only throw ScardError on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), (certificateCompression, keyGeneration) => {
        expect(decodeCardCapabilities(encodeCardCapabilities({ certificateCompression, keyGeneration }))).toEqual({
          certificateCompression,
          keyGeneration,
        });
      }),
    );
    fc.assert(
      fc.property(dword, fc.constantFrom(0, 1, 2, 3, 4, 5, 6), (size, accessCondition) => {
        const info = { size, accessCondition } as const;
        expect(decodeCardFileInfo(encodeCardFileInfo(info as never))).toEqual(info);
      }),
    );
    fc.assert(
      fc.property(dword, dword, dword, (bytesAvailable, keyContainersAvailable, maxKeyContainers) => {
        const info = { bytesAvailable, keyContainersAvailable, maxKeyContainers };
        expect(decodeCardFreeSpaceInfo(encodeCardFreeSpaceInfo(info))).toEqual(info);
      }),
    );
    fc.assert(
      fc.property(
        dword,
        dword,
        dword,
        dword,
        (minimumBitLength, defaultBitLength, maximumBitLength, incrementalBitLength) => {
          const sizes = { minimumBitLength, defaultBitLength, maximumBitLength, incrementalBitLength };
          expect(decodeCardKeySizes(encodeCardKeySizes(sizes))).toEqual(sizes);
        },
      ),
    );
    fc.assert(
      fc.property(pinInfo, (info) => {
        expect(decodePinInfo(encodePinInfo(info))).toEqual(info);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        for (const decode of [
          decodeCardCapabilities,
          decodeCardFileInfo,
          decodeCardFreeSpaceInfo,
          decodeCardKeySizes,
          decodePinInfo,
        ]) {
          onlyScardErrors(() => decode(bytes));
        }
      }),
    );
  });
});

describe('card properties (docs/spec/minidriver.md §7.1)', () => {
  it('encodes the pbData types byte for byte', () => {
    expect(toHex(encodeCardProperty('Read Only Mode', true))).toBe('01000000');
    expect(toHex(encodeCardProperty('Cache Mode', 3))).toBe('03000000');
    expect(toHex(encodeCardProperty('PIN List', 0x07))).toBe('07000000');
    // Our vendor property (not in the spec): a DWORD LE; 0xFFFFFFFF is CARD_DATA_VALUE_UNKNOWN.
    expect(toHex(encodeCardProperty('minidriver:PIN Retries Left', 2))).toBe('02000000');
    expect(toHex(encodeCardProperty('minidriver:PIN Retries Left', 0xffffffff))).toBe('ffffffff');
    expect(decodeCardProperty('minidriver:PIN Retries Left', fromHex('03000000'))).toBe(3);
    expect(() => decodeCardProperty('minidriver:PIN Retries Left', fromHex('0300'))).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
    expect(toHex(encodeCardProperty('Parent Window', 0x1122334455667788n))).toBe('8877665544332211');
    expect(toHex(encodeCardProperty('PIN Context String', 'Hi'))).toBe('480069000000');
    expect(toHex(encodeCardProperty('minidriver:Cache Mode Reason', 'ro'))).toBe('72006f000000');
    expect(decodeCardProperty('minidriver:Cache Mode Reason', fromHex('72006f000000'))).toBe('ro');
    expect(toHex(encodeCardProperty('Chaining Modes', ['ChainingModeCBC']))).toBe(
      `${toHex(new TextEncoder().encode('ChainingModeCBC')).replace(/(..)/g, '$100')}00000000`,
    );
    expect(toHex(encodeCardProperty('Algorithms', []))).toBe('00000000'); // empty list = two wide NULs (docs/spec/minidriver.md §7.1 [O])
    expect(encodeCardProperty('Card Identifier', new Uint8Array(16).fill(9))).toEqual(new Uint8Array(16).fill(9));
    expect(
      encodeCardProperty('PIN Information', {
        pinType: 0,
        purpose: 0,
        changePermission: 2,
        unblockPermission: 4,
        cachePolicy: { type: 0, info: 0 },
        flags: 0,
      }).length,
    ).toBe(36);
  });

  it('decodes, accepting any non-zero BOOL and a 4-byte HWND', () => {
    expect(decodeCardProperty('Supports Windows x.509 Enrollment', fromHex('02000000'))).toBe(true);
    expect(decodeCardProperty('Parent Window', fromHex('78563412'))).toBe(0x12345678n);
    expect(decodeCardProperty('Algorithms', fromHex('4100450053000000 330044004500530000000000'))).toEqual([
      'AES',
      '3DES',
    ]);
    expect(decodeCardProperty('Algorithms', fromHex('0000'))).toEqual([]);
  });

  it('rejects wrong sizes, values and names', () => {
    expect(() => decodeCardProperty('Cache Mode', fromHex('04000000'))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => decodeCardProperty('PIN List', fromHex('070000'))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => decodeCardProperty('Card Identifier', new Uint8Array(15))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => decodeCardProperty('Algorithms', fromHex('41004500'))).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => encodeCardProperty('Algorithms', ['', 'a'])).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => encodeCardProperty('Nope' as never, 1 as never)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('round-trips multi-sz lists and random bytes only throw ScardError (property)', () => {
    const text = fc.string({
      unit: fc.integer({ min: 1, max: 0xffff }).map((code) => String.fromCharCode(code)),
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(fc.array(text, { maxLength: 5 }), (list) => {
        expect(decodeMultiString(encodeMultiString(list))).toEqual(list);
        expect(decodeCardProperty('Chaining Modes', encodeCardProperty('Chaining Modes', list))).toEqual(list);
      }),
    );
    fc.assert(
      fc.property(text, (value) => {
        expect(decodeCardProperty('PIN Context String', encodeCardProperty('PIN Context String', value))).toBe(value);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (hwnd) => {
        expect(decodeCardProperty('Parent Window', encodeCardProperty('Parent Window', hwnd))).toBe(hwnd);
      }),
    );
    const names = [
      'Free Space',
      'Capabilities',
      'Key Sizes',
      'Read Only Mode',
      'Cache Mode',
      'Supports Windows x.509 Enrollment',
      'Card Identifier',
      'Card Serial Number',
      'PIN Information',
      'PIN List',
      'Authenticated State',
      'PIN Strength Verify',
      'PIN Strength Change',
      'PIN Strength Unblock',
      'Parent Window',
      'PIN Context String',
      'Key Import Support',
      'Algorithms',
      'Padding Schemes',
      'Chaining Modes',
      'minidriver:PIN Retries Left',
      'minidriver:Cache Mode Reason',
    ] as const;
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.uint8Array({ maxLength: 40 }), (name, bytes) => {
        onlyScardErrors(() => {
          const value = decodeCardProperty(name, bytes);
          // A decoded value always re-encodes.
          expect(encodeCardProperty(name, value as never).length).toBeGreaterThanOrEqual(0);
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('container properties (docs/spec/minidriver.md §7.2)', () => {
  it('PIN Identifier is a DWORD PIN id', () => {
    expect(toHex(encodeContainerProperty('PIN Identifier', 1))).toBe('01000000');
    expect(decodeContainerProperty('PIN Identifier', fromHex('03000000'))).toBe(3);
    expect(() => decodeContainerProperty('PIN Identifier', fromHex('08000000'))).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
  });

  it('Associated ECDH Key is written as a DWORD and read from a BYTE or a DWORD (docs/spec/minidriver.md §14 #5)', () => {
    expect(toHex(encodeContainerProperty('Associated ECDH Key', 5))).toBe('05000000');
    expect(decodeContainerProperty('Associated ECDH Key', fromHex('05'))).toBe(5);
    expect(decodeContainerProperty('Associated ECDH Key', fromHex('05000000'))).toBe(5);
    expect(() => decodeContainerProperty('Associated ECDH Key', fromHex('00010000'))).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
    expect(() => decodeContainerProperty('Associated ECDH Key', fromHex('0500'))).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
  });

  it('Container Info has no byte form', () => {
    expect(() => encodeContainerProperty('Container Info', {})).toThrowError(/SCARD_E_UNSUPPORTED_FEATURE/);
    expect(() => decodeContainerProperty('Container Info', new Uint8Array(24))).toThrowError(
      /SCARD_E_UNSUPPORTED_FEATURE/,
    );
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), (id) => {
        expect(decodeContainerProperty('PIN Identifier', encodeContainerProperty('PIN Identifier', id as 0))).toBe(id);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (index) => {
        expect(
          decodeContainerProperty('Associated ECDH Key', encodeContainerProperty('Associated ECDH Key', index)),
        ).toBe(index);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
        onlyScardErrors(() => decodeContainerProperty('PIN Identifier', bytes));
        onlyScardErrors(() => decodeContainerProperty('Associated ECDH Key', bytes));
      }),
    );
  });
});
