/**
 * Command and response APDU encoding and parsing: cases 1-4, short and extended length
 * (docs/spec/iso7816.md §1).
 */
import { copyBytes, ScardError } from '@minidriver/spec';

/** A command APDU before encoding. */
export interface CommandApdu {
  /** Class byte, 0..255. */
  readonly cla: number;
  /** Instruction byte, 0..255. */
  readonly ins: number;
  /** Parameter 1, 0..255. */
  readonly p1: number;
  /** Parameter 2, 0..255. */
  readonly p2: number;
  /** Command data (Nc bytes). Absent or empty means "no data": an Lc of zero is never encoded. */
  readonly data?: Uint8Array;
  /**
   * Number of expected response bytes (Ne), 1..65536; undefined = no Le field.
   * 256 encodes as `00` in short form, 65536 as `00 00` in extended form.
   */
  readonly le?: number;
}

/** A command APDU as parsed from bytes (card simulators use this). */
export interface ParsedCommandApdu extends CommandApdu {
  /** True when the APDU used extended length fields. */
  readonly extended: boolean;
  /** ISO 7816-3 case: 1 no data/no Le, 2 Le only, 3 data only, 4 data and Le. */
  readonly case: 1 | 2 | 3 | 4;
}

/** A response APDU: data followed by SW1 SW2. */
export interface ResponseApdu {
  /** The response data, without the status word. */
  readonly data: Uint8Array;
  /** SW1 SW2 as one number, e.g. 0x9000. */
  readonly statusWord: number;
}

/** Largest Nc of a short APDU. */
export const MAX_SHORT_DATA = 255;
/** Largest Ne of a short APDU. */
export const MAX_SHORT_LE = 256;
/** Largest Nc of an extended APDU. */
export const MAX_EXTENDED_DATA = 65535;
/** Largest Ne of an extended APDU. */
export const MAX_EXTENDED_LE = 65536;
/** CLA bit b5: "more commands of this chain follow". */
export const CLA_CHAINING = 0x10;

function invalid(message: string): ScardError {
  return new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

function requireByte(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff)
    throw invalid(`APDU ${field} must be a byte, got ${value}`);
}

/**
 * Encodes a command APDU. Short form unless the data exceeds 255 bytes, Le exceeds 256, or
 * `options.extended` forces extended form (a case 1 APDU has no length fields, so it is the same
 * 4 bytes either way). Throws SCARD_E_INVALID_PARAMETER for any field out of range.
 */
export function encodeCommandApdu(apdu: CommandApdu, options: { extended?: boolean } = {}): Uint8Array {
  if (typeof apdu !== 'object' || apdu === null) throw invalid('APDU missing');
  requireByte(apdu.cla, 'CLA');
  requireByte(apdu.ins, 'INS');
  requireByte(apdu.p1, 'P1');
  requireByte(apdu.p2, 'P2');
  const data = apdu.data;
  if (data !== undefined && !(data instanceof Uint8Array)) throw invalid('APDU data must be a Uint8Array');
  const nc = data?.length ?? 0;
  if (nc > MAX_EXTENDED_DATA) throw invalid(`APDU data too long: ${nc} bytes (at most ${MAX_EXTENDED_DATA})`);
  const le = apdu.le;
  if (le !== undefined && (!Number.isInteger(le) || le < 1 || le > MAX_EXTENDED_LE)) {
    throw invalid(`APDU Le must be 1..${MAX_EXTENDED_LE}, got ${le}`);
  }
  const extended = options.extended === true || nc > MAX_SHORT_DATA || (le ?? 0) > MAX_SHORT_LE;

  const bodyLength = extended
    ? (nc > 0 ? 3 + nc : 0) + (le === undefined ? 0 : nc > 0 ? 2 : 3)
    : (nc > 0 ? 1 + nc : 0) + (le === undefined ? 0 : 1);
  const out = new Uint8Array(4 + bodyLength);
  out[0] = apdu.cla;
  out[1] = apdu.ins;
  out[2] = apdu.p1;
  out[3] = apdu.p2;
  let offset = 4;
  if (nc > 0 && data) {
    if (extended) {
      out[offset++] = 0x00;
      out[offset++] = nc >> 8;
    }
    out[offset++] = nc & 0xff;
    out.set(data, offset);
    offset += nc;
  }
  if (le !== undefined) {
    // Ne = 256 (short) / 65536 (extended) is encoded as all-zero bytes; masking does exactly that.
    if (extended) {
      if (nc === 0) out[offset++] = 0x00;
      out[offset++] = (le >> 8) & 0xff;
    }
    out[offset++] = le & 0xff;
  }
  return out;
}

