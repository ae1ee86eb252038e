import { generateKeyPairSync } from 'node:crypto';
import { CacheMode, KeySpec, ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { CardSession } from './card-session.js';
import { DataCacheStore } from './data-cache.js';
import { createTestPlugin, MemoryCard, MemoryTransport, type TestPluginOptions } from './testing/memory-card.js';
import { withTransaction } from './with-transaction.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The GET FILE commands (CA) the card received for `path`. */
function fileReads(card: MemoryCard, path: string): number {
  return card.commands.filter((command) => command[1] === 0xca && decoder.decode(command.subarray(5)) === path).length;
}

/** The GET PUBLIC KEY commands (CB) the card received. */
function keyReads(card: MemoryCard): number {
  return card.commands.filter((command) => command[1] === 0xcb).length;
}

async function open(options: TestPluginOptions, card = new MemoryCard()) {
  card.files.set('mscp/kxc00', encoder.encode('certificate one'));
  const transport = new MemoryTransport(card);
  const session = await CardSession.open(createTestPlugin(options), transport, { cache: new DataCacheStore() });
  return { card, transport, session };
}

/** Lets every pending promise job and I/O callback run a few times. */
async function settle(): Promise<void> {
  for (let round = 0; round < 5; round++) await new Promise((resolve) => setImmediate(resolve));
}

describe('CardSession.transaction: several calls in one card transaction', () => {
  it('holds the card: a second session on the same card waits until it ends', async () => {
    const { card, transport, session } = await open({ cacheMode: CacheMode.NO_CACHE });
    const other = await CardSession.open(
      createTestPlugin({ cacheMode: CacheMode.NO_CACHE }),
      new MemoryTransport(card),
    );
    const order: string[] = [];
    let otherRead: Promise<Uint8Array> | undefined;
    await session.transaction(async () => {
      await session.readFile('mscp', 'kxc00');
      otherRead = other.readFile('mscp', 'kxc00').then((data) => {
        order.push('other read');
        return data;
      });
      await settle();
      order.push('still held');
      await session.readFile(null, 'cardid');
      order.push('work done');
    });
    expect(decoder.decode(await otherRead!)).toBe('certificate one');
    expect(order).toEqual(['still held', 'work done', 'other read']);
    expect(card.commandsOutsideTransaction).toEqual([]);
    // One transaction for the two calls (and one at acquire).
    expect([transport.beginCount, transport.endCount]).toEqual([2, 2]);
    await other.close();
    await session.close();
  });

  it('calls of the same session from another async chain wait; calls of the work run in order inside it', async () => {
    const { transport, session } = await open({ cacheMode: CacheMode.NO_CACHE });
    const order: string[] = [];
    let start!: () => void;
    const gate = new Promise<void>((resolve) => {
      start = resolve;
    });
    // Another chain (it began outside the transaction), started while the transaction is held: it must
    // not sneak into it.
    const outside = gate.then(() => session.enumFiles('mscp')).then(() => order.push('outside'));
    await session.transaction(async () => {
      start();
      await settle();
      const inside = [
        session.readFile('mscp', 'kxc00').then(() => order.push('inside 1')),
        session.readFile(null, 'cardid').then(() => order.push('inside 2')),
      ];
      // Not awaited here: it still belongs to this transaction, which waits for it.
      void session.getProperty('Read Only Mode').then(() => order.push('inside 3'));
      await Promise.all(inside);
    });
    await outside;
    expect(order).toEqual(['inside 1', 'inside 2', 'inside 3', 'outside']);
    expect([transport.beginCount, transport.endCount]).toEqual([3, 3]);
    await session.close();
  });

  it('a call started by a call the work did not await still runs inside it', async () => {
    const { card, transport, session } = await open({ cacheMode: CacheMode.NO_CACHE });
    const order: string[] = [];
    let chained: Promise<unknown> | undefined;
    await session.transaction(async () => {
      void session.readFile('mscp', 'kxc00').then(() => {
        order.push('first');
        chained = session.readFile('mscp', 'kxc00').then(() => order.push('second'));
      });
    });
    order.push('ended');
    await chained;
    expect(order).toEqual(['first', 'second', 'ended']);
    // One transaction (and the one of acquire); the second read reused the first.
    expect([transport.beginCount, fileReads(card, 'mscp/kxc00')]).toEqual([2, 1]);
    await session.close();
  });

  it('NO_CACHE: what one call read is reused by the next inside it, and nothing after it', async () => {
    const { card, session } = await open({ cacheMode: CacheMode.NO_CACHE });
    card.installKey(0, KeySpec.AT_KEYEXCHANGE, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    // Outside a held transaction every call asks the card.
    await session.readFile('mscp', 'kxc00');
    await session.readFile('mscp', 'kxc00');
    expect(fileReads(card, 'mscp/kxc00')).toBe(2);
    await session.transaction(async () => {
      await session.readFile('mscp', 'kxc00');
      await session.readFile('mscp', 'kxc00');
      // The plugin's own cache functions work too (it keeps the public key it read).
      await session.getContainerInfo(0);
      await session.getContainerInfo(0);
    });
    expect(fileReads(card, 'mscp/kxc00')).toBe(3);
    expect(keyReads(card)).toBe(1);
    await session.transaction(async () => {
      await session.readFile('mscp', 'kxc00');
      await session.getContainerInfo(0);
    });
    expect(fileReads(card, 'mscp/kxc00')).toBe(4);
    expect(keyReads(card)).toBe(2);
    await session.close();
  });

  it('a write inside it is seen by a later read inside it', async () => {
    const { card, session } = await open({ cacheMode: CacheMode.NO_CACHE });
    const read = await session.transaction(async () => {
      expect(decoder.decode(await session.readFile('mscp', 'kxc00'))).toBe('certificate one');
      await session.authenticatePin('user', encoder.encode('123456'));
      await session.writeFile('mscp', 'kxc00', encoder.encode('certificate two'));
      return decoder.decode(await session.readFile('mscp', 'kxc00'));
    });
    expect(read).toBe('certificate two');
    expect(fileReads(card, 'mscp/kxc00')).toBe(2);
    await session.close();
  });

  it('an error inside it ends the transaction (leave) and is rethrown as it is; nothing read is kept', async () => {
    const { card, transport, session } = await open({ cacheMode: CacheMode.NO_CACHE });
    const failure = new RangeError('the application gave up');
    await expect(
      session.transaction(async () => {
        await session.readFile('mscp', 'kxc00');
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(transport.inTransaction).toBe(false);
    expect(transport.dispositions.at(-1)).toBe('leave');
    // A failing call inside it ends it the same way when the work lets the error out.
    await expect(session.transaction(() => session.readFile('mscp', 'missing'))).rejects.toSatisfy((error: unknown) =>
      ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND'),
    );
    expect(transport.inTransaction).toBe(false);
    expect([transport.beginCount, transport.endCount]).toEqual([3, 3]);
    await session.transaction(() => session.readFile('mscp', 'kxc00'));
    expect(fileReads(card, 'mscp/kxc00')).toBe(2);
    await session.close();
  });

  it('a card reset inside it drops what it read; the next read asks the card again', async () => {
    const { card, transport, session } = await open({ cacheMode: CacheMode.NO_CACHE });
    await session.transaction(async () => {
      await session.readFile('mscp', 'kxc00');
      transport.powerCycle();
      await expect(session.readFile(null, 'cardid')).rejects.toSatisfy((error: unknown) =>
        ScardError.hasCode(error, 'SCARD_W_RESET_CARD'),
      );
      await session.readFile('mscp', 'kxc00');
    });
    expect(fileReads(card, 'mscp/kxc00')).toBe(2);
    await session.close();
  });

  it('a deauthentication that needs a card reset resets it at once and goes on in a new transaction', async () => {
    const { card, transport, session } = await open({ cacheMode: CacheMode.NO_CACHE, cannotDeauthenticate: true });
    await session.transaction(async () => {
      await session.authenticatePin('user', encoder.encode('123456'));
      await session.readFile('mscp', 'kxc00');
      await session.deauthenticate('user');
      // The PIN is no longer verified on the card for the calls that follow.
      expect(transport.dispositions).toEqual(['leave', 'reset']);
      await expect(session.writeFile('mscp', 'kxc00', encoder.encode('changed'))).rejects.toSatisfy((error: unknown) =>
        ScardError.hasCode(error, 'SCARD_W_SECURITY_VIOLATION'),
      );
      await session.readFile('mscp', 'kxc00');
    });
    expect(fileReads(card, 'mscp/kxc00')).toBe(2);
    expect(transport.dispositions).toEqual(['leave', 'reset', 'leave']);
    await session.close();
  });

  it('GLOBAL: cardcf is read once at its start, not by every call', async () => {
    const { card, session } = await open({ cacheMode: CacheMode.GLOBAL_CACHE });
    const before = fileReads(card, '/cardcf');
    await session.transaction(async () => {
      await session.readFile('mscp', 'kxc00');
      await session.readFile(null, 'cardcf');
      await session.enumFiles('mscp');
    });
    expect(fileReads(card, '/cardcf') - before).toBe(1);
    await session.readFile('mscp', 'kxc00');
    expect(fileReads(card, '/cardcf') - before).toBe(2);
    await session.close();
  });

  it('nests, refuses bad input, and close inside it does not wait for it', async () => {
    const { transport, session } = await open({ cacheMode: CacheMode.NO_CACHE });
    expect(await session.transaction(() => session.transaction(async () => 7))).toBe(7);
    await expect(session.transaction(undefined as never)).rejects.toSatisfy((error: unknown) =>
      ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER'),
    );
    await session.transaction(async () => {
      await session.close();
      await expect(session.readFile('mscp', 'kxc00')).rejects.toSatisfy((error: unknown) =>
        ScardError.hasCode(error, 'SCARD_E_INVALID_HANDLE'),
      );
    });
    expect(transport.inTransaction).toBe(false);
    await expect(session.transaction(async () => 1)).rejects.toSatisfy((error: unknown) =>
      ScardError.hasCode(error, 'SCARD_E_INVALID_HANDLE'),
    );
  });
});

describe('a transaction the caller holds on the transport (withTransaction)', () => {
  it('is joined by CardAcquireContext and the calls, also through a traced transport; nothing read outlives it', async () => {
    const card = new MemoryCard();
    card.files.set('mscp/kxc00', encoder.encode('certificate one'));
    const transport = new MemoryTransport(card);
    const traced: string[] = [];
    const session = await withTransaction(transport, async () => {
      const opened = await CardSession.open(createTestPlugin({ cacheMode: CacheMode.NO_CACHE }), transport, {
        trace: (entry) => traced.push(Buffer.from(entry.command).toString('hex')),
      });
      await opened.readFile('mscp', 'kxc00');
      await opened.transaction(() => opened.readFile('mscp', 'kxc00'));
      return opened;
    });
    expect([transport.beginCount, transport.endCount]).toEqual([1, 1]);
    expect(fileReads(card, 'mscp/kxc00')).toBe(1);
    expect(traced.length).toBeGreaterThan(0);
    // The next transaction is another one: what the caller's read is not reused.
    await session.readFile('mscp', 'kxc00');
    expect(fileReads(card, 'mscp/kxc00')).toBe(2);
    await session.close();
  });
});
