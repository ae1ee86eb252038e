import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closestMatch, didYouMean, editDistance } from './suggest.js';

describe('did you mean', () => {
  it('measures insertions, deletions, substitutions and swaps', () => {
    expect(editDistance('certs', 'certs')).toBe(0);
    expect(editDistance('cetrs', 'certs')).toBe(1);
    expect(editDistance('cert', 'certs')).toBe(1);
    expect(editDistance('kegen', 'keygen')).toBe(1);
    expect(editDistance('abc', 'xyz')).toBe(3);
  });

  it('suggests the closest command for a typo and nothing for an unrelated word', () => {
    const commands = ['certs', 'containers', 'keygen', 'info', 'identify'];
    expect(closestMatch('cetrs', commands)).toBe('certs');
    expect(closestMatch('keygne', commands)).toBe('keygen');
    expect(closestMatch('inof', commands)).toBe('info');
    expect(closestMatch('zzzzzz', commands)).toBeUndefined();
    expect(didYouMean('cetrs', commands)).toBe(' (did you mean "certs"?)');
    expect(didYouMean('zzzzzz', commands)).toBe('');
  });

  it('is a symmetric distance bounded by the longer word, and any suggestion is a candidate', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (a, b) => {
        const distance = editDistance(a, b);
        expect(distance).toBe(editDistance(b, a));
        expect(distance).toBeLessThanOrEqual(Math.max(a.length, b.length));
        expect(distance === 0).toBe(a === b);
        const match = closestMatch(a, [b]);
        if (match !== undefined) expect(match).toBe(b);
      }),
    );
  });
});
