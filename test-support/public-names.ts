/**
 * The public names of a package, for its exports snapshot test: every entry point its package.json
 * exports (through the `source` condition), each with its runtime names and its type-only names, as the
 * TypeScript compiler sees them (so `export *` barrels are followed).
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** Runtime and type-only names of one entry point. */
export interface EntryNames {
  readonly values: string[];
  readonly types: string[];
}

/** The `source` file of every entry of the package whose package.json is `packageJsonPath`, by subpath. */
export function sourceEntries(packageJsonPath: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { exports?: Record<string, unknown> };
  const entries: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (target !== null && typeof target === 'object' && typeof (target as { source?: unknown }).source === 'string') {
      entries[subpath] = join(dirname(packageJsonPath), (target as { source: string }).source);
    }
  }
  return entries;
}

/** The exported names of each entry, sorted, split into runtime values and types. */
export function publicNames(entries: Record<string, string>): Record<string, EntryNames> {
  const program = ts.createProgram(Object.values(entries), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    customConditions: ['source'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const result: Record<string, EntryNames> = {};
  for (const [subpath, file] of Object.entries(entries)) {
    const source = program.getSourceFile(file);
    const symbol = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (symbol === undefined) throw new Error(`cannot read the exports of ${file}`);
    const values: string[] = [];
    const types: string[] = [];
    for (const exported of checker.getExportsOfModule(symbol)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
      (isValue ? values : types).push(exported.getName());
    }
    result[subpath] = { values: values.sort(), types: types.sort() };
  }
  return result;
}

/**
 * The exports snapshot test of the package around `testFileUrl` (a file in its `src/`): the public names
 * of every entry equal `src/exports.snapshot.json` (checked in; written on a first local run, refused in
 * CI), and the runtime exports of each entry are exactly its declared values.
 */
export async function checkPublicNames(testFileUrl: string): Promise<void> {
  const { expect } = await import('vitest');
  const packageJson = fileURLToPath(new URL('../package.json', testFileUrl));
  const entries = sourceEntries(packageJson);
  const names = publicNames(entries);
  for (const [subpath, file] of Object.entries(entries)) {
    const runtime = Object.keys(await import(pathToFileURL(file).href)).filter((name) => name !== 'default');
    expect(runtime.sort(), `runtime exports of ${subpath}`).toEqual(
      names[subpath]!.values.filter((name) => name !== 'default'),
    );
  }
  await expect(`${JSON.stringify(names, null, 2)}\n`).toMatchFileSnapshot(
    fileURLToPath(new URL('./exports.snapshot.json', testFileUrl)),
  );
}
