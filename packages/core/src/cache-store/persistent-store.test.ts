import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultCacheDirectory } from './cache-directory.js';
import { type CacheValue, encodeCacheValue } from './cache-value.js';
import { decodeEntryFile, encodeEntryFile, type PersistedCard } from './entry-file.js';
import { PersistentCacheStore } from './persistent-store.js';
import { isPublicCacheEntry } from './public-data.js';

const CARD: PersistedCard = {
  freshness: { version: 0, pinsFreshness: 1, containersFreshness: 2, filesFreshness: 3, trailing: Uint8Array.of(7, 7) },
  entries: [
    { namespace: 'file', tag: 'mscp/cmapfile', value: Uint8Array.of(1, 2, 3) },
    { namespace: 'file', tag: 'mscp/kxc00', value: new Uint8Array(700).fill(0x30) },
    { namespace: 'container', tag: 'info:0', value: { version: 1, signaturePublicKey: Uint8Array.of(9, 9) } },
    { namespace: 'container', tag: 'keysizes:1', value: { minimum: 1024, maximum: 2048, increment: 1024 } },
  ],
};
const KEY = 'PIV:00112233445566778899aabbccddeeff';
const isRoot = process.getuid?.() === 0;

let root: string;
let warnings: string[];
const storeAt = (directory: string, extra: Partial<ConstructorParameters<typeof PersistentCacheStore>[0]> = {}) =>
  new PersistentCacheStore({ directory, onWarning: (message) => warnings.push(message), ...extra });
const entryFiles = async (directory: string) => (await readdir(directory)).filter((name) => name.endsWith('.mdcache'));

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'minidriver-cache-test-'));
  warnings = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the cache directory', () => {
  it('is $XDG_CACHE_HOME/minidriver, else ~/.cache/minidriver (a relative XDG_CACHE_HOME is ignored)', () => {
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: '/x/cache' })).toBe(join('/x/cache', 'minidriver'));
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: 'relative' })).toMatch(/\.cache[/\\]minidriver$/);
    expect(defaultCacheDirectory({})).toMatch(/\.cache[/\\]minidriver$/);
  });
});

