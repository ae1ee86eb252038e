/**
 * Test fixtures: throwaway applications in a temp directory with plugin packages in node_modules, in
 * plugin directories, or anywhere. Each fixture plugin's index.mjs records that it was imported
 * (globalThis.__minidriverImported) and, when a session acquires it, with which CARD_DATA version
 * (globalThis.__minidriverAcquired): that is how tests show which plugin code ran.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FixturePlugin {
  /** npm package name. */
  readonly name: string;
  /** The `minidriver` field, written as is (may be malformed on purpose). */
  readonly manifest: unknown;
  /** Plugin's cardDataVersions.current (default: the manifest's, else 7). */
  readonly current?: number;
  /** Hex AID the fixture plugin SELECTs in acquireContext (default: the manifest's first AID, if any). */
  readonly selectAid?: string;
}

declare global {
  var __minidriverImported: string[] | undefined;
  var __minidriverAcquired: { name: string; version: number; cardName: string }[] | undefined;
}

/** Names of fixture plugins imported so far in this process. */
export function importedPlugins(): string[] {
  return [...(globalThis.__minidriverImported ?? [])];
}

/** Acquisitions so far. */
export function acquiredPlugins(): { name: string; version: number; cardName: string }[] {
  return [...(globalThis.__minidriverAcquired ?? [])];
}

/** A temp directory that tests remove in afterAll. */
export function makeTempDir(prefix = 'minidriver-loader-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes a plugin package into `packageDir`. */
export function writePluginPackage(packageDir: string, fixture: FixturePlugin): void {
  mkdirSync(packageDir, { recursive: true });
  writeFileSync(
    join(packageDir, 'package.json'),
    JSON.stringify(
      { name: fixture.name, version: '1.0.0', type: 'module', main: './index.mjs', minidriver: fixture.manifest },
      null,
      2,
    ),
  );
  const manifest = (fixture.manifest ?? {}) as {
    cardDataVersions?: { min?: number; current?: number };
    aids?: string[];
  };
  const min = manifest.cardDataVersions?.min ?? 4;
  const current = fixture.current ?? manifest.cardDataVersions?.current ?? 7;
  const aid = fixture.selectAid ?? manifest.aids?.[0];
  writeFileSync(join(packageDir, 'index.mjs'), pluginSource(fixture.name, min, current, aid));
}

/** Writes a non-plugin package (no manifest). */
export function writePlainPackage(packageDir: string, name: string): void {
  mkdirSync(packageDir, { recursive: true });
  writeFileSync(join(packageDir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
  writeFileSync(
    join(packageDir, 'index.js'),
    `globalThis.__minidriverImported = [...(globalThis.__minidriverImported ?? []), ${JSON.stringify(name)}];\n`,
  );
}

/**
 * Creates an application: `<root>/package.json` depending on `dependencies` (each installed under
 * node_modules), plus `extraInstalled` packages present in node_modules but not declared.
 */
export function writeApplication(
  root: string,
  dependencies: readonly FixturePlugin[],
  options: {
    readonly plain?: readonly string[];
    readonly undeclared?: readonly FixturePlugin[];
    readonly missing?: readonly string[];
  } = {},
): void {
  mkdirSync(root, { recursive: true });
  const declared: Record<string, string> = {};
  for (const fixture of dependencies) {
    declared[fixture.name] = '1.0.0';
    writePluginPackage(join(root, 'node_modules', fixture.name), fixture);
  }
  for (const name of options.plain ?? []) {
    declared[name] = '1.0.0';
    writePlainPackage(join(root, 'node_modules', name), name);
  }
  for (const name of options.missing ?? []) declared[name] = '1.0.0';
  for (const fixture of options.undeclared ?? []) writePluginPackage(join(root, 'node_modules', fixture.name), fixture);
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'fixture-app', private: true, dependencies: declared }, null, 2),
  );
}

/** A manifest with the given ATR patterns and AIDs, CARD_DATA 4..7. */
export function manifestOf(
  name: string,
  atrs: readonly { atr: string; mask?: string; name?: string }[],
  aids: readonly string[] = [],
  versions: { min: number; current: number } = { min: 4, current: 7 },
): Record<string, unknown> {
  return { name, atrs, ...(aids.length > 0 ? { aids } : {}), cardDataVersions: versions };
}

function pluginSource(name: string, min: number, current: number, aid: string | undefined): string {
  const quotedName = JSON.stringify(name);
  const aidBytes = aid === undefined ? 'undefined' : JSON.stringify(aid.replace(/\s/g, ''));
  return `// Fixture plugin ${name}: records its import and its acquisitions.
globalThis.__minidriverImported = [...(globalThis.__minidriverImported ?? []), ${quotedName}];
const aidHex = ${aidBytes};
// Errors carry @minidriver/core's cross-copy marker, so the session recognises them as ScardError.
const scardError = (code, message) => Object.assign(new Error(message), { [Symbol.for('minidriver.scard-error')]: true, code });
const notHere = (what) => Promise.reject(scardError(0x80100022, what + ' is not implemented by fixture ' + ${quotedName}));
export const plugin = {
  name: ${quotedName},
  cardDataVersions: { min: ${min}, current: ${current} },
  async acquireContext(context) {
    if (aidHex !== undefined) {
      const aid = Uint8Array.from(aidHex.match(/../g).map((byte) => Number.parseInt(byte, 16)));
      const response = await context.transport.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, aid.length, ...aid, 0x00));
      const statusWord = (response[response.length - 2] << 8) | response[response.length - 1];
      if (statusWord !== 0x9000 && response[response.length - 2] !== 0x61) {
        throw Object.assign(new Error('application not found'), { code: 0x8010000d });
      }
    }
    globalThis.__minidriverAcquired = [...(globalThis.__minidriverAcquired ?? []), { name: ${quotedName}, version: context.version, cardName: context.cardName }];
    return {
      deleteContext: async () => undefined,
      queryCapabilities: async () => ({ version: 1, certificateCompression: false, keyGeneration: false }),
      getContainerInfo: () => notHere('getContainerInfo'),
      authenticatePin: () => notHere('authenticatePin'),
      readFile: () => Promise.reject(scardError(0x80100024, 'the fixture card has no files')),
      authenticateEx: () => notHere('authenticateEx'),
      deauthenticateEx: () => notHere('deauthenticateEx'),
      getContainerProperty: () => notHere('getContainerProperty'),
      // CP_CARD_CACHE_MODE: 3 = CP_CACHE_MODE_NO_CACHE.
      getProperty: async () => 3,
      setProperty: () => notHere('setProperty'),
      enumFiles: () => notHere('enumFiles'),
      getFileInfo: () => notHere('getFileInfo'),
      queryFreeSpace: () => notHere('queryFreeSpace'),
      queryKeySizes: () => notHere('queryKeySizes'),
      signData: () => notHere('signData'),
    };
  },
};
export default plugin;
`;
}