/**
 * Parses command APDU bytes into their fields and case. Throws SCARD_E_INVALID_PARAMETER for
 * anything that is not a well-formed case 1-4 APDU (a card would answer `6700`).
 */
export function parseCommandApdu(bytes: Uint8Array): ParsedCommandApdu {
  if (!(bytes instanceof Uint8Array)) throw invalid('APDU must be a Uint8Array');
  if (bytes.length < 4) throw invalid(`APDU too short: ${bytes.length} bytes`);
  const header = { cla: bytes[0] as number, ins: bytes[1] as number, p1: bytes[2] as number, p2: bytes[3] as number };
  const length = bytes.length;
  if (length === 4) return { ...header, extended: false, case: 1 };
  const b5 = bytes[4] as number;
  if (length === 5) return { ...header, le: b5 === 0 ? 256 : b5, extended: false, case: 2 };
  if (b5 !== 0) {
    // Short case 3 (4 + 1 + Nc) or 4 (4 + 1 + Nc + 1).
    const data = bytes.slice(5, 5 + b5);
    if (length === 5 + b5) return { ...header, data, extended: false, case: 3 };
    if (length === 6 + b5) {
      const le = bytes[length - 1] as number;
      return { ...header, data, le: le === 0 ? 256 : le, extended: false, case: 4 };
    }
    throw invalid(`APDU length ${length} inconsistent with Lc ${b5}`);
  }
  // Extended: 00 followed by two bytes.
  if (length < 7) throw invalid(`APDU length ${length} is neither short nor extended`);
  const value = ((bytes[5] as number) << 8) | (bytes[6] as number);
  if (length === 7) return { ...header, le: value === 0 ? 65536 : value, extended: true, case: 2 };
  if (value === 0) throw invalid('extended APDU with Lc = 0');
  const data = bytes.slice(7, 7 + value);
  if (length === 7 + value) return { ...header, data, extended: true, case: 3 };
  if (length === 9 + value) {
    const le = ((bytes[length - 2] as number) << 8) | (bytes[length - 1] as number);
    return { ...header, data, le: le === 0 ? 65536 : le, extended: true, case: 4 };
  }
  throw invalid(`APDU length ${length} inconsistent with extended Lc ${value}`);
}

/** Splits a response APDU into data and status word. Fewer than 2 bytes → SCARD_F_COMM_ERROR. */
export function parseResponseApdu(bytes: Uint8Array): ResponseApdu {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) {
    throw new ScardError('SCARD_F_COMM_ERROR', `response APDU too short: ${bytes?.length ?? 0} bytes`);
  }
  const length = bytes.length;
  return {
    data: bytes.slice(0, length - 2),
    statusWord: ((bytes[length - 2] as number) << 8) | (bytes[length - 1] as number),
  };
}

/** Builds response APDU bytes: data ‖ SW1 SW2. */
export function encodeResponseApdu(data: Uint8Array, statusWord: number): Uint8Array {
  if (!(data instanceof Uint8Array)) throw invalid('response data must be a Uint8Array');
  if (!Number.isInteger(statusWord) || statusWord < 0 || statusWord > 0xffff) {
    throw invalid(`status word must be 0..0xFFFF, got ${statusWord}`);
  }
  const out = new Uint8Array(data.length + 2);
  out.set(data, 0);
  out[data.length] = statusWord >> 8;
  out[data.length + 1] = statusWord & 0xff;
  return out;
}

/** True when CLA has the chaining bit (0x10): more commands of this chain follow. */
export function isChained(apdu: Pick<CommandApdu, 'cla'> | Uint8Array): boolean {
  const cla = apdu instanceof Uint8Array ? apdu[0] : apdu.cla;
  return cla !== undefined && (cla & CLA_CHAINING) !== 0;
}

/** A copy of a command APDU with its data buffer copied too (so callers cannot alter it later). */
export function copyCommandApdu(apdu: CommandApdu): CommandApdu {
  return apdu.data === undefined ? { ...apdu } : { ...apdu, data: copyBytes(apdu.data) };
}
