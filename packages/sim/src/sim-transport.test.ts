import { fromHex, ScardError, type TransportEvent, toHex } from '@minidriver/spec';
import { describe, expect, it, vi } from 'vitest';
import { FaultInjector } from './faults.js';
import { ApduRecorder } from './recorder.js';
import { SimTransport } from './sim-transport.js';
import type { SimulatedCard } from './simulated-card.js';
import { UnknownCard } from './unknown-card.js';

const hex = (bytes: Uint8Array): string => toHex(bytes).toUpperCase();

/**
 * A small test card with one persistent 4-byte counter and one volatile flag:
 * SELECT (INS A4) sets `selected`; READ BINARY (B0) returns the counter (needs `selected`, else 6985);
 * UPDATE BINARY (D6, 4 data bytes) stores it. Every APDU yields to the event loop first, so unsynchronised
 * read-modify-writes from two transports really interleave.
 */
class CounterCard implements SimulatedCard {
  readonly name = 'Counter';
  readonly atr = fromHex('3B 81 80 01 80 80');
  counter = 0;
  selected = false;
  powered = false;
  processed = 0;
  powerOn(): void {
    this.powered = true;
    this.selected = false;
  }
  powerOff(): void {
    this.powered = false;
    this.selected = false;
  }
  reset(): void {
    this.powered = true;
    this.selected = false;
  }
  async process(command: Uint8Array): Promise<Uint8Array> {
    await new Promise((resolve) => setImmediate(resolve));
    this.processed += 1;
    if (!this.powered) return fromHex('6F00');
    const instruction = command[1];
    if (instruction === 0xa4) {
      this.selected = true;
      return fromHex('9000');
    }
    if (!this.selected) return fromHex('6985');
    if (instruction === 0xb0) {
      const response = new Uint8Array(6);
      new DataView(response.buffer).setUint32(0, this.counter);
      response.set([0x90, 0x00], 4);
      return response;
    }
    if (instruction === 0xd6 && command.length === 9) {
      this.counter = new DataView(command.buffer, command.byteOffset + 5, 4).getUint32(0);
      return fromHex('9000');
    }
    return fromHex('6D00');
  }
  saveState(): unknown {
    return { counter: this.counter };
  }
  loadState(state: unknown): void {
    this.counter = (state as { counter: number }).counter;
  }
}

const SELECT = fromHex('00A4040000');
const READ = fromHex('00B0000004');
const update = (value: number): Uint8Array => {
  const command = fromHex('00D6000004 00000000');
  new DataView(command.buffer).setUint32(5, value);
  return command;
};

async function readCounter(transport: SimTransport): Promise<number> {
  const response = await transport.transmit(READ);
  expect(hex(response.subarray(-2))).toBe('9000');
  return new DataView(response.buffer, response.byteOffset).getUint32(0);
}

async function incrementCounter(transport: SimTransport, useTransaction: boolean): Promise<void> {
  if (useTransaction) await transport.beginTransaction();
  try {
    const value = await readCounter(transport);
    await transport.transmit(update(value + 1));
  } finally {
    if (useTransaction) await transport.endTransaction('leave');
  }
}

function codeOf(error: unknown): string {
  return ScardError.isInstance(error) ? error.name : String(error);
}

describe('SimTransport transactions', () => {
  it('two transports on one card: 200 concurrent read-modify-writes in transactions lose no update', async () => {
    const card = new CounterCard();
    const first = new SimTransport(card);
    const second = new SimTransport(card);
    await first.transmit(SELECT);
    const run = async (transport: SimTransport) => {
      for (let index = 0; index < 100; index += 1) await incrementCounter(transport, true);
    };
    await Promise.all([run(first), run(second)]);
    expect(card.counter).toBe(200);
  });

  it('the same workload without transactions does lose updates (the test above can fail)', async () => {
    const card = new CounterCard();
    const first = new SimTransport(card);
    const second = new SimTransport(card);
    await first.transmit(SELECT);
    const run = async (transport: SimTransport) => {
      for (let index = 0; index < 100; index += 1) await incrementCounter(transport, false);
    };
    await Promise.all([run(first), run(second)]);
    expect(card.counter).toBeLessThan(200);
  });

  it('a transmit from another transport waits until the transaction ends', async () => {
    const card = new CounterCard();
    const holder = new SimTransport(card);
    const other = new SimTransport(card);
    await holder.transmit(SELECT);
    await holder.beginTransaction();
    const order: string[] = [];
    const waiting = other.transmit(READ).then(() => order.push('other'));
    await holder.transmit(update(7));
    order.push('holder');
    await holder.endTransaction();
    await waiting;
    expect(order).toEqual(['holder', 'other']);
  });

  it('endTransaction without a transaction throws SCARD_E_NOT_TRANSACTED; nested begin throws', async () => {
    const transport = new SimTransport(new CounterCard());
    await expect(transport.endTransaction()).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_E_NOT_TRANSACTED');
    await transport.beginTransaction();
    await expect(transport.beginTransaction()).rejects.toSatisfy(
      (error) => codeOf(error) === 'SCARD_E_SHARING_VIOLATION',
    );
    await transport.endTransaction();
  });

  it('close releases a held transaction and never throws', async () => {
    const card = new CounterCard();
    const holder = new SimTransport(card);
    const other = new SimTransport(card);
    await holder.beginTransaction();
    const waiting = other.beginTransaction();
    await holder.close('reset');
    await expect(holder.close()).resolves.toBeUndefined();
    await expect(waiting).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_RESET_CARD');
    await other.beginTransaction();
    await other.endTransaction();
    await expect(holder.transmit(READ)).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_E_INVALID_HANDLE');
  });
});

