/**
 * SimTransport's own cost per APDU: the floor under every in-process test and the CLI's --sim mode.
 */

import type { SimulatedCard } from '@minidriver/sim';
import { SimTransport } from '@minidriver/sim';
import { type BenchResult, median } from './result.js';

/** A card that answers every command with 90 00 at once, so only the transport is measured. */
class NullCard implements SimulatedCard {
  readonly name = 'null';
  readonly atr = Uint8Array.of(0x3b, 0x00);
  powerOn(): void {}
  powerOff(): void {}
  reset(): void {}
  process(): Uint8Array {
    return Uint8Array.of(0x90, 0x00);
  }
}

export async function benchSim(): Promise<BenchResult[]> {
  const transport = new SimTransport(new NullCard());
  const command = Uint8Array.of(0x00, 0xca, 0x00, 0x6e, 0x00);
  for (let i = 0; i < 2000; i++) await transport.transmit(command);
  const samples: number[] = [];
  for (let round = 0; round < 50; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) await transport.transmit(command);
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / 1000);
  }
  await transport.close();
  return [{ name: 'SimTransport per-APDU cost (median)', value: median(samples), unit: 'µs' }];
}
