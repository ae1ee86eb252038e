import { ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FEATURE_MODIFY_PIN_DIRECT, FEATURE_VERIFY_PIN_DIRECT } from './constants.js';
import { encodeFeatureList, parseFeatureList, toReaderFeatures } from './reader-features.js';

describe('parseFeatureList', () => {
  it('reads a CCID PIN pad answer (PC/SC part 10 TLV, as libccid returns it for a SPR 532)', () => {
    // Vector built from the part 10 layout: tag, 04, control code big-endian; codes as libccid reports them
    // (SCARD_CTL_CODE(3400 + n) = 0x42000D48 + n).
    const response = Uint8Array.of(
      0x06,
      0x04,
      0x42,
      0x00,
      0x0d,
      0x48,
      0x07,
      0x04,
      0x42,
      0x00,
      0x0d,
      0x49,
      0x0a,
      0x04,
      0x42,
      0x00,
      0x0d,
      0x4a,
    );
    const features = parseFeatureList(response);
    expect([...features]).toEqual([
      [FEATURE_VERIFY_PIN_DIRECT, 0x42000d48],
      [FEATURE_MODIFY_PIN_DIRECT, 0x42000d49],
      [0x0a, 0x42000d4a],
    ]);
    expect(toReaderFeatures(features)).toEqual({ verifyPinDirect: 0x42000d48, modifyPinDirect: 0x42000d49 });
  });

  it('gives no features for an empty answer', () => {
    expect(toReaderFeatures(parseFeatureList(new Uint8Array(0)))).toEqual({});
  });

  it('rejects truncated entries and bad lengths with SCARD_E_INVALID_VALUE', () => {
    for (const bad of [Uint8Array.of(0x06), Uint8Array.of(0x06, 0x04, 0x42), Uint8Array.of(0x06, 0x02, 0x00, 0x01)]) {
      expect(() => parseFeatureList(bad)).toThrow(expect.objectContaining({ name: 'SCARD_E_INVALID_VALUE' }));
    }
  });

  it('round-trips any feature map', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.integer({ min: 0, max: 255 }).map(String), fc.integer({ min: 0, max: 0xffffffff })),
        (record) => {
          const map = new Map(Object.entries(record).map(([tag, code]) => [Number(tag), code]));
          expect(parseFeatureList(encodeFeatureList(map))).toEqual(map);
        },
      ),
    );
  });

  it('throws nothing but ScardError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          parseFeatureList(bytes);
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
    );
  });
});
