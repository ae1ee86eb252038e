/**
 * @module Secure PIN entry for PIV on a PIN-pad reader (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT): the
 * PIN_VERIFY_STRUCTURE for VERIFY 00 20 00 80 with the 8-byte, FF-padded ASCII PIN block of piv.md, and
 * what the reader's answer means.
 */
import { ScardError, type Transport } from '@minidriver/core';
import { INS_VERIFY, PIN_REFERENCE } from './piv-commands.js';
import { pivStatusError } from './piv-status.js';

/** PIV PINs are 6 to 8 characters (SP 800-73-4 part 2 §3.1.1). */
const PIN_MIN_LENGTH = 6;
const PIN_MAX_LENGTH = 8;
const PIN_BLOCK_LENGTH = 8;
/** bEntryValidationCondition: the user presses the validation key. */
const VALIDATE_WITH_KEY = 0x02;
/** wLangId: English (United States), the language readers without a choice use. */
const LANGUAGE_EN_US = 0x0409;

/** The reader-level answers of a PIN pad (CCID / pcsc-lite), before the card is involved. */
const PIN_PAD_TIMEOUT = 0x6400;
const PIN_PAD_CANCELLED = 0x6401;
const PIN_PAD_PINS_DIFFER = 0x6402;
const PIN_PAD_LENGTH_INVALID = 0x6403;

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
 * The PIN_VERIFY_STRUCTURE (PC/SC part 10 v2.02.09 §2.5.2, little-endian) for the PIV card PIN: ASCII,
 * left-justified at the first data byte, 8-byte block whose FF padding the template already carries.
 */
export function encodePivVerifyStructure(): Uint8Array {
  const apdu = new Uint8Array(5 + PIN_BLOCK_LENGTH).fill(0xff);
  apdu.set([0x00, INS_VERIFY, 0x00, PIN_REFERENCE, PIN_BLOCK_LENGTH]);
  const structure = new Uint8Array(19 + apdu.length);
  const view = new DataView(structure.buffer);
  view.setUint8(0, 0x00); // bTimerOut: the reader's default
  view.setUint8(1, 0x00); // bTimerOut2
  view.setUint8(2, 0x82); // bmFormatString: byte units, position 0, left-justified, ASCII
  view.setUint8(3, PIN_BLOCK_LENGTH); // bmPINBlockString: no length field, 8-byte block
  view.setUint8(4, 0x00); // bmPINLengthFormat: no length field
  view.setUint16(5, (PIN_MIN_LENGTH << 8) | PIN_MAX_LENGTH, true); // wPINMaxExtraDigit
  view.setUint8(7, VALIDATE_WITH_KEY); // bEntryValidationCondition
  view.setUint8(8, 0x01); // bNumberMessage: one message ("enter PIN")
  view.setUint16(9, LANGUAGE_EN_US, true); // wLangId
  view.setUint8(11, 0x00); // bMsgIndex
  // bTeoPrologue (12..14) stays 00 00 00: T=1 prologue filled in by the reader.
  view.setUint32(15, apdu.length, true); // ulDataLength
  structure.set(apdu, 19);
  return structure;
}

/**
 * The ScardError for a PIN pad's answer other than 90 00: reader timeout → SCARD_E_TIMEOUT, Cancel →
 * SCARD_W_CANCELLED_BY_USER, PIN length/confirmation refused by the reader → SCARD_E_INVALID_CHV
 * (minidriver.md §6.8); card status words exactly as a host VERIFY (63Cx wrong with retries, 6983 blocked).
 */
export function pinPadStatusError(statusWord: number, context: string): ScardError {
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
      return pivStatusError(statusWord, 'pin', context);
  }
}

/**
 * VERIFY the PIV card PIN on the reader's keypad. Resolves on 90 00; otherwise throws
 * {@link pinPadStatusError}. The PIN never passes through this process.
 */
export async function verifyPinOnPinPad(transport: PinPadTransport): Promise<void> {
  let answer: Uint8Array;
  try {
    answer = await transport.control(transport.features.verifyPinDirect, encodePivVerifyStructure());
  } catch (error) {
    throw ScardError.from(error, 'VERIFY PIN on the PIN pad');
  }
  if (answer.length < 2) {
    throw new ScardError('SCARD_F_COMM_ERROR', 'the PIN pad answered without a status word');
  }
  const statusWord = ((answer[answer.length - 2] as number) << 8) | (answer[answer.length - 1] as number);
  if (statusWord !== 0x9000) throw pinPadStatusError(statusWord, 'VERIFY PIN on the PIN pad');
}
