import { ScardError } from '@minidriver/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateManifest } from './manifest.js';

// The PIV manifest of shared/design.md.
const PIV = {
  name: 'PIV',
  atrs: [{ atr: '3b f8 13 00 00 81 31 fe 15 59 75 62 69 6b 65 79 34 d4', name: 'YubiKey 4' }],
  aids: ['a0 00 00 03 08 00 00 10 00 01 00'],
  cardDataVersions: { min: 4, current: 7 },
};

describe('validateManifest', () => {
  it('accepts the design document manifest and decodes patterns and AIDs', () => {
    const validated = validateManifest(PIV);
    expect(validated.manifest).toEqual(PIV);
    expect(validated.patterns[0]?.name).toBe('YubiKey 4');
    expect(validated.patterns[0]?.pattern.exact).toBe(true);
    expect([...(validated.aids[0] ?? [])]).toEqual([0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00]);
  });

  it.each([
    ['not an object', 'PIV', /not an object/],
    ['no name', { ...PIV, name: '' }, /"name" must be a non-empty string/],
    ['atrs not an array', { ...PIV, atrs: 'x' }, /"atrs" must be an array/],
    ['nothing to match', { ...PIV, atrs: [], aids: [] }, /neither "atrs" nor "aids"/],
    ['bad ATR hex', { ...PIV, atrs: [{ atr: '3b zz' }] }, /"atrs\[0\]": not a hex byte string/],
    ['mask length', { ...PIV, atrs: [{ atr: '3b 00', mask: 'ff' }] }, /"atrs\[0\]": mask "ff" has 1 bytes/],
    ['unmasked ATR', { ...PIV, atrs: [{ atr: '3b 01', mask: 'ff 00' }] }, /could never match/],
    ['short AID', { ...PIV, aids: ['a0 00'] }, /"aids\[0\]" has 2 bytes/],
    [
      'version range',
      { ...PIV, cardDataVersions: { min: 3, current: 7 } },
      /"cardDataVersions.min" must be 4, 5, 6 or 7/,
    ],
    ['min above current', { ...PIV, cardDataVersions: { min: 7, current: 6 } }, /exceeds "current"/],
    ['entry escapes', { ...PIV, entry: '../evil.js' }, /must stay inside the package/],
  ])('refuses %s with the problem named', (_label, manifest, problem) => {
    expect(() => validateManifest(manifest)).toThrow(problem);
  });

  it('never throws anything but ScardError on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          validateManifest(value);
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
    );
  });
});
