/**
 * PC/SC part 10 secure PIN entry structures (PC/SC Workgroup, Interoperability Specification for ICCs and
 * Personal Computer Systems, Part 10, v2.02.09, docs/spec/minidriver.md §2.5.2 PIN_VERIFY_STRUCTURE and docs/spec/minidriver.md §2.5.3
 * PIN_MODIFY_STRUCTURE; https://pcscworkgroup.com/specifications/): the one encoder and parser used by
 * plugins (to ask a PIN-pad reader) and by the simulated PIN-pad reader of @minidriver/sim (to answer).
 * Multi-byte fields are little-endian.
 *
 * @packageDocumentation
 */
import { ScardError } from '@minidriver/spec';

/** The reader's own status words (CCID / pcsc-lite): entry timed out, cancelled, new PINs differ, bad length. */
export const PIN_PAD_TIMEOUT = 0x6400;
export const PIN_PAD_CANCELLED = 0x6401;
export const PIN_PAD_PINS_DIFFER = 0x6402;
export const PIN_PAD_LENGTH_INVALID = 0x6403;

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

function encodeFormatBytes(format: PinFormat): [number, number, number] {
  const encoding = format.encoding === 'binary' ? 0 : format.encoding === 'bcd' ? 1 : 2;
  if (!Number.isInteger(format.pinPosition) || format.pinPosition < 0 || format.pinPosition > 0x0f)
    invalid('PIN position must be 0..15');
  if (!Number.isInteger(format.blockSize) || format.blockSize < 0 || format.blockSize > 0x0f)
    invalid('PIN block size must be 0..15 bytes');
  if (!Number.isInteger(format.lengthFieldBits) || format.lengthFieldBits < 0 || format.lengthFieldBits > 0x0f)
    invalid('PIN length field must be 0..15 bits');
  if (!Number.isInteger(format.lengthPosition) || format.lengthPosition < 0 || format.lengthPosition > 0x0f)
    invalid('PIN length position must be 0..15');
  return [
    (format.unitsBytes ? 0x80 : 0) | (format.pinPosition << 3) | (format.rightJustify ? 0x04 : 0) | encoding,
    (format.lengthFieldBits << 4) | format.blockSize,
    (format.lengthUnitsBytes ? 0x10 : 0) | format.lengthPosition,
  ];
}

function extraDigit(format: PinFormat): number {
  for (const value of [format.minLength, format.maxLength]) {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) invalid('PIN lengths must be 0..255');
  }
  return (format.minLength << 8) | format.maxLength;
}

/** What a plugin puts into a PIN_VERIFY_STRUCTURE besides the format and the APDU template. */
export interface PinEntryOptions {
  /** bTimerOut / bTimerOut2 in seconds; 0 = the reader's default. */
  readonly timeout?: number;
  readonly timeout2?: number;
  /** bEntryValidationCondition; default 02 (the user presses the validation key). */
  readonly entryValidationCondition?: number;
  /** wLangId; default 0x0409 (English, United States). */
  readonly languageId?: number;
}

/**
 * A PIN_VERIFY_STRUCTURE or PIN_MODIFY_STRUCTURE of `headerLength` bytes before `apdu`, with what both
 * start with (bTimerOut, bTimerOut2, bmFormatString, bmPINBlockString, bmPINLengthFormat) and end with
 * (ulDataLength, abData) written; the encoder writes the fields in between.
 */
function startStructure(
  headerLength: number,
  format: PinFormat,
  apdu: Uint8Array,
  options: PinEntryOptions,
): { structure: Uint8Array; view: DataView } {
  if (!(apdu instanceof Uint8Array) || apdu.length < APDU_HEADER_LENGTH)
    invalid('the APDU template is shorter than CLA INS P1 P2 Lc');
  const [formatString, blockString, lengthFormat] = encodeFormatBytes(format);
  const structure = new Uint8Array(headerLength + apdu.length);
  const view = viewOf(structure);
  view.setUint8(0, options.timeout ?? 0);
  view.setUint8(1, options.timeout2 ?? 0);
  view.setUint8(2, formatString);
  view.setUint8(3, blockString);
  view.setUint8(4, lengthFormat);
  view.setUint32(headerLength - 4, apdu.length, true);
  structure.set(apdu, headerLength);
  return { structure, view };
}

/**
 * Encodes a PIN_VERIFY_STRUCTURE (part 10 §2.5.2) for `apdu`, the complete command the reader sends once
 * it inserted the PIN as `format` says (its data field carries the padding). One message ("enter PIN"),
 * bTeoPrologue 00 00 00. The inverse of {@link parsePinVerifyStructure}.
 */
export function encodePinVerifyStructure(
  format: PinFormat,
  apdu: Uint8Array,
  options: PinEntryOptions = {},
): Uint8Array {
  const { structure, view } = startStructure(VERIFY_HEADER_LENGTH, format, apdu, options);
  view.setUint16(5, extraDigit(format), true);
  view.setUint8(7, options.entryValidationCondition ?? 0x02);
  view.setUint8(8, 0x01);
  view.setUint16(9, options.languageId ?? 0x0409, true);
  view.setUint8(11, 0x00);
  return structure;
}

/**
 * Encodes a PIN_MODIFY_STRUCTURE (part 10 §2.5.3): the current PIN (when `enterCurrentPin`) at
 * `insertionOffsetOld`, the new PIN at `insertionOffsetNew`, confirmed when `confirmNewPin`. Three
 * messages (current, new, confirmation). The inverse of {@link parsePinModifyStructure}.
 */
export function encodePinModifyStructure(
  format: PinFormat,
  apdu: Uint8Array,
  modify: {
    readonly insertionOffsetOld: number;
    readonly insertionOffsetNew: number;
    readonly enterCurrentPin: boolean;
    readonly confirmNewPin: boolean;
  },
  options: PinEntryOptions = {},
): Uint8Array {
  const { structure, view } = startStructure(MODIFY_HEADER_LENGTH, format, apdu, options);
  view.setUint8(5, modify.insertionOffsetOld & 0xff);
  view.setUint8(6, modify.insertionOffsetNew & 0xff);
  view.setUint16(7, extraDigit(format), true);
  view.setUint8(9, (modify.confirmNewPin ? 0x01 : 0) | (modify.enterCurrentPin ? 0x02 : 0));
  view.setUint8(10, options.entryValidationCondition ?? 0x02);
  view.setUint8(11, 0x03);
  view.setUint16(12, options.languageId ?? 0x0409, true);
  view.setUint8(14, 0x00);
  view.setUint8(15, 0x01);
  view.setUint8(16, 0x02);
  return structure;
}
