import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CKR } from '../pkcs11/constants.js';
import { SlotEventQueue } from './slot-events.js';

const rvOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 0,
    (error: { rv: number }) => error.rv,
  );

describe('SlotEventQueue (C_WaitForSlotEvent of one client)', () => {
  it('keeps each slot once, oldest first, and answers CKR_NO_EVENT to CKF_DONT_BLOCK when nothing is pending', async () => {
    const queue = new SlotEventQueue(8);
    expect(await rvOf(queue.next(true))).toBe(CKR.NO_EVENT);
    queue.push(2);
    queue.push(1);
    queue.push(2);
    expect(await queue.next(true)).toBe(2);
    expect(await queue.next(false)).toBe(1);
    expect(await rvOf(queue.next(true))).toBe(CKR.NO_EVENT);
  });

  it('gives an event to the oldest waiting call; at most maxWaiters wait; end() ends them all', async () => {
    const queue = new SlotEventQueue(2);
    const first = queue.next(false);
    const second = queue.next(false);
    expect(await rvOf(queue.next(false))).toBe(CKR.FUNCTION_FAILED);
    queue.push(3);
    expect(await first).toBe(3);
    queue.end();
    expect(await rvOf(second)).toBe(CKR.CRYPTOKI_NOT_INITIALIZED);
    queue.push(4);
    expect(await rvOf(queue.next(true))).toBe(CKR.CRYPTOKI_NOT_INITIALIZED);
  });

  it('never holds more pending events than distinct slots (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 200 }), async (slots) => {
        const queue = new SlotEventQueue(8);
        for (const slot of slots) queue.push(slot);
        const drained: number[] = [];
        for (;;) {
          const next = await queue.next(true).catch(() => undefined);
          if (next === undefined) break;
          drained.push(next);
        }
        expect(drained).toEqual([...new Set(slots)]);
      }),
    );
  });
});
