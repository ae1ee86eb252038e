/**
 * The scaffolder on its own: what it writes (outside any workspace), the manifest the loader accepts,
 * refusals that write nothing, and its command line. The written package's `npm install && npm test`
 * runs in tools/release-e2e against a local registry.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateManifest } from '@minidriver/loader';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardProfile, defaultAid, defaultAtr, parseHex, spacedHex, UsageError } from '../src/card-options.js';
import { scaffoldCard } from '../src/scaffold.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let temp: string;

beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), 'create-minidriver-card-'));
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function listFiles(directory: string, prefix = ''): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(join(directory, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

describe('scaffoldCard', () => {
  it('writes a standalone card package with every token filled in and a manifest the loader accepts', async () => {
    const directory = join(temp, 'acme');
    const profile = cardProfile({
      directory,
      name: 'Acme Token',
      atr: '3B 8A 80 01 41 43 4D 45 54 4F 4B 45 4E 31 0F',
      aid: 'D2 76 00 01 24 01',
      packageName: '@acme/card-token',
    });
    const result = await scaffoldCard(profile);
    expect(result.files).toEqual(listFiles(directory).sort());
    expect(result.files).toEqual(
      expect.arrayContaining([
        '.changeset/config.json',
        '.gitignore',
        'README.md',
        'package.json',
        'sim/card-simulator.ts',
        'sim/index.ts',
        'src/card-minidriver.ts',
        'src/conformance.test.ts',
        'src/index.ts',
        'tsconfig.json',
        'tsup.config.ts',
        'vitest.config.ts',
      ]),
    );
    for (const file of result.files) {
      expect(readFileSync(join(directory, file), 'utf8'), file).not.toMatch(/__[A-Z_]+__/);
    }
    const pkg = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('@acme/card-token');
    expect(JSON.stringify(pkg)).not.toContain('workspace:');
    const { manifest } = validateManifest(pkg.minidriver);
    expect(manifest).toEqual({
      name: 'Acme Token',
      atrs: [{ atr: '3b 8a 80 01 41 43 4d 45 54 4f 4b 45 4e 31 0f', name: 'Acme Token' }],
      aids: ['d2 76 00 01 24 01'],
      cardDataVersions: { min: 4, current: 7 },
      simulator: { name: 'acme-token', module: './sim' },
    });
    expect(pkg.exports['./sim'].import.default).toBe('./dist/sim.js');
    expect(pkg.devDependencies.vitest).toBe('^4.1.0');
    expect(readFileSync(join(directory, 'src/card-profile.ts'), 'utf8')).toContain(
      "export const CARD_ATR = '3b 8a 80 01 41 43 4d 45 54 4f 4b 45 4e 31 0f';",
    );
  });

  it('refuses a directory that is not empty and writes nothing', async () => {
    const directory = join(temp, 'occupied');
    mkdirSync(directory);
    writeFileSync(join(directory, 'keep.txt'), 'mine');
    await expect(scaffoldCard(cardProfile({ directory, name: 'Busy' }))).rejects.toThrow(/is not empty/);
    expect(readdirSync(directory)).toEqual(['keep.txt']);
    expect(readdirSync(temp).filter((name) => name.includes('create-minidriver-card'))).toEqual([]);
  });

  it('uses an existing empty directory', async () => {
    const directory = join(temp, 'empty');
    mkdirSync(directory);
    await scaffoldCard(cardProfile({ directory, name: 'Empty Dir' }));
    expect(existsSync(join(directory, 'package.json'))).toBe(true);
  });
});

describe('cardProfile', () => {
  it('derives names and a default ATR and AID from the card name', () => {
    const profile = cardProfile({ directory: 'x', name: 'Acme Token' });
    expect(profile.packageName).toBe('minidriver-card-acme-token');
    expect(profile.simulatorName).toBe('acme-token');
    expect(profile.atr).toBe('3b 09 41 63 6d 65 54 6f 6b 65 6e');
    expect(profile.aid).toBe('f0 4d 44 41 63 6d 65 54 6f 6b 65');
  });

  it.each([
    [{ name: '' }, /--name "" must start with a letter/],
    [{ name: '1card' }, /must start with a letter/],
    [{ name: 'Card', atr: '3b zz' }, /--atr "3b zz" is not hex bytes/],
    [{ name: 'Card', atr: '3b' }, /--atr has 1 bytes; an ATR has 2 to 33/],
    [{ name: 'Card', atr: '00 11 22' }, /must start with TS = 3B .* or 3F/],
    [{ name: 'Card', aid: 'a0 00' }, /--aid has 2 bytes; an AID has 5 to 16/],
    [{ name: 'Card', packageName: 'Not Valid' }, /--package "Not Valid" is not a valid npm package name/],
  ])('refuses %o with a usage error', (request, message) => {
    expect(() => cardProfile({ directory: 'x', ...request })).toThrow(message);
    expect(() => cardProfile({ directory: 'x', ...request })).toThrow(UsageError);
  });

  it('never throws anything but a UsageError, and a profile it accepts passes the loader', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 45 }),
        fc.option(fc.string({ maxLength: 70 }), { nil: undefined }),
        (name, atr) => {
          try {
            const profile = cardProfile({ directory: 'x', name, ...(atr === undefined ? {} : { atr }) });
            validateManifest({
              name: profile.name,
              atrs: [{ atr: profile.atr }],
              aids: [profile.aid],
              cardDataVersions: { min: 4, current: 7 },
              simulator: { name: profile.simulatorName, module: './sim' },
            });
          } catch (error) {
            expect(error).toBeInstanceOf(UsageError);
          }
        },
      ),
    );
  });

  it('default ATRs and AIDs have legal lengths for any name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (name) => {
        expect(defaultAtr(name).length).toBeGreaterThanOrEqual(2);
        expect(defaultAtr(name).length).toBeLessThanOrEqual(17);
        expect(defaultAtr(name)[1]).toBe(defaultAtr(name).length - 2);
        expect(defaultAid(name).length).toBeGreaterThanOrEqual(5);
        expect(defaultAid(name).length).toBeLessThanOrEqual(16);
      }),
    );
  });

  it('parseHex and spacedHex round-trip bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes) => {
        expect(parseHex(spacedHex(bytes))).toEqual(bytes);
      }),
    );
  });
});

describe('create-minidriver-card (the built command)', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: temp });

  it('writes the package and says what to do next', () => {
    const result = run('from-bin', '--name', 'Bin Card');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Created minidriver-card-bin-card');
    expect(result.stdout).toContain('npm install');
    expect(existsSync(join(temp, 'from-bin', 'src', 'index.ts'))).toBe(true);
  });

  it('exits 2 with the problem and a hint on bad input', () => {
    const result = run('bad', '--name', 'Card', '--aid', 'zz');
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'create-minidriver-card: --aid "zz" is not hex bytes\nrun `create-minidriver-card --help` for usage\n',
    );
    expect(existsSync(join(temp, 'bad'))).toBe(false);
    expect(run('x').stderr).toContain('--name <CardName> is required');
    expect(run('x', '--name', 'A', '--bogus').status).toBe(2);
  });

  it('prints its usage with --help', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: create-minidriver-card <dir> --name <CardName>/);
  });
});
