/**
 * The answer to reset (ISO 7816-3, docs/spec/iso7816.md §7): interface bytes, protocols, historical
 * bytes (category indicator and COMPACT-TLV), the TCK, and ATR matching with a mask the way the
 * Windows Calais database and pcsc-tools do it (docs/spec/iso7816.md §8).
 */
import { ScardError } from '@minidriver/spec';

/** One group i of interface bytes TAi TBi TCi TDi. */
export interface InterfaceByteGroup {
  /** The group number i (1 for TA1..TD1). */
  readonly index: number;
  /**
   * The protocol T these bytes are specific to: T of TD(i-1) for i ≥ 2 (15 = global);
   * undefined for group 1 (global bytes).
   */
  readonly protocol?: number;
  readonly ta?: number;
  readonly tb?: number;
  readonly tc?: number;
  readonly td?: number;
}

/** T=1 parameters announced in the ATR (first TA/TB/TC after a TD announcing T=1). */
export interface T1Parameters {
  /** Information field size of the card (default 32). */
  readonly ifsc: number;
  /** Block waiting time integer (default 4). */
  readonly bwi: number;
  /** Character waiting time integer (default 13). */
  readonly cwi: number;
  /** Error detection code. */
  readonly errorDetection: 'lrc' | 'crc';
}

/** A parsed ATR. */
export interface ParsedAtr {
  /** The ATR as given (a copy). */
  readonly bytes: Uint8Array;
  /** From TS: `3B` direct, `3F` inverse. */
  readonly convention: 'direct' | 'inverse';
  /** Every interface byte group, in order. */
  readonly interfaceBytes: InterfaceByteGroup[];
  /** Protocols offered, in the order announced, e.g. `[0, 1]`; `[0]` when no TD1 (T=0 implied). */
  readonly protocols: number[];
  /** The historical bytes (K of them, from T0). */
  readonly historicalBytes: Uint8Array;
  /** The check byte, when present. */
  readonly tck?: number;
  /**
   * XOR of T0..TCK is 00. undefined when no TCK is required (only T=0) and none is present; false
   * when one is required but missing.
   */
  readonly tckValid: boolean | undefined;
  /** Clock rate conversion factor Fi from TA1 (undefined when TA1 is absent — the default is 372 — or RFU). */
  readonly fi?: number;
  /** Baud rate adjustment factor Di from TA1 (undefined when TA1 is absent — the default is 1 — or RFU). */
  readonly di?: number;
  /** T=1 parameters, when T=1 is offered (defaults filled in). */
  readonly t1?: T1Parameters;
}

/** Fi by the FI nibble of TA1 (docs/spec/iso7816.md §7.3); undefined = RFU. */
const FI_TABLE: readonly (number | undefined)[] = [
  372,
  372,
  558,
  744,
  1116,
  1488,
  1860,
  undefined,
  undefined,
  512,
  768,
  1024,
  1536,
  2048,
  undefined,
  undefined,
];
/** Di by the DI nibble of TA1; undefined = RFU. */
const DI_TABLE: readonly (number | undefined)[] = [
  undefined,
  1,
  2,
  4,
  8,
  16,
  32,
  64,
  12,
  20,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
];

/** Longest ATR: TS plus 32 bytes (ISO 7816-3). */
export const MAX_ATR_LENGTH = 33;

function invalidAtr(message: string): ScardError {
  return new ScardError('SCARD_E_INVALID_ATR', message);
}

/**
 * Parses an ATR. Throws SCARD_E_INVALID_ATR when TS is neither `3B` nor `3F`, when the bytes end
 * before the interface and historical bytes T0 announces, when more than one byte follows them, or
 * when the ATR is longer than 33 bytes. A wrong TCK does not throw: see `tckValid`.
 */
