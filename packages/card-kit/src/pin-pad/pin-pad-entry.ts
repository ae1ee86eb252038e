/**
 * Verifying a PIN on the reader's keypad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT,
 * https://pcscworkgroup.com/specifications/): whether the transport's reader has one, sending the
 * structure, and what the reader's answer means (docs/spec/minidriver.md §6.8).
 *
 * @packageDocumentation
 */
import { ScardError, type Transport } from '@minidriver/spec';
import {
  PIN_PAD_CANCELLED,
  PIN_PAD_LENGTH_INVALID,
  PIN_PAD_PINS_DIFFER,
  PIN_PAD_TIMEOUT,
} from './pin-pad-structures.js';

/** A transport whose reader can verify a PIN on its own keypad. */
export type PinPadTransport = Transport & {
  readonly features: { readonly verifyPinDirect: number };
  control(code: number, data: Uint8Array): Promise<Uint8Array>;
};

/** True when `transport`'s reader announced FEATURE_VERIFY_PIN_DIRECT and the transport can send it. */
export function hasPinPad(transport: Transport): transport is PinPadTransport {
  return transport.features?.verifyPinDirect !== undefined && typeof transport.control === 'function';
}

/**
 * The ScardError for a PIN pad's answer other than 90 00: reader timeout (64 00) → SCARD_E_TIMEOUT,
 * Cancel (64 01) → SCARD_W_CANCELLED_BY_USER, PIN length or confirmation refused by the reader
 * (64 02, 64 03) → SCARD_E_INVALID_CHV; any other status word is the card's, mapped by `cardError`
 * exactly as for a VERIFY sent from the host (63Cx wrong with retries, 6983 blocked).
 */
export function pinPadStatusError(
  statusWord: number,
  context: string,
  cardError: (statusWord: number, context: string) => ScardError,
): ScardError {
  switch (statusWord) {
    case PIN_PAD_TIMEOUT:
      return new ScardError('SCARD_E_TIMEOUT', `${context}: PIN entry timed out on the reader`, { statusWord });
    case PIN_PAD_CANCELLED:
      return new ScardError('SCARD_W_CANCELLED_BY_USER', `${context}: PIN entry cancelled on the reader`, {
        statusWord,
      });
    case PIN_PAD_PINS_DIFFER:
    case PIN_PAD_LENGTH_INVALID:
      return new ScardError('SCARD_E_INVALID_CHV', `${context}: the reader refused the PIN entered`, { statusWord });
    default:
      return cardError(statusWord, context);
  }
}

/**
 * Sends `structure` (from {@link encodePinVerifyStructure}) to the reader's keypad. Resolves on 90 00;
 * otherwise throws {@link pinPadStatusError}. The PIN never passes through this process.
 */
export async function verifyPinOnPinPad(
  transport: PinPadTransport,
  structure: Uint8Array,
  cardError: (statusWord: number, context: string) => ScardError,
): Promise<void> {
  const context = 'VERIFY PIN on the PIN pad';
  let answer: Uint8Array;
  try {
    answer = await transport.control(transport.features.verifyPinDirect, structure);
  } catch (error) {
    throw ScardError.from(error, context);
  }
  if (answer.length < 2) throw new ScardError('SCARD_F_COMM_ERROR', 'the PIN pad answered without a status word');
  const statusWord = ((answer[answer.length - 2] as number) << 8) | (answer[answer.length - 1] as number);
  if (statusWord !== 0x9000) throw pinPadStatusError(statusWord, context, cardError);
}
