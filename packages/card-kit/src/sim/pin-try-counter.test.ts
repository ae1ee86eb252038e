import { describe, expect, it } from 'vitest';
import { PinTryCounter } from './pin-try-counter.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('PinTryCounter', () => {
  it('a wrong value costs a try, a right one restores them, the last wrong one blocks', () => {
    const pin = new PinTryCounter(bytes('123456'), 3);
    expect(pin.check(bytes('000000'))).toEqual({ kind: 'wrong', retriesLeft: 2 });
    expect(pin.check(bytes('123456'))).toEqual({ kind: 'verified' });
    expect(pin.retriesLeft).toBe(3);
    pin.check(bytes('1'));
    pin.check(bytes('2'));
    expect(pin.check(bytes('3'))).toEqual({ kind: 'blocked' });
    expect(pin.blocked).toBe(true);
    expect(pin.check(bytes('123456'))).toEqual({ kind: 'blocked' });
  });

  it('change replaces the value and restores the tries; matches does not count', () => {
    const pin = new PinTryCounter(bytes('123456'), 3, 1);
    expect(pin.matches(bytes('123456'))).toBe(true);
    expect(pin.retriesLeft).toBe(1);
    pin.change(bytes('654321'), 5);
    expect([pin.retriesLeft, pin.maxRetries]).toEqual([5, 5]);
    expect(pin.check(bytes('654321'))).toEqual({ kind: 'verified' });
    expect(pin.exportValue()).toEqual(bytes('654321'));
    expect(() => new PinTryCounter(bytes('1'), 0)).toThrow(RangeError);
  });
});