export function parseAtr(bytes: Uint8Array): ParsedAtr {
  if (!(bytes instanceof Uint8Array)) throw invalidAtr('ATR must be a Uint8Array');
  if (bytes.length < 2) throw invalidAtr(`ATR too short: ${bytes.length} bytes`);
  if (bytes.length > MAX_ATR_LENGTH) throw invalidAtr(`ATR too long: ${bytes.length} bytes`);
  const ts = bytes[0] as number;
  if (ts !== 0x3b && ts !== 0x3f) throw invalidAtr(`TS must be 3B or 3F, got ${ts.toString(16).padStart(2, '0')}`);
  const t0 = bytes[1] as number;
  const historicalLength = t0 & 0x0f;

  const interfaceBytes: InterfaceByteGroup[] = [];
  const protocols: number[] = [];
  let presence = t0 >> 4;
  let offset = 2;
  let groupProtocol: number | undefined;
  const read = (name: string): number => {
    const value = bytes[offset];
    if (value === undefined) throw invalidAtr(`ATR ends before ${name}`);
    offset++;
    return value;
  };
  for (let index = 1; ; index++) {
    const group: { index: number; protocol?: number; ta?: number; tb?: number; tc?: number; td?: number } = { index };
    if (groupProtocol !== undefined) group.protocol = groupProtocol;
    if (presence & 0x1) group.ta = read(`TA${index}`);
    if (presence & 0x2) group.tb = read(`TB${index}`);
    if (presence & 0x4) group.tc = read(`TC${index}`);
    if (presence & 0x8) group.td = read(`TD${index}`);
    interfaceBytes.push(group);
    if (group.td === undefined) break;
    presence = group.td >> 4;
    groupProtocol = group.td & 0x0f;
    if (groupProtocol !== 15 && !protocols.includes(groupProtocol)) protocols.push(groupProtocol);
  }
  if (protocols.length === 0) protocols.push(0);

  if (offset + historicalLength > bytes.length) {
    throw invalidAtr(`ATR announces ${historicalLength} historical bytes, ${bytes.length - offset} left`);
  }
  const historicalBytes = bytes.slice(offset, offset + historicalLength);
  offset += historicalLength;
  const remaining = bytes.length - offset;
  if (remaining > 1) throw invalidAtr(`${remaining} unexpected bytes after the historical bytes`);

  // TCK is mandatory unless only T=0 is indicated (any TD announcing T ≠ 0, T=15 included).
  const tckRequired = interfaceBytes.some((group) => group.td !== undefined && (group.td & 0x0f) !== 0);
  const tck = remaining === 1 ? (bytes[offset] as number) : undefined;
  let tckValid: boolean | undefined;
  if (tck !== undefined) {
    let check = 0;
    for (let position = 1; position < bytes.length; position++) check ^= bytes[position] as number;
    tckValid = check === 0;
  } else if (tckRequired) {
    tckValid = false;
  }

  const ta1 = interfaceBytes[0]?.ta;
  const parsed: ParsedAtr = {
    bytes: bytes.slice(),
    convention: ts === 0x3b ? 'direct' : 'inverse',
    interfaceBytes,
    protocols,
    historicalBytes,
    tckValid,
    ...(tck === undefined ? {} : { tck }),
    ...(ta1 === undefined ? {} : { fi: FI_TABLE[ta1 >> 4], di: DI_TABLE[ta1 & 0x0f] }),
  };
  const t1 = t1Parameters(interfaceBytes);
  return t1 === undefined ? parsed : { ...parsed, t1 };
}

/** The T=1 bytes: the first group (i ≥ 3) qualified by T=1 (docs/spec/iso7816.md §7.3). */
function t1Parameters(groups: readonly InterfaceByteGroup[]): T1Parameters | undefined {
  const offered = groups.some((group) => group.td !== undefined && (group.td & 0x0f) === 1);
  if (!offered) return undefined;
  const group = groups.find((candidate) => candidate.index >= 3 && candidate.protocol === 1);
  return {
    ifsc: group?.ta ?? 32,
    bwi: group?.tb === undefined ? 4 : group.tb >> 4,
    cwi: group?.tb === undefined ? 13 : group.tb & 0x0f,
    errorDetection: group?.tc !== undefined && (group.tc & 0x01) === 1 ? 'crc' : 'lrc',
  };
}

/**
 * Windows / OpenSC ATR matching (docs/spec/iso7816.md §8.1): true iff the lengths are equal and
 * `atr[i] & mask[i] == pattern[i] & mask[i]` for every byte. Without a mask the ATR must equal the
 * pattern. A mask of another length than the pattern throws SCARD_E_INVALID_PARAMETER.
 */
