/**
 * @minidriver/card-piv — the minidriver plugin for PIV cards (NIST SP 800-73-4 / -5: government PIV and CAC
 * cards, YubiKey, Nitrokey, PIVKey …), and PivApplication for direct use of the PIV card edge. The
 * simulator lives at the subpath `@minidriver/card-piv/sim`.
 *
 * @packageDocumentation
 */
import { CacheMode, type MinidriverPlugin } from '@minidriver/spec';
import { PIV_SECRET_APDUS } from './piv-commands.js';
import { openPivMinidriver, type PivMinidriverOptions } from './piv-minidriver.js';

export { encryptManagementChallenge, PivApplication } from './piv-application.js';
export { PinPolicy, PivAlgorithmId } from './piv-commands.js';
export type { PivMinidriverOptions } from './piv-minidriver.js';
export type { CertificateObject, Chuid, PivPublicKey, SlotMetadata } from './piv-objects.js';
export { CONTAINER_SLOTS, PIV_CONTAINER_COUNT, PUK_PIN_ID, SIGNATURE_PIN_ID } from './piv-slots.js';

/** A PIV plugin with options (e.g. `cacheMode: CacheMode.SESSION_ONLY` where nothing else writes the card). */
export function createPivPlugin(options: PivMinidriverOptions = {}): MinidriverPlugin {
  return {
    name: 'PIV',
    cardDataVersions: { min: 4, current: 7 },
    acquireContext: (context) => openPivMinidriver(context, options),
    secretApdus: PIV_SECRET_APDUS,
  };
}

/** The PIV plugin (cache mode NO_CACHE, see README). */
export const plugin: MinidriverPlugin = createPivPlugin({ cacheMode: CacheMode.NO_CACHE });

export default plugin;
