/**
 * The trust policy: the loader's counterpart of the specification's rule that Windows loads
 * only signed minidrivers. Checked for the chosen plugin before any of its code is imported.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ScardError } from '@minidriver/spec';
import type { PluginRecord } from './plugin-record.js';

/** One package the application allows, with the integrity of its code. */
export interface TrustedPackage {
  /** The npm package name. */
  readonly name: string;
  /** `sha256-<base64>`, `sha384-...` or `sha512-...`, as computed by {@link computePluginIntegrity}. */
  readonly integrity: string;
}

/**
 * `'installed'` (default): a plugin is trusted when the application's package.json declares it as a
 * dependency, or when the application registered the plugin module object itself (its code already ran
 * by the application's choice). Plugins found only in a plugin directory, or registered by a name or
 * path the application does not depend on, are refused.
 *
 * `{ allow }`: only the listed packages, and only when their code hashes to the listed integrity.
 * Module objects registered by the application are trusted under both policies.
 */
export type TrustPolicy = 'installed' | { readonly allow: readonly TrustedPackage[] };

const ALGORITHMS = new Set(['sha256', 'sha384', 'sha512']);

/**
 * Throws SCARD_W_SECURITY_VIOLATION, naming the package and the rule it failed, unless `record` is
 * allowed by `policy`. Reads (hashes) the package's files for an allowlist; imports nothing.
 */
export async function assertTrusted(
  record: PluginRecord,
  policy: TrustPolicy,
  applicationDependencies: ReadonlySet<string>,
): Promise<void> {
  if (record.module !== undefined) return;
  if (policy === 'installed') {
    if (record.source === 'installed' || applicationDependencies.has(record.packageName)) return;
    throw new ScardError(
      'SCARD_W_SECURITY_VIOLATION',
      `plugin ${record.packageName} refused by trust policy 'installed': it is not a dependency of the application ` +
        `(found ${record.source === 'directory' ? 'in a plugin directory' : 'through explicit registration'}); ` +
        'declare it as a dependency or list it with its integrity in trust.allow',
    );
  }
  const allowed = policy.allow.find((entry) => entry.name === record.packageName);
  if (!allowed) {
    throw new ScardError(
      'SCARD_W_SECURITY_VIOLATION',
      `plugin ${record.packageName} refused by trust policy allowlist: the package is not in trust.allow`,
    );
  }
  if (record.packageDir === undefined) {
    throw new ScardError(
      'SCARD_W_SECURITY_VIOLATION',
      `plugin ${record.packageName} refused: no package files to check`,
    );
  }
  const algorithm = allowed.integrity.split('-', 1)[0] ?? '';
  if (!ALGORITHMS.has(algorithm)) {
    throw new ScardError(
      'SCARD_W_SECURITY_VIOLATION',
      `plugin ${record.packageName} refused by trust policy allowlist: integrity "${allowed.integrity}" is not sha256-, sha384- or sha512-`,
    );
  }
  const actual = await computePluginIntegrity(record.packageDir, algorithm as 'sha256');
  if (actual !== allowed.integrity) {
    throw new ScardError(
      'SCARD_W_SECURITY_VIOLATION',
      `plugin ${record.packageName} refused by trust policy allowlist: integrity mismatch (allowed ${allowed.integrity}, package code hashes to ${actual})`,
    );
  }
}

/**
 * The integrity of a plugin package's code, in Subresource Integrity form (`sha256-<base64>`): a hash
 * over every file of the package directory except `node_modules` and dot-folders, in code-point order of
 * their POSIX relative paths, each contributing `path NUL size NUL content`. Changing, adding, removing
 * or renaming any file changes it.
 */
export async function computePluginIntegrity(
  packageDir: string,
  algorithm: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): Promise<string> {
  const files = await listPackageFiles(packageDir);
  const hash = createHash(algorithm);
  for (const file of files) {
    const content = await readFile(join(packageDir, file));
    hash.update(`${file}\0${content.length}\0`);
    hash.update(content);
  }
  return `${algorithm}-${hash.digest('base64')}`;
}

async function listPackageFiles(packageDir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(relative(packageDir, path).split(sep).join('/'));
    }
  };
  try {
    await walk(packageDir);
  } catch (error) {
    throw ScardError.from(error, `hashing plugin package ${packageDir}`);
  }
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