describe('SimTransport reset and removal', () => {
  it('powers the card on at construction and copies bytes in and out', async () => {
    const card = new CounterCard();
    const transport = new SimTransport(card, { readerName: 'Sim 0' });
    expect(card.powered).toBe(true);
    expect(transport.readerName).toBe('Sim 0');
    expect(transport.protocol).toBe('T1');
    const atr = transport.atr;
    atr[0] = 0;
    expect(hex(transport.atr)).toBe('3B8180018080');
    const command = SELECT.slice();
    const response = await transport.transmit(command);
    command[1] = 0xb0;
    expect(hex(response)).toBe('9000');
  });

  it('the presence token stays through resets and power cycles and changes with every removal and insertion, like pcscd', async () => {
    const card = new CounterCard();
    const first = new SimTransport(card);
    const second = new SimTransport(card);
    const token = await first.presenceToken();
    expect(token).toMatch(/^sim:[0-9a-f]{16}:0:3b8180018080$/);
    expect(await second.presenceToken()).toBe(token);
    await first.reconnect('reset');
    await first.reconnect('unpower');
    expect(await second.presenceToken()).toBe(token);
    await first.removeCard();
    expect(await first.presenceToken()).toBeUndefined();
    await first.reinsert();
    const after = await second.presenceToken();
    expect(after).toMatch(/:2:3b8180018080$/);
    expect(after).not.toBe(token);
    // Another card object is another reader slot: never the same token.
    expect(await new SimTransport(new CounterCard()).presenceToken()).not.toBe(after);
  });

  it("a reset by another transport gives SCARD_W_RESET_CARD once and fires 'reset'", async () => {
    const card = new CounterCard();
    const first = new SimTransport(card);
    const second = new SimTransport(card);
    const events: TransportEvent[] = [];
    second.onEvent((event) => events.push(event));
    await first.transmit(SELECT);
    await first.beginTransaction();
    await first.endTransaction('reset');
    expect(card.selected).toBe(false);
    await expect(first.transmit(READ)).resolves.toEqual(fromHex('6985'));
    await expect(second.transmit(SELECT)).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_RESET_CARD');
    expect(events).toEqual([{ type: 'reset' }]);
    await expect(second.transmit(SELECT)).resolves.toEqual(fromHex('9000'));
  });

  it("reconnect('reset') resets the card and returns the ATR; reconnect acknowledges a pending reset", async () => {
    const card = new CounterCard();
    const first = new SimTransport(card);
    const second = new SimTransport(card);
    await first.transmit(SELECT);
    expect(hex(await first.reconnect('reset'))).toBe('3B8180018080');
    expect(card.selected).toBe(false);
    expect(hex(await second.reconnect('leave'))).toBe('3B8180018080');
    await expect(second.transmit(SELECT)).resolves.toEqual(fromHex('9000'));
  });

  it("endTransaction('unpower') power-cycles the card: volatile state gone, persistent state kept", async () => {
    const card = new CounterCard();
    const transport = new SimTransport(card);
    await transport.transmit(SELECT);
    await transport.transmit(update(41));
    await transport.beginTransaction();
    await transport.endTransaction('unpower');
    expect(card.selected).toBe(false);
    expect(card.counter).toBe(41);
  });

  it("removeCard: every transport gets SCARD_W_REMOVED_CARD until reinsert, 'removed' fires once", async () => {
    const card = new CounterCard();
    const first = new SimTransport(card);
    const second = new SimTransport(card);
    const events: string[] = [];
    second.onEvent((event) => events.push(event.type));
    await first.removeCard();
    expect(card.powered).toBe(false);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await expect(second.transmit(SELECT)).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_REMOVED_CARD');
    }
    await expect(second.beginTransaction()).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_REMOVED_CARD');
    await expect(second.reconnect('reset')).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_REMOVED_CARD');
    expect(events).toEqual(['removed']);
    await first.reinsert();
    expect(card.powered).toBe(true);
    await expect(first.transmit(SELECT)).resolves.toEqual(fromHex('9000'));
    await expect(second.transmit(SELECT)).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_RESET_CARD');
    expect(events).toEqual(['removed', 'reset']);
  });

  it('errors thrown by the simulator become SW 6F00', async () => {
    const card = new UnknownCard();
    card.process = () => {
      throw new Error('bug');
    };
    await expect(new SimTransport(card).transmit(SELECT)).resolves.toEqual(fromHex('6F00'));
  });

  it('rejects a command shorter than 4 bytes with SCARD_E_INVALID_PARAMETER', async () => {
    await expect(new SimTransport(new UnknownCard()).transmit(fromHex('00A4'))).rejects.toSatisfy(
      (error) => codeOf(error) === 'SCARD_E_INVALID_PARAMETER',
    );
  });
});

