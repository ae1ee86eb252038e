/**
 * docs/writing-a-plugin.md is held to its word: every TypeScript sample is compiled (strict, against this
 * repository's packages), every manifest sample passes the loader's validation, and its table of required
 * entry points is the contract's.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateManifest } from '@minidriver/loader';
import { ENTRY_POINT_VERSION, type EntryPointName, REQUIRED_ENTRY_POINTS } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';

const repository = fileURLToPath(new URL('../../../', import.meta.url));
const guide = readFileSync(join(repository, 'docs', 'writing-a-plugin.md'), 'utf8');

/** The fenced blocks of `language`, in order. */
function blocks(language: string): string[] {
  const pattern = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  return [...guide.matchAll(pattern)].map((match) => match[1] as string);
}

describe('docs/writing-a-plugin.md', () => {
  it('every TypeScript sample compiles against the repository packages', () => {
    const samples = blocks('ts');
    expect(samples.length).toBeGreaterThanOrEqual(7);
    // Inside this package, so its node_modules resolve the @minidriver packages (to their sources).
    const project = join(repository, 'tools', 'release-e2e', '.guide-samples');
    rmSync(project, { recursive: true, force: true });
    const files = samples.map((sample, index) => {
      const named = /^\/\/ file: (\S+)\n/.exec(sample)?.[1];
      const file = named ?? `sample-${index + 1}.ts`;
      mkdirSync(dirname(join(project, file)), { recursive: true });
      writeFileSync(join(project, file), sample);
      return file;
    });
    expect(new Set(files).size).toBe(files.length);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          lib: ['es2023'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          customConditions: ['source'],
          types: ['node'],
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          noEmit: true,
        },
        include: files,
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [join(repository, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project],
      {
        encoding: 'utf8',
      },
    );
    try {
      expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
      expect(tsc.status).toBe(0);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('every manifest sample passes the loader', () => {
    const manifests = blocks('json').filter((block) => block.trimStart().startsWith('"minidriver"'));
    expect(manifests.length).toBeGreaterThanOrEqual(1);
    for (const block of manifests) {
      const { minidriver } = JSON.parse(`{${block}}`) as { minidriver: unknown };
      expect(() => validateManifest(minidriver)).not.toThrow();
    }
  });

  it("its table of required entry points is the contract's REQUIRED_ENTRY_POINTS", () => {
    const table = /\| CARD_DATA version \| entry points a plugin must implement \|\n\|---\|---\|\n((?:\|.*\|\n)+)/.exec(
      guide,
    )?.[1];
    expect(table).toBeDefined();
    const documented = new Map<string, number>();
    for (const row of (table as string).trim().split('\n')) {
      const [, version, names] = /^\| (\d) \| (.*) \|$/.exec(row) ?? [];
      for (const name of (names ?? '').matchAll(/`(\w+)`/g)) documented.set(name[1] as string, Number(version));
    }
    const required = new Map(
      (Object.entries(REQUIRED_ENTRY_POINTS) as [EntryPointName, boolean][])
        .filter(([, isRequired]) => isRequired)
        .map(([name]) => [name as string, ENTRY_POINT_VERSION[name] as number]),
    );
    expect(documented).toEqual(required);
  });
});