export function matchAtr(atr: Uint8Array, pattern: Uint8Array, mask?: Uint8Array): boolean {
  if (mask !== undefined && mask.length !== pattern.length) {
    throw new ScardError(
      'SCARD_E_INVALID_PARAMETER',
      `ATR mask has ${mask.length} bytes, the reference ATR ${pattern.length}`,
    );
  }
  if (atr.length !== pattern.length) return false;
  for (let index = 0; index < atr.length; index++) {
    const byteMask = mask === undefined ? 0xff : (mask[index] as number);
    if (((atr[index] as number) & byteMask) !== ((pattern[index] as number) & byteMask)) return false;
  }
  return true;
}

/** An ATR pattern: reference bytes and the mask of the bits that must match. */
export interface AtrPattern {
  readonly pattern: Uint8Array;
  readonly mask: Uint8Array;
}

/**
 * Parses an ATR pattern written as hex with optional spaces, colons or dashes between bytes
 * (`"3b:fd:13"`, `"3B FD 13"`). A `.` in place of a hex digit is a wildcard nibble, so pcsc-tools
 * lines such as `"3B .. .. 00 31"` work (docs/spec/iso7816.md §8.2): their `..` bytes get mask `00`.
 * Throws SCARD_E_INVALID_PARAMETER for anything else.
 */
export function parseAtrPattern(text: string): AtrPattern {
  if (typeof text !== 'string') throw new ScardError('SCARD_E_INVALID_PARAMETER', 'ATR pattern must be a string');
  const compact = text.replace(/[\s:-]/g, '');
  if (compact.length === 0 || compact.length % 2 !== 0 || !/^[0-9a-fA-F.]*$/.test(compact)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `not an ATR pattern: "${text.slice(0, 80)}"`);
  }
  const length = compact.length / 2;
  const pattern = new Uint8Array(length);
  const mask = new Uint8Array(length);
  for (let index = 0; index < length; index++) {
    for (const [shift, digit] of [
      [4, compact[index * 2]],
      [0, compact[index * 2 + 1]],
    ] as const) {
      if (digit === '.') continue;
      pattern[index] = (pattern[index] as number) | (Number.parseInt(digit as string, 16) << shift);
      mask[index] = (mask[index] as number) | (0x0f << shift);
    }
  }
  return { pattern, mask };
}

/** One COMPACT-TLV object of the historical bytes: tag = high nibble, length = low nibble. */
export interface CompactTlvObject {
  readonly tag: number;
  readonly value: Uint8Array;
}

/** Card capabilities (COMPACT-TLV tag 7, docs/spec/iso7816.md §7.4). */
export interface CardCapabilities {
  /** The raw 1..3 bytes. */
  readonly bytes: Uint8Array;
  /** Byte 3, b8: the card supports command chaining. */
  readonly commandChaining: boolean;
  /** Byte 3, b7: the card supports extended Lc and Le. */
  readonly extendedLength: boolean;
}

/** Status indicator: life cycle status and/or SW1 SW2. */
export interface HistoricalStatus {
  readonly lifeCycleStatus?: number;
  readonly statusWord?: number;
}

/** The historical bytes, interpreted per ISO 7816-4 §8.1.1 (docs/spec/iso7816.md §7.4). */
export interface HistoricalBytes {
  /** The first byte; undefined when there are no historical bytes. */
  readonly categoryIndicator: number | undefined;
  /** `compact-tlv` for 00 and 80, `dir-reference` for 10, `proprietary` for anything else (e.g. "Yubikey4"). */
  readonly format: 'empty' | 'compact-tlv' | 'dir-reference' | 'proprietary';
  /** The COMPACT-TLV objects (empty unless format is compact-tlv). */
  readonly objects: CompactTlvObject[];
  /** Card capabilities, when tag 7 is present. */
  readonly cardCapabilities?: CardCapabilities;
  /** Status indicator: the mandatory last three bytes (category 00) or tag 8 (category 80). */
  readonly status?: HistoricalStatus;
  /** For category 10: the DIR data reference byte. */
  readonly dirDataReference?: number;
}

