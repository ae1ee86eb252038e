/**
 * Test support: simulated cards provisioned through the key store (keys and self-signed certificates),
 * served into pcscd through vpcd, opened by a KeyStore on that reader, and a server of ours over it.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCertificate, createSelfSignedCertificate } from '@minidriver/core';
import { type Key, KeyStore, type Token } from '@minidriver/keystore';
import { Loader } from '@minidriver/loader';
import { acquireVpcdPortLock, type SimulatedCard, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { expect } from 'vitest';
import { Pkcs11Server } from '../src/index.js';
import { KeyStoreSource } from '../src/module/token-source.js';

/** The vpcd reader these suites serve cards in (port 35964, shared with other suites through a lock). */
export const READER = 'Virtual PCD 00 01';
export const PORT = 35964;
export const USER_PIN = '123456';
export const PIV_MANAGEMENT_KEY = '010203040506070801020304050607080102030405060708';
export const OPENPGP_ADMIN_PIN = '12345678';

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** PKCS11_SERVER_DEBUG=1 prints each call's name and CK_RV (and the error behind a failure). */
const debugTrace = process.env['PKCS11_SERVER_DEBUG']
  ? (call: string, rv: number, error?: unknown) =>
      console.log(call, rv.toString(16), error instanceof Error ? error.message : '')
  : undefined;

/** A loader over this package's dev dependencies (the card plugins), importing them from source. */
export function testLoader(): Loader {
  return new Loader({ applicationRoot: PACKAGE_ROOT, conditions: ['source'], onWarning: () => undefined });
}

/** Keys to make: container, algorithm, usage, and whether to give it a self-signed certificate. */
export interface PlannedKey {
  readonly container: number;
  readonly algorithm: 'rsa2048' | 'p256' | 'p384';
  readonly usage?: 'sign' | 'decrypt' | 'derive';
  /** The PIN role protecting it (PIV `signature`: a PIN-always key). */
  readonly pin?: string;
  readonly certificate: boolean;
}

/** How a card is provisioned. */
export interface ProvisionOptions {
  /** The card generates keys and writes certificates under the user PIN (GIDS), not only the admin's. */
  readonly userWrites?: boolean;
}

/** Generates the planned keys on `card` (in process, through the key store) with self-signed certificates. */
export async function provision(
  card: SimulatedCard,
  admin: string,
  plan: readonly PlannedKey[],
  options: ProvisionOptions = {},
): Promise<void> {
  const store = await KeyStore.open({ simulators: [card], loader: testLoader() });
  try {
    const token = store.tokens[0] as Token;
    if (options.userWrites) await token.login('user', USER_PIN);
    await token.login('admin', admin);
    const made: { key: Key; certificate: boolean }[] = [];
    for (const { container, algorithm, usage, pin, certificate } of plan) {
      const keyOptions = { ...(usage === undefined ? {} : { usage }), ...(pin === undefined ? {} : { pin }) };
      made.push({ key: await token.generateKey(container, algorithm, keyOptions), certificate });
    }
    for (const { key, certificate } of made) {
      if (!certificate) continue;
      await token.login(key.pinId, USER_PIN);
      const der = await createSelfSignedCertificate({
        publicKey: key.publicKey,
        commonName: `${token.plugin.name} container ${key.container}`,
        sign: (tbs) => key.sign(tbs, { hash: 'sha256' }),
      });
      await token.login('admin', admin);
      await token.importCertificate(key.container, der);
    }
    await token.logout();
  } finally {
    await store.close();
  }
}

/** A card in pcscd (or in process), a KeyStore on its reader, and our server over that store. */
export interface ServedCard {
  readonly socketPath: string;
  readonly store: KeyStore;
  /** The vpcd bridge (undefined in process). */
  readonly vpcd: VpcdServer | undefined;
  readonly server: Pkcs11Server;
  readonly directory: string;
  /** APDUs the card received since the last reset. */
  apdus(): number;
  resetApdus(): void;
  close(): Promise<void>;
}

