/**
 * @minidriver/card-openpgp — the minidriver plugin for OpenPGP cards (v2.x/v3.x: YubiKey, Nitrokey, Gnuk,
 * SmartPGP, …). The simulator lives at the subpath `@minidriver/card-openpgp/sim`.
 *
 * @packageDocumentation
 */
import { SIGNATURE_PIN_ID as KIT_SIGNATURE_PIN_ID } from '@minidriver/card-kit';
import type { MinidriverPlugin } from '@minidriver/spec';
import { OPENPGP_SECRET_APDUS } from './openpgp-commands.js';
import { isProvableOpenPgpEntry } from './openpgp-freshness.js';
import { openOpenPgpMinidriver } from './openpgp-minidriver.js';

export { OpenPgpApplication } from './openpgp-application.js';
export { RESETTING_CODE_PIN_ID } from './openpgp-authentication.js';
export { applicationDataWitness, isProvableOpenPgpEntry } from './openpgp-freshness.js';
export {
  type ApplicationData,
  cardIdFromAid,
  computeFingerprint,
  decodeAid,
  decodeApplicationData,
  encodePublicKeyPacket,
  type OpenPgpAid,
} from './openpgp-objects.js';

/** PIN 4: PW1 in its signature role (VERIFY 81), the kit's one value for a signature PIN. */
export const SIGNATURE_PIN_ID: typeof KIT_SIGNATURE_PIN_ID = KIT_SIGNATURE_PIN_ID;

/** An OpenPGP plugin: containers 0 SIG, 1 DEC, 2 AUT; PW1 = ROLE_USER, PW3 = ROLE_ADMIN. */
export function createOpenPgpPlugin(): MinidriverPlugin {
  return {
    name: 'OpenPGP',
    cardDataVersions: { min: 4, current: 7 },
    acquireContext: (context) => openOpenPgpMinidriver(context),
    secretApdus: OPENPGP_SECRET_APDUS,
    // Key data is proved fresh by 6E; certificates are not (docs/cache.md).
    provableCacheEntries: isProvableOpenPgpEntry,
  };
}

/** The OpenPGP plugin. */
export const plugin: MinidriverPlugin = createOpenPgpPlugin();

export default plugin;
