/**
 * The one error type that leaves any public API of minidriver: `ScardError`, carrying the
 * specification's code (e.g. 0x80100004) and name (`SCARD_E_INVALID_PARAMETER`).
 *
 * @packageDocumentation
 */
import { ScardCode, type ScardCodeName } from './codes.js';

const MARKER = Symbol.for('minidriver.scard-error');

const NAME_BY_CODE: ReadonlyMap<number, ScardCodeName> = new Map(
  (Object.entries(ScardCode) as [ScardCodeName, number][]).map(([name, code]) => [code >>> 0, name]),
);

/** Extra facts an error may carry. */
export interface ScardErrorDetails {
  /** For SCARD_W_WRONG_CHV: how many tries are left (from 63Cx or the card's counter). */
  readonly retriesLeft?: number;
  /** The ISO 7816 status word that caused the error, when it came from a card response. */
  readonly statusWord?: number;
  /** The underlying cause (never a PIN or key). */
  readonly cause?: unknown;
}

/**
 * A smart card error with the exact code of the minidriver specification / winerror.h.
 *
 * Recognise it with {@link ScardError.isInstance}, which works across several copies of
 * `@minidriver/core` in one node_modules (plugins are published separately).
 */
export class ScardError extends Error {
  /** The unsigned 32-bit code, e.g. 0x80100004. */
  readonly code: number;
  /** The code's name, e.g. `SCARD_E_INVALID_PARAMETER`. */
  override readonly name: string;
  /** Retries left, for SCARD_W_WRONG_CHV. */
  readonly retriesLeft: number | undefined;
  /** The ISO 7816 status word behind this error, if any. */
  readonly statusWord: number | undefined;
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read by isInstance through the global symbol.
  private readonly [MARKER] = true;

  constructor(code: number | ScardCodeName, message?: string, details: ScardErrorDetails = {}) {
    const numeric = typeof code === 'string' ? ScardCode[code] : code >>> 0;
    const name = NAME_BY_CODE.get(numeric) ?? `0x${numeric.toString(16).toUpperCase().padStart(8, '0')}`;
    super(message ? `${name}: ${message}` : name, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = numeric;
    this.name = name;
    this.retriesLeft = details.retriesLeft;
    this.statusWord = details.statusWord;
  }

  /** True for a `ScardError` from any copy of this package. */
  static isInstance(value: unknown): value is ScardError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  /** True when `value` is a ScardError with the given code. */
  static hasCode(value: unknown, code: number | ScardCodeName): value is ScardError {
    const numeric = typeof code === 'string' ? ScardCode[code] : code >>> 0;
    return ScardError.isInstance(value) && value.code === numeric;
  }

  /**
   * Turns anything thrown into a ScardError: a ScardError passes through; anything else becomes
   * SCARD_E_UNEXPECTED with the original as cause.
   */
  static from(value: unknown, context?: string): ScardError {
    if (ScardError.isInstance(value)) return value;
    const text = value instanceof Error ? value.message : String(value);
    return new ScardError('SCARD_E_UNEXPECTED', context ? `${context}: ${text}` : text, { cause: value });
  }
}

/** The name of a code, e.g. `scardCodeName(0x80100004) === 'SCARD_E_INVALID_PARAMETER'`. */
export function scardCodeName(code: number): ScardCodeName | undefined {
  return NAME_BY_CODE.get(code >>> 0);
}

/** Throws SCARD_E_INVALID_PARAMETER with `message` unless `condition` holds. */
export function requireParameter(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/** Throws SCARD_E_UNSUPPORTED_FEATURE naming the exact feature. */
export function unsupported(feature: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `${feature} is not supported`);
}
