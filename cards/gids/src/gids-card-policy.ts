/**
 * The cache mode a GIDS card earns (docs/spec/minidriver.md §4.8): a decision kept apart from the minidriver
 * entry points.
 *
 * @packageDocumentation
 */
import { decodeTlv, findTlvValue } from '@minidriver/iso7816';
import { CacheMode } from '@minidriver/spec';
import type { GidsFileSystem } from './gids-file-system.js';

/** The cache mode a card earns and why. */
export interface CacheModeDecision {
  readonly mode: CacheMode;
  readonly reason: string;
}

/**
 * The cache mode a card earns: GLOBAL when the DO file holding cardcf lets the user write (so every writer
 * can keep the freshness counters), SESSION_ONLY otherwise — with the reason.
 */
export async function cacheModeOfCard(files: GidsFileSystem): Promise<CacheModeDecision> {
  const location = await files.cardcfLocation();
  const fcp = await files.cardcfFileControlParameters();
  const acl =
    fcp.length === 0
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
