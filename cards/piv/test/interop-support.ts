/**
 * Test support shared by the PIV interop suites (sim/piv-interop.test.ts, test/piv-*-interop.test.ts): the
 * vpcd reader they use, the real clients they run (through `runTool` of @minidriver/sim/testing, which does
 * not block the vpcd bridge), the tools check, waits for the card in the reader, and a plugin session
 * through PC/SC. Not exported from the package.
 */

import {
  waitForReaderState as waitForStateOf,
  withPluginSession as withReaderPluginSession,
} from '@minidriver/conformance/interop';
import type { CardSession, CardSessionOptions } from '@minidriver/core';
import {
  describeWithTools,
  OPENSC_PKCS11_MODULE,
  pkcs11SlotIndex,
  runTool,
  type ToolRun,
} from '@minidriver/sim/testing';
import type { MinidriverPlugin } from '@minidriver/spec';

/** The vpcd reader (and its card socket port) every PIV interop suite uses; they take turns on the lock. */
export const READER = 'Virtual PCD 00 01';
export const PORT = 35964;
const TOOLS = ['pcscd', 'yubico-piv-tool', 'pkcs15-tool', 'pkcs11-tool', 'openssl'];

/** Runs a client tool (60 s at most), `input` on its stdin. */
export const run = (command: string, args: readonly string[], input?: string): Promise<ToolRun> =>
  runTool(command, args, input === undefined ? { timeoutMs: 60_000 } : { timeoutMs: 60_000, input });

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** yubico-piv-tool on READER. */
export const pivTool = (...args: string[]) => run('yubico-piv-tool', ['-r', READER, ...args]);

/**
 * A suite that needs pcscd, the PIV clients and OpenSC's PKCS #11 module: skipped with a reason when one is
 * missing, a failure instead with CI=true. `timeoutMs` is each test's timeout: a client run takes 0.3-5 s
 * through vpcd (OpenSC probes every reader), so the defaults are too tight.
 */
export function describeInterop(name: string, timeoutMs: number, body: () => void): void {
  describeWithTools(TOOLS, name, body, { timeoutMs, files: [OPENSC_PKCS11_MODULE] });
}

/** Polls (every 250 ms, up to `attempts` times) until yubico-piv-tool can talk to the PIV card in READER. */
export async function waitForPivCard(attempts: number): Promise<void> {
  let last: ToolRun | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    last = await pivTool('-a', 'version');
    if (last.code === 0) return;
    await pause(250);
  }
  throw new Error(`yubico-piv-tool never reached the card in ${READER}: ${last?.output.trim()}`);
}

/**
 * Polls pcscd until READER reports the card present (or empty). Between two served cards pcscd must see
 * the reader empty first: a card swapped in within one presence poll is never powered up by pcscd.
 */
export const waitForReaderState = (present: boolean): Promise<void> => waitForStateOf(READER, present);

/** The pkcs11-tool slot index of READER, asked up to `attempts` times (500 ms apart). */
export const findPkcs11SlotIndex = (attempts: number): Promise<string> => pkcs11SlotIndex(READER, attempts);

/**
 * Opens `plugin` on the card in READER through pcscd (with `sessionOptions`), runs `use`, and closes
 * session, card and context. Connecting through PC/SC (not SimTransport) is the point: the plugin sees what any application sees.
 */
export const withPluginSession = <T>(
  plugin: MinidriverPlugin,
  use: (session: CardSession) => Promise<T>,
  sessionOptions: CardSessionOptions = {},
): Promise<T> => withReaderPluginSession(plugin, READER, use, sessionOptions);

/** yubico-piv-tool: verifies `pin`, then test-signs with the key in `slot` against the certificate (PEM file). */
export const pivTestSignature = (slot: string, certificatePath: string, pin: string) =>
  pivTool('-a', 'verify-pin', '-P', pin, '-a', 'test-signature', '-s', slot, '-i', certificatePath);