function statusFrom(value: Uint8Array): HistoricalStatus {
  if (value.length === 1) return { lifeCycleStatus: value[0] as number };
  if (value.length === 2) return { statusWord: ((value[0] as number) << 8) | (value[1] as number) };
  return { lifeCycleStatus: value[0] as number, statusWord: ((value[1] as number) << 8) | (value[2] as number) };
}

/** Splits COMPACT-TLV data into objects; throws SCARD_E_INVALID_ATR when a length runs past the end. */
export function decodeCompactTlv(bytes: Uint8Array): CompactTlvObject[] {
  const objects: CompactTlvObject[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const header = bytes[offset] as number;
    const length = header & 0x0f;
    if (offset + 1 + length > bytes.length) {
      throw invalidAtr(`COMPACT-TLV object ${header.toString(16)} runs past the historical bytes`);
    }
    objects.push({ tag: header >> 4, value: bytes.slice(offset + 1, offset + 1 + length) });
    offset += 1 + length;
  }
  return objects;
}

/**
 * Interprets historical bytes: category indicator `00` (COMPACT-TLV, then a 3-byte status
 * indicator at the end), `80` (COMPACT-TLV, status as tag 8), `10` (DIR data reference), anything
 * else proprietary. Throws SCARD_E_INVALID_ATR on malformed COMPACT-TLV.
 */
export function parseHistoricalBytes(bytes: Uint8Array): HistoricalBytes {
  if (!(bytes instanceof Uint8Array)) throw invalidAtr('historical bytes must be a Uint8Array');
  const category = bytes[0];
  if (category === undefined) return { categoryIndicator: undefined, format: 'empty', objects: [] };
  if (category === 0x10) {
    const reference = bytes[1];
    return {
      categoryIndicator: category,
      format: 'dir-reference',
      objects: [],
      ...(reference === undefined ? {} : { dirDataReference: reference }),
    };
  }
  if (category !== 0x00 && category !== 0x80) {
    return { categoryIndicator: category, format: 'proprietary', objects: [] };
  }
  let status: HistoricalStatus | undefined;
  let body = bytes.subarray(1);
  if (category === 0x00) {
    if (body.length < 3) throw invalidAtr('category 00 historical bytes lack the 3-byte status indicator');
    status = statusFrom(body.subarray(body.length - 3));
    body = body.subarray(0, body.length - 3);
  }
  const objects = decodeCompactTlv(body);
  const statusObject = objects.find(
    (object) => object.tag === 0x8 && object.value.length >= 1 && object.value.length <= 3,
  );
  if (status === undefined && statusObject) status = statusFrom(statusObject.value);
  const capabilities = objects.find((object) => object.tag === 0x7);
  const third = capabilities?.value[2] ?? 0;
  return {
    categoryIndicator: category,
    format: 'compact-tlv',
    objects,
    ...(capabilities === undefined
      ? {}
      : {
          cardCapabilities: {
            bytes: capabilities.value.slice(),
            commandChaining: (third & 0x80) !== 0,
            extendedLength: (third & 0x40) !== 0,
          },
        }),
    ...(status === undefined ? {} : { status }),
  };
}

/**
 * True when the ATR's card capabilities (historical bytes, COMPACT-TLV tag 7, third byte b7) announce
 * extended Lc and Le fields (ISO/IEC 7816-4 §12.1.1.9; YubiKey 4/5 do). False for any ATR that does not
 * say so, including one that does not parse: never throws.
 */
export function announcesExtendedLength(atr: Uint8Array): boolean {
  try {
    return parseHistoricalBytes(parseAtr(atr).historicalBytes).cardCapabilities?.extendedLength === true;
  } catch {
    return false;
  }
}

/**
 * True for the contactless pseudo-ATR that PC/SC readers synthesise (`3B 8n 80 01 …`, docs/spec/iso7816.md §7.6),
 * the test OpenSC's PIV driver uses.
 */
export function isContactlessAtr(atr: Uint8Array): boolean {
  return atr[0] === 0x3b && ((atr[1] ?? 0) & 0xf0) === 0x80 && atr[2] === 0x80 && atr[3] === 0x01;
}
