/**
 * @module A simulated PIN-pad reader (PC/SC part 10 secure PIN entry): parses PIN_VERIFY_STRUCTURE and
 * PIN_MODIFY_STRUCTURE, asks a {@link PinPad} for the digits, and builds the APDU the reader would send to
 * the card. Layouts from PC/SC part 10 v2.02.09 §2.5.2 / §2.5.3; multi-byte fields are little-endian.
 */
import { ScardError } from '@minidriver/core';

/**
 * Control codes as the pcsc-lite CCID driver announces them: SCARD_CTL_CODE(CLASS2_IOCTL_MAGIC + tag) =
 * 0x42000000 + 0x330000 + feature tag (ccid_ifdhandler.h). Defined here rather than taken from
 * @minidriver/pcsc so the simulator stays independent of PC/SC; they are only numbers passed through
 * `features`, the plugin never hard-codes them.
 */
export const SIM_CONTROL_VERIFY_PIN_DIRECT = 0x42330006;
/** FEATURE_MODIFY_PIN_DIRECT (tag 07) control code of the simulated reader; see {@link SIM_CONTROL_VERIFY_PIN_DIRECT}. */
export const SIM_CONTROL_MODIFY_PIN_DIRECT = 0x42330007;
/** CM_IOCTL_GET_FEATURE_REQUEST on pcsc-lite: SCARD_CTL_CODE(3400) = 0x42000000 + 3400. */
export const SIM_CONTROL_GET_FEATURE_REQUEST = 0x42000000 + 3400;

/** The reader's own status words (CCID / pcsc-lite): entry timed out, cancelled, new PINs differ, bad length. */
export const PIN_PAD_TIMEOUT = 0x6400;
export const PIN_PAD_CANCELLED = 0x6401;
export const PIN_PAD_PINS_DIFFER = 0x6402;
export const PIN_PAD_LENGTH_INVALID = 0x6403;

/** What the simulated reader's keypad asks for. */
export type PinPadPrompt = 'verify' | 'modify-old' | 'modify-new';

/** The person at the simulated PIN pad. */
export interface PinPad {
  /** The PIN typed for `prompt`, or undefined when the user pressed Cancel. */
  enterPin(prompt: PinPadPrompt): Promise<string | undefined>;
}

/** How the reader formats a PIN into the APDU (bmFormatString, bmPINBlockString, bmPINLengthFormat). */
export interface PinFormat {
  /** bmFormatString bit 7: positions counted in bytes (true) or bits (false). */
  readonly unitsBytes: boolean;
  /** bmFormatString bits 6..3: PIN position in the APDU data field, in the units above. */
  readonly pinPosition: number;
  /** bmFormatString bit 2: right justification. */
  readonly rightJustify: boolean;
  /** bmFormatString bits 1..0. */
  readonly encoding: 'binary' | 'bcd' | 'ascii';
  /** bmPINBlockString bits 7..4: size in bits of the PIN length field (0 = none). */
  readonly lengthFieldBits: number;
  /** bmPINBlockString bits 3..0: PIN block size in bytes. */
  readonly blockSize: number;
  /** bmPINLengthFormat bit 4: length position counted in bytes (true) or bits (false). */
  readonly lengthUnitsBytes: boolean;
  /** bmPINLengthFormat bits 3..0: PIN length position in the APDU data field. */
  readonly lengthPosition: number;
  /** wPINMaxExtraDigit: minimum PIN digits (high byte). */
  readonly minLength: number;
  /** wPINMaxExtraDigit: maximum PIN digits (low byte). */
  readonly maxLength: number;
}

/** A parsed PIN_VERIFY_STRUCTURE. */
export interface PinVerifyStructure {
  readonly timeout: number;
  readonly timeout2: number;
  readonly format: PinFormat;
  readonly entryValidationCondition: number;
  readonly numberMessage: number;
  readonly languageId: number;
  readonly messageIndex: number;
  readonly teoPrologue: Uint8Array;
  /** abData: the command APDU template the PIN goes into. */
  readonly apdu: Uint8Array;
}