describe('SimTransport faults', () => {
  it('removeBeforeApdu: the card never sees APDU n; removed until reinsert', async () => {
    const card = new CounterCard();
    const transport = new SimTransport(card, { faults: { removeBeforeApdu: 2 } });
    const events: string[] = [];
    transport.onEvent((event) => events.push(event.type));
    await transport.transmit(SELECT);
    await expect(transport.transmit(update(5))).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_REMOVED_CARD');
    expect(card.counter).toBe(0);
    expect(card.processed).toBe(1);
    await expect(transport.transmit(SELECT)).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_REMOVED_CARD');
    await transport.reinsert();
    expect(events).toEqual(['removed', 'reconnected']);
    await expect(transport.transmit(SELECT)).resolves.toEqual(fromHex('9000'));
  });

  it('removeAfterApdu: APDU n is executed but its response is lost', async () => {
    const card = new CounterCard();
    const transport = new SimTransport(card, { faults: { removeAfterApdu: 2 } });
    await transport.transmit(SELECT);
    await expect(transport.transmit(update(5))).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_REMOVED_CARD');
    expect(card.counter).toBe(5);
    expect(card.powered).toBe(false);
  });

  it('unpowerAfterApdu: APDU n executed, volatile state lost, SCARD_W_RESET_CARD, then usable again', async () => {
    const card = new CounterCard();
    const transport = new SimTransport(card, { faults: { unpowerAfterApdu: 2 } });
    await transport.transmit(SELECT);
    await expect(transport.transmit(update(9))).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_RESET_CARD');
    expect(card.counter).toBe(9);
    expect(card.selected).toBe(false);
    await expect(transport.transmit(READ)).resolves.toEqual(fromHex('6985'));
  });

  it('corruptResponseAt inverts the first byte of response n only', async () => {
    const transport = new SimTransport(new CounterCard(), { faults: { corruptResponseAt: 2 } });
    expect(hex(await transport.transmit(SELECT))).toBe('9000');
    expect(hex(await transport.transmit(SELECT))).toBe('6F00');
    expect(hex(await transport.transmit(SELECT))).toBe('9000');
  });

  it('delayMs holds responses back (fake clock), and setPlan re-arms the count', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const faults = new FaultInjector({ delayMs: 50 });
      // UnknownCard answers without touching timers, so only the injected delay is on the fake clock.
      const transport = new SimTransport(new UnknownCard(), { faults });
      let answered = false;
      const exchange = transport.transmit(SELECT).then(() => {
        answered = true;
      });
      await vi.advanceTimersByTimeAsync(49);
      expect(answered).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await exchange;
      expect(answered).toBe(true);
      expect(faults.apduCount).toBe(1);
      faults.setPlan({ removeBeforeApdu: 1 });
      expect(faults.apduCount).toBe(0);
      await expect(transport.transmit(SELECT)).rejects.toSatisfy((error) => codeOf(error) === 'SCARD_W_REMOVED_CARD');
    } finally {
      vi.useRealTimers();
    }
  });

  it('records exchanges per operation through the recorder option', async () => {
    const recorder = new ApduRecorder();
    const transport = new SimTransport(new CounterCard(), { recorder });
    await recorder.measure('select', () => transport.transmit(SELECT));
    recorder.begin('read');
    await transport.transmit(READ);
    recorder.end();
    expect(recorder.stats()).toEqual([
      { operation: 'select', apdus: 1, bytesSent: 5, bytesReceived: 2 },
      { operation: 'read', apdus: 1, bytesSent: 5, bytesReceived: 6 },
    ]);
  });
});
