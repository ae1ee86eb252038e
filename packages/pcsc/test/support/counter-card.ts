/**
 * A tiny SimulatedCard for the PC/SC tests: a 4-byte counter read with GET DATA (00 CA 00 00 04) and
 * written with PUT DATA (00 DA 00 00 04 <4 bytes>). Two processes doing read-modify-write on it lose
 * updates unless they hold real PC/SC transactions.
 */
import type { SimulatedCard } from '@minidriver/sim';

/** ATR: TS=3B, T0=04 (four historical bytes, T=0 implied, so no TCK), historical bytes "MINI". */
export const COUNTER_CARD_ATR = Uint8Array.of(0x3b, 0x04, 0x4d, 0x49, 0x4e, 0x49);

export class CounterCard implements SimulatedCard {
  readonly name = 'Counter';
  readonly atr = COUNTER_CARD_ATR;
  counter = 0;
  powerOns = 0;

  powerOn(): void {
    this.powerOns++;
  }

  powerOff(): void {}

  reset(): void {
    this.powerOns++;
  }

  process(command: Uint8Array): Uint8Array {
    const ins = command[1];
    if (command[0] !== 0x00) return Uint8Array.of(0x6e, 0x00);
    if (ins === 0xca) {
      const response = new Uint8Array(6);
      new DataView(response.buffer).setUint32(0, this.counter >>> 0, false);
      response[4] = 0x90;
      return response;
    }
    if (ins === 0xda) {
      if (command.length !== 9 || command[4] !== 4) return Uint8Array.of(0x67, 0x00);
      this.counter = new DataView(command.buffer, command.byteOffset + 5, 4).getUint32(0, false);
      return Uint8Array.of(0x90, 0x00);
    }
    return Uint8Array.of(0x6d, 0x00);
  }
}
