import { readFileSync } from 'node:fs';
import { ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MANIFEST_SCHEMA, validateManifest } from './manifest.js';

// The PIV manifest of the design document.
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
    ['not an object', 'PIV', /the "minidriver" field must be .*an object.*, got "PIV"/],
    ['no name', { ...PIV, name: '' }, /"name" must be a non-empty name/],
    ['a missing field', { name: 'X', atrs: [] }, /the "minidriver" field lacks "cardDataVersions"/],
    ['a misspelt field', { ...PIV, atr: [] }, /unknown property "atr" \(the manifest schema allows "name", "atrs"/],
    ['atrs not an array', { ...PIV, atrs: 'x' }, /"atrs" must be an array of ATR patterns/],
    ['nothing to match', { ...PIV, atrs: [], aids: [] }, /neither "atrs" nor "aids"/],
    [
      'bad ATR hex',
      { ...PIV, atrs: [{ atr: '3b zz' }] },
      /"atrs\[0\].atr" must be hex bytes of the ATR .*, got "3b zz"/,
    ],
    ['ATR too long', { ...PIV, atrs: [{ atr: '3b'.repeat(34) }] }, /"atrs\[0\]": ATR "3b3b.*" has 34 bytes/],
    ['mask length', { ...PIV, atrs: [{ atr: '3b 00', mask: 'ff' }] }, /"atrs\[0\].mask" must be hex bytes of the mask/],
    ['mask shorter than ATR', { ...PIV, atrs: [{ atr: '3b 00 00', mask: 'ff ff' }] }, /mask "ff ff" has 2 bytes/],
    ['unmasked ATR', { ...PIV, atrs: [{ atr: '3b 01', mask: 'ff 00' }] }, /could never match/],
    ['short AID', { ...PIV, aids: ['a0 00'] }, /"aids\[0\]" must be hex bytes of an AID \(5 to 16 bytes/],
    [
      'version range',
      { ...PIV, cardDataVersions: { min: 3, current: 7 } },
      /"cardDataVersions.min" must be 4, 5, 6 or 7, got 3/,
    ],
    ['min above current', { ...PIV, cardDataVersions: { min: 7, current: 6 } }, /exceeds "current"/],
    ['entry escapes', { ...PIV, entry: '../evil.js' }, /"entry" must be a path inside the package/],
    ['absolute entry', { ...PIV, entry: '/etc/passwd' }, /"entry" must be a path inside the package/],
    ['simulator without module', { ...PIV, simulator: { name: 'piv' } }, /"simulator" lacks "module"/],
    [
      'simulator name',
      { ...PIV, simulator: { name: 'PIV card', module: './sim' } },
      /"simulator.name" must be the simulator's name/,
    ],
    [
      'simulator escapes',
      { ...PIV, simulator: { name: 'piv', module: './a/../../x' } },
      /"simulator.module" must be a subpath/,
    ],
  ])('refuses %s with the problem named', (_label, manifest, problem) => {
    expect(() => validateManifest(manifest)).toThrow(problem);
    try {
      validateManifest(manifest);
    } catch (error) {
      expect(ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')).toBe(true);
    }
  });

  it('keeps the simulator and entry of a valid manifest', () => {
    const manifest = { ...PIV, entry: './dist/index.js', simulator: { name: 'piv', module: './sim' } };
    expect(validateManifest(manifest).manifest).toEqual(manifest);
  });

  it('ships the schema it checks with, as a file of the package', () => {
    const shipped = JSON.parse(readFileSync(new URL('../manifest.schema.json', import.meta.url), 'utf8'));
    expect(MANIFEST_SCHEMA).toEqual(shipped);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.files).toContain('manifest.schema.json');
    expect(pkg.exports['./manifest.schema.json']).toBe('./manifest.schema.json');
  });

  it("accepts every manifest of the repository's card packages", () => {
    for (const card of ['piv', 'openpgp']) {
      const pkg = JSON.parse(readFileSync(new URL(`../../../cards/${card}/package.json`, import.meta.url), 'utf8'));
      expect(() => validateManifest(pkg.minidriver)).not.toThrow();
    }
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

describe('validateManifest on generated manifests', () => {
  const hexBytes = (min: number, max: number) =>
    fc.uint8Array({ minLength: min, maxLength: max }).map((bytes) => Buffer.from(bytes).toString('hex'));
  const manifest = fc.record({
    name: fc.string({ minLength: 1, maxLength: 20 }).filter((name) => name.trim() !== ''),
    atrs: fc.array(
      hexBytes(2, 33).map((atr) => ({ atr })),
      { minLength: 1, maxLength: 4 },
    ),
    aids: fc.array(hexBytes(5, 16), { maxLength: 3 }),
    cardDataVersions: fc
      .tuple(fc.constantFrom(4, 5, 6, 7), fc.constantFrom(4, 5, 6, 7))
      .map(([a, b]) => ({ min: Math.min(a, b), current: Math.max(a, b) })),
  });

  it('accepts every well-formed manifest and returns it unchanged', () => {
    fc.assert(
      fc.property(manifest, (value) => {
        expect(validateManifest(value).manifest).toEqual(value);
      }),
    );
  });

  it('refuses a well-formed manifest with one unknown property, naming it', () => {
    fc.assert(
      fc.property(
        manifest,
        fc.string({ minLength: 1, maxLength: 10 }).filter((key) => !(key in MANIFEST_SCHEMA_PROPERTIES)),
        (value, key) => {
          expect(() => validateManifest({ ...value, [key]: 1 })).toThrow(`unknown property ${JSON.stringify(key)}`);
        },
      ),
    );
  });
});

const MANIFEST_SCHEMA_PROPERTIES = MANIFEST_SCHEMA.properties as Record<string, unknown>;
