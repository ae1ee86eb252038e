/**
 * Integration tests through the running pcscd and the vpcd reader "Virtual PCD 00 00" (card socket
 * 127.0.0.1:35963). All vpcd use is in this one file so tests never fight over the reader. Without pcscd
 * they skip with a reason, except on CI where they fail.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { acquireVpcdPortLock, pcscdRunning, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { ScardError, type TransportEvent } from '@minidriver/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PcscCard,
  PcscContext,
  type ReaderEvent,
  type ReaderWatch,
  resourceManagerInstance,
  SCARD_ATTR_CHANNEL_ID,
  withTransaction,
} from '../src/index.js';
import { COUNTER_CARD_ATR, CounterCard } from './support/counter-card.js';

const READER = 'Virtual PCD 00 00';
const PORT = 35963;
const GET_DATA = Uint8Array.of(0x00, 0xca, 0x00, 0x00, 0x04);
const putData = (value: number) => {
  const command = Uint8Array.of(0x00, 0xda, 0x00, 0x00, 0x04, 0, 0, 0, 0);
  new DataView(command.buffer).setUint32(5, value, false);
  return command;
};
const CLIENT = fileURLToPath(new URL('./fixtures/transaction-client.mjs', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

const available = pcscdRunning();
if (!available && process.env.CI === 'true')
  throw new Error('pcscd is not running, and CI requires the PC/SC integration tests');
if (!available) console.warn('skipping @minidriver/pcsc integration tests: pcscd is not running');

/** A child node process speaking JSON lines. */
class Child {
  readonly lines: { event: string; message?: string }[] = [];
  private readonly waiters: (() => void)[] = [];
  constructor(readonly process: ChildProcess) {
    let buffered = '';
    process.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        this.lines.push(JSON.parse(buffered.slice(0, newline)));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
        for (const waiter of this.waiters.splice(0)) waiter();
      }
    });
  }
  has(event: string): boolean {
    return this.lines.some((line) => line.event === event);
  }
  async waitFor(event: string): Promise<void> {
    while (!this.has(event)) {
      if (this.has('error')) throw new Error(`child failed: ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
  async exit(): Promise<number | null> {
    if (this.process.exitCode !== null) return this.process.exitCode;
    const [code] = await once(this.process, 'exit');
    return code as number | null;
  }
}

const startChild = (...args: string[]) =>
  new Child(spawn(process.execPath, [CLIENT, READER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] }));

describe.skipIf(!available)('PC/SC through pcscd and vpcd (reader "Virtual PCD 00 00")', () => {
  const card = new CounterCard();
  let context: PcscContext;
  let watch: ReaderWatch;
  const events: ReaderEvent[] = [];
  let server: VpcdServer;
  let releaseLock: (() => void) | undefined;

  beforeAll(async () => {
    releaseLock = await acquireVpcdPortLock(PORT);
    // The child processes import the built package (Node 20 cannot run our TypeScript).
    execFileSync('pnpm', ['--filter', '@minidriver/pcsc', 'build'], { cwd: PACKAGE_DIR, stdio: 'ignore' });
    context = await PcscContext.establish();
    watch = context.watch({ initialState: false });
    watch.on('event', (event: ReaderEvent) => events.push(event));
  }, 360_000); // the lock on reader 00 may be held by another package's pcscd tests for a while

  afterAll(async () => {
    await server?.close();
    await context?.release();
    releaseLock?.();
  });

  it('lists the vpcd readers', async () => {
    expect(await context.listReaders()).toContain(READER);
  });

  it('reports card-inserted with the ATR when the simulator connects', async () => {
    const inserted = watch.waitFor((event) => event.type === 'card-inserted' && event.readerName === READER);
    server = serveVpcd(card, { port: PORT });
    await server.connected;
    const event = await inserted;
    expect(event).toEqual({ type: 'card-inserted', readerName: READER, atr: COUNTER_CARD_ATR });
  });

  it('connects and transmits, reading the ATR and protocol', async () => {
    const connected = await context.connect(READER, { share: 'shared' });
    try {
      expect(connected.atr).toEqual(COUNTER_CARD_ATR);
      expect(connected.protocol).toBe('T0');
      expect(connected.features).toEqual({}); // vpcd has no PIN pad (no CM_IOCTL_GET_FEATURE_REQUEST)
      expect(await connected.transmit(putData(0x01020304))).toEqual(Uint8Array.of(0x90, 0x00));
      expect(await connected.transmit(GET_DATA)).toEqual(Uint8Array.of(1, 2, 3, 4, 0x90, 0x00));
      expect(card.counter).toBe(0x01020304);
      expect(await connected.transmit(Uint8Array.of(0x00, 0x77, 0x00, 0x00))).toEqual(Uint8Array.of(0x6d, 0x00));
    } finally {
      await connected.disconnect('leave');
    }
  });

  it('keeps serving the vpcd card of this very process while another connection asks for a reader attribute', async () => {
    // pcscd answers SCardGetAttrib under the reader's driver lock, which a transmit holds until the card
    // answers; the card is served by this process, so a synchronous SCardGetAttrib would never return.
    const talker = await context.connect(READER, { share: 'shared' });
    const asker = await context.connect(READER, { share: 'shared' });
    try {
      const transmits = Array.from({ length: 40 }, () => talker.transmit(GET_DATA));
      const questions = Array.from({ length: 40 }, () =>
        asker.getAttribute(SCARD_ATTR_CHANNEL_ID).then(
          () => 'answered',
          (error: unknown) => (error instanceof ScardError ? 'refused' : String(error)),
        ),
      );
      const answers = await Promise.all(transmits);
      expect(answers.every((answer) => answer.length === 6 && answer[4] === 0x90)).toBe(true);
      expect(new Set(await Promise.all(questions)).size).toBe(1); // vpcd has no channel id: refused, every time
    } finally {
      await asker.disconnect('leave');
      await talker.disconnect('leave');
    }
  }, 60_000);

  it('names the function and reader for an unknown reader (SCARD_E_UNKNOWN_READER)', async () => {
    const failure = await context.connect('No Such Reader 99').catch((error: unknown) => error);
    expect(ScardError.hasCode(failure, 'SCARD_E_UNKNOWN_READER')).toBe(true);
    expect((failure as ScardError).code).toBe(0x80100009);
    expect((failure as Error).message).toContain('SCardConnect on reader "No Such Reader 99"');
  });

  it('refuses an exclusive connection while another is open (SCARD_E_SHARING_VIOLATION)', async () => {
    const shared = await context.connect(READER);
    try {
      const failure = await context.connect(READER, { share: 'exclusive' }).catch((error: unknown) => error);
      expect(ScardError.hasCode(failure, 'SCARD_E_SHARING_VIOLATION')).toBe(true);
    } finally {
      await shared.disconnect();
    }
  });

  it('queues a second beginTransaction in the same process until the first ends', async () => {
    const connected = await context.connect(READER);
    try {
      const order: string[] = [];
      await connected.beginTransaction();
      order.push('first began');
      const second = connected.beginTransaction().then(() => order.push('second began'));
      await connected.transmit(GET_DATA);
      order.push('first ending');
      await connected.endTransaction();
      await second;
      await connected.endTransaction();
      expect(order).toEqual(['first began', 'first ending', 'second began']);
      await expect(connected.endTransaction()).rejects.toSatisfy((error) =>
        ScardError.hasCode(error, 'SCARD_E_NOT_TRANSACTED'),
      );
    } finally {
      await connected.disconnect();
    }
  });

  it('makes another process wait while one holds a transaction', async () => {
    const holder = startChild('hold');
    await holder.waitFor('holding');
    const contender = startChild('contend');
    await contender.waitFor('started');
    // Give the contender every chance to get through; the held transaction keeps it out (pcscd even
    // holds its SCardConnect back until the transaction ends).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(contender.has('began')).toBe(false);
    holder.process.stdin?.write('release\n');
    await contender.waitFor('began');
    expect(await holder.exit()).toBe(0);
    expect(await contender.exit()).toBe(0);
  });

  it('loses no update when two processes read-modify-write 200 times each', async () => {
    card.counter = 0;
    const first = startChild('rmw', '200');
    const second = startChild('rmw', '200');
    expect(await first.exit()).toBe(0);
    expect(await second.exit()).toBe(0);
    expect(first.has('done') && second.has('done')).toBe(true);
    expect(card.counter).toBe(400);
  }, 180_000); // pcsclite polls a contended SCardBeginTransaction every 100 ms: about 40 s for 400 hand-offs

  it('offers transaction() as an AsyncDisposable and withTransaction', async () => {
    const connected = await context.connect(READER);
    try {
      const transaction = await connected.transaction();
      expect(transaction.active).toBe(true);
      expect(await transaction.transmit(GET_DATA)).toHaveLength(6);
      await transaction[Symbol.asyncDispose]();
      await transaction[Symbol.asyncDispose]();
      expect(transaction.disposeError).toBeUndefined();
      await expect(transaction.transmit(GET_DATA)).rejects.toSatisfy((error) =>
        ScardError.hasCode(error, 'SCARD_E_NOT_TRANSACTED'),
      );
      const result = await withTransaction(connected, async (inside) => (await inside.transmit(GET_DATA)).length);
      expect(result).toBe(6);
      expect(connected.inTransaction).toBe(false);
    } finally {
      await connected.disconnect();
    }
  });

  it('after another connection resets the card: reconnects, tells listeners, and throws SCARD_W_RESET_CARD', async () => {
    const victim: PcscCard = await context.connect(READER);
    const resetter = await context.connect(READER);
    const seen: TransportEvent[] = [];
    victim.onEvent((event) => seen.push(event));
    try {
      await victim.transmit(GET_DATA);
      const powerOnsBefore = card.powerOns;
      await resetter.reconnect('reset');
      expect(card.powerOns).toBeGreaterThan(powerOnsBefore);
      const failure = await victim.transmit(GET_DATA).catch((error: unknown) => error);
      expect(ScardError.hasCode(failure, 'SCARD_W_RESET_CARD')).toBe(true);
      expect((failure as ScardError).code).toBe(0x80100068);
      expect(seen).toEqual([{ type: 'reset' }]);
      // Reconnected: the next command works without the caller doing anything else.
      expect((await victim.transmit(GET_DATA)).slice(-2)).toEqual(Uint8Array.of(0x90, 0x00));

      // A reset noticed by beginTransaction is absorbed: reconnect, notify, begin.
      await resetter.reconnect('reset');
      await victim.beginTransaction();
      expect(seen).toEqual([{ type: 'reset' }, { type: 'reset' }]);
      await victim.endTransaction();
    } finally {
      await resetter.disconnect();
      await victim.disconnect();
    }
  });

  it('the card event counter (dwEventState >> 16) moves with removal and insertion only; vpcd gets no presence token', async () => {
    const counter = async () =>
      ((await context.getStatusChange([{ readerName: READER }], 0))[0]!.eventState >>> 16) & 0xffff;
    const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));
    const start = await counter();
    const connected = await context.connect(READER);
    try {
      await connected.reconnect('reset');
      await connected.reconnect('unpower');
      expect(await counter()).toBe(start);
      // pcscd's lifetime is readable here, but vpcd has no SCARD_ATTR_CHANNEL_ID: no proof that the reader
      // was not replaced, so no token.
      expect(await resourceManagerInstance()).toMatch(/^[0-9a-f-]{36}\/\d+\/\d+$/);
      expect(await connected.presenceToken()).toBeUndefined();
    } finally {
      await connected.disconnect('unpower');
    }
    await settle();
    expect(await counter()).toBe(start);
    await server.eject();
    await settle();
    expect(await counter()).toBe((start + 1) & 0xffff);
    await server.insert();
    await settle();
    expect(await counter()).toBe((start + 2) & 0xffff);
  });

  it('reports removal: SCARD_W_REMOVED_CARD, a removed event, and card-removed from the watch', async () => {
    const connected = await context.connect(READER);
    const seen: TransportEvent[] = [];
    connected.onEvent((event) => seen.push(event));
    const removed = watch.waitFor((event) => event.type === 'card-removed' && event.readerName === READER);
    await server.close();
    await removed;
    const failure = await connected.transmit(GET_DATA).catch((error: unknown) => error);
    expect(ScardError.isInstance(failure)).toBe(true);
    expect([0x80100069, 0x8010000c]).toContain((failure as ScardError).code); // SCARD_W_REMOVED_CARD (or NO_SMARTCARD)
    expect((failure as Error).message).toContain(`SCardTransmit on reader "${READER}"`);
    expect(seen).toEqual([{ type: 'removed' }]);
    await connected.close();
    // The event counter test ejected and inserted the card once before.
    expect(events.filter((event) => event.readerName === READER).map((event) => event.type)).toEqual([
      'card-inserted',
      'card-removed',
      'card-inserted',
      'card-removed',
    ]);
  });

  it('stops the watch when closed (SCardCancel)', async () => {
    const iterator = watch[Symbol.asyncIterator]();
    await watch.close();
    // Drain what was queued; the iteration then ends.
    let result = await iterator.next();
    while (!result.done) result = await iterator.next();
    expect(result.done).toBe(true);
  });
});
