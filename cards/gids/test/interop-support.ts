/**
 * Test support of the GIDS interop suites (sim/gids-interop.test.ts, test/gids-*-interop.test.ts): the vpcd
 * reader they use, running OpenSC's tools without blocking the vpcd bridge (it lives on this event loop), the
 * tools they need, the card served for a suite, and a plugin session through PC/SC. Not exported from the package.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPluginSession as withReaderPluginSession } from '@minidriver/conformance/interop';
import type { CardSession, CardSessionOptions } from '@minidriver/core';
import type { SimulatedCard } from '@minidriver/sim';
import {
  OPENSC_PKCS11_MODULE,
  pkcs11SlotIndex as pkcs11SlotIndexOf,
  runTool,
  serveVpcdForSuite,
  type ToolRun,
} from '@minidriver/sim/testing';
import type { MinidriverPlugin } from '@minidriver/spec';
import { afterAll } from 'vitest';

/** The vpcd reader (and its card socket port) the GIDS interop suites use; they take turns on the lock. */
export const READER = 'Virtual PCD 00 01';
export const PORT = 35964;

/** Runs a client tool (90 s at most) without blocking the vpcd bridge. */
export const tool = (command: string, args: readonly string[]): Promise<ToolRun> =>
  runTool(command, args, { timeoutMs: 90_000 });

/** The OpenSC reader index of READER (opensc-tool --list-readers), asked until it is listed with a card. */
export async function openscReaderIndex(attempts = 60): Promise<string> {
  let last: ToolRun | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    last = await tool('opensc-tool', ['--list-readers']);
    const index = new RegExp(`^\\s*(\\d+)\\s+Yes\\s.*${READER}$`, 'm').exec(last.output)?.[1];
    if (index !== undefined) return index;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`opensc-tool never saw a card in ${READER}: ${last?.output}`);
}

/** The pkcs11-tool slot index of READER. */
export const pkcs11SlotIndex = (attempts = 20): Promise<string> => pkcs11SlotIndexOf(READER, attempts);

/** What `gids-tool --initialize` writes on a blank card. */
export interface GidsPersonalization {
  /** The card serial number (cardid), 32 hex digits. */
  readonly serial: string;
  /** The 3DES administrator key, 48 hex digits. */
  readonly adminKey: string;
  readonly pin: string;
}

/** `gids-tool --initialize` (OpenSC) of the blank card in OpenSC reader `reader`. */
export const gidsToolInitialize = (reader: string, { serial, adminKey, pin }: GidsPersonalization): Promise<ToolRun> =>
  tool('gids-tool', [
    '--reader',
    reader,
    '--initialize',
    '--serial-number',
    serial,
    '--admin-key',
    adminKey,
    '--pin',
    pin,
  ]);

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
  tool('pkcs11-tool', ['--module', OPENSC_PKCS11_MODULE, '--slot-index', slot, ...args]);

/**
 * Opens `plugin` on the card in READER through pcscd (with `sessionOptions`), runs `use`, and closes
 * session, card and context: the plugin sees the card as any application does.
 */
export const withPluginSession = <T>(
  plugin: MinidriverPlugin,
  use: (session: CardSession) => Promise<T>,
  sessionOptions: CardSessionOptions = {},
): Promise<T> => withReaderPluginSession(plugin, READER, use, sessionOptions);

/** What {@link serveForOpenSc} gives a suite. */
export interface ServedCard {
  /** OpenSC's index of READER, once the card is seen there. */
  reader: string;
  /** The suite's temporary directory. */
  readonly directory: string;
  /** A path in the suite's temporary directory. */
  readonly file: (name: string) => string;
}

/**
 * Serves `card` on READER for the suite (taking the vpcd port lock in turn with other suites), waits until
 * OpenSC sees it, and gives the suite a temporary directory; undone after the suite.
 */
export function serveForOpenSc(card: SimulatedCard, prefix: string): ServedCard {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  const served: ServedCard = { reader: '', directory, file: (name) => join(directory, name) };
  serveVpcdForSuite(card, {
    port: PORT,
    ready: async () => {
      served.reader = await openscReaderIndex();
    },
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  return served;
}
