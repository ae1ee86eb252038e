/**
 * The persistent data cache store: the public data the data cache holds for a card, shared by every
 * process of one user through files in one private directory ({@link defaultCacheDirectory}).
 *
 * - One file per card, named by a hash of the card's key (plugin + card identity), holding the cardcf
 *   contents its entries were read under: whoever loads it validates that against the card before any
 *   use (the session does), so the store never decides freshness.
 * - Written atomically (a private temporary file renamed over the entry), so a reader in another
 *   process sees the old file or the new one, never a mix; concurrent writers each leave a whole file.
 * - Bounded: after a write, the least recently used entries are removed until the directory holds at
 *   most `maxEntries` files and `maxBytes` bytes.
 * - An entry that is corrupted, truncated, for another card, not a regular file, not ours or readable by
 *   others is ignored (it is replaced by the next write), never trusted.
 * - A directory that is a symbolic link, owned by another user, open to others, unwritable or full turns
 *   the store off for the process with one warning; loads then find nothing and saves do nothing, and
 *   nothing is ever written outside the directory.
 *
 * @packageDocumentation
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir, rename, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import {
  currentUid,
  defaultCacheDirectory,
  describe,
  NO_FOLLOW,
  prepareCacheDirectory,
  SHARED_MODE_BITS,
} from './cache-directory.js';
import { decodeEntryFile, encodeEntryFile, type PersistedCard } from './entry-file.js';

/** Options of a {@link PersistentCacheStore}. */
export interface PersistentCacheStoreOptions {
  /** The directory (default {@link defaultCacheDirectory}). */
  readonly directory?: string;
  /** Most bytes of entry files kept (default 8 MiB). */
  readonly maxBytes?: number;
  /** Most entry files (cards) kept (default 64). */
  readonly maxEntries?: number;
  /** Largest entry file read or written (default 1 MiB): a card with more data is not persisted. */
  readonly maxEntryBytes?: number;
  /** Receives the one warning when the store turns itself off (default: `process.emitWarning`). */
  readonly onWarning?: (message: string) => void;
}

const ENTRY_SUFFIX = '.mdcache';
const TEMPORARY_SUFFIX = '.tmp';
/** Temporary files older than this are leftovers of a process that died while writing. */
const STALE_TEMPORARY_MS = 10 * 60 * 1000;

/** Statistics of one store (this process only). */
export interface PersistentCacheStats {
  readonly loads: number;
  readonly hits: number;
  readonly saves: number;
  readonly evicted: number;
}

/** See the module documentation. */
export class PersistentCacheStore {
  readonly directory: string;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private readonly maxEntryBytes: number;
  private readonly onWarning: (message: string) => void;
  private ready: Promise<boolean> | undefined;
  private warning: string | undefined;
  private counters = { loads: 0, hits: 0, saves: 0, evicted: 0 };

  constructor(options: PersistentCacheStoreOptions = {}) {
    this.directory = options.directory ?? defaultCacheDirectory();
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.maxEntries = options.maxEntries ?? 64;
    this.maxEntryBytes = options.maxEntryBytes ?? 1024 * 1024;
    this.onWarning =
      options.onWarning ?? ((message) => process.emitWarning(message, { code: 'MINIDRIVER_CACHE_DISABLED' }));
  }

  /** Why the store is off (the warning given), or undefined while it is in use. */
  get disabledReason(): string | undefined {
    return this.warning;
  }

  /** Counters of this process. */
  stats(): PersistentCacheStats {
    return { ...this.counters };
  }

