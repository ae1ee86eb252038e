/**
 * An ATR pattern: the registered ATR and its mask, as in the Calais database (minidriver spec
 * docs/spec/minidriver.md §12.1/§12.2). `FF` in the mask = the byte must match, `00` = ignore; partial masks compare bits.
 */
import { fromHex, ScardError, toHex } from '@minidriver/spec';

/** A validated pattern: `atr[i] & ~mask[i] === 0` for every byte (spec docs/spec/minidriver.md §12.5). */
export interface AtrPattern {
  /** The registered ATR, already masked. */
  readonly atr: Uint8Array;
  /** The mask, same length; all `FF` for an exact pattern. */
  readonly mask: Uint8Array;
  /** True when every mask byte is FF: matched through the exact hash. */
  readonly exact: boolean;
  /** Number of bits the mask keeps (8 x length for an exact pattern): the larger, the more specific. */
  readonly specificity: number;
}

/** The longest ATR ISO/IEC 7816-3 allows (TS + 32 bytes). */
export const MAX_ATR_LENGTH = 33;

/**
 * Builds a pattern from hex (spaces allowed). A missing mask means an exact match.
 * Throws SCARD_E_INVALID_PARAMETER (with the problem) on bad hex, bad lengths, or an ATR that keeps
 * bits its mask clears (it could never match).
 */
export function parseManifestAtr(atrHex: string, maskHex?: string): AtrPattern {
  const atr = fromHex(atrHex);
  if (atr.length < 2 || atr.length > MAX_ATR_LENGTH) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `ATR "${atrHex}" has ${atr.length} bytes (2 to 33 allowed)`);
  }
  const mask = maskHex === undefined ? new Uint8Array(atr.length).fill(0xff) : fromHex(maskHex);
  if (mask.length !== atr.length) {
    throw new ScardError(
      'SCARD_E_INVALID_PARAMETER',
      `mask "${maskHex}" has ${mask.length} bytes, its ATR "${atrHex}" has ${atr.length}`,
    );
  }
  for (let i = 0; i < atr.length; i++) {
    if (((atr[i] as number) & ~(mask[i] as number) & 0xff) !== 0) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `ATR "${atrHex}" byte ${i} sets bits its mask clears, so it could never match (register the masked ATR)`,
      );
    }
  }
  return createAtrPattern(atr, mask);
}

/** A pattern from bytes already checked by the caller (atr & ~mask === 0, same length). */
export function createAtrPattern(atr: Uint8Array, mask: Uint8Array): AtrPattern {
  let specificity = 0;
  for (const byte of mask) specificity += popcount8(byte);
  return { atr, mask, exact: specificity === mask.length * 8, specificity };
}

/** True when `cardAtr AND mask == atr` (spec docs/spec/minidriver.md §12.2; lengths must be equal). */
export function patternMatches(pattern: AtrPattern, cardAtr: Uint8Array): boolean {
  if (cardAtr.length !== pattern.atr.length) return false;
  for (let i = 0; i < cardAtr.length; i++) {
    if (((cardAtr[i] as number) & (pattern.mask[i] as number)) !== pattern.atr[i]) return false;
  }
  return true;
}

/** `3b f8 ..` style hex of a pattern, `..` for ignored bytes and `?` for ignored nibbles. */
export function describeAtrPattern(pattern: AtrPattern): string {
  const parts: string[] = [];
  for (let i = 0; i < pattern.atr.length; i++) {
    const mask = pattern.mask[i] as number;
    const hex = toHex(pattern.atr.subarray(i, i + 1));
    if (mask === 0xff) parts.push(hex);
    else if (mask === 0) parts.push('..');
    else if (mask === 0xf0) parts.push(`${hex[0]}.`);
    else if (mask === 0x0f) parts.push(`.${hex[1]}`);
    else parts.push(`${hex}/${toHex(pattern.mask.subarray(i, i + 1))}`);
  }
  return parts.join(' ');
}

function popcount8(byte: number): number {
  let count = 0;
  for (let value = byte; value !== 0; value &= value - 1) count++;
  return count;
}
