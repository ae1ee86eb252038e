import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PersistentCacheStore } from '../cache-store/persistent-store.js';
import { CardDataCache } from './data-cache.js';
import { applyFreshness, changedCategories } from './freshness.js';
import { PersistentCacheLink } from './persistent-cache.js';

const FRESH = { version: 0, pinsFreshness: 1, containersFreshness: 2, filesFreshness: 3 };
let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'minidriver-link-test-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function filledCache(): CardDataCache {
  const cache = new CardDataCache();
  cache.freshness = FRESH;
  cache.set('file', 'mscp/cmapfile', Uint8Array.of(1));
  cache.set('file', 'mscp/kxc00', Uint8Array.of(2));
  cache.set('file', 'app/secret', Uint8Array.of(3));
  cache.set('container', 'info:0', { publicKey: Uint8Array.of(4) });
  cache.set('plugin', 'anything', Uint8Array.of(5));
  return cache;
}

describe('PersistentCacheLink', () => {
  it('saves the public entries and restores them, with their cardcf, into an empty cache in another "process"', async () => {
    await new PersistentCacheLink(new PersistentCacheStore({ directory }), 'P:card', true).saveIfChanged(filledCache());
    const restored = new CardDataCache();
    expect(
      await new PersistentCacheLink(new PersistentCacheStore({ directory }), 'P:card', true).restore(restored),
    ).toBe(true);
    expect(restored.freshness).toEqual(FRESH);
    expect(restored.entriesOf('file')).toEqual([
      ['mscp/cmapfile', Uint8Array.of(1)],
      ['mscp/kxc00', Uint8Array.of(2)],
    ]);
    expect(restored.entriesOf('container')).toEqual([['info:0', { publicKey: Uint8Array.of(4) }]]);
    expect(restored.entriesOf('plugin')).toEqual([]);
  });

  it('keeps what the plugin cannot prove fresh out of the store', async () => {
    const onlyContainers = (namespace: string) => namespace === 'container';
    await new PersistentCacheLink(new PersistentCacheStore({ directory }), 'P:card', onlyContainers).saveIfChanged(
      filledCache(),
    );
    const restored = new CardDataCache();
    await new PersistentCacheLink(new PersistentCacheStore({ directory }), 'P:card', true).restore(restored);
    expect(restored.entriesOf('file')).toEqual([]);
    expect(restored.entriesOf('container')).toHaveLength(1);
  });

  it('writes only when the entries or the cardcf changed', async () => {
    const store = new PersistentCacheStore({ directory });
    const link = new PersistentCacheLink(store, 'P:card', true);
    const cache = filledCache();
    await link.saveIfChanged(cache);
    await link.saveIfChanged(cache);
    expect(store.stats().saves).toBe(1);
    cache.freshness = { ...FRESH, filesFreshness: 4 };
    await link.saveIfChanged(cache);
    cache.set('file', 'mscp/ksc01', Uint8Array.of(9));
    await link.saveIfChanged(cache);
    expect(store.stats().saves).toBe(3);
    expect(await readdir(directory)).toHaveLength(1);
  });

  it('never restores over a cache that already holds data', async () => {
    await new PersistentCacheLink(new PersistentCacheStore({ directory }), 'P:card', true).saveIfChanged(filledCache());
    const busy = new CardDataCache();
    busy.set('file', 'mscp/cmapfile', Uint8Array.of(7));
    expect(await new PersistentCacheLink(new PersistentCacheStore({ directory }), 'P:card', true).restore(busy)).toBe(
      false,
    );
    expect(busy.get('file', 'mscp/cmapfile')).toEqual(Uint8Array.of(7));
  });
});

describe('cardcf trailing bytes (a plugin witness of the card state)', () => {
  it('a change of them invalidates every category; equal ones change nothing', () => {
    const witness = (byte: number) => ({ ...FRESH, trailing: Uint8Array.of(byte, 2, 3) });
    expect(changedCategories(witness(1), witness(1))).toEqual([]);
    expect(changedCategories(witness(1), witness(9))).toEqual(['pins', 'containers', 'files']);
    expect(changedCategories(FRESH, witness(1))).toEqual(['pins', 'containers', 'files']);
    const cache = filledCache();
    cache.freshness = witness(1);
    applyFreshness(cache, witness(2));
    expect(cache.size).toBe(0);
  });
});
