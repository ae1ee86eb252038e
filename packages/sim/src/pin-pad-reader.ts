/**
 * A simulated PIN-pad reader (PC/SC part 10 secure PIN entry): parses PIN_VERIFY_STRUCTURE and
 * PIN_MODIFY_STRUCTURE with the one parser of @minidriver/card-kit, asks a {@link PinPad} for the digits,
 * and builds the APDU the reader would send to the card.
 */
import {
  insertPin,
  PIN_PAD_CANCELLED,
  PIN_PAD_LENGTH_INVALID,
  PIN_PAD_PINS_DIFFER,
  parsePinModifyStructure,
  parsePinVerifyStructure,
} from '@minidriver/card-kit';
import { ScardError } from '@minidriver/spec';

/**
 * Control codes as the pcsc-lite CCID driver announces them: SCARD_CTL_CODE(CLASS2_IOCTL_MAGIC + tag) =
 * 0x42000000 + 0x330000 + feature tag (ccid_ifdhandler.h). Defined here rather than taken from
 * `@minidriver/pcsc` so the simulator stays independent of PC/SC; they are only numbers passed through
 * `features`, the plugin never hard-codes them.
 */
export const SIM_CONTROL_VERIFY_PIN_DIRECT = 0x42330006;
/** FEATURE_MODIFY_PIN_DIRECT (tag 07) control code of the simulated reader; see {@link SIM_CONTROL_VERIFY_PIN_DIRECT}. */
export const SIM_CONTROL_MODIFY_PIN_DIRECT = 0x42330007;
/** CM_IOCTL_GET_FEATURE_REQUEST on pcsc-lite: SCARD_CTL_CODE(3400) = 0x42000000 + 3400. */
export const SIM_CONTROL_GET_FEATURE_REQUEST = 0x42000000 + 3400;

/** What the simulated reader's keypad asks for. */
export type PinPadPrompt = 'verify' | 'modify-old' | 'modify-new';

/** The person at the simulated PIN pad. */
export interface PinPad {
  /** The PIN typed for `prompt`, or undefined when the user pressed Cancel. */
  enterPin(prompt: PinPadPrompt): Promise<string | undefined>;
}

/** Big-endian 2-byte status word. */
export function statusWordBytes(statusWord: number): Uint8Array {
  return Uint8Array.of((statusWord >> 8) & 0xff, statusWord & 0xff);
}

/**
 * The APDU a PIN-pad reader sends for FEATURE_VERIFY_PIN_DIRECT, or the reader's own status word when
 * the user cancelled (64 01) or typed a PIN of the wrong length (64 03). The caller must wipe the APDU.
 */
export async function buildVerifyApdu(pinPad: PinPad, structure: Uint8Array): Promise<Uint8Array | number> {
  const parsed = parsePinVerifyStructure(structure);
  const pin = await pinPad.enterPin('verify');
  if (pin === undefined) return PIN_PAD_CANCELLED;
  try {
    insertPin(parsed.apdu, parsed.format, pin);
  } catch (error) {
    parsed.apdu.fill(0);
    if (ScardError.hasCode(error, 'SCARD_E_INVALID_CHV')) return PIN_PAD_LENGTH_INVALID;
    throw error;
  }
  return parsed.apdu;
}

/**
 * The APDU a PIN-pad reader sends for FEATURE_MODIFY_PIN_DIRECT: current PIN (when asked), new PIN, and
 * its confirmation (when asked; a mismatch answers 64 02). The caller must wipe the APDU.
 */
export async function buildModifyApdu(pinPad: PinPad, structure: Uint8Array): Promise<Uint8Array | number> {
  const parsed = parsePinModifyStructure(structure);
  const entries: [string, number][] = [];
  if (parsed.enterCurrentPin) {
    const current = await pinPad.enterPin('modify-old');
    if (current === undefined) return PIN_PAD_CANCELLED;
    entries.push([current, parsed.insertionOffsetOld]);
  }
  const next = await pinPad.enterPin('modify-new');
  if (next === undefined) return PIN_PAD_CANCELLED;
  if (parsed.confirmNewPin) {
    const confirmation = await pinPad.enterPin('modify-new');
    if (confirmation === undefined) return PIN_PAD_CANCELLED;
    if (confirmation !== next) return PIN_PAD_PINS_DIFFER;
  }
  entries.push([next, parsed.insertionOffsetNew]);
  try {
    for (const [pin, offset] of entries) insertPin(parsed.apdu, parsed.format, pin, offset);
  } catch (error) {
    parsed.apdu.fill(0);
    if (ScardError.hasCode(error, 'SCARD_E_INVALID_CHV')) return PIN_PAD_LENGTH_INVALID;
    throw error;
  }
  return parsed.apdu;
}

/** The CM_IOCTL_GET_FEATURE_REQUEST answer: tag, 04, control code big-endian, per feature. */
export function encodeSimFeatureList(): Uint8Array {
  const list = new Uint8Array(12);
  const view = new DataView(list.buffer);
  list[0] = 0x06;
  list[1] = 4;
  view.setUint32(2, SIM_CONTROL_VERIFY_PIN_DIRECT, false);
  list[6] = 0x07;
  list[7] = 4;
  view.setUint32(8, SIM_CONTROL_MODIFY_PIN_DIRECT, false);
  return list;
}
