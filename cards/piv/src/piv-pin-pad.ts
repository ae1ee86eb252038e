/**
 * Secure PIN entry for PIV on a PIN-pad reader (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT): the PIV card
 * PIN's format — VERIFY 00 20 00 80 with the 8-byte, FF-padded ASCII PIN block (docs/spec/piv.md) — in
 * the PC/SC part 10 structure of @minidriver/card-kit.
 *
 * @packageDocumentation
 */
import {
  encodePinVerifyStructure,
  pinPadStatusError as kitPinPadStatusError,
  verifyPinOnPinPad as kitVerifyPinOnPinPad,
  type PinFormat,
  type PinPadTransport,
} from '@minidriver/card-kit';
import type { ScardError } from '@minidriver/spec';
import { INS_VERIFY, PIN_REFERENCE } from './piv-commands.js';
import { pivStatusError } from './piv-status.js';

export { hasPinPad, type PinPadTransport } from '@minidriver/card-kit';

/** PIV PINs are 6 to 8 characters (SP 800-73-4 part 2 docs/spec/piv.md §3.1.1), in an 8-byte block. */
const PIV_PIN_FORMAT: PinFormat = {
  unitsBytes: true,
  pinPosition: 0,
  rightJustify: false,
  encoding: 'ascii',
  lengthFieldBits: 0,
  blockSize: 8,
  lengthUnitsBytes: false,
  lengthPosition: 0,
  minLength: 6,
  maxLength: 8,
};

/** The PIN_VERIFY_STRUCTURE for the PIV card PIN: VERIFY 00 20 00 80 08 and an FF-padded block. */
export function encodePivVerifyStructure(): Uint8Array {
  const apdu = new Uint8Array(5 + PIV_PIN_FORMAT.blockSize).fill(0xff);
  apdu.set([0x00, INS_VERIFY, 0x00, PIN_REFERENCE, PIV_PIN_FORMAT.blockSize]);
  return encodePinVerifyStructure(PIV_PIN_FORMAT, apdu);
}

/** The ScardError for a PIN pad's answer other than 90 00, card status words as for a host VERIFY. */
export function pinPadStatusError(statusWord: number, context: string): ScardError {
  return kitPinPadStatusError(statusWord, context, (word, where) => pivStatusError(word, 'pin', where));
}

/** VERIFY the PIV card PIN on the reader's keypad; the PIN never passes through this process. */
export async function verifyPinOnPinPad(transport: PinPadTransport): Promise<void> {
  await kitVerifyPinOnPinPad(transport, encodePivVerifyStructure(), (word, where) =>
    pivStatusError(word, 'pin', where),
  );
}
