import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { fromHex, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireVpcdPortLock, describeWithTools, onCi } from './describe-with-tools.js';
import { ApduRecorder } from './recorder.js';
import type { SimulatedCard } from './simulated-card.js';
import { UnknownCard } from './unknown-card.js';
import { encodeVpcdMessage, serveVpcd, VpcdFrameReader, type VpcdServer } from './vpcd.js';

const runFile = promisify(execFile);
const hex = (bytes: Uint8Array): string => toHex(bytes).toUpperCase();

/** This package's vpcd reader (the other one belongs to other engineers' tests). */
const VPCD_PORT = 35964;
const READER = 'Virtual PCD 00 01';

/** A card that echoes the command's data with 9000, throws on INS 0xEE, and is async. */
class EchoingCard implements SimulatedCard {
  readonly name = 'Echo';
  readonly atr = fromHex('3B 80 80 01 01');
  powerEvents: string[] = [];
  powerOn(): void {
    this.powerEvents.push('on');
  }
  powerOff(): void {
    this.powerEvents.push('off');
  }
  reset(): void {
    this.powerEvents.push('reset');
  }
  async process(command: Uint8Array): Promise<Uint8Array> {
    await Promise.resolve();
    if (command[1] === 0xee) throw new Error('simulator bug');
    return Uint8Array.from([...command.subarray(5), 0x90, 0x00]);
  }
}

describe('VpcdFrameReader', () => {
  it('splits partial frames and several frames per chunk', () => {
    const reader = new VpcdFrameReader();
    const stream = Uint8Array.from([
      ...encodeVpcdMessage(Uint8Array.of(4)),
      ...encodeVpcdMessage(fromHex('00A4040000')),
    ]);
    expect(reader.push(stream.subarray(0, 1))).toEqual([]);
    expect(reader.push(stream.subarray(1, 5)).map((message) => hex(message))).toEqual(['04']);
    expect(reader.push(stream.subarray(5)).map((message) => hex(message))).toEqual(['00A4040000']);
  });

  it('reassembles any split of any message sequence (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (messages, cuts) => {
          const stream = Uint8Array.from(messages.flatMap((message) => [...encodeVpcdMessage(message)]));
          const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
          const reader = new VpcdFrameReader();
          const received: Uint8Array[] = [];
          let start = 0;
          for (const point of [...points, stream.length]) {
            received.push(...reader.push(stream.subarray(start, point)));
            start = point;
          }
          expect(received.map((message) => hex(message))).toEqual(messages.map((message) => hex(message)));
        },
      ),
    );
  });
});

