/**
 * What the GIDS plugin answers about the card's PINs and the cache mode the card earns: pure decisions,
 * kept apart from the minidriver entry points.
 */
import { decodeTlv, findTlvValue } from '@minidriver/iso7816';
import {
  CacheMode,
  createPinSet,
  PinCachePolicyType,
  type PinInfo,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
} from '@minidriver/spec';
import type { GidsApplication } from './gids-application.js';
import type { GidsFileSystem } from './gids-file-system.js';

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/**
 * The PIN_INFO of each GIDS role: the user PIN (changed by the user, unblocked by the admin) and the admin
 * key (challenge/response). Any other PIN id is SCARD_E_INVALID_PARAMETER.
 */
export function gidsPinInfo(pinId: number): PinInfo {
  const normal = { type: PinCachePolicyType.PinCacheNormal, info: 0 } as const;
  if (pinId === ROLE_USER) {
    return {
      pinType: SecretType.AlphaNumericPinType,
      purpose: SecretPurpose.PrimaryCardPin,
      changePermission: createPinSet(ROLE_USER),
      unblockPermission: createPinSet(ROLE_ADMIN),
      cachePolicy: normal,
      flags: 0,
    };
  }
  if (pinId === ROLE_ADMIN) {
    return {
      pinType: SecretType.ChallengeResponsePinType,
      purpose: SecretPurpose.AdministratorPin,
      changePermission: createPinSet(ROLE_ADMIN),
      unblockPermission: 0,
      cachePolicy: normal,
      flags: 0,
    };
  }
  return invalid(`PIN ${pinId} does not exist on this card`);
}

/**
 * The cache mode a card earns: GLOBAL when the DO file holding cardcf lets the user write (so every writer
 * can keep the freshness counters), SESSION_ONLY otherwise — with the reason.
 */
export async function cacheModeOfCard(
  app: GidsApplication,
  files: GidsFileSystem,
): Promise<{ mode: CacheMode; reason: string }> {
  const location = await files.cardcfLocation();
  const fcp = await app.fileControlParameters(location.ef);
  const acl =
    fcp === undefined
      ? undefined
      : findTlvValue(decodeTlv(fcp, { malformedError: 'SCARD_E_COMM_DATA_LOST' }), 0x62, 0x8c);
  // Compact ACL of a DO file: access mode, then the write (b2) and read (b1) conditions.
  const writeCondition =
    acl !== undefined && acl.length === 3 && (acl[0] as number) === 0x03 ? (acl[1] as number) : undefined;
  if (writeCondition !== undefined && writeCondition !== 0xff && (writeCondition & 0x90) === 0x10) {
    return { mode: CacheMode.GLOBAL_CACHE, reason: 'cardcf is on the card and the user may write it' };
  }
  return {
    mode: CacheMode.SESSION_ONLY,
    reason: `cardcf (EF ${location.ef.toString(16).toUpperCase()}) cannot be written by the user: other writers could not signal changes, so nothing is cached beyond a session`,
  };
}