/** Serves `card` into pcscd (taking the vpcd port lock), opens a KeyStore on the reader and starts our server. */
export async function serveCard(card: SimulatedCard): Promise<ServedCard> {
  const release = await acquireVpcdPortLock(PORT);
  let count = 0;
  const vpcd = serveVpcd(card, { port: PORT, onApdu: () => count++ });
  const directory = await mkdtemp(join(tmpdir(), 'pkcs11-card-'));
  try {
    await vpcd.connected;
    const store = await KeyStore.open({ readers: [READER], loader: testLoader() });
    await store.waitForToken({ reader: READER, timeoutMs: 30_000 });
    const socketPath = join(directory, 'pkcs11');
    const server = await Pkcs11Server.listen({ socketPath, source: new KeyStoreSource(store), trace: debugTrace });
    return {
      socketPath,
      store,
      vpcd,
      server,
      directory,
      apdus: () => count,
      resetApdus: () => {
        count = 0;
      },
      async close() {
        await server.close();
        await store.close();
        await vpcd.close();
        await rm(directory, { recursive: true, force: true });
        release();
      },
    };
  } catch (error) {
    await vpcd.close();
    await rm(directory, { recursive: true, force: true });
    release();
    throw error;
  }
}

/** The card in process (a simulated reader of the key store, no pcscd), with our server over it. */
export function serveInProcess(card: SimulatedCard): Promise<ServedCard> {
  return serveStore(KeyStore.open({ simulators: [card], loader: testLoader() }));
}

/** Our server over a key store (closed with it). */
export async function serveStore(opening: Promise<KeyStore>): Promise<ServedCard> {
  const directory = await mkdtemp(join(tmpdir(), 'pkcs11-card-'));
  const store = await opening;
  const socketPath = join(directory, 'pkcs11');
  const server = await Pkcs11Server.listen({ socketPath, source: new KeyStoreSource(store), trace: debugTrace });
  return {
    socketPath,
    store,
    vpcd: undefined,
    server,
    directory,
    apdus: () => Number.NaN,
    resetApdus: () => undefined,
    async close() {
      await server.close();
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Provisions `card` with `plan`, then serves it: through pcscd + vpcd, or in process when
 * PKCS11_IN_PROCESS=1 (a quick local loop; CI runs the pcscd way). Returns the served card and its keys.
 */
export async function openProvisioned(
  card: SimulatedCard,
  admin: string,
  plan: readonly PlannedKey[],
  options: ProvisionOptions = {},
): Promise<{ served: ServedCard; keys: Key[] }> {
  await provision(card, admin, plan, options);
  const served = process.env['PKCS11_IN_PROCESS'] ? await serveInProcess(card) : await serveCard(card);
  const token = served.store.tokens[0];
  if (token === undefined) throw new Error('the served card shows no token');
  return { served, keys: await token.keys() };
}

/** Polls `condition` every 100 ms up to `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A certificate for `key` from a throwaway CA, written to `path` and stored with `pkcs11-tool --write-object`
 * (`run` is pkcs11-tool against the server, `login` its login options); checks the token then holds it.
 */
export async function writeCertificateWithTool(
  run: (...args: string[]) => Promise<{ code: number; output: string }>,
  token: Token,
  key: Key,
  login: readonly string[],
  path: string,
  commonName: string,
): Promise<void> {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = await createCertificate({
    publicKey: key.publicKey,
    commonName,
    issuer: { commonName: 'test CA', publicKey: ca.publicKey },
    sign: async (tbs) => new Uint8Array(sign('sha256', tbs, ca.privateKey)),
  });
  await writeFile(path, der);
  const written = await run(...login, '--write-object', path, '--type', 'cert', '--id', key.id);
  expect(written.code, written.output).toBe(0);
  const stored = (await token.keys({ refresh: true })).find((candidate) => candidate.container === key.container);
  expect(Buffer.from(stored?.certificate?.raw ?? [])).toEqual(Buffer.from(der));
}