describe('PersistentCacheStore', () => {
  it('saves and loads a card across store instances; directory 0700, files 0600', async () => {
    const directory = join(root, 'nested', 'minidriver');
    expect(await storeAt(directory).save(KEY, CARD)).toBe(true);
    const loaded = await storeAt(directory).load(KEY);
    expect(loaded).toEqual(CARD);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    const [file] = await entryFiles(directory);
    expect((await stat(join(directory, file as string))).mode & 0o777).toBe(0o600);
    expect(await storeAt(directory).load('PIV:another card')).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('ignores a truncated, edited, garbage or misplaced entry, and the next save replaces it', async () => {
    const store = storeAt(root);
    await store.save(KEY, CARD);
    const [name] = await entryFiles(root);
    const path = join(root, name as string);
    const good = await readFile(path);
    const damaged = [
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from(' ')]),
      Buffer.from(good).fill(0x41, 100, 101),
      Buffer.from('not a cache entry'),
      Buffer.alloc(0),
    ];
    for (const bytes of damaged) {
      await writeFile(path, bytes, { mode: 0o600 });
      expect(await storeAt(root).load(KEY)).toBeUndefined();
    }
    // Another card's (valid) entry copied under this card's name.
    await writeFile(path, encodeEntryFile('PIV:ffff', CARD), { mode: 0o600 });
    expect(await storeAt(root).load(KEY)).toBeUndefined();
    expect(await store.save(KEY, CARD)).toBe(true);
    expect(await storeAt(root).load(KEY)).toEqual(CARD);
    expect(warnings).toEqual([]);
  });

  it('any single changed byte of an entry file makes it no entry (property)', () => {
    const good = encodeEntryFile(KEY, CARD);
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (position, delta) => {
        const bytes = Buffer.from(good);
        bytes[position] = ((bytes[position] as number) + delta) & 0xff;
        expect(decodeEntryFile(KEY, bytes)).toBeUndefined();
      }),
    );
  });

  it('decodes random bytes to no entry, never throws (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string(), (bytes, text) => {
        expect(decodeEntryFile(KEY, bytes)).toBeUndefined();
        expect(decodeEntryFile(KEY, Buffer.from(`minidriver-cache 1 ${'0'.repeat(64)}\n${text}`))).toBeUndefined();
      }),
    );
  });

  it('does not trust an entry readable by others, a symbolic link, or a second hard link', async () => {
    const store = storeAt(root);
    await store.save(KEY, CARD);
    const [name] = await entryFiles(root);
    const path = join(root, name as string);
    await chmod(path, 0o644);
    expect(await store.load(KEY)).toBeUndefined();
    await chmod(path, 0o600);
    await link(path, join(root, 'elsewhere'));
    expect(await store.load(KEY)).toBeUndefined();
    await rm(join(root, 'elsewhere'));
    expect(await store.load(KEY)).toEqual(CARD);
    const outside = await mkdtemp(join(tmpdir(), 'minidriver-cache-outside-'));
    try {
      await writeFile(join(outside, 'entry'), await readFile(path), { mode: 0o600 });
      await rm(path);
      await symlink(join(outside, 'entry'), path);
      expect(await store.load(KEY)).toBeUndefined();
      // Saving replaces the link itself; the file it pointed to is untouched.
      const before = await readFile(join(outside, 'entry'));
      expect(await store.save(KEY, { ...CARD, entries: [] })).toBe(true);
      expect(await readFile(join(outside, 'entry'))).toEqual(before);
      expect(await store.load(KEY)).toEqual({ ...CARD, entries: [] });
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it.skipIf(!isRoot)('does not trust an entry owned by another user (needs root to chown)', async () => {
    const store = storeAt(root);
    await store.save(KEY, CARD);
    const [name] = await entryFiles(root);
    await chown(join(root, name as string), 65534, 65534);
    expect(await store.load(KEY)).toBeUndefined();
    expect(await store.save(KEY, CARD)).toBe(true);
    expect(await store.load(KEY)).toEqual(CARD);
  });

  it('turns itself off with one warning on a directory that is a symbolic link; nothing is written at its target', async () => {
    const target = join(root, 'target');
    await mkdir(target, { mode: 0o700 });
    const directory = join(root, 'minidriver');
    await symlink(target, directory);
    const store = storeAt(directory);
    expect(await store.save(KEY, CARD)).toBe(false);
    expect(await store.load(KEY)).toBeUndefined();
    expect(await store.save('PIV:other', CARD)).toBe(false);
    expect(await readdir(target)).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/minidriver data cache off: .* is a symbolic link; cards are read directly/);
    expect(store.disabledReason).toBe(warnings[0]);
  });

  it('turns itself off on a directory open to other users, or that is a file', async () => {
    const open = join(root, 'open');
    await mkdir(open, { mode: 0o755 });
    await chmod(open, 0o755);
    expect(await storeAt(open).save(KEY, CARD)).toBe(false);
    expect(await readdir(open)).toEqual([]);
    const file = join(root, 'file');
    await writeFile(file, 'x');
    expect(await storeAt(file).load(KEY)).toBeUndefined();
    expect(warnings.map((warning) => warning.replace(root, '<root>'))).toEqual([
      'minidriver data cache off: <root>/open is open to other users (mode 755, 700 expected); cards are read directly',
      'minidriver data cache off: <root>/file is not a directory; cards are read directly',
    ]);
  });

  it('turns itself off on a directory owned by another user', async () => {
    const directory = join(root, 'foreign');
    await mkdir(directory, { mode: 0o700 });
    // As root: hand it to nobody. Otherwise: the system's temporary directory already belongs to root.
    if (isRoot) await chown(directory, 65534, 65534);
    const foreign = isRoot ? directory : '/';
    expect(await storeAt(foreign).save(KEY, CARD)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(isRoot ? /is owned by another user \(uid 65534\)/ : /owned by another user|open to/);
    if (isRoot) expect(await readdir(directory)).toEqual([]);
  });

  describe('on a file system that refuses writes', () => {
    const mountReason = (): string | undefined => {
      if (!isRoot) return 'mounting a small tmpfs needs root';
      try {
        const probe = join(tmpdir(), `minidriver-mount-probe-${process.pid}`);
        execFileSync('mkdir', ['-p', probe]);
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k,mode=0700', 'tmpfs', probe], { stdio: 'ignore' });
        execFileSync('umount', [probe]);
        execFileSync('rmdir', [probe]);
        return undefined;
      } catch {
        return 'this machine does not allow mounting a tmpfs';
      }
    };
    const reason = mountReason();
    let mounted: string | undefined;
    afterEach(() => {
      if (mounted) execFileSync('umount', [mounted]);
      mounted = undefined;
    });

    it.skipIf(reason !== undefined)(
      `warns once when the disk is full, leaves no partial file (${reason ?? 'tmpfs'})`,
      async () => {
        mounted = join(root, 'full');
        await mkdir(mounted);
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k,mode=0700', 'tmpfs', mounted]);
        await writeFile(join(mounted, 'filler'), Buffer.alloc(12 * 1024));
        const store = storeAt(mounted);
        const big: PersistedCard = {
          ...CARD,
          entries: [{ namespace: 'file', tag: 'mscp/kxc00', value: new Uint8Array(8000) }],
        };
        expect(await store.save(KEY, big)).toBe(false);
        expect(await store.save(KEY, CARD)).toBe(false);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/cannot be written \(ENOSPC\)/);
        expect(await readdir(mounted)).toEqual(['filler']);
      },
    );

    it.skipIf(reason !== undefined)(`warns once when the directory is read-only (${reason ?? 'tmpfs'})`, async () => {
      mounted = join(root, 'readonly');
      await mkdir(mounted);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=16k,mode=0700', 'tmpfs', mounted]);
      const store = storeAt(mounted);
      expect(await store.save(KEY, CARD)).toBe(false);
      expect(await store.load(KEY)).toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/cannot be written \(EROFS\)/);
    });
  });

  it('warns once when the directory is not writable (chmod 500; as root, in a child without CAP_DAC_OVERRIDE)', async () => {
    await chmod(root, 0o500);
    try {
      if (!isRoot) {
        expect(await storeAt(root).save(KEY, CARD)).toBe(false);
      } else {
        // Root ignores modes: the same save runs in a root child whose capability bounding set drops
        // dac_override and dac_read_search, so the 0500 directory refuses it exactly as for any user.
        const dist = resolve(import.meta.dirname, '../../dist/index.js');
        const script = `import { PersistentCacheStore } from ${JSON.stringify(dist)};
          const warnings = [];
          const store = new PersistentCacheStore({ directory: process.argv[1], onWarning: (m) => warnings.push(m) });
          const card = { freshness: { version: 0, pinsFreshness: 1, containersFreshness: 2, filesFreshness: 3,
            trailing: Uint8Array.of(7, 7) }, entries: [{ namespace: 'file', tag: 'mscp/cmapfile', value: Uint8Array.of(1, 2, 3) }] };
          const saved = await store.save(${JSON.stringify(KEY)}, card);
          process.stdout.write(JSON.stringify({ saved, warnings }));`;
        const out = execFileSync(
          'setpriv',
          [
            '--bounding-set=-dac_override,-dac_read_search',
            '--inh-caps=-all',
            process.execPath,
            '--input-type=module',
            '-e',
            script,
            root,
          ],
          { encoding: 'utf8' },
        );
        const child = JSON.parse(out) as { saved: boolean; warnings: string[] };
        expect(child.saved).toBe(false);
        warnings.push(...child.warnings);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/cannot be written \(EACCES\)/);
      expect(await entryFiles(root)).toEqual([]);
    } finally {
      await chmod(root, 0o700);
    }
  });

  it('keeps at most maxEntries cards, evicting the least recently used', async () => {
    const store = storeAt(root, { maxEntries: 3 });
    const past = Date.now() / 1000 - 1000;
    for (let card = 0; card < 3; card++) {
      await store.save(`card ${card}`, CARD);
      // Distinct ages without sleeping.
      const names = await entryFiles(root);
      for (const name of names) {
        const { mtimeMs } = await stat(join(root, name));
        await utimes(join(root, name), past + card, Math.min(mtimeMs / 1000, past + card));
      }
    }
    // Using card 0 makes it recent: card 1 is now the oldest.
    expect(await store.load('card 0')).toEqual(CARD);
    await store.save('card 3', CARD);
    expect(await entryFiles(root)).toHaveLength(3);
    expect(await store.load('card 1')).toBeUndefined();
    expect(await store.load('card 0')).toEqual(CARD);
    expect(await store.load('card 3')).toEqual(CARD);
    expect(store.stats().evicted).toBe(1);
  });

  it('keeps at most maxBytes, and never writes an entry larger than maxEntryBytes', async () => {
    const size = encodeEntryFile('card 0', CARD).length;
    const store = storeAt(root, { maxBytes: size * 2 + 10, maxEntryBytes: size + 10 });
    for (let card = 0; card < 4; card++) await store.save(`card ${card}`, CARD);
    expect(await entryFiles(root)).toHaveLength(2);
    const huge: PersistedCard = {
      ...CARD,
      entries: [{ namespace: 'file', tag: 'mscp/kxc01', value: new Uint8Array(size) }],
    };
    expect(await store.save('huge', huge)).toBe(false);
    expect(await store.load('huge')).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('removes the temporary files of writers that died, and never reads them', async () => {
    const leftover = join(root, 'abc.mdcache.1234.deadbeef.tmp');
    await mkdir(root, { recursive: true });
    await writeFile(leftover, 'half written', { mode: 0o600 });
    const old = Date.now() / 1000 - 3600;
    await utimes(leftover, old, old);
    await storeAt(root).save(KEY, CARD);
    expect(existsSync(leftover)).toBe(false);
  });

  it('holds only public data: certificates, cmapfile, cardid, cardapps, root store, container data', () => {
    expect(isPublicCacheEntry('file', 'mscp/cmapfile')).toBe(true);
    expect(isPublicCacheEntry('file', 'mscp/kxc00')).toBe(true);
    expect(isPublicCacheEntry('file', 'mscp/ksc0a')).toBe(true);
    expect(isPublicCacheEntry('file', 'mscp/msroots')).toBe(true);
    expect(isPublicCacheEntry('file', '/cardid')).toBe(true);
    expect(isPublicCacheEntry('file', '/cardapps')).toBe(true);
    expect(isPublicCacheEntry('file', 'mscp/')).toBe(true);
    expect(isPublicCacheEntry('file', 'app/')).toBe(false);
    expect(isPublicCacheEntry('container', 'info:0')).toBe(true);
    expect(isPublicCacheEntry('file', '/cardcf')).toBe(false);
    expect(isPublicCacheEntry('file', 'app/private')).toBe(false);
    expect(isPublicCacheEntry('file', 'mscp/kxc000')).toBe(false);
    expect(isPublicCacheEntry('plugin', 'anything')).toBe(false);
  });
});

describe('PersistentCacheStore across processes', () => {
  const dist = resolve(__dirname, '../../dist/index.js');

  it('concurrent writers and readers only ever see whole entries of one writer', async () => {
    expect(existsSync(dist), `build @minidriver/core first (${dist})`).toBe(true);
    const child = (writer: number) =>
      new Promise<string>((done, fail) => {
        const script = `
          const { PersistentCacheStore } = await import(${JSON.stringify(`file://${dist}`)});
          const store = new PersistentCacheStore({ directory: ${JSON.stringify(root)}, onWarning: (m) => { console.log('WARN ' + m); } });
          let seen = 0, torn = 0;
          for (let round = 0; round < 40; round++) {
            const mark = ${writer} * 1000 + round;
            const value = new Uint8Array(3000).fill(mark & 0xff);
            await store.save('shared card', { freshness: { version: 0, pinsFreshness: 0, containersFreshness: mark, filesFreshness: 0 },
              entries: [{ namespace: 'file', tag: 'mscp/kxc00', value }, { namespace: 'container', tag: 'info:0', value: { mark } }] });
            const card = await store.load('shared card');
            if (card) {
              seen++;
              const m = card.entries[1].value.mark;
              const ok = card.freshness.containersFreshness === m && card.entries[0].value.every((b) => b === (m & 0xff));
              if (!ok) torn++;
            }
          }
          console.log(JSON.stringify({ seen, torn }));`;
        const process_ = spawn(process.execPath, ['--input-type=module', '-e', script], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        process_.stdout.on('data', (chunk) => {
          out += chunk;
        });
        process_.on('error', fail);
        process_.on('exit', (code) =>
          code === 0 ? done(out.trim()) : fail(new Error(`writer ${writer} exited ${code}`)),
        );
      });
    const results = (await Promise.all([0, 1, 2, 3].map(child))).map(
      (line) => JSON.parse(line) as { seen: number; torn: number },
    );
    for (const result of results) {
      expect(result.torn).toBe(0);
      expect(result.seen).toBeGreaterThan(0);
    }
    // One whole entry remains, and no temporary file.
    expect(await readdir(root)).toHaveLength(1);
  }, 60_000);
});

describe('entry files', () => {
  it('refuse a freshness that is not the cardcf counters in range', () => {
    // A well-formed file (right digest) whose freshness member is `freshness`, encoded as the writer would.
    const withFreshness = (freshness: Record<string, unknown>) => {
      const body = JSON.parse(encodeEntryFile(KEY, CARD).toString('utf8').split('\n')[1] as string);
      body.freshness = encodeCacheValue(freshness as CacheValue);
      const text = JSON.stringify(body);
      const digest = createHash('sha256').update(text).digest('hex');
      return decodeEntryFile(KEY, Buffer.from(`minidriver-cache 1 ${digest}\n${text}`));
    };
    expect(withFreshness({ version: 0, pinsFreshness: 0, containersFreshness: 0, filesFreshness: 0 })).toBeDefined();
    expect(
      withFreshness({ version: 0, pinsFreshness: 256, containersFreshness: 0, filesFreshness: 0 }),
    ).toBeUndefined();
    expect(
      withFreshness({ version: 0, pinsFreshness: 0, containersFreshness: 65536, filesFreshness: 0 }),
    ).toBeUndefined();
    expect(withFreshness({ version: 0, pinsFreshness: 0, containersFreshness: 0 })).toBeUndefined();
    expect(
      withFreshness({ version: 0.5, pinsFreshness: 0, containersFreshness: 0, filesFreshness: 0 }),
    ).toBeUndefined();
    expect(
      withFreshness({ version: 0, pinsFreshness: 0, containersFreshness: 0, filesFreshness: 0, extra: 1 }),
    ).toBeUndefined();
    expect(
      withFreshness({ version: 0, pinsFreshness: 0, containersFreshness: 0, filesFreshness: 0, trailing: 'ab' }),
    ).toBeUndefined();
  });
});
