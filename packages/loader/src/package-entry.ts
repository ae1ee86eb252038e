/**
 * Finds the file to import for a plugin package: the manifest's `entry`, else the package's main
 * export (`exports["."]` under the given conditions, then `module`, then `main`, then index.js).
 */
import { join } from 'node:path';
import { ScardError } from '@minidriver/spec';
import type { PackageJsonFile } from './discovery.js';

/** Export conditions tried, in order, after any the application adds. */
export const DEFAULT_CONDITIONS = ['import', 'node', 'default'] as const;

/** The absolute path of the module that provides the plugin. */
export function resolvePluginEntry(
  file: PackageJsonFile,
  manifestEntry: string | undefined,
  conditions: readonly string[],
): string {
  if (manifestEntry !== undefined) return join(file.packageDir, manifestEntry);
  const { exports } = file.json;
  if (exports !== undefined && exports !== null) {
    const root = pickRootExport(exports);
    const target = root === undefined ? undefined : pickCondition(root, conditions);
    if (typeof target !== 'string') {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `${String(file.json.name)}: its "exports" has no "." entry for conditions ${conditions.join(', ')}`,
      );
    }
    return join(file.packageDir, target);
  }
  if (typeof file.json.module === 'string') return join(file.packageDir, file.json.module);
  if (typeof file.json.main === 'string') return join(file.packageDir, file.json.main);
  return join(file.packageDir, 'index.js');
}

/**
 * The absolute path of a package subpath (`./sim`): its `exports` entry under the given conditions when
 * the package has `exports`, else the file it names relative to the package.
 */
export function resolvePackageSubpath(file: PackageJsonFile, subpath: string, conditions: readonly string[]): string {
  const { exports } = file.json;
  if (typeof exports === 'object' && exports !== null && !Array.isArray(exports)) {
    const entry = (exports as Record<string, unknown>)[subpath];
    if (entry !== undefined) {
      const target = pickCondition(entry, conditions);
      if (typeof target !== 'string') {
        throw new ScardError(
          'SCARD_E_INVALID_PARAMETER',
          `${String(file.json.name)}: its "exports" entry "${subpath}" has no target for conditions ${conditions.join(', ')}`,
        );
      }
      return join(file.packageDir, target);
    }
  }
  return join(file.packageDir, subpath);
}

function pickRootExport(exports: unknown): unknown {
  if (typeof exports === 'string' || Array.isArray(exports)) return exports;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const keys = Object.keys(exports);
  if (keys.some((key) => key.startsWith('.'))) return (exports as Record<string, unknown>)['.'];
  return exports; // a conditions object for the root
}

function pickCondition(target: unknown, conditions: readonly string[]): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const picked = pickCondition(item, conditions);
      if (picked !== undefined) return picked;
    }
    return undefined;
  }
  if (typeof target !== 'object' || target === null) return undefined;
  // Node walks the object's keys in order and takes the first condition it supports.
  for (const [key, value] of Object.entries(target)) {
    if (conditions.includes(key)) {
      const picked = pickCondition(value, conditions);
      if (picked !== undefined) return picked;
    }
  }
  return undefined;
}
