/**
 * Test support of the GIDS interop suites (sim/gids-interop.test.ts, test/gids-plugin-interop.test.ts): the
 * vpcd reader they use, running OpenSC's tools without blocking the vpcd bridge (it lives on this event loop),
 * the tools they need, and waits for the card. Not exported from the package.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CardSession } from '@minidriver/core';
import { PcscContext } from '@minidriver/pcsc';
import { acquireVpcdPortLock, type SimulatedCard, serveVpcd, type VpcdServer } from '@minidriver/sim';
import type { MinidriverPlugin } from '@minidriver/spec';
import { afterAll, beforeAll } from 'vitest';

/** The vpcd reader (and its card socket port) the GIDS interop suites use; they take turns on the lock. */
export const READER = 'Virtual PCD 00 01';
export const PORT = 35964;
export const PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

/** Exit code and output (stdout then stderr) of a tool run. */
export interface ToolResult {
  readonly code: number;
  readonly output: string;
}

/** Runs a tool asynchronously. */
export function tool(command: string, args: readonly string[]): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 90_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      if (process.env['GIDS_INTEROP_DEBUG']) console.log(command, args.join(' '), code, `${stdout}${stderr}`);
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** The OpenSC reader index of READER (opensc-tool --list-readers), asked until it is listed with a card. */
export async function openscReaderIndex(attempts = 60): Promise<string> {
  let last: ToolResult | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    last = await tool('opensc-tool', ['--list-readers']);
    const index = new RegExp(`^\\s*(\\d+)\\s+Yes\\s.*${READER}$`, 'm').exec(last.output)?.[1];
    if (index !== undefined) return index;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`opensc-tool never saw a card in ${READER}: ${last?.output}`);
}

/** The pkcs11-tool slot index of READER. */
export async function pkcs11SlotIndex(attempts = 20): Promise<string> {
  let last: ToolResult | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    last = await tool('pkcs11-tool', ['--module', PKCS11_MODULE, '--list-slots']);
    const index = new RegExp(`Slot (\\d+) \\(0x[0-9a-f]+\\): ${READER}`).exec(last.output)?.[1];
    if (index !== undefined) return index;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`pkcs11-tool lists no slot for ${READER}: ${last?.output}`);
}

/** What the GIDS interop suites need (for `describeWithTools`). */
export const GIDS_INTEROP_TOOLS: readonly string[] = [
  'pcscd',
  'gids-tool',
  'opensc-tool',
  'pkcs15-tool',
  'pkcs11-tool',
  'openssl',
];

/** pkcs11-tool with OpenSC's module on slot `slot`. */
export const pkcs11Tool = (slot: string, ...args: string[]) =>
  tool('pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-index', slot, ...args]);

/**
 * Opens `plugin` on the card in READER through pcscd, runs `use`, and closes session, card and context:
 * the plugin sees the card as any application does.
 */
export async function withGidsSession<T>(
  plugin: MinidriverPlugin,
  use: (session: CardSession) => Promise<T>,
): Promise<T> {
  const context = await PcscContext.establish();
  try {
    const card = await context.connect(READER, { share: 'shared' });
    try {
      const session = await CardSession.open(plugin, card);
      try {
        return await use(session);
      } finally {
        await session.close();
      }
    } finally {
      await card.close();
    }
  } finally {
    await context.release();
  }
}

/** What {@link serveForOpenSc} gives a suite. */
export interface ServedCard {
  /** OpenSC's index of READER, once the card is seen there. */
  reader: string;
  /** A path in the suite's temporary directory. */
  readonly file: (name: string) => string;
}

/**
 * Serves `card` on READER for the suite (taking the vpcd port lock in turn with other suites), waits until
 * OpenSC sees it, and gives the suite a temporary directory; undone after the suite.
 */
export function serveForOpenSc(card: SimulatedCard, prefix: string): ServedCard {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  const served: ServedCard = { reader: '', file: (name) => join(directory, name) };
  let server: VpcdServer | undefined;
  let releaseLock: (() => void) | undefined;
  beforeAll(async () => {
    releaseLock = await acquireVpcdPortLock(PORT);
    server = serveVpcd(card, { port: PORT });
    await server.connected;
    served.reader = await openscReaderIndex();
  }, 400_000);
  afterAll(async () => {
    try {
      await server?.close();
    } finally {
      releaseLock?.();
      rmSync(directory, { recursive: true, force: true });
    }
  });
  return served;
}
