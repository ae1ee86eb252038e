/**
 * `@minidriver/card-gids`: the minidriver plugin for GIDS cards (Microsoft Generic Identity Device
 * Specification), built on @minidriver/card-kit. The simulator is in `@minidriver/card-gids/sim`.
 *
 * @packageDocumentation
 */
import type { MinidriverPlugin } from '@minidriver/spec';
import { GIDS_SECRET_APDUS } from './gids-commands.js';
import { CARDCF_FCP_CACHE_TAG, FILE_TABLE_CACHE_TAG } from './gids-file-system.js';
import { type GidsMinidriverOptions, openGidsMinidriver } from './gids-minidriver.js';

export { GidsApplication, type PinStatus } from './gids-application.js';
export { GIDS_SECRET_APDUS } from './gids-commands.js';
export type { GidsMinidriverOptions } from './gids-minidriver.js';

/** A GIDS plugin; `options.cacheMode` overrides the mode the card earns (GLOBAL when cardcf is writable). */
export function createGidsPlugin(options: GidsMinidriverOptions = {}): MinidriverPlugin {
  return {
    name: 'GIDS',
    cardDataVersions: { min: 4, current: 7 },
    acquireContext: (context) => openGidsMinidriver(context, options),
    secretApdus: GIDS_SECRET_APDUS,
    // The master file table and the FCP of cardcf's file, public, may outlive the process: a new process
    // whose card is proved present decides its cache mode and finds cardcf without reading them.
    publicPluginCacheEntries: [FILE_TABLE_CACHE_TAG, CARDCF_FCP_CACHE_TAG],
  };
}

/** The GIDS plugin with the card's own cache mode. */
export const plugin: MinidriverPlugin = createGidsPlugin();
export default plugin;
