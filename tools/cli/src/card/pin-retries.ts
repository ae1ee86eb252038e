/**
 * Retries left on a PIN, asked through the minidriver contract: the plugin answers our vendor
 * property CP_PIN_RETRIES_LEFT (flags = PIN id) the way its card allows, so the CLI sends no card-specific
 * APDU. "Verified" comes from CP_CARD_AUTHENTICATED_STATE.
 */

import type { CardSession } from '@minidriver/core';
import { CARD_DATA_VALUE_UNKNOWN, CardProperty, ScardError } from '@minidriver/spec';

/** What the card said about a PIN. */
export type PinStatus =
  | { readonly state: 'verified' }
  | { readonly state: 'retries'; readonly retriesLeft: number }
  | { readonly state: 'unknown' };

/** Tries left on `pinId` from the plugin, or null when the card (or an older plugin) cannot say. */
export async function readRetriesLeft(session: CardSession, pinId: number): Promise<number | null> {
  try {
    const retriesLeft = await session.getProperty(CardProperty.CP_PIN_RETRIES_LEFT, pinId);
    return retriesLeft === CARD_DATA_VALUE_UNKNOWN ? null : retriesLeft;
  } catch (error) {
    // A plugin without the vendor property, or a PIN it does not know: the count is simply unknown.
    if (
      ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE') ||
      ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')
    )
      return null;
    throw error;
  }
}

/** Whether the session holds `pinId` verified (CP_CARD_AUTHENTICATED_STATE), false when the plugin cannot say. */
export async function isPinVerified(session: CardSession, pinId: number): Promise<boolean> {
  try {
    return ((await session.getProperty(CardProperty.CP_CARD_AUTHENTICATED_STATE)) & (1 << pinId)) !== 0;
  } catch (error) {
    if (ScardError.isInstance(error)) return false;
    throw error;
  }
}

/** The status of one PIN: verified, its tries left, or unknown. */
export async function readPinStatus(session: CardSession, pinId: number): Promise<PinStatus> {
  if (await isPinVerified(session, pinId)) return { state: 'verified' };
  const retriesLeft = await readRetriesLeft(session, pinId);
  return retriesLeft === null ? { state: 'unknown' } : { state: 'retries', retriesLeft };
}

/** "3 tries left", "1 try left", "verified", "blocked" or "?". */
export function describePinStatus(status: PinStatus): string {
  if (status.state === 'verified') return 'verified';
  if (status.state === 'unknown') return '?';
  return status.retriesLeft === 0
    ? 'blocked'
    : `${status.retriesLeft} ${status.retriesLeft === 1 ? 'try' : 'tries'} left`;
}
