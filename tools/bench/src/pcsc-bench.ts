/**
 * @minidriver/pcsc against the `pcsclite` npm binding: median per-APDU round trip on the same card served
 * through vpcd ("Virtual PCD 00 00", port 35963), the same APDU, N samples each, interleaved so both see the
 * same load, and their ratio (goal <= 1.05).
 */
import { createRequire } from 'node:module';
import { PcscContext, type PcscliteReader } from '@minidriver/pcsc';
import { acquireVpcdPortLock, type SimulatedCard, serveVpcd } from '@minidriver/sim';
import { progress, withDeadline } from './deadline.js';
import { type BenchResult, median } from './result.js';

export type { BenchResult } from './result.js';

const READER = 'Virtual PCD 00 00';
const PORT = 35963;
/** How long one step may take (connecting, a card event, one APDU) before the benchmark gives up. */
const STEP_TIMEOUT_MS = 15_000;
const PCSCD_HINT = 'is pcscd running with vsmartcard-vpcd? (`opensc-tool -l` lists its readers)';

/** Where the benchmark's card is served; tests point it at a reader that never answers. */
export interface PcscBenchOptions {
  readonly reader?: string;
  readonly port?: number;
  readonly timeoutMs?: number;
}
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
async function connectPcsclite(
  readerName: string,
  timeoutMs: number,
): Promise<{ transmit: Transmitter; close: () => void } | { reason: string }> {
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
  try {
    const reader = await withDeadline(
      new Promise<PcscliteReader & NodeJS.EventEmitter>((resolve) => {
        pcsc.on('reader', (candidate) => {
          candidate.on('error', () => undefined);
          if (candidate.name === readerName) resolve(candidate);
        });
      }),
      timeoutMs,
      `pcsclite did not report reader "${readerName}"`,
    );
    const protocol = await withDeadline(
      new Promise<number>((resolve, reject) =>
        reader.connect({ share_mode: 2 /* SCARD_SHARE_SHARED */, protocol: 3 }, (error, active) =>
          error ? reject(error) : resolve(active),
        ),
      ),
      timeoutMs,
      `pcsclite could not connect to "${readerName}"`,
    );
    return {
      transmit: (command) =>
        withDeadline(
          new Promise((resolve, reject) =>
            reader.transmit(Buffer.from(command), 258, protocol, (error, response) =>
              error ? reject(error) : resolve(new Uint8Array(response)),
            ),
          ),
          timeoutMs,
          `pcsclite got no answer from "${readerName}"`,
        ),
      close: () => {
        reader.disconnect(0, () => undefined);
        pcsc.close();
      },
    };
  } catch (error) {
    pcsc.close();
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}

async function timeOne(transmit: Transmitter): Promise<number> {
  const start = process.hrtime.bigint();
  await transmit(COMMAND);
  return Number(process.hrtime.bigint() - start) / 1000;
}

/**
 * Runs the comparison; needs pcscd with the vpcd reader "Virtual PCD 00 00" free. Every wait has a
 * deadline: a wedged pcscd or a reader that never reports the card rejects with a message saying which step
 * did not happen.
 */
export async function benchPcsc(options: PcscBenchOptions = {}): Promise<BenchResult[]> {
  const readerName = options.reader ?? READER;
  const port = options.port ?? PORT;
  const timeoutMs = options.timeoutMs ?? STEP_TIMEOUT_MS;
  // Tests serving cards on the same reader take this lock too: wait for them rather than collide.
  progress(`waiting for vpcd port ${port} (tests serving cards there take turns with the benchmark)`);
  const releaseLock = await acquireVpcdPortLock(port, 10 * 60_000);
  const server = serveVpcd(new EchoCard(), { port, reconnect: false });
  let context: PcscContext | undefined;
  try {
    progress('connecting to pcscd');
    context = await withDeadline(PcscContext.establish(), timeoutMs, `pcscd did not answer (${PCSCD_HINT})`);
    await withDeadline(server.connected, timeoutMs, `pcscd's vpcd did not accept port ${port} (${PCSCD_HINT})`);
    // Wait until pcscd reports the card present, so both clients connect to the same powered card.
    progress(`waiting for pcscd to report the card in "${readerName}"`);
    const watch = context.watch();
    try {
      await withDeadline(
        watch.waitFor((event) => event.type === 'card-inserted' && event.readerName === readerName),
        timeoutMs,
        `pcscd did not report a card in reader "${readerName}" (${PCSCD_HINT})`,
      );
    } finally {
      await withDeadline(watch.close(), timeoutMs, 'the reader watch did not stop').catch(() => undefined);
    }
    const card = await withDeadline(
      context.connect(readerName, { share: 'shared' }),
      timeoutMs,
      `could not connect to "${readerName}"`,
    );
    const ours: Transmitter = (command) =>
      withDeadline(card.transmit(command), timeoutMs, `no answer from the card in "${readerName}"`);
    progress('measuring');
    const theirs = await connectPcsclite(readerName, timeoutMs);
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
    await withDeadline(card.disconnect(), timeoutMs, `could not disconnect from "${readerName}"`);
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
    if (context)
      await withDeadline(context.release(), timeoutMs, 'pcscd did not release the context').catch(() => undefined);
    await server.close();
    releaseLock();
  }
}