  /** The data saved for `cardKey`, or undefined (none, unusable, or the store is off). Never throws. */
  async load(cardKey: string): Promise<PersistedCard | undefined> {
    if (!(await this.usable())) return undefined;
    this.counters.loads++;
    const path = this.pathOf(cardKey);
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, constants.O_RDONLY | NO_FOLLOW);
      const stats = await handle.stat();
      if (!stats.isFile() || stats.size > this.maxEntryBytes || !this.isOurs(stats)) return undefined;
      const bytes = await handle.readFile();
      const card = decodeEntryFile(cardKey, bytes);
      if (card === undefined) return undefined;
      this.counters.hits++;
      // Recently used: eviction goes by modification time.
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined);
      return card;
    } catch {
      return undefined;
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  /**
   * Replaces what is saved for `cardKey` (atomically), then evicts past the bounds. Returns whether it
   * was written. Never throws: a failure of the directory turns the store off with the one warning.
   */
  async save(cardKey: string, card: PersistedCard): Promise<boolean> {
    if (!(await this.usable())) return false;
    let bytes: Buffer;
    try {
      bytes = encodeEntryFile(cardKey, card);
    } catch {
      return false;
    }
    if (bytes.length > this.maxEntryBytes) return false;
    const path = this.pathOf(cardKey);
    const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}${TEMPORARY_SUFFIX}`;
    let handle: FileHandle | undefined;
    try {
      // O_EXCL + O_NOFOLLOW: a new private file of our own, never one somebody placed there.
      handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, 0o600);
      await handle.writeFile(bytes);
      await handle.close();
      handle = undefined;
      await rename(temporary, path);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
      this.disable(`${this.directory} cannot be written (${describe(error)})`);
      return false;
    }
    this.counters.saves++;
    await this.evict(path);
    return true;
  }

  /** Removes what is saved for `cardKey` (nothing when there is none). Never throws. */
  async delete(cardKey: string): Promise<void> {
    if (!(await this.usable())) return;
    await unlink(this.pathOf(cardKey)).catch(() => undefined);
  }

  /** The entry file of a card: a hash of its key, so no key can name a path outside the directory. */
  private pathOf(cardKey: string): string {
    return join(this.directory, `${createHash('sha256').update(cardKey).digest('hex').slice(0, 40)}${ENTRY_SUFFIX}`);
  }

  private isOurs(stats: { uid: number; mode: number; nlink: number }): boolean {
    const uid = currentUid();
    if (uid === undefined) return true;
    return stats.uid === uid && (stats.mode & SHARED_MODE_BITS) === 0 && stats.nlink === 1;
  }

  private usable(): Promise<boolean> {
    this.ready ??= prepareCacheDirectory(this.directory).then((problem) => {
      if (problem !== undefined) this.disable(problem);
      return problem === undefined;
    });
    return this.ready.then((ok) => ok && this.warning === undefined);
  }

  private disable(problem: string): void {
    if (this.warning !== undefined) return;
    this.warning = `minidriver data cache off: ${problem}; cards are read directly`;
    this.onWarning(this.warning);
  }

  /** Least recently used entries out until within bounds; leftovers of dead writers out. */
  private async evict(justWritten: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return;
    }
    const now = Date.now();
    const entries: { path: string; size: number; time: number }[] = [];
    for (const name of names) {
      const path = join(this.directory, name);
      const stats = await lstat(path).catch(() => undefined);
      if (!stats?.isFile()) continue;
      if (name.endsWith(TEMPORARY_SUFFIX)) {
        if (now - stats.mtimeMs > STALE_TEMPORARY_MS) await unlink(path).catch(() => undefined);
      } else if (name.endsWith(ENTRY_SUFFIX)) {
        entries.push({ path, size: stats.size, time: stats.mtimeMs });
      }
    }
    let total = entries.reduce((sum, entry) => sum + entry.size, 0);
    let count = entries.length;
    entries.sort((left, right) => left.time - right.time);
    for (const entry of entries) {
      if (total <= this.maxBytes && count <= this.maxEntries) break;
      if (entry.path === justWritten) continue;
      try {
        await unlink(entry.path);
        this.counters.evicted++;
      } catch {
        // Removed by another process meanwhile.
      }
      total -= entry.size;
      count--;
    }
  }
}
