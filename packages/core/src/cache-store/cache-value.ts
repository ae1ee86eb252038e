/**
 * The JSON form of a cached value on disk. Cached values are plain data (what the data cache holds:
 * `Uint8Array`, arrays, plain objects, strings, finite numbers, booleans, null, undefined); each is
 * written as a tagged array so that no value can pass for another (`["b", base64]` is bytes, an object is
 * `["o", [[key, value], ...]]`). The decoder accepts nothing else and bounds depth and size.
 *
 * @packageDocumentation
 */

/** A value the data cache holds. */
export type CacheValue =
  | Uint8Array
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly CacheValue[]
  | { readonly [key: string]: CacheValue };

/** Nesting deeper than this is refused (container info and properties are two or three levels deep). */
export const MAX_VALUE_DEPTH = 16;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The tagged JSON form of `value`; throws TypeError on anything that is not plain cache data. */
export function encodeCacheValue(value: CacheValue, depth = 0): unknown {
  if (depth > MAX_VALUE_DEPTH) throw new TypeError('cache value nested too deeply');
  if (value instanceof Uint8Array)
    return ['b', Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')];
  if (value === null) return ['z'];
  if (value === undefined) return ['u'];
  switch (typeof value) {
    case 'string':
      return ['s', value];
    case 'boolean':
      return [value ? 't' : 'f'];
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('cache value is not a finite number');
      return ['n', value];
    case 'object':
      if (Array.isArray(value)) return ['a', value.map((item) => encodeCacheValue(item, depth + 1))];
      if (![Object.prototype, null].includes(Object.getPrototypeOf(value)))
        throw new TypeError('cache value is not plain data');
      return ['o', Object.entries(value).map(([key, item]) => [key, encodeCacheValue(item, depth + 1)])];
    default:
      throw new TypeError(`cache value of type ${typeof value}`);
  }
}

/** The value of a tagged JSON form, or `{ ok: false }` when it is not one this module writes. */
export function decodeCacheValue(json: unknown, depth = 0): { ok: true; value: CacheValue } | { ok: false } {
  const fail = { ok: false } as const;
  if (depth > MAX_VALUE_DEPTH || !Array.isArray(json) || json.length === 0 || typeof json[0] !== 'string') return fail;
  const [tag, payload] = json as [string, unknown];
  const arity = (count: number): boolean => json.length === count;
  switch (tag) {
    case 'b':
      if (!arity(2) || typeof payload !== 'string' || payload.length % 4 !== 0 || !BASE64.test(payload)) return fail;
      return { ok: true, value: new Uint8Array(Buffer.from(payload, 'base64')) };
    case 'z':
      return arity(1) ? { ok: true, value: null } : fail;
    case 'u':
      return arity(1) ? { ok: true, value: undefined } : fail;
    case 't':
    case 'f':
      return arity(1) ? { ok: true, value: tag === 't' } : fail;
    case 's':
      return arity(2) && typeof payload === 'string' ? { ok: true, value: payload } : fail;
    case 'n':
      return arity(2) && typeof payload === 'number' && Number.isFinite(payload) ? { ok: true, value: payload } : fail;
    case 'a': {
      if (!arity(2) || !Array.isArray(payload)) return fail;
      const items: CacheValue[] = [];
      for (const item of payload) {
        const decoded = decodeCacheValue(item, depth + 1);
        if (!decoded.ok) return fail;
        items.push(decoded.value);
      }
      return { ok: true, value: items };
    }
    case 'o': {
      if (!arity(2) || !Array.isArray(payload)) return fail;
      const object: Record<string, CacheValue> = {};
      for (const pair of payload) {
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') return fail;
        const key = pair[0] as string;
        // Own data properties only: a key like "__proto__" must not reach a prototype.
        if (Object.hasOwn(object, key)) return fail;
        const decoded = decodeCacheValue(pair[1], depth + 1);
        if (!decoded.ok) return fail;
        Object.defineProperty(object, key, {
          value: decoded.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return { ok: true, value: object };
    }
    default:
      return fail;
  }
}
