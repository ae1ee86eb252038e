import { fromHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnknownCard } from './unknown-card.js';

// Status words from ISO/IEC 7816-4 (table 6): 6A82 file or application not found, 6D00 instruction
// not supported, 6E00 class not supported, 6700 wrong length.
describe('UnknownCard', () => {
  const card = new UnknownCard();
  it('answers SELECT of any AID with 6A82 and anything else with 6D00', () => {
    expect(card.process(fromHex('00A4040009A00000030800001000'))).toEqual(fromHex('6A82'));
    expect(card.process(fromHex('00A4040006D27600012401'))).toEqual(fromHex('6A82'));
    expect(card.process(fromHex('00CB3FFF055C035FC102'))).toEqual(fromHex('6D00'));
    expect(card.process(fromHex('FFCA000000'))).toEqual(fromHex('6E00'));
    expect(card.process(fromHex('00A4'))).toEqual(fromHex('6700'));
  });

  it('always answers a 2-byte status word (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (command) => card.process(command).length === 2));
  });

  it('tracks power', () => {
    const fresh = new UnknownCard({ name: 'Other', atr: fromHex('3B00') });
    expect(fresh.powered).toBe(false);
    fresh.powerOn();
    expect(fresh.powered).toBe(true);
    fresh.powerOff();
    expect(fresh.powered).toBe(false);
    expect(fresh.name).toBe('Other');
    expect(fresh.atr).toEqual(fromHex('3B00'));
  });
});
