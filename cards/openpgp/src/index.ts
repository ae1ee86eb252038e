/**
 * @module @minidriver/card-openpgp — the minidriver plugin for OpenPGP cards (v2.x/v3.x: YubiKey, Nitrokey,
 * Gnuk, SmartPGP, …). The simulator lives at the subpath `@minidriver/card-openpgp/sim`.
 */
import type { CardContext, Minidriver, MinidriverPlugin } from '@minidriver/core';
import { OPENPGP_SECRET_APDUS } from './openpgp-commands.js';
import { OpenPgpMinidriver } from './openpgp-minidriver.js';

export { OpenPgpApplication } from './openpgp-application.js';
export { OpenPgpMinidriver, RESETTING_CODE_PIN_ID, SIGNATURE_PIN_ID } from './openpgp-minidriver.js';
export {
  type ApplicationData,
  cardIdFromAid,
  computeFingerprint,
  decodeAid,
  decodeApplicationData,
  encodePublicKeyPacket,
  type OpenPgpAid,
} from './openpgp-objects.js';

/** The OpenPGP plugin: containers 0 SIG, 1 DEC, 2 AUT; PW1 = ROLE_USER, PW3 = ROLE_ADMIN. */
export const plugin: MinidriverPlugin = {
  name: 'OpenPGP',
  cardDataVersions: { min: 4, current: 7 },
  async acquireContext(context: CardContext, _flags: number): Promise<Minidriver> {
    return OpenPgpMinidriver.open(context);
  },
  secretApdus: OPENPGP_SECRET_APDUS,
};

export default plugin;
