/**
 * @packageDocumentation
 * Where an application lives: the nearest package.json above its entry point (the script Node was started
 * with), so that running it from any working directory — or from a sub-folder of the application — finds
 * the plugins its package.json declares. A package.json that only marks a folder's module type (no name,
 * no dependencies: `{ "type": "module" }` in a `dist/` folder) is not an application and is passed over.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const DEPENDENCY_FIELDS = ['dependencies', 'optionalDependencies', 'devDependencies'] as const;

function isApplicationManifest(path: string): boolean {
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    if (typeof json !== 'object' || json === null) return false;
    return typeof json['name'] === 'string' || DEPENDENCY_FIELDS.some((field) => field in json);
  } catch {
    // Unreadable or not JSON: discovery reports it when it reads the file; here it is not the root.
    return false;
  }
}

/**
 * The directory of the nearest application package.json at or above `entry` (a file or directory; default
 * the program's entry point, `process.argv[1]`). Falls back to `process.cwd()` when there is no entry point
 * (a REPL, `node -e`) or no package.json above it.
 */
export function findApplicationRoot(entry: string | undefined = process.argv[1]): string {
  if (typeof entry !== 'string' || entry.length === 0) return process.cwd();
  let directory = resolve(entry);
  if (!existsSync(directory)) return process.cwd();
  for (;;) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest) && isApplicationManifest(manifest)) return directory;
    const parent = dirname(directory);
    if (parent === directory) return process.cwd();
    directory = parent;
  }
}
