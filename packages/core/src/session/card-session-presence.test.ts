/**
 * The presence proof (Transport.presenceToken, docs/cache.md): a new process whose transport proves that
 * the card has stayed in the reader since a process read its cardid skips that read, and its plugin sees
 * its public entries restored from CardAcquireContext on; another card put in the reader (a new token)
 * has its identity read again and never gets the first card's data; a cardid rewritten in place forgets
 * the proof.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MinidriverPlugin } from '@minidriver/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PersistentCacheStore } from '../cache-store/persistent-store.js';
import { CardSession } from './card-session.js';
import { DataCacheStore } from './data-cache.js';
import { createTestPlugin, MemoryCard, MemoryTransport } from './testing/memory-card.js';

const FIRST = Uint8Array.from({ length: 120 }, (_, index) => index);
const SECOND = Uint8Array.from({ length: 120 }, (_, index) => 255 - index);
let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'minidriver-presence-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** A reader holding `card`, whose transport reports `reader.token` as its presence token. */
class Reader {
  token: string | undefined = 'reader-1:event-1';
  constructor(public card: MemoryCard) {}
  transport(): MemoryTransport {
    const transport = new MemoryTransport(this.card);
    return Object.assign(transport, { presenceToken: async () => this.token });
  }
}

function cardWith(certificate: Uint8Array, cardid: number): MemoryCard {
  const card = new MemoryCard();
  card.files.set('/cardid', new Uint8Array(16).fill(cardid));
  card.files.set('mscp/kxc00', certificate);
  return card;
}

/** A session as a new process opens it, and the entry points its plugin ran. */
async function newProcess(reader: Reader, plugin: MinidriverPlugin & { calls: string[] } = createTestPlugin()) {
  const session = await CardSession.open(plugin, reader.transport(), {
    cache: new DataCacheStore(),
    persistentCache: new PersistentCacheStore({ directory, onWarning: () => undefined }),
  });
  return { session, calls: plugin.calls };
}