/** A fake pcscd side on a free local port, to test the protocol without pcscd. */
async function startPcscdSide(): Promise<{ server: Server; port: number; nextSocket(): Promise<Socket> }> {
  const sockets: Socket[] = [];
  const waiting: ((socket: Socket) => void)[] = [];
  const server = createServer((socket) => {
    const waiter = waiting.shift();
    if (waiter) waiter(socket);
    else sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    server,
    port: address.port,
    nextSocket: () => {
      const ready = sockets.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** Sends `payloads` in one TCP write and reads `count` answers. */
async function exchange(socket: Socket, payloads: Uint8Array[], count: number): Promise<string[]> {
  const reader = new VpcdFrameReader();
  const answers: string[] = [];
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      for (const message of reader.push(chunk)) answers.push(hex(message));
      if (answers.length >= count) {
        socket.off('data', onData);
        resolve(answers);
      }
    };
    socket.on('data', onData);
    socket.write(Uint8Array.from(payloads.flatMap((payload) => [...encodeVpcdMessage(payload)])));
  });
}

describe('serveVpcd protocol (local fake vpcd)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('answers controls and APDUs sent in one chunk, in order; card errors become 6F00', async () => {
    const side = await startPcscdSide();
    cleanups.push(() => new Promise((resolve) => side.server.close(() => resolve())));
    const card = new EchoingCard();
    const recorder = new ApduRecorder();
    const seen: string[] = [];
    const bridge = serveVpcd(card, {
      port: side.port,
      recorder,
      onApdu: (command, response) => seen.push(`${hex(command)}>${hex(response)}`),
    });
    cleanups.push(() => bridge.close());
    const socket = await side.nextSocket();
    // Accepted only once the pcscd side speaks (a TCP connect may just sit in vpcd's queue).
    expect(bridge.isConnected()).toBe(false);
    const answers = await exchange(
      socket,
      [
        Uint8Array.of(1),
        Uint8Array.of(4),
        fromHex('00CA000002AABB'),
        fromHex('00EE0000'),
        Uint8Array.of(2),
        Uint8Array.of(0),
      ],
      3,
    );
    expect(answers).toEqual(['3B80800101', 'AABB9000', '6F00']);
    await bridge.connected;
    expect(bridge.isConnected()).toBe(true);
    expect(seen).toEqual(['00CA000002AABB>AABB9000', '00EE0000>6F00']);
    expect(recorder.totals()).toEqual({ apdus: 2, bytesSent: 11, bytesReceived: 6 });
    await bridge.close();
    expect(bridge.isConnected()).toBe(false);
    expect(card.powerEvents.slice(0, 3)).toEqual(['on', 'reset', 'off']);
  });

  it('reconnects after the connection drops, and stays out after eject until insert', async () => {
    const side = await startPcscdSide();
    cleanups.push(() => new Promise((resolve) => side.server.close(() => resolve())));
    const bridge = serveVpcd(new EchoingCard(), { port: side.port, reconnectDelayMs: 10 });
    cleanups.push(() => bridge.close());
    (await side.nextSocket()).destroy();
    const second = await side.nextSocket();
    expect(await exchange(second, [Uint8Array.of(4)], 1)).toEqual(['3B80800101']);
    await bridge.eject();
    expect(bridge.isConnected()).toBe(false);
    const inserted = bridge.insert();
    const third = await side.nextSocket();
    expect(await exchange(third, [fromHex('00CA000001AA')], 1)).toEqual(['AA9000']);
    await inserted;
    expect(bridge.isConnected()).toBe(true);
  });

  it('rejects `connected` when reconnect is off and nobody listens; close never rejects', async () => {
    const side = await startPcscdSide();
    const port = side.port;
    await new Promise<void>((resolve) => side.server.close(() => resolve()));
    const bridge = serveVpcd(new EchoingCard(), { port, reconnect: false });
    await expect(bridge.connected).rejects.toMatchObject({ name: 'SCARD_E_NO_SERVICE' });
    await expect(bridge.close()).resolves.toBeUndefined();
  });

  it('with firstConnectTimeoutMs, a refused first connection rejects `connected` as unreachable even with reconnect on', async () => {
    const side = await startPcscdSide();
    const port = side.port;
    await new Promise<void>((resolve) => side.server.close(() => resolve()));
    const bridge = serveVpcd(new EchoingCard(), { port, firstConnectTimeoutMs: 2000, reconnectDelayMs: 10 });
    const error = await bridge.connected.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ name: 'SCARD_E_NO_SERVICE' });
    expect(String(error)).toContain(`vpcd at 127.0.0.1:${port} is unreachable (ECONNREFUSED)`);
    expect(bridge.isConnected()).toBe(false);
    await expect(bridge.close()).resolves.toBeUndefined();
  });

  it('with firstConnectTimeoutMs, a first connection vpcd accepts but queues is kept, and later drops reconnect', async () => {
    const side = await startPcscdSide();
    cleanups.push(() => new Promise((resolve) => side.server.close(() => resolve())));
    const bridge = serveVpcd(new EchoingCard(), { port: side.port, firstConnectTimeoutMs: 20, reconnectDelayMs: 10 });
    cleanups.push(() => bridge.close());
    const first = await side.nextSocket();
    await new Promise((resolve) => setTimeout(resolve, 100)); // well past the bound: queued, not failed
    expect(await exchange(first, [Uint8Array.of(4)], 1)).toEqual(['3B80800101']);
    await bridge.connected;
    first.destroy();
    const second = await side.nextSocket();
    expect(await exchange(second, [fromHex('00CA000001AA')], 1)).toEqual(['AA9000']);
    expect(bridge.isConnected()).toBe(true);
  });

  it('fault removeBeforeApdu drops the socket without giving the APDU to the card', async () => {
    const side = await startPcscdSide();
    cleanups.push(() => new Promise((resolve) => side.server.close(() => resolve())));
    const card = new EchoingCard();
    const processed: string[] = [];
    const original = card.process.bind(card);
    card.process = (command) => {
      processed.push(hex(command));
      return original(command);
    };
    const bridge = serveVpcd(card, { port: side.port, faults: { removeBeforeApdu: 2 } });
    cleanups.push(() => bridge.close());
    const socket = await side.nextSocket();
    expect(await exchange(socket, [fromHex('00CA000001AA')], 1)).toEqual(['AA9000']);
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(encodeVpcdMessage(fromHex('00CA000001BB')));
    await closed;
    expect(processed).toEqual(['00CA000001AA']);
    expect(bridge.isConnected()).toBe(false);
  });
});

