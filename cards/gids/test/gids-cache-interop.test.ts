/**
 * The GLOBAL data cache across processes, for real: the GIDS simulator is served into pcscd through vpcd and
 * two child processes (test/cache-peer.mjs, on the built packages) each hold a CardSession on it. One reads a
 * file twice (the second read is a cache hit: one APDU, the cardcf check); the other writes it (the session
 * bumps cardcf on the card); the first one's next read sees the change at once: the freshness check finds a new
 * cardcf, drops the cached copy and reads the card again.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { describeWithTools, serveVpcdForSuite } from '@minidriver/sim/testing';
import { FileAccessCondition } from '@minidriver/spec';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DEFAULT_PIN, GidsSimulator } from '../sim/index.js';
import { plugin } from '../src/index.js';
import { PORT, READER } from './interop-support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPOSITORY = resolve(HERE, '..', '..', '..');

/** A child process running cache-peer.mjs, one JSON request / answer at a time. */
class Peer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #answers: string[] = [];
  readonly #waiting: ((line: string) => void)[] = [];

  constructor() {
    this.#child = spawn(process.execPath, [join(HERE, 'cache-peer.mjs'), READER], { stdio: 'pipe' });
    this.#lines = createInterface({ input: this.#child.stdout });
    this.#lines.on('line', (line) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(line);
      else this.#answers.push(line);
    });
  }

  async send(command: Record<string, string>): Promise<Record<string, unknown>> {
    this.#child.stdin.write(`${JSON.stringify(command)}\n`);
    const line = this.#answers.shift() ?? (await new Promise<string>((resolveLine) => this.#waiting.push(resolveLine)));
    const answer = JSON.parse(line) as Record<string, unknown>;
    if (answer['ok'] !== true) throw new Error(`peer failed ${command['op']}: ${answer['error']}`);
    return answer;
  }

  kill(): void {
    this.#child.kill();
  }
}

describeWithTools(['pcscd'], 'GIDS GLOBAL cache: two processes see each other’s writes through cardcf', () => {
  vi.setConfig({ testTimeout: 120_000 });
  const card = new GidsSimulator();
  const peers: Peer[] = [];

  beforeAll(async () => {
    // The peers run the built packages.
    const build = spawnSync('pnpm', ['--filter', '@minidriver/card-gids...', 'build'], {
      cwd: REPOSITORY,
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    // A file to share, created in process through the plugin.
    const setup = await CardSession.open(plugin, new SimTransport(card));
    await setup.authenticatePin('user', DEFAULT_PIN);
    await setup.createFile('mscp', 'shared', 0, FileAccessCondition.EveryoneReadUserWriteAc);
    await setup.writeFile('mscp', 'shared', Uint8Array.of(1, 1, 1));
    await setup.close();
  }, 400_000);
  serveVpcdForSuite(card, { port: PORT });
  // Registered after the card is served, so run before it is taken out.
  afterAll(() => {
    for (const peer of peers) peer.kill();
  });

  it('a write in one process invalidates the cached copy in the other, through the on-card cardcf', async () => {
    const reader = new Peer();
    const writer = new Peer();
    peers.push(reader, writer);
    let opened: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 40 && opened === undefined; attempt++) {
      opened = await reader.send({ op: 'open' }).catch(async () => {
        await new Promise((resolveDelay) => setTimeout(resolveDelay, 250));
        return undefined;
      });
    }
    expect(opened?.['cacheMode']).toBe(1);
    expect((await writer.send({ op: 'open' }))['cacheMode']).toBe(1);

    const first = await reader.send({ op: 'read', dir: 'mscp', name: 'shared' });
    expect(first['hex']).toBe('010101');
    const cached = await reader.send({ op: 'read', dir: 'mscp', name: 'shared' });
    expect(cached).toMatchObject({ hex: '010101', hits: 1, apdus: 1 });

    const cardcfBefore = card.dataObject(0xa010, 0xdf22)!;
    await writer.send({ op: 'verify', pin: new TextDecoder().decode(DEFAULT_PIN) });
    await writer.send({ op: 'write', dir: 'mscp', name: 'shared', hex: '020202' });
    const cardcfAfter = card.dataObject(0xa010, 0xdf22)!;
    expect(cardcfAfter[4]! | (cardcfAfter[5]! << 8)).toBe((cardcfBefore[4]! | (cardcfBefore[5]! << 8)) + 1);

    const fresh = await reader.send({ op: 'read', dir: 'mscp', name: 'shared' });
    expect(fresh['hex']).toBe('020202');
    expect(fresh['hits']).toBe(0);
    expect(fresh['apdus']).toBeGreaterThan(1);
    // And cached again afterwards.
    expect(await reader.send({ op: 'read', dir: 'mscp', name: 'shared' })).toMatchObject({
      hex: '020202',
      hits: 1,
      apdus: 1,
    });
    await reader.send({ op: 'close' });
    await writer.send({ op: 'close' });
  });
});
