/**
 * @module The loader the CLI uses: plugins are the card packages the CLI depends on (its package.json),
 * discovered from the CLI's own package directory, not from the user's working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Loader, type LoaderWarning } from '@minidriver/loader';

/** The directory of the @minidriver/cli package (found by walking up from this file). */
export function cliPackageDirectory(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@minidriver/cli')
          return directory;
      } catch {
        // Not ours; keep walking.
      }
    }
    const parent = dirname(directory);
    if (parent === directory) return process.cwd();
    directory = parent;
  }
}

/** A loader over the CLI's card packages; warnings are collected, not printed. */
export function createCliLoader(warnings: LoaderWarning[] = []): Loader {
  return new Loader({ applicationRoot: cliPackageDirectory(), onWarning: (warning) => warnings.push(warning) });
}

/** The version of @minidriver/cli (from its package.json). */
export function cliVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(join(cliPackageDirectory(), 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