/** A parsed PIN_MODIFY_STRUCTURE. */
export interface PinModifyStructure {
  readonly timeout: number;
  readonly timeout2: number;
  readonly format: PinFormat;
  /** bInsertionOffsetOld: added to the format's PIN position for the current PIN. */
  readonly insertionOffsetOld: number;
  /** bInsertionOffsetNew: added to the format's PIN position for the new PIN. */
  readonly insertionOffsetNew: number;
  /** bConfirmPIN bit 0: the new PIN is typed twice. */
  readonly confirmNewPin: boolean;
  /** bConfirmPIN bit 1: the current PIN is typed first. */
  readonly enterCurrentPin: boolean;
  readonly entryValidationCondition: number;
  readonly numberMessage: number;
  readonly languageId: number;
  readonly messageIndexes: readonly [number, number, number];
  readonly teoPrologue: Uint8Array;
  readonly apdu: Uint8Array;
}

const VERIFY_HEADER_LENGTH = 19;
const MODIFY_HEADER_LENGTH = 24;
/** CLA INS P1 P2 Lc: positions in the structures count from the data field after them. */
const APDU_HEADER_LENGTH = 5;

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

function decodeFormat(formatString: number, blockString: number, lengthFormat: number, extraDigit: number): PinFormat {
  const encodingBits = formatString & 0x03;
  if (encodingBits === 0x03) invalid('bmFormatString names reserved PIN format 3');
  return {
    unitsBytes: (formatString & 0x80) !== 0,
    pinPosition: (formatString >> 3) & 0x0f,
    rightJustify: (formatString & 0x04) !== 0,
    encoding: encodingBits === 0 ? 'binary' : encodingBits === 1 ? 'bcd' : 'ascii',
    lengthFieldBits: (blockString >> 4) & 0x0f,
    blockSize: blockString & 0x0f,
    lengthUnitsBytes: (lengthFormat & 0x10) !== 0,
    lengthPosition: lengthFormat & 0x0f,
    minLength: (extraDigit >> 8) & 0xff,
    maxLength: extraDigit & 0xff,
  };
}

function readApdu(structure: Uint8Array, view: DataView, lengthOffset: number): Uint8Array {
  const dataLength = view.getUint32(lengthOffset, true);
  const start = lengthOffset + 4;
  if (dataLength !== structure.length - start) {
    invalid(`ulDataLength is ${dataLength} but ${structure.length - start} bytes of APDU follow`);
  }
  if (dataLength < APDU_HEADER_LENGTH) invalid('the APDU template is shorter than CLA INS P1 P2 Lc');
  return structure.slice(start);
}

function viewOf(structure: Uint8Array): DataView {
  return new DataView(structure.buffer, structure.byteOffset, structure.byteLength);
}

/** Parses a PIN_VERIFY_STRUCTURE (part 10 §2.5.2). Throws SCARD_E_INVALID_PARAMETER when malformed. */
export function parsePinVerifyStructure(structure: Uint8Array): PinVerifyStructure {
  if (structure.length < VERIFY_HEADER_LENGTH) invalid('PIN_VERIFY_STRUCTURE is shorter than 19 bytes');
  const view = viewOf(structure);
  return {
    timeout: view.getUint8(0),
    timeout2: view.getUint8(1),
    format: decodeFormat(view.getUint8(2), view.getUint8(3), view.getUint8(4), view.getUint16(5, true)),
    entryValidationCondition: view.getUint8(7),
    numberMessage: view.getUint8(8),
    languageId: view.getUint16(9, true),
    messageIndex: view.getUint8(11),
    teoPrologue: structure.slice(12, 15),
    apdu: readApdu(structure, view, 15),
  };
}

