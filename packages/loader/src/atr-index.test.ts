import { fromHex, ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AtrIndex } from './atr-index.js';
import { createAtrPattern, describeAtrPattern, parseManifestAtr, patternMatches } from './atr-pattern.js';

// YubiKey ATRs from docs/spec/piv.md §8.
const YUBIKEY5 = '3b fd 13 00 00 81 31 fe 15 80 73 c0 21 c0 57 59 75 62 69 4b 65 79 40';
const YUBIKEY4 = '3b f8 13 00 00 81 31 fe 15 59 75 62 69 6b 65 79 34 d4';

describe('ATR patterns', () => {
  it('treats a missing mask as exact and counts mask bits', () => {
    const exact = parseManifestAtr(YUBIKEY4);
    expect(exact.exact).toBe(true);
    expect(exact.specificity).toBe(18 * 8);
    const masked = parseManifestAtr('3b f8 00', 'ff ff f0');
    expect(masked.exact).toBe(false);
    expect(masked.specificity).toBe(20);
    expect(describeAtrPattern(masked)).toBe('3b f8 0.');
  });

  it('refuses an ATR that keeps bits its mask clears (spec docs/spec/minidriver.md §12.5), and bad lengths', () => {
    expect(() => parseManifestAtr('3b f8 13', 'ff ff 00')).toThrow(/byte 2 sets bits its mask clears/);
    expect(() => parseManifestAtr('3b f8 13', 'ff ff')).toThrow(/mask "ff ff" has 2 bytes/);
    expect(() => parseManifestAtr('3b')).toThrow(/1 bytes/);
  });

  it('never throws anything but ScardError on random text', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (atr, mask) => {
        try {
          parseManifestAtr(atr, mask);
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
    );
  });
});

describe('AtrIndex', () => {
  it('finds exact patterns through the hash and masked ones through the trie', () => {
    const index = new AtrIndex<string>();
    index.add(parseManifestAtr(YUBIKEY5), 'exact');
    index.add(
      parseManifestAtr(
        '3b fd 13 00 00 81 31 fe 15 80 73 c0 21 c0 57 00 00 00 00 00 00 00 00',
        'ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff 00 00 00 00 00 00 00 00',
      ),
      'prefix',
    );
    index.add(parseManifestAtr('3b 00 00', 'ff 00 00'), 'short');
    expect(index.size).toBe(3);
    expect(index.lookup(fromHex(YUBIKEY5)).map((hit) => hit.value)).toEqual(['exact', 'prefix']);
    expect(
      index
        .lookup(fromHex('3b fd 13 00 00 81 31 fe 15 80 73 c0 21 c0 57 00 00 00 00 00 00 00 00'))
        .map((hit) => hit.value),
    ).toEqual(['prefix']);
    expect(index.lookup(fromHex('3b 12 34')).map((hit) => hit.value)).toEqual(['short']);
    // Different length never matches (spec docs/spec/minidriver.md §12.2 step 1).
    expect(index.lookup(fromHex('3b 12 34 56'))).toEqual([]);
  });

  it('returns a fresh array: a caller cannot corrupt the index through a result', () => {
    const index = new AtrIndex<string>();
    index.add(parseManifestAtr(YUBIKEY4), 'yubikey4');
    const first = index.lookup(fromHex(YUBIKEY4));
    first.length = 0;
    expect(index.lookup(fromHex(YUBIKEY4)).map((hit) => hit.value)).toEqual(['yubikey4']);
  });

  it('recompiles after an add', () => {
    const index = new AtrIndex<string>();
    index.add(parseManifestAtr('3b 01 02'), 'one');
    expect(index.lookup(fromHex('3b 01 02')).map((hit) => hit.value)).toEqual(['one']);
    index.add(parseManifestAtr('3b 00 02', 'ff 00 ff'), 'two');
    expect(index.lookup(fromHex('3b 01 02')).map((hit) => hit.value)).toEqual(['one', 'two']);
    expect(index.lookup(fromHex('3b 7f 02')).map((hit) => hit.value)).toEqual(['two']);
  });

  it('matches partial masks bit by bit', () => {
    const index = new AtrIndex<string>();
    index.add(createAtrPattern(fromHex('3b 80'), fromHex('ff f0')), 'nibble');
    expect(index.lookup(fromHex('3b 8f')).map((hit) => hit.value)).toEqual(['nibble']);
    expect(index.lookup(fromHex('3b 7f'))).toEqual([]);
  });

  it('returns exactly what a linear scan returns, in registration order per group (property)', () => {
    const byteArb = fc.integer({ min: 0, max: 255 });
    const maskByteArb = fc.constantFrom(0x00, 0xff, 0xf0, 0x0f, 0xfe, 0x80);
    const patternArb = fc
      .integer({ min: 2, max: 5 })
      .chain((length) =>
        fc.tuple(
          fc.array(byteArb, { minLength: length, maxLength: length }),
          fc.array(maskByteArb, { minLength: length, maxLength: length }),
        ),
      );
    fc.assert(
      fc.property(
        fc.array(patternArb, { maxLength: 40 }),
        fc.array(fc.array(byteArb, { minLength: 2, maxLength: 5 }), { maxLength: 20 }),
        (raw, atrs) => {
          const patterns = raw.map(([atr, mask]) =>
            createAtrPattern(Uint8Array.from(atr.map((byte, i) => byte & (mask[i] as number))), Uint8Array.from(mask)),
          );
          // The compiled automaton, and the bounded trie walk it falls back to.
          const compiled = new AtrIndex<number>();
          const walked = new AtrIndex<number>({ maxStates: 0 });
          patterns.forEach((pattern, position) => {
            compiled.add(pattern, position);
            walked.add(pattern, position);
          });
          // Query both random ATRs and ATRs built to match some patterns.
          const queries = [...atrs.map((atr) => Uint8Array.from(atr)), ...patterns.map((pattern) => pattern.atr)];
          for (const atr of queries) {
            const expected = patterns.flatMap((pattern, position) => (patternMatches(pattern, atr) ? [position] : []));
            const found = compiled.lookup(atr).map((hit) => hit.value);
            expect([...found].sort((a, b) => a - b)).toEqual(expected);
            // Exact ones come first, then registration order.
            const exactFirst = [...expected].sort(
              (a, b) => Number(patterns[b]?.exact) - Number(patterns[a]?.exact) || a - b,
            );
            expect(found).toEqual(exactFirst);
            expect(walked.lookup(atr).map((hit) => hit.value)).toEqual(exactFirst);
          }
          if (patterns.length > 0) {
            expect(compiled.compiled).toBe(true);
            expect(walked.compiled).toBe(false);
          }
        },
      ),
    );
  });
});
