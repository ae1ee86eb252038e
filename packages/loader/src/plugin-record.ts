/**
 * What the loader knows about one plugin before importing it: where it came from, its package,
 * and its validated manifest.
 */
import type { MinidriverPlugin, PluginManifest } from '@minidriver/spec';
import type { AtrPattern } from './atr-pattern.js';

/**
 * Where a plugin was found. Also its precedence when two plugins match equally well:
 * `explicit` (loader.register) before `directory` (options.pluginDirectories) before `installed`
 * (the application's dependencies).
 */
export type PluginSource = 'explicit' | 'directory' | 'installed';

/** Lower = preferred. */
export const SOURCE_RANK: Readonly<Record<PluginSource, number>> = { explicit: 0, directory: 1, installed: 2 };

/** A module that provides a plugin: `{ plugin }`, `{ default }`, or the plugin itself. */
export type PluginModule =
  | { readonly plugin?: MinidriverPlugin; readonly default?: MinidriverPlugin; readonly manifest?: PluginManifest }
  | MinidriverPlugin;

/** One plugin the loader knows, code not yet imported (unless it was registered as a module). */
export interface PluginRecord {
  /** The npm package name (for a module object: `manifest.name`, prefixed with `module:`). */
  readonly packageName: string;
  /** The package's version from its package.json, when known. */
  readonly packageVersion?: string;
  /** Absolute path of the package directory; absent for a plugin registered as a module object. */
  readonly packageDir?: string;
  readonly source: PluginSource;
  readonly manifest: PluginManifest;
  readonly patterns: readonly { readonly pattern: AtrPattern; readonly name?: string }[];
  readonly aids: readonly Uint8Array[];
  /** The module, for plugins registered as module objects (nothing to import). */
  readonly module?: PluginModule;
}

/** Something the loader wants the application to know, without failing. */
export interface LoaderWarning {
  /**
   * `malformed-manifest`: a package's manifest was skipped; `unreadable-package`: a package.json could not
   * be read or parsed; `missing-dependency`: a dependency is declared but not installed;
   * `atr-conflict`: two packages match an ATR equally well; `duplicate-package`: the same package was
   * found twice (the one with the higher-precedence source is kept).
   */
  readonly code:
    | 'malformed-manifest'
    | 'unreadable-package'
    | 'missing-dependency'
    | 'atr-conflict'
    | 'duplicate-package';
  /** The package concerned (the first one, for a conflict). */
  readonly packageName?: string;
  readonly message: string;
}