/** Parses a PIN_MODIFY_STRUCTURE (part 10 §2.5.3). Throws SCARD_E_INVALID_PARAMETER when malformed. */
export function parsePinModifyStructure(structure: Uint8Array): PinModifyStructure {
  if (structure.length < MODIFY_HEADER_LENGTH) invalid('PIN_MODIFY_STRUCTURE is shorter than 24 bytes');
  const view = viewOf(structure);
  const confirm = view.getUint8(9);
  return {
    timeout: view.getUint8(0),
    timeout2: view.getUint8(1),
    format: decodeFormat(view.getUint8(2), view.getUint8(3), view.getUint8(4), view.getUint16(7, true)),
    insertionOffsetOld: view.getUint8(5),
    insertionOffsetNew: view.getUint8(6),
    confirmNewPin: (confirm & 0x01) !== 0,
    enterCurrentPin: (confirm & 0x02) !== 0,
    entryValidationCondition: view.getUint8(10),
    numberMessage: view.getUint8(11),
    languageId: view.getUint16(12, true),
    messageIndexes: [view.getUint8(14), view.getUint8(15), view.getUint8(16)],
    teoPrologue: structure.slice(17, 20),
    apdu: readApdu(structure, view, 20),
  };
}

function badPin(message: string): never {
  throw new ScardError('SCARD_E_INVALID_CHV', message);
}

/** Writes the low `bitCount` bits of `value` at `bitOffset` (most significant bit first). */
function writeBits(target: Uint8Array, bitOffset: number, bitCount: number, value: number): void {
  for (let index = 0; index < bitCount; index++) {
    const bit = (value >> (bitCount - 1 - index)) & 1;
    const position = bitOffset + index;
    const byteIndex = position >> 3;
    if (byteIndex >= target.length) invalid('the PIN does not fit in the APDU template');
    const mask = 0x80 >> (position & 7);
    target[byteIndex] = bit === 1 ? (target[byteIndex] as number) | mask : (target[byteIndex] as number) & ~mask;
  }
}

/**
 * Inserts `pin` into the data field of `apdu` (in place) as `format` says, at `extraOffset` more units than
 * the format's position. Digits of BCD/binary PINs must be 0-9. Throws SCARD_E_INVALID_CHV when the PIN is
 * out of the min/max range or does not fit the block (the reader answers 64 03), SCARD_E_INVALID_PARAMETER
 * when the template is too short.
 */
export function insertPin(apdu: Uint8Array, format: PinFormat, pin: string, extraOffset = 0): void {
  const length = pin.length;
  if (length === 0 || length < format.minLength || (format.maxLength > 0 && length > format.maxLength)) {
    badPin('PIN length out of range');
  }
  if (format.encoding !== 'ascii' && !/^[0-9]*$/.test(pin)) badPin('this PIN format takes digits only');
  const bitsPerDigit = format.encoding === 'bcd' ? 4 : 8;
  const pinBits = length * bitsPerDigit;
  if (format.blockSize > 0 && pinBits > format.blockSize * 8) badPin('the PIN is longer than the PIN block');
  const data = apdu.subarray(APDU_HEADER_LENGTH);
  const unit = format.unitsBytes ? 8 : 1;
  const blockStart = (format.pinPosition + extraOffset) * unit;
  const justifyShift = format.rightJustify && format.blockSize > 0 ? format.blockSize * 8 - pinBits : 0;
  for (let index = 0; index < length; index++) {
    const code = pin.charCodeAt(index);
    if (code > 0xff) badPin('PIN characters must be single bytes');
    const value = format.encoding === 'ascii' ? code : code - 0x30;
    writeBits(data, blockStart + justifyShift + index * bitsPerDigit, bitsPerDigit, value);
  }
  if (format.lengthFieldBits > 0) {
    const lengthUnit = format.lengthUnitsBytes ? 8 : 1;
    writeBits(data, format.lengthPosition * lengthUnit, format.lengthFieldBits, length);
  }
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