describe('CardSession with a presence-proving transport', () => {
  it('a new process with the same token does not read cardid and is answered from the store', async () => {
    const reader = new Reader(cardWith(FIRST, 1));
    const first = await newProcess(reader);
    expect(first.calls).toContain('readFile /cardid');
    expect(await first.session.readFile('mscp', 'kxc00')).toEqual(FIRST);
    await first.session.close();

    const second = await newProcess(reader);
    expect(second.calls).not.toContain('readFile /cardid');
    expect(second.calls.filter((call) => call.startsWith('readFile'))).toEqual(['readFile /cardcf']);
    expect(await second.session.readFile('mscp', 'kxc00')).toEqual(FIRST);
    expect(second.session.stats().cacheHits).toBe(1);
    await second.session.close();
  });

  it('another card in the same reader (a new token) has its cardid read and its own data, even with an equal cardcf', async () => {
    const reader = new Reader(cardWith(FIRST, 1));
    const first = await newProcess(reader);
    expect(await first.session.readFile('mscp', 'kxc00')).toEqual(FIRST);
    await first.session.close();

    // The first card leaves, another one (same cardcf, other cardid) comes in: pcscd's counter moved.
    reader.card = cardWith(SECOND, 2);
    reader.token = 'reader-1:event-3';
    const second = await newProcess(reader);
    expect(second.calls).toContain('readFile /cardid');
    expect(await second.session.readFile('mscp', 'kxc00')).toEqual(SECOND);
    await second.session.close();

    // The first card comes back (yet another token): its identity is read again, its data is its own.
    reader.card = cardWith(FIRST, 1);
    reader.token = 'reader-1:event-5';
    const third = await newProcess(reader);
    expect(third.calls).toContain('readFile /cardid');
    expect(await third.session.readFile('mscp', 'kxc00')).toEqual(FIRST);
    await third.session.close();
  });

  it('without a token (a transport that cannot prove presence) cardid is read every time', async () => {
    const reader = new Reader(cardWith(FIRST, 1));
    reader.token = undefined;
    for (let round = 0; round < 2; round++) {
      const process = await newProcess(reader);
      expect(process.calls).toContain('readFile /cardid');
      await process.session.close();
    }
  });

  it('a cardid rewritten in place forgets the proof: the next process reads the identity again', async () => {
    const card = cardWith(FIRST, 1);
    const reader = new Reader(card);
    const first = await newProcess(reader);
    await first.session.authenticatePin('user', new TextEncoder().encode('123456'));
    await first.session.writeFile(null, 'cardid', new Uint8Array(16).fill(9));
    await first.session.close();
    const second = await newProcess(reader);
    expect(second.calls).toContain('readFile /cardid');
    expect(await second.session.readFile(null, 'cardid')).toEqual(new Uint8Array(16).fill(9));
    await second.session.close();
  });

  it("the plugin's public entries are restored before CardAcquireContext when the card is proved; others never leave the process", async () => {
    const seen: (string | undefined)[] = [];
    const base = createTestPlugin();
    const plugin = Object.assign(createTestPlugin(), {
      publicPluginCacheEntries: ['table'],
      async acquireContext(context: Parameters<MinidriverPlugin['acquireContext']>[0], flags: number) {
        const table = context.cache.lookupFile('table');
        seen.push(table === undefined ? undefined : new TextDecoder().decode(table));
        const minidriver = await base.acquireContext(context, flags);
        return {
          ...minidriver,
          async readFile(directory: string | null, name: string) {
            // Like a GIDS file table: learnt once, then used to find files.
            if (context.cache.lookupFile('table') === undefined) {
              context.cache.addFile('table', new TextEncoder().encode('file table'));
              context.cache.addFile('secret', new TextEncoder().encode('private'));
            }
            return minidriver.readFile(directory, name);
          },
        };
      },
    });
    const reader = new Reader(cardWith(FIRST, 1));
    const first = await newProcess(reader, plugin);
    await first.session.readFile('mscp', 'kxc00');
    await first.session.close();
    const second = await newProcess(reader, plugin);
    await second.session.close();
    expect(seen).toEqual([undefined, 'file table']);
    const { readdir, readFile } = await import('node:fs/promises');
    const saved = await Promise.all((await readdir(directory)).map((name) => readFile(join(directory, name), 'utf8')));
    expect(saved.some((text) => text.includes('"table"'))).toBe(true);
    expect(saved.some((text) => text.includes('secret'))).toBe(false);
  });

  it('a plugin whose cardcf does not prove everything keeps its undeclared entries one transaction only', async () => {
    const seen: (string | undefined)[] = [];
    const base = createTestPlugin();
    const plugin = Object.assign(createTestPlugin(), {
      provableCacheEntries: (_namespace: string, tag: string) => !tag.startsWith('mscp/k'),
      publicPluginCacheEntries: ['table'],
      async acquireContext(context: Parameters<MinidriverPlugin['acquireContext']>[0], flags: number) {
        const minidriver = await base.acquireContext(context, flags);
        return {
          ...minidriver,
          async readFile(directory: string | null, name: string) {
            if (name === 'kxc00') {
              for (const tag of ['table', 'certificate']) {
                const found = context.cache.lookupFile(tag);
                seen.push(`${tag}:${found === undefined ? 'miss' : 'hit'}`);
                context.cache.addFile(tag, new Uint8Array(1));
              }
            }
            return minidriver.readFile(directory, name);
          },
        };
      },
    });
    const reader = new Reader(cardWith(FIRST, 1));
    // The certificate file is not provable: every transaction asks the plugin for it.
    const process = await newProcess(reader, plugin);
    await process.session.readFile('mscp', 'kxc00');
    await process.session.readFile('mscp', 'kxc00');
    await process.session.close();
    const next = await newProcess(reader, plugin);
    await next.session.readFile('mscp', 'kxc00');
    await next.session.close();
    // The declared entry outlives transactions and processes; the other one does not outlive its transaction.
    expect(seen).toEqual([
      'table:miss',
      'certificate:miss',
      'table:hit',
      'certificate:miss',
      'table:hit',
      'certificate:miss',
    ]);
  });
});
