import { describe, expect, it } from 'vitest';
import { CardDataCache } from './data-cache.js';
import { applyFreshness } from './freshness.js';

const counters = (containersFreshness: number, filesFreshness: number) => ({
  version: 1,
  pinsFreshness: 0,
  containersFreshness,
  filesFreshness,
});

describe('what a cardcf counter change drops (docs/spec/minidriver.md §4.8)', () => {
  it('a containers change (another process created a key) drops container entries and the cached cmapfile only', () => {
    const cache = new CardDataCache();
    cache.freshness = counters(1, 1);
    cache.set('file', 'mscp/cmapfile', Uint8Array.of(1));
    cache.set('file', 'mscp/kxc00', Uint8Array.of(2));
    cache.set('container', 'info/0', Uint8Array.of(3));
    expect(applyFreshness(cache, counters(2, 1))).toEqual(['containers']);
    expect(cache.get('file', 'mscp/cmapfile')).toBeUndefined();
    expect(cache.get('container', 'info/0')).toBeUndefined();
    expect(cache.get('file', 'mscp/kxc00')).toEqual(Uint8Array.of(2));
  });

  it('a files change keeps container entries', () => {
    const cache = new CardDataCache();
    cache.freshness = counters(1, 1);
    cache.set('file', 'mscp/cmapfile', Uint8Array.of(1));
    cache.set('container', 'info/0', Uint8Array.of(3));
    expect(applyFreshness(cache, counters(1, 2))).toEqual(['files']);
    expect(cache.get('file', 'mscp/cmapfile')).toBeUndefined();
    expect(cache.get('container', 'info/0')).toEqual(Uint8Array.of(3));
  });
});
