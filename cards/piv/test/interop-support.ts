/**
 * Test support shared by the PIV interop suites (sim/piv-interop.test.ts, test/piv-plugin-interop.test.ts):
 * running the real clients without blocking the vpcd bridge, the tools check, waits for the card in the
 * reader, a throwaway CA for keys the tools cannot self-sign, and a plugin session through PC/SC.
 * Not exported from the package.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CardSession } from '@minidriver/core';
import { PcscContext, SCARD_STATE_EMPTY, SCARD_STATE_PRESENT } from '@minidriver/pcsc';
import { missingToolsReason, onCi } from '@minidriver/sim';
import type { MinidriverPlugin } from '@minidriver/spec';
import { describe } from 'vitest';

/** The vpcd reader (and its card socket port) every PIV interop suite uses; they take turns on the lock. */
export const READER = 'Virtual PCD 00 01';
export const PORT = 35964;
export const PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const TOOLS = ['pcscd', 'yubico-piv-tool', 'pkcs15-tool', 'pkcs11-tool', 'openssl'];

export interface RunResult {
  readonly code: number;
  /** stdout followed by stderr. */
  readonly output: string;
  readonly stdout: string;
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Runs a tool asynchronously (the vpcd bridge lives on this event loop, so nothing may block it). */
export function run(command: string, args: readonly string[], input?: string): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(command, args, { timeout: 60_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      // PIV_INTEROP_DEBUG=1 prints each client run and its duration.
      if (process.env['PIV_INTEROP_DEBUG']) console.log(command, args.join(' '), Date.now() - started, 'ms', code);
      resolve({ code, output: `${stdout}${stderr}`, stdout });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** yubico-piv-tool on READER. */
export const pivTool = (...args: string[]) => run('yubico-piv-tool', ['-r', READER, ...args]);

/**
 * A suite that needs pcscd, the PIV clients and OpenSC's PKCS #11 module: skipped with a reason when one is
 * missing, a failure instead with CI=true. `timeoutMs` is each test's timeout: a client run takes 0.3-5 s
 * through vpcd (OpenSC probes every reader), so the defaults are too tight.
 */
export function describeInterop(name: string, timeoutMs: number, body: () => void): void {
  const reason = missingToolsReason(TOOLS) ?? (existsSync(PKCS11_MODULE) ? undefined : `needs ${PKCS11_MODULE}`);
  if (reason === undefined) {
    describe(name, { timeout: timeoutMs }, body);
    return;
  }
  if (onCi()) throw new Error(`${name}: ${reason} (CI=true: a missing tool is a failure)`);
  describe.skip(`${name} — skipped: ${reason}`, body);
}

/** Polls (every 250 ms, up to `attempts` times) until yubico-piv-tool can talk to the PIV card in READER. */
export async function waitForPivCard(attempts: number): Promise<void> {
  let last: RunResult | undefined;
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
export async function waitForReaderState(present: boolean): Promise<void> {
  const wanted = present ? SCARD_STATE_PRESENT : SCARD_STATE_EMPTY;
  const context = await PcscContext.establish();
  try {
    let eventState = 0;
    for (let attempt = 0; attempt < 240; attempt++) {
      eventState = (await context.getStatusChange([{ readerName: READER }], 0))[0]?.eventState ?? 0;
      if (eventState & wanted) return;
      await pause(250);
    }
    const state = present ? 'absent from' : 'present in';
    throw new Error(`the simulated card is still ${state} ${READER} (state 0x${eventState.toString(16)})`);
  } finally {
    await context.release();
  }
}

/**
 * The pkcs11-tool slot index of READER, asked up to `attempts` times (500 ms apart): OpenSC probes every
 * reader, and while another reader changes state its slot list can briefly miss ours.
 */
export async function findPkcs11SlotIndex(attempts: number): Promise<string> {
  let slots: RunResult | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await pause(500);
    slots = await run('pkcs11-tool', ['--module', PKCS11_MODULE, '--list-slots']);
    const index = /Slot (\d+) \(0x[0-9a-f]+\): Virtual PCD 00 01/.exec(slots.output)?.[1];
    if (index !== undefined) return index;
  }
  throw new Error(`pkcs11-tool lists no slot for ${READER}: ${slots?.output}`);
}

/** The CA key openssl makes for {@link issueCertificateFor}: `req -newkey` arguments. */
const CA_KEY_ARGUMENTS = {
  'rsa-2048': ['-newkey', 'rsa:2048'],
  'p-256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
} as const;

export interface CertificateRequest {
  /** PEM public key the certificate is for (its private key lives on the card). */
  readonly publicKeyPath: string;
  readonly commonName: string;
  readonly outputPath: string;
  /** Where the CA key, CA certificate, placeholder key and request are written. */
  readonly workDirectory: string;
  /** Key type of the CA (and of the throwaway request key). */
  readonly caKey: keyof typeof CA_KEY_ARGUMENTS;
}

/**
 * Issues a certificate for an externally generated public key from a throwaway CA with openssl (for when
 * yubico-piv-tool cannot self-sign: 2.2 + OpenSSL 3, Yubico/yubico-piv-tool#388). Throws with openssl's
 * output when a step fails.
 */
export async function issueCertificateFor(request: CertificateRequest): Promise<void> {
  const file = (name: string) => join(request.workDirectory, name);
  const newKey = CA_KEY_ARGUMENTS[request.caKey];
  const steps: string[][] = [
    [
      'req',
      '-x509',
      ...newKey,
      '-nodes',
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-subj',
      '/CN=interop test CA',
      '-days',
      '2',
    ],
    [
      'req',
      '-new',
      ...newKey,
      '-nodes',
      '-keyout',
      file('placeholder.key'),
      '-out',
      file('request.csr'),
      '-subj',
      `/CN=${request.commonName}`,
    ],
    [
      'x509',
      '-req',
      '-in',
      file('request.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-force_pubkey',
      request.publicKeyPath,
      '-out',
      request.outputPath,
      '-days',
      '2',
    ],
  ];
  for (const step of steps) {
    const result = await run('openssl', step);
    if (result.code !== 0) throw new Error(`openssl ${step[0]} failed: ${result.output}`);
  }
}

/**
 * Opens `plugin` on the card in READER through pcscd, runs `use`, and closes session, card and context.
 * Connecting through PC/SC (not SimTransport) is the point: the plugin sees what any application sees.
 */
export async function withPluginSession<T>(
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

/** yubico-piv-tool: verifies `pin`, then test-signs with the key in `slot` against the certificate (PEM file). */
export const pivTestSignature = (slot: string, certificatePath: string, pin: string) =>
  pivTool('-a', 'verify-pin', '-P', pin, '-a', 'test-signature', '-s', slot, '-i', certificatePath);
