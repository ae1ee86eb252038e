/**
 * @minidriver/pcsc against the `pcsclite` npm binding: median per-APDU round trip on the same card served
 * through vpcd ("Virtual PCD 00 00", port 35963), the same APDU, N samples each, interleaved so both see the
 * same load, and their ratio (goal <= 1.05).
 */
import { createRequire } from 'node:module';
import { PcscContext, type PcscliteReader } from '@minidriver/pcsc';
import { acquireVpcdPortLock, type SimulatedCard, serveVpcd } from '@minidriver/sim';
import { type BenchResult, median } from './result.js';

export type { BenchResult } from './result.js';

const READER = 'Virtual PCD 00 00';
const PORT = 35963;
const SAMPLES = 500;
const WARMUP = 50;
const COMMAND = Uint8Array.of(0x00, 0xca, 0x00, 0x00, 0x04);

/** Answers every command with four bytes and 9000: the card's own cost stays out of the comparison. */
class EchoCard implements SimulatedCard {
  readonly name = 'Echo';
  readonly atr = Uint8Array.of(0x3b, 0x04, 0x4d, 0x49, 0x4e, 0x49);
  powerOn(): void {}
  powerOff(): void {}
  reset(): void {}
  process(): Uint8Array {
    return Uint8Array.of(1, 2, 3, 4, 0x90, 0x00);
  }
}

type PcscliteModule = () => {
  on(event: 'reader', listener: (reader: PcscliteReader & NodeJS.EventEmitter) => void): void;
  on(event: 'error', listener: (error: unknown) => void): void;
  close(): void;
};

type Transmitter = (command: Uint8Array) => Promise<Uint8Array>;

/** Connects to our reader through `pcsclite`, or explains why it cannot. */
async function connectPcsclite(): Promise<{ transmit: Transmitter; close: () => void } | { reason: string }> {
  let factory: PcscliteModule;
  try {
    factory = createRequire(import.meta.url)('pcsclite') as PcscliteModule;
  } catch (error) {
    return {
      reason: `pcsclite could not be loaded (did its native build fail?): ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const pcsc = factory();
  pcsc.on('error', () => undefined);
  const reader = await new Promise<PcscliteReader & NodeJS.EventEmitter>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pcsclite did not report reader "${READER}"`)), 10_000);
    pcsc.on('reader', (candidate) => {
      candidate.on('error', () => undefined);
      if (candidate.name === READER) {
        clearTimeout(timer);
        resolve(candidate);
      }
    });
  });
  const protocol = await new Promise<number>((resolve, reject) =>
    reader.connect({ share_mode: 2 /* SCARD_SHARE_SHARED */, protocol: 3 }, (error, active) =>
      error ? reject(error) : resolve(active),
    ),
  );
  return {
    transmit: (command) =>
      new Promise((resolve, reject) =>
        reader.transmit(Buffer.from(command), 258, protocol, (error, response) =>
          error ? reject(error) : resolve(new Uint8Array(response)),
        ),
      ),
    close: () => {
      reader.disconnect(0, () => undefined);
      pcsc.close();
    },
  };
}

async function timeOne(transmit: Transmitter): Promise<number> {
  const start = process.hrtime.bigint();
  await transmit(COMMAND);
  return Number(process.hrtime.bigint() - start) / 1000;
}

/** Runs the comparison; needs pcscd with the vpcd reader "Virtual PCD 00 00" free. */
export async function benchPcsc(): Promise<BenchResult[]> {
  // Tests serving cards on the same reader take this lock too: wait for them rather than collide.
  const releaseLock = await acquireVpcdPortLock(PORT);
  const server = serveVpcd(new EchoCard(), { port: PORT, reconnect: false });
  const context = await PcscContext.establish();
  try {
    await server.connected;
    // Wait until pcscd reports the card present, so both clients connect to the same powered card.
    const watch = context.watch();
    await watch.waitFor((event) => event.type === 'card-inserted' && event.readerName === READER);
    await watch.close();
    const card = await context.connect(READER, { share: 'shared' });
    const ours: Transmitter = (command) => card.transmit(command);
    const theirs = await connectPcsclite();
    const oursSamples: number[] = [];
    const theirsSamples: number[] = [];
    for (let index = 0; index < WARMUP; index++) {
      await ours(COMMAND);
      if ('transmit' in theirs) await theirs.transmit(COMMAND);
    }
    for (let index = 0; index < SAMPLES; index++) {
      oursSamples.push(await timeOne(ours));
      if ('transmit' in theirs) theirsSamples.push(await timeOne(theirs.transmit));
    }
    await card.disconnect();
    const oursMedian = median(oursSamples);
    const rows: BenchResult[] = [
      {
        name: '@minidriver/pcsc per-APDU round trip (median, vpcd)',
        value: oursMedian,
        unit: 'µs',
        note: `N=${SAMPLES}`,
      },
    ];
    if ('reason' in theirs) {
      rows.push({
        name: 'pcsclite per-APDU round trip (median, vpcd)',
        value: Number.NaN,
        unit: 'µs',
        note: theirs.reason,
      });
      return rows;
    }
    theirs.close();
    const theirsMedian = median(theirsSamples);
    const ratio = oursMedian / theirsMedian;
    rows.push(
      {
        name: 'pcsclite per-APDU round trip (median, vpcd)',
        value: theirsMedian,
        unit: 'µs',
        note: `N=${SAMPLES}, interleaved`,
      },
      {
        name: '@minidriver/pcsc / pcsclite round trip ratio',
        value: ratio,
        unit: '×',
        goal: '<= 1.05',
        pass: ratio <= 1.05,
      },
    );
    return rows;
  } finally {
    await context.release();
    await server.close();
    releaseLock();
  }
}
