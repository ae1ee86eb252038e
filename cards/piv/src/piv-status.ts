/**
 * PIV status words → ScardError, the one place the plugin maps them (docs/spec/piv.md §7). Generic meanings
 * come from @minidriver/iso7816 (docs/spec/iso7816.md §4.3); what a status word means for a particular PIV
 * operation is decided here.
 */

import { statusWordToScardError } from '@minidriver/iso7816';
import { ScardError } from '@minidriver/spec';

/** What kind of card operation answered. */
export type PivOperation =
  /** VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER: 63Cx counters, 6983 blocked. */
  | 'pin'
  /** Management key (9B) GENERAL AUTHENTICATE: a refused response is a wrong authenticator. */
  | 'management-key'
  /** Private key use (sign, decrypt, ECDH): a missing key is a missing container. */
  | 'private-key'
  /** Anything else (GET/PUT DATA, GENERATE, IMPORT, metadata). */
  | 'data';

/**
 * The ScardError for a final status word of a PIV command. `context` names the operation for the message
 * (never a PIN or key).
 */
export function pivStatusError(statusWord: number, operation: PivOperation, context: string): ScardError {
  if (operation === 'management-key' && (statusWord === 0x6982 || statusWord === 0x6a80 || statusWord === 0x6300)) {
    // PIV keeps no retry counter for the management key: wrong, with the count unknown.
    return new ScardError('SCARD_W_WRONG_CHV', `${context}: the card refused the management key response`, {
      statusWord,
    });
  }
  if (operation === 'private-key' && (statusWord === 0x6a88 || statusWord === 0x6a82)) {
    return new ScardError('SCARD_E_NO_KEY_CONTAINER', `${context}: the slot holds no key`, { statusWord });
  }
  if (operation === 'pin' && statusWord === 0x6a88) {
    return new ScardError('SCARD_E_INVALID_PARAMETER', `${context}: the card has no such PIN reference`, {
      statusWord,
    });
  }
  return statusWordToScardError(statusWord, context, { pinCommand: operation === 'pin' });
}
