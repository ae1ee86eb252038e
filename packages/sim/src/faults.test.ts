import { fromHex } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { corruptResponse, FaultInjector, toFaultInjector } from './faults.js';

describe('FaultInjector', () => {
  it('fires each fault at its 1-based APDU only', () => {
    const injector = new FaultInjector({ removeBeforeApdu: 3, removeAfterApdu: 2, corruptResponseAt: 1, delayMs: 7 });
    const decisions = [1, 2, 3, 4].map(() => injector.nextApdu());
    expect(decisions.map((decision) => decision.apduNumber)).toEqual([1, 2, 3, 4]);
    expect(decisions.map((decision) => decision.corruptResponse)).toEqual([true, false, false, false]);
    expect(decisions.map((decision) => decision.removeAfter)).toEqual([false, true, false, false]);
    expect(decisions.map((decision) => decision.removeBefore)).toEqual([false, false, true, false]);
    expect(decisions.every((decision) => decision.delayMs === 7 && !decision.unpowerAfter)).toBe(true);
  });

  it('setPlan restarts the count; clear removes every fault; plan is a copy', () => {
    const injector = toFaultInjector({ unpowerAfterApdu: 1 });
    injector.nextApdu();
    injector.setPlan({ unpowerAfterApdu: 1 });
    expect(injector.nextApdu().unpowerAfter).toBe(true);
    injector.clear();
    expect(injector.plan).toEqual({});
    expect(injector.nextApdu()).toMatchObject({ apduNumber: 1, unpowerAfter: false, delayMs: 0 });
    expect(toFaultInjector(injector)).toBe(injector);
  });

  it('corruptResponse inverts the first byte and returns a copy', () => {
    const response = fromHex('0102039000');
    expect(corruptResponse(response)).toEqual(fromHex('FE02039000'));
    expect(response).toEqual(fromHex('0102039000'));
    expect(corruptResponse(fromHex('9000'))).toEqual(fromHex('6F00'));
    expect(corruptResponse(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });
});
