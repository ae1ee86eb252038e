/**
 * CardSession in GLOBAL mode with a persistent store: what one "process" (a DataCacheStore and a
 * PersistentCacheStore instance of its own) saves, the next one uses after checking cardcf; a change by
 * another writer that bumps cardcf is seen; what the plugin cannot prove fresh is never saved and lives
 * one transaction only; a hostile directory costs one warning and nothing else.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MinidriverPlugin } from '@minidriver/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PersistentCacheStore } from '../cache-store/persistent-store.js';
import { CardSession } from './card-session.js';
import { DataCacheStore } from './data-cache.js';
import { createTestPlugin, MemoryCard, MemoryTransport } from './testing/memory-card.js';
import { withTransaction } from './with-transaction.js';

const CERTIFICATE = Uint8Array.from({ length: 200 }, (_, index) => index & 0xff);
const PIN = new TextEncoder().encode('123456');
let directory: string;
let warnings: string[];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'minidriver-session-store-'));
  warnings = [];
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function cardWithCertificate(): MemoryCard {
  const card = new MemoryCard();
  card.files.set('mscp/kxc00', CERTIFICATE);
  return card;
}

/** A session as a new process opens it: its own process store and its own persistent store instance. */
async function newProcess(card: MemoryCard, plugin: MinidriverPlugin & { calls: string[] } = createTestPlugin()) {
  const session = await CardSession.open(plugin, new MemoryTransport(card), {
    cache: new DataCacheStore(),
    persistentCache: new PersistentCacheStore({ directory, onWarning: (message) => warnings.push(message) }),
  });
  return { session, plugin };
}

describe('CardSession with a persistent store (GLOBAL mode)', () => {
  it('a new process answers a logon from what the previous one saved, after one cardcf check', async () => {
    const card = cardWithCertificate();
    const first = await newProcess(card);
    expect(await first.session.readFile('mscp', 'kxc00')).toEqual(CERTIFICATE);
    await first.session.enumFiles('mscp');
    await first.session.close();
    expect(await readdir(directory)).toHaveLength(1);

    const second = await newProcess(card);
    const calls = second.plugin.calls.length;
    expect(await second.session.readFile('mscp', 'kxc00')).toEqual(CERTIFICATE);
    expect(await second.session.enumFiles('mscp')).toContain('kxc00');
    expect(second.plugin.calls.slice(calls)).toEqual(['readFile /cardcf', 'readFile /cardcf']);
    expect(second.session.stats()).toMatchObject({ cacheHits: 2, cacheMisses: 0 });
    // In one transaction of the caller's, opening and the logon cost cardid + cardcf, once.
    const third = createTestPlugin();
    const transport = new MemoryTransport(card);
    await withTransaction(transport, async () => {
      const session = await CardSession.open(third, transport, {
        cache: new DataCacheStore(),
        persistentCache: new PersistentCacheStore({ directory }),
      });
      await session.readFile('mscp', 'kxc00');
      await session.enumFiles('mscp');
      await session.close();
    });
    expect(third.calls.filter((call) => call.startsWith('readFile'))).toEqual(['readFile /cardid', 'readFile /cardcf']);
  });

  it('a write by another writer that bumps cardcf is seen by the next process', async () => {
    const card = cardWithCertificate();
    const first = await newProcess(card);
    await first.session.readFile('mscp', 'kxc00');
    await first.session.close();
    // Another program (no persistent store) writes the certificate: the session bumps the files counter.
    const other = await CardSession.open(createTestPlugin(), new MemoryTransport(card), {
      cache: new DataCacheStore(),
    });
    await other.authenticatePin('user', PIN);
    const replacement = Uint8Array.of(1, 2, 3);
    await other.writeFile('mscp', 'kxc00', replacement);
    await other.close();
    expect(card.files.get('/cardcf')?.[4]).toBe(1);

    const next = await newProcess(card);
    expect(await next.session.readFile('mscp', 'kxc00')).toEqual(replacement);
    expect(next.session.stats()).toMatchObject({ cacheHits: 0, cacheMisses: 1 });
    await next.session.close();
    // Our own write bumps exactly the files counter, and what we saved afterwards is valid for it.
    const ours = await newProcess(card);
    await ours.session.authenticatePin('user', PIN);
    await ours.session.writeFile('mscp', 'kxc00', CERTIFICATE);
    await ours.session.close();
    expect([...(card.files.get('/cardcf') ?? [])]).toEqual([0, 0, 0, 0, 2, 0]);
    const last = await newProcess(card);
    expect(await last.session.readFile('mscp', 'kxc00')).toEqual(CERTIFICATE);
  });

  it('keeps what the plugin cannot prove fresh out of the store, and for one transaction only', async () => {
    const card = cardWithCertificate();
    const plugin = Object.assign(createTestPlugin(), {
      provableCacheEntries: (_namespace: string, tag: string) => !/^mscp\/k[xs]c/.test(tag),
    });
    const first = await newProcess(card, plugin);
    await first.session.readFile('mscp', 'kxc00');
    await first.session.readFile(null, 'cardapps');
    const reads = () => plugin.calls.filter((call) => call === 'readFile mscp/kxc00').length;
    // A later transaction reads the certificate again; cardapps stays cached.
    await first.session.readFile('mscp', 'kxc00');
    expect(reads()).toBe(2);
    expect(first.session.stats().cacheHits).toBe(0);
    await first.session.readFile(null, 'cardapps');
    expect(first.session.stats().cacheHits).toBe(1);
    await first.session.close();
    const [name] = await readdir(directory);
    const saved = await readFile(join(directory, name as string), 'utf8');
    expect(saved).toContain('/cardapps');
    expect(saved).not.toContain('kxc00');
  });

  it('a cache directory that is a symbolic link: one warning, the card answers, nothing written there', async () => {
    const target = join(directory, 'target');
    await mkdir(target, { mode: 0o700 });
    const link = join(directory, 'link');
    await symlink(target, link);
    const card = cardWithCertificate();
    for (let run = 0; run < 2; run++) {
      const session = await CardSession.open(createTestPlugin(), new MemoryTransport(card), {
        cache: new DataCacheStore(),
        persistentCache: new PersistentCacheStore({ directory: link, onWarning: (message) => warnings.push(message) }),
      });
      expect(await session.readFile('mscp', 'kxc00')).toEqual(CERTIFICATE);
      await session.close();
    }
    expect(await readdir(target)).toEqual([]);
    // One warning per store instance (= per process).
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/is a symbolic link/);
  });
});
