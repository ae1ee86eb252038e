/**
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */

import { fromHex, ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bumpFreshness, decodeCardCacheFile, EMPTY_CARD_CACHE_FILE, encodeCardCacheFile } from './cardcf.js';

describe('cardcf', () => {
  it('a created card holds six zero bytes (spec docs/spec/minidriver.md §3.8 / §4.6)', () => {
    expect(toHex(encodeCardCacheFile(EMPTY_CARD_CACHE_FILE))).toBe('000000000000');
    expect(decodeCardCacheFile(fromHex('00 00 00 00 00 00'))).toEqual(EMPTY_CARD_CACHE_FILE);
  });

  it('lays out version, pins, containers LE, files LE (layout of docs/spec/minidriver.md §3.8 worked by hand)', () => {
    const file = { version: 1, pinsFreshness: 0x7f, containersFreshness: 0x1234, filesFreshness: 0xabcd };
    expect(toHex(encodeCardCacheFile(file))).toBe('017f3412cdab');
    expect(decodeCardCacheFile(fromHex('017f3412cdab'))).toEqual(file);
  });

  it('preserves trailing per-application bytes (docs/spec/minidriver.md §14 #3)', () => {
    const decoded = decodeCardCacheFile(fromHex('01 02 03 00 04 00 aa bb cc dd'));
    expect(toHex(decoded.trailing ?? new Uint8Array())).toBe('aabbccdd');
    expect(toHex(encodeCardCacheFile(decoded))).toBe('010203000400aabbccdd');
  });

  it('rejects a short file as corrupt card data', () => {
    expect(() => decodeCardCacheFile(fromHex('0000000000'))).toThrowError(/SCARD_E_COMM_DATA_LOST/);
  });

  it('rejects out-of-range counters as an invalid parameter', () => {
    expect(() => encodeCardCacheFile({ ...EMPTY_CARD_CACHE_FILE, pinsFreshness: 256 })).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
    expect(() => encodeCardCacheFile({ ...EMPTY_CARD_CACHE_FILE, filesFreshness: -1 })).toThrowError(
      /SCARD_E_INVALID_PARAMETER/,
    );
  });

  it('bumps one counter and wraps at 2^8 / 2^16', () => {
    const file = { version: 1, pinsFreshness: 255, containersFreshness: 0xffff, filesFreshness: 0xfffe };
    expect(bumpFreshness(file, 'pins')).toEqual({ ...file, pinsFreshness: 0 });
    expect(bumpFreshness(file, 'containers')).toEqual({ ...file, containersFreshness: 0 });
    expect(bumpFreshness(file, 'files')).toEqual({ ...file, filesFreshness: 0xffff });
    expect(file.pinsFreshness).toBe(255);
  });

  it('round-trips any file (property)', () => {
    const arbitrary = fc.record({
      version: fc.integer({ min: 0, max: 255 }),
      pinsFreshness: fc.integer({ min: 0, max: 255 }),
      containersFreshness: fc.integer({ min: 0, max: 0xffff }),
      filesFreshness: fc.integer({ min: 0, max: 0xffff }),
    });
    fc.assert(
      fc.property(arbitrary, fc.uint8Array({ maxLength: 16 }), (file, trailing) => {
        const withTrailing = trailing.length > 0 ? { ...file, trailing } : file;
        expect(decodeCardCacheFile(encodeCardCacheFile(withTrailing))).toEqual(withTrailing);
      }),
    );
  });

  it('random bytes decode or throw ScardError only (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
        try {
          expect(encodeCardCacheFile(decodeCardCacheFile(bytes))).toEqual(bytes);
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
    );
  });
});
