import { createServer, type Server, type Socket } from 'node:net';
import { pcscdRunning } from '@minidriver/sim';
import { afterEach, describe, expect, it } from 'vitest';
import { withDeadline } from './deadline.js';
import { benchPcsc } from './pcsc-bench.js';

describe('benchmark waits (issue #11 item 14)', () => {
  let silent: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (silent ? silent.close(resolve) : resolve(undefined)));
  });

  it('withDeadline rejects with what did not happen', async () => {
    await expect(withDeadline(new Promise(() => undefined), 20, 'the reader did not report the card')).rejects.toThrow(
      'the reader did not report the card within 20 ms',
    );
    expect(await withDeadline(Promise.resolve(7), 20, 'never')).toBe(7);
  });

  it('a wedged vpcd (accepts, never speaks) and a reader that never reports its card end with a message, not a hang', async () => {
    // Stands in for a wedged pcscd: the TCP port accepts and nothing ever happens on it.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent?.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const started = Date.now();
    const error = await benchPcsc({ port: address.port, reader: 'No Such Reader 99', timeoutMs: 1500 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    if (pcscdRunning()) expect(message).toMatch(/pcscd's vpcd did not accept port \d+ .*within 1500 ms/);
    else expect(message).toMatch(/pcscd|PC\/SC|SCARD/);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);
});
