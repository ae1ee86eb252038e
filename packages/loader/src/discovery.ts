/**
 * Discovery: finds plugin manifests in package.json files without importing any plugin code.
 * Sources: the application's declared dependencies (resolved the way Node resolves packages, walking up
 * node_modules directories), directories of plugin packages, and packages registered by name.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ScardError } from '@minidriver/spec';
import { problemOf, validateManifest } from './manifest.js';
import type { LoaderWarning, PluginRecord, PluginSource } from './plugin-record.js';

/** A package.json as read from disk. */
export interface PackageJsonFile {
  readonly packageDir: string;
  readonly json: Record<string, unknown>;
}

/** What a discovery pass produced. */
export interface DiscoveryResult {
  readonly records: PluginRecord[];
  readonly warnings: LoaderWarning[];
}

/** The dependency fields of the application's package.json that discovery reads, by default. */
export const DEFAULT_DEPENDENCY_FIELDS = ['dependencies', 'optionalDependencies', 'devDependencies'] as const;

/** Reads and parses `<packageDir>/package.json`; undefined when the file does not exist. */
export async function readPackageJson(packageDir: string): Promise<PackageJsonFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(packageDir, 'package.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return undefined;
    }
    throw ScardError.from(error, `reading ${join(packageDir, 'package.json')}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScardError(
      'SCARD_E_INVALID_PARAMETER',
      `${join(packageDir, 'package.json')} is not valid JSON: ${problemOf(error)}`,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `${join(packageDir, 'package.json')} is not a JSON object`);
  }
  return { packageDir, json: json as Record<string, unknown> };
}

/**
 * Finds an installed package's directory as Node does: `<dir>/node_modules/<name>` from `fromDir`
 * up to the filesystem root. Undefined when it is not installed.
 */
export async function findPackageDir(name: string, fromDir: string): Promise<string | undefined> {
  return (await findPackage(name, fromDir))?.packageDir;
}

/** Like {@link findPackageDir}, returning the package.json it read. Throws when that file is not JSON. */
export async function findPackage(name: string, fromDir: string): Promise<PackageJsonFile | undefined> {
  let dir = resolve(fromDir);
  for (;;) {
    const file = await readPackageJson(join(dir, 'node_modules', name));
    if (file) return file;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Turns a package.json into a plugin record. Undefined (no warning) for a package without a
 * `minidriver` field; undefined with a warning for a malformed manifest.
 */
export function recordFromPackage(
  file: PackageJsonFile,
  source: PluginSource,
  warnings: LoaderWarning[],
  expectedName?: string,
): PluginRecord | undefined {
  const packageName = typeof file.json.name === 'string' ? file.json.name : (expectedName ?? file.packageDir);
  if (!('minidriver' in file.json)) return undefined;
  try {
    const validated = validateManifest(file.json.minidriver);
    return {
      packageName,
      ...(typeof file.json.version === 'string' ? { packageVersion: file.json.version } : {}),
      packageDir: file.packageDir,
      source,
      manifest: validated.manifest,
      patterns: validated.patterns,
      aids: validated.aids,
    };
  } catch (error) {
    warnings.push({
      code: 'malformed-manifest',
      packageName,
      message: `${packageName}: malformed "minidriver" manifest skipped: ${problemOf(error)}`,
    });
    return undefined;
  }
}

/** Reads the manifests of the dependencies declared in `<applicationRoot>/package.json`. */
export async function discoverInstalled(
  applicationRoot: string,
  dependencyFields: readonly string[] = DEFAULT_DEPENDENCY_FIELDS,
): Promise<DiscoveryResult & { readonly dependencyNames: ReadonlySet<string> }> {
  const warnings: LoaderWarning[] = [];
  let application: PackageJsonFile | undefined;
  try {
    application = await readPackageJson(applicationRoot);
  } catch (error) {
    warnings.push({ code: 'unreadable-package', message: `the application's package.json: ${problemOf(error)}` });
  }
  const names = new Set<string>();
  for (const field of dependencyFields) {
    const declared = application?.json[field];
    if (typeof declared === 'object' && declared !== null) for (const name of Object.keys(declared)) names.add(name);
  }
  const found = await Promise.all(
    [...names].sort().map(async (name) => {
      try {
        const file = await findPackage(name, applicationRoot);
        if (!file) {
          warnings.push({
            code: 'missing-dependency',
            packageName: name,
            message: `${name}: declared but not installed`,
          });
          return undefined;
        }
        return recordFromPackage(file, 'installed', warnings, name);
      } catch (error) {
        warnings.push({ code: 'unreadable-package', packageName: name, message: `${name}: ${problemOf(error)}` });
        return undefined;
      }
    }),
  );
  return { records: found.filter((record) => record !== undefined), warnings, dependencyNames: names };
}

/** Reads the manifests of every package directly in `directory` (and in its `@scope/` folders). */
export async function discoverDirectory(directory: string): Promise<DiscoveryResult> {
  const warnings: LoaderWarning[] = [];
  const packageDirs: string[] = [];
  try {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
      const path = join(directory, entry.name);
      if (entry.name.startsWith('@')) {
        for (const scoped of await readdir(path, { withFileTypes: true })) {
          if (scoped.isDirectory() || scoped.isSymbolicLink()) packageDirs.push(join(path, scoped.name));
        }
      } else if (!entry.name.startsWith('.')) {
        packageDirs.push(path);
      }
    }
  } catch (error) {
    warnings.push({ code: 'unreadable-package', message: `plugin directory ${directory}: ${problemOf(error)}` });
    return { records: [], warnings };
  }
  packageDirs.sort();
  const found = await Promise.all(
    packageDirs.map(async (packageDir) => {
      try {
        const file = await readPackageJson(packageDir);
        return file ? recordFromPackage(file, 'directory', warnings) : undefined;
      } catch (error) {
        warnings.push({ code: 'unreadable-package', message: `${packageDir}: ${problemOf(error)}` });
        return undefined;
      }
    }),
  );
  return { records: found.filter((record) => record !== undefined), warnings };
}

/**
 * Plugin packages installed in `<applicationRoot>/node_modules` (top level and `@scope/` folders) that the
 * application's package.json does not declare: what a "no plugin found" message points at. Reads only
 * package.json files; unreadable entries are passed over.
 */
export async function findUndeclaredPlugins(applicationRoot: string, declared: ReadonlySet<string>): Promise<string[]> {
  const modules = join(applicationRoot, 'node_modules');
  const candidates: string[] = [];
  try {
    for (const entry of await readdir(modules, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      if (entry.name.startsWith('@')) {
        try {
          for (const scoped of await readdir(join(modules, entry.name))) candidates.push(`${entry.name}/${scoped}`);
        } catch {
          // An unreadable scope folder holds nothing we can name.
        }
      } else {
        candidates.push(entry.name);
      }
    }
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const name of candidates.sort()) {
    if (declared.has(name)) continue;
    try {
      const file = await readPackageJson(join(modules, name));
      if (file && 'minidriver' in file.json) found.push(name);
    } catch {
      // Not a readable package: not a plugin we could load either.
    }
  }
  return found;
}
