/**
 * The directory of the persistent data cache: where it is, and whether it can be trusted. It must be a
 * real directory (not a symbolic link), owned by the user running the process, and closed to everyone
 * else (mode 0700); it is created so when missing. Anything else and the cache is not used.
 *
 * @packageDocumentation
 */
import { constants } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * `$XDG_CACHE_HOME/minidriver`, else `~/.cache/minidriver` (on Windows `%LOCALAPPDATA%\minidriver\cache`).
 * A relative XDG_CACHE_HOME is ignored, as the XDG Base Directory specification says.
 */
export function defaultCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'minidriver');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'minidriver', 'cache');
  return join(homedir(), '.cache', 'minidriver');
}

/** The uid of this process, or undefined where there are none (Windows). */
export function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** Bits of a mode that give access to the group or to others. */
export const SHARED_MODE_BITS = 0o077;

/**
 * Creates `directory` (0700) when it is missing, then checks it. Returns undefined when it can be used,
 * else why not (for the one warning).
 */
export async function prepareCacheDirectory(directory: string): Promise<string | undefined> {
  if (!isAbsolute(directory)) return `${directory} is not an absolute path`;
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    // EEXIST on a symbolic link or a file is reported by the checks below.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      return `${directory} cannot be created (${describe(error)})`;
  }
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(directory);
  } catch (error) {
    return `${directory} cannot be examined (${describe(error)})`;
  }
  if (stats.isSymbolicLink()) return `${directory} is a symbolic link`;
  if (!stats.isDirectory()) return `${directory} is not a directory`;
  const uid = currentUid();
  if (uid !== undefined && stats.uid !== uid) return `${directory} is owned by another user (uid ${stats.uid})`;
  if (uid !== undefined && (stats.mode & SHARED_MODE_BITS) !== 0)
    return `${directory} is open to other users (mode ${(stats.mode & 0o777).toString(8)}, 700 expected)`;
  return undefined;
}

/** `O_NOFOLLOW` where the platform has it: opening a symbolic link fails instead of following it. */
export const NO_FOLLOW: number = constants.O_NOFOLLOW ?? 0;

/** A short reason from a file system error. */
export function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
