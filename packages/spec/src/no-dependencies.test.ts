import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const sourceDirectory = new URL('./', import.meta.url);

describe('@minidriver/spec has no runtime dependencies', () => {
  it('declares none in package.json', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.peerDependencies).toBeUndefined();
    expect(manifest.optionalDependencies).toBeUndefined();
  });

  it('imports nothing but its own modules (not even node: built-ins) outside tests', () => {
    const files = readdirSync(sourceDirectory).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const text = readFileSync(new URL(file, sourceDirectory), 'utf8');
      const specifiers = [...text.matchAll(/from '([^']+)'/g)].map((match) => match[1]);
      expect(
        specifiers.filter((specifier) => !specifier!.startsWith('./')),
        file,
      ).toEqual([]);
    }
  });
});
