/**
 * CardSession.cacheModeDecision: the cache mode of a session and why, for every way it is chosen
 * (docs/spec/minidriver.md §4.8): the plugin's answer with or without its CP_CACHE_MODE_REASON, no answer
 * (GLOBAL), an answer outside 1..3 (NO_CACHE), and CARD_DATA before 6 (GLOBAL).
 */
import { CacheMode, type CardPropertyName, type MinidriverPlugin, ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { CardSession } from './card-session.js';
import { DataCacheStore } from './data-cache.js';
import { createTestPlugin, MemoryCard, MemoryTransport } from './testing/memory-card.js';

/** The test plugin with CP_CARD_CACHE_MODE and CP_CACHE_MODE_REASON answered by `answers`. */
function pluginAnswering(answers: Partial<Record<CardPropertyName, () => unknown>>): MinidriverPlugin {
  const base = createTestPlugin();
  return {
    ...base,
    async acquireContext(context, flags) {
      const minidriver = await base.acquireContext(context, flags);
      return {
        ...minidriver,
        async getProperty(name, propertyFlags) {
          const answer = answers[name];
          return (answer === undefined ? minidriver.getProperty(name, propertyFlags) : answer()) as never;
        },
      };
    },
  };
}

const open = (plugin: MinidriverPlugin) =>
  CardSession.open(plugin, new MemoryTransport(new MemoryCard()), { cache: new DataCacheStore() });

const unsupported = () => {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'no such property');
};

describe('CardSession.cacheModeDecision', () => {
  it("carries the plugin's own reason when it gives one", async () => {
    const session = await open(
      pluginAnswering({
        'Cache Mode': () => CacheMode.SESSION_ONLY,
        'minidriver:Cache Mode Reason': () => 'cardcf cannot be written by the user',
      }),
    );
    expect(session.cacheModeDecision).toEqual({
      mode: CacheMode.SESSION_ONLY,
      reason: 'plugin-choice',
      detail: 'cardcf cannot be written by the user',
    });
  });

  it('a plugin without CP_CARD_CACHE_MODE runs GLOBAL, the specification default', async () => {
    const session = await open(pluginAnswering({ 'Cache Mode': unsupported }));
    expect(session.cacheModeDecision).toMatchObject({ mode: CacheMode.GLOBAL_CACHE, reason: 'plugin-default' });
  });

  it('an answer outside 1..3 caches nothing, and says what the plugin answered', async () => {
    const session = await open(pluginAnswering({ 'Cache Mode': () => 9 }));
    expect(session.cacheModeDecision).toEqual({
      mode: CacheMode.NO_CACHE,
      reason: 'plugin-invalid',
      detail: 'the plugin answered CP_CARD_CACHE_MODE 9, not 1..3: nothing is cached',
    });
  });

  it("a card error while reading the reason is the open's error, not a silent default", async () => {
    const failing = pluginAnswering({
      'Cache Mode': () => CacheMode.NO_CACHE,
      'minidriver:Cache Mode Reason': () => {
        throw new ScardError('SCARD_W_REMOVED_CARD', 'gone');
      },
    });
    await expect(open(failing)).rejects.toMatchObject({ name: 'SCARD_W_REMOVED_CARD' });
  });
});
