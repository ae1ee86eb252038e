/**
 * `pnpm run docs` (typedoc) covers every public library package: each package with a main export is under one
 * of typedoc.json's entry points and has the src/index.ts typedoc reads. (Executables, the CLI and the
 * scaffolder, have no library export.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repository = fileURLToPath(new URL('../../../', import.meta.url));

describe('pnpm run docs', () => {
  it('documents every public library package', () => {
    const config = JSON.parse(readFileSync(join(repository, 'typedoc.json'), 'utf8')) as {
      entryPoints: string[];
      entryPointStrategy: string;
      packageOptions: { entryPoints: string[] };
    };
    expect(config.entryPointStrategy).toBe('packages');
    const rootPackage = JSON.parse(readFileSync(join(repository, 'package.json'), 'utf8'));
    expect(rootPackage.scripts.docs).toBe('typedoc');
    const covered = new Set(config.entryPoints.map((glob) => glob.replace(/\/\*$/, '')));
    const libraries: string[] = [];
    for (const group of ['packages', 'cards', 'tools']) {
      for (const entry of readdirSync(join(repository, group), { withFileTypes: true })) {
        const file = join(repository, group, entry.name, 'package.json');
        if (!entry.isDirectory() || !existsSync(file)) continue;
        const pkg = JSON.parse(readFileSync(file, 'utf8'));
        if (pkg.private === true || pkg.exports?.['.'] === undefined) continue;
        libraries.push(pkg.name);
        expect(covered.has(group), `${pkg.name} (${group}/${entry.name}) is outside typedoc's entry points`).toBe(true);
        for (const source of config.packageOptions.entryPoints) {
          expect(existsSync(join(repository, group, entry.name, source)), `${pkg.name}: ${source}`).toBe(true);
        }
      }
    }
    expect(libraries).toEqual(
      expect.arrayContaining(['@minidriver/core', '@minidriver/loader', '@minidriver/card-piv']),
    );
  });
});
