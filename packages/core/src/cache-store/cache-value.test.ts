import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CacheValue, decodeCacheValue, encodeCacheValue } from './cache-value.js';

const valueArb: fc.Arbitrary<CacheValue> = fc.letrec<{ value: CacheValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 40 }),
    fc.string(),
    // JSON has one zero: -0 is written as 0 (its own test below), so the round trip is asked of +0 only.
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('cache values on disk', () => {
  it('round-trips every plain value through JSON text (property)', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const decoded = decodeCacheValue(JSON.parse(JSON.stringify(encodeCacheValue(value))));
        expect(decoded).toEqual({ ok: true, value: value === undefined ? undefined : value });
      }),
    );
  });

  it('stores -0 as 0 (JSON has one zero; a cached number is a count or a size, never a signed zero)', () => {
    const decoded = decodeCacheValue(JSON.parse(JSON.stringify(encodeCacheValue(-0))));
    expect(decoded.ok).toBe(true);
    expect(Object.is((decoded as { value: number }).value, 0)).toBe(true);
  });

  it('writes bytes as tagged base64 and objects as key/value pairs', () => {
    expect(encodeCacheValue(Uint8Array.of(1, 2, 0xff))).toEqual(['b', 'AQL/']);
    expect(encodeCacheValue({ a: 1, b: [true, null] })).toEqual([
      'o',
      [
        ['a', ['n', 1]],
        ['b', ['a', [['t'], ['z']]]],
      ],
    ]);
  });

  it('refuses what is not plain data', () => {
    expect(() => encodeCacheValue(Number.NaN)).toThrow(TypeError);
    expect(() => encodeCacheValue(new Date() as unknown as CacheValue)).toThrow(TypeError);
    expect(() => encodeCacheValue((() => 1) as unknown as CacheValue)).toThrow(TypeError);
  });

  it('keeps "__proto__" an own key and refuses duplicate keys', () => {
    const decoded = decodeCacheValue(['o', [['__proto__', ['n', 1]]]]);
    expect(decoded.ok).toBe(true);
    const value = (decoded as { value: Record<string, unknown> }).value;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(
      decodeCacheValue([
        'o',
        [
          ['k', ['n', 1]],
          ['k', ['n', 2]],
        ],
      ]),
    ).toEqual({ ok: false });
  });

  it('answers { ok: false } for anything else, never throws (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const decoded = decodeCacheValue(json);
        if (decoded.ok) expect(decodeCacheValue(encodeCacheValue(decoded.value))).toEqual(decoded);
      }),
    );
    expect(decodeCacheValue(['b', 'not base64!'])).toEqual({ ok: false });
    expect(decodeCacheValue(['n', '1'])).toEqual({ ok: false });
    expect(decodeCacheValue(['z', 1])).toEqual({ ok: false });
    let deep: unknown = ['z'];
    for (let i = 0; i < 40; i++) deep = ['a', [deep]];
    expect(decodeCacheValue(deep)).toEqual({ ok: false });
  });
});
