// A second process on the same GIDS card: one CardSession through pcscd, driven by JSON lines on stdin
// (open, verify, read, write, close), answering one JSON line per command with the APDUs the call sent and
// the session's cache hits. Runs on the built packages (dist), as an application would.
import { createInterface } from 'node:readline';
import { plugin } from '@minidriver/card-gids';
import { CardSession } from '@minidriver/core';
import { PcscContext } from '@minidriver/pcsc';

const reader = process.argv[2];
let context;
let card;
let session;
let apdus = 0;

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const directory = (name) => (name === '' ? null : name);

async function handle(command) {
  switch (command.op) {
    case 'open':
      context = await PcscContext.establish();
      card = await context.connect(reader, { share: 'shared' });
      session = await CardSession.open(plugin, card, { trace: () => apdus++ });
      return { cacheMode: session.cacheMode };
    case 'verify':
      await session.authenticatePin('user', new TextEncoder().encode(command.pin));
      return {};
    case 'read':
      return { hex: hex(await session.readFile(directory(command.dir), command.name)) };
    case 'write':
      await session.writeFile(directory(command.dir), command.name, Buffer.from(command.hex, 'hex'));
      return {};
    case 'close':
      await session.close();
      await card.close();
      await context.release();
      return {};
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  const before = { apdus, hits: session?.stats().cacheHits ?? 0 };
  try {
    const result = await handle(command);
    const after = { apdus, hits: session?.stats().cacheHits ?? 0 };
    process.stdout.write(
      `${JSON.stringify({ ok: true, ...result, apdus: after.apdus - before.apdus, hits: after.hits - before.hits })}\n`,
    );
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: String(error?.name ?? error) })}\n`);
  }
  if (command.op === 'close') break;
}
