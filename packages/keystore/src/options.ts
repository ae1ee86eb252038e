/**
 * @packageDocumentation
 * Strict option bags: every public call that takes options refuses members it does not know and values
 * outside their set with SCARD_E_INVALID_PARAMETER, before any card I/O, so a typo never silently signs
 * with a default.
 */
import { ScardError } from '@minidriver/spec';

/** The options object (undefined/absent → empty), refusing unknown members. */
export function checkOptions<T extends object>(value: unknown, allowed: readonly string[], what: string): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `${what} options must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `unknown ${what} option "${key.slice(0, 32)}" (known: ${allowed.join(', ')})`,
      );
    }
  }
  return value as Partial<T>;
}

/** `value` when it is one of `choices`, `fallback` when undefined, else SCARD_E_INVALID_PARAMETER. */
/**
 * A short, safe description of a caller's value for an error message: primitives as text (cut to `max`
 * characters), anything else by its type. Never calls the value's own toString, which may throw or lie.
 */
export function describeValue(value: unknown, max = 32): string {
  switch (typeof value) {
    case 'string':
      return value.slice(0, max);
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return String(value).slice(0, max);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  }
}

export function checkChoice<C extends string>(value: unknown, choices: readonly C[], what: string, fallback?: C): C {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as C;
  throw new ScardError(
    'SCARD_E_INVALID_PARAMETER',
    `${what} ${JSON.stringify(describeValue(value))} is not one of ${choices.join(', ')}`,
  );
}

/** Bytes from a Uint8Array (any view of one, copied) — else SCARD_E_INVALID_PARAMETER. */
export function checkBytes(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new ScardError('SCARD_E_INVALID_PARAMETER', `${what} must be a Uint8Array`);
}