describe('serveVpcd faults (local fake vpcd)', () => {
  it('removeAfterApdu executes APDU n, drops the socket without answering, and stays ejected', async () => {
    const side = await startPcscdSide();
    const card = new EchoingCard();
    const bridge = serveVpcd(card, { port: side.port, reconnectDelayMs: 10, faults: { removeAfterApdu: 1 } });
    try {
      const socket = await side.nextSocket();
      const received: string[] = [];
      socket.on('data', (chunk: Buffer) => received.push(hex(chunk)));
      const closed = new Promise((resolve) => socket.on('close', resolve));
      socket.write(encodeVpcdMessage(fromHex('00CA000001AA')));
      await closed;
      expect(received).toEqual([]);
      expect(card.powerEvents).toEqual(['off']);
      expect(bridge.isConnected()).toBe(false);
      // Ejected: no reconnect until insert().
      const inserted = bridge.insert();
      const again = await side.nextSocket();
      expect(await exchange(again, [Uint8Array.of(4)], 1)).toEqual(['3B80800101']);
      await inserted;
    } finally {
      await bridge.close();
      await new Promise((resolve) => side.server.close(resolve));
    }
  });

  it('unpowerAfterApdu cuts power, drops the socket and comes back by itself; corruptResponseAt flips byte 1', async () => {
    const side = await startPcscdSide();
    const card = new EchoingCard();
    const bridge = serveVpcd(card, {
      port: side.port,
      reconnectDelayMs: 10,
      faults: { corruptResponseAt: 1, unpowerAfterApdu: 2 },
    });
    try {
      const socket = await side.nextSocket();
      expect(await exchange(socket, [fromHex('00CA000001AA')], 1)).toEqual(['559000']);
      const closed = new Promise((resolve) => socket.on('close', resolve));
      socket.write(encodeVpcdMessage(fromHex('00CA000001BB')));
      await closed;
      expect(card.powerEvents).toEqual(['off']);
      const again = await side.nextSocket();
      expect(await exchange(again, [fromHex('00CA000001CC')], 1)).toEqual(['CC9000']);
    } finally {
      await bridge.close();
      await new Promise((resolve) => side.server.close(resolve));
    }
  });
});

/** Runs opensc-tool on our reader. `answered` is false when it was killed (pcscd busy elsewhere). */
async function openscTool(...args: string[]): Promise<{ stdout: string; ok: boolean; answered: boolean }> {
  try {
    const { stdout } = await runFile('opensc-tool', ['-r', READER, ...args], { timeout: 10_000 });
    return { stdout, ok: true, answered: true };
  } catch (error) {
    const failure = error as { stdout?: string; killed?: boolean; signal?: string | null };
    return { stdout: String(failure.stdout ?? ''), ok: false, answered: !failure.killed && !failure.signal };
  }
}

/**
 * Polls opensc-tool until the reader shows (or no longer shows) a card, and returns the last output.
 * pcscd polls vpcd on its own clock, and opensc-tool also waits while other tests hold a transaction on
 * another reader, so each step is retried until a deadline instead of being timed.
 */
async function waitForCardPresence(present: boolean, ...args: string[]): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { ok, answered, stdout } = await openscTool(...(args.length > 0 ? args : ['-a']));
    if (answered && ok === present) return stdout;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`card still ${present ? 'absent' : 'present'} in ${READER}`);
}

describeWithTools(['pcscd', 'opensc-tool'], 'serveVpcd through the running pcscd', () => {
  let bridge: VpcdServer | undefined;
  let releaseLock: (() => void) | undefined;
  afterEach(async () => {
    try {
      if (bridge) {
        await bridge.close();
        bridge = undefined;
        await waitForCardPresence(false);
      }
    } finally {
      releaseLock?.();
      releaseLock = undefined;
    }
  }, 90_000);

  it('shows the card in "Virtual PCD 00 01", answers APDUs, and ejects / inserts', async (context) => {
    // Other packages' interop tests serve their simulators on this port too: take turns.
    releaseLock = await acquireVpcdPortLock(VPCD_PORT);
    // vpcd serves one card per reader: a card not taking the lock (a dev server) would make us queue.
    if ((await openscTool('-a')).ok) {
      const reason = `${READER} already holds another card`;
      if (onCi()) throw new Error(reason);
      context.skip(reason);
    }
    const card = new UnknownCard();
    const exchanged: string[] = [];
    bridge = serveVpcd(card, {
      port: VPCD_PORT,
      reconnectDelayMs: 100,
      onApdu: (command, response) => exchanged.push(`${hex(command)}>${hex(response)}`),
    });
    await bridge.connected;
    expect((await waitForCardPresence(true)).trim()).toBe('3b:80:80:01:01');
    const select = await waitForCardPresence(true, '-s', '00A4040005A000000308');
    expect(select).toContain('Received (SW1=0x6A, SW2=0x82)');
    const other = await waitForCardPresence(true, '-s', '00CA7F6800');
    expect(other).toContain('Received (SW1=0x6D, SW2=0x00)');
    expect(exchanged).toContain('00A4040005A000000308>6A82');

    await bridge.eject();
    expect(bridge.isConnected()).toBe(false);
    await waitForCardPresence(false);
    await bridge.insert();
    expect(bridge.isConnected()).toBe(true);
    expect((await waitForCardPresence(true)).trim()).toBe('3b:80:80:01:01');
  }, 600_000);
});
