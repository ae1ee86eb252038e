/**
 * The OpenPGP plugin's cross-process cache (docs/cache.md) against GnuPG through pcscd + vpcd
 * ("Virtual PCD 00 01"): a logon in a new process is answered from the persistent store; then gpg changes
 * the card through scdaemon without our counters — `writecert` replaces the authentication certificate,
 * `generate` replaces the keys — and the next logon in a new process returns the new data; a write of ours
 * bumps exactly its counter in DO 0102. Skipped with a reason when a tool is missing; mandatory with CI=true.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressCertificate, decodeCertificateFile, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { CardSession, createCertificate, DataCacheStore, PersistentCacheStore } from '@minidriver/core';
import { acquireVpcdPortLock, SimTransport, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { KeySpec, toHex } from '@minidriver/spec';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { OpenPgpSimulator } from '../sim/index.js';
import { plugin } from '../src/index.js';
import { OpenPgpApplication } from '../src/openpgp-application.js';
import { decodeCountersDo } from '../src/openpgp-freshness.js';
import {
  createGnupgHome,
  describeInterop,
  driveGpg,
  gpgCardGenerate,
  PORT,
  run,
  waitForEmptyReader,
  waitForOpenPgpCard,
  withReaderConnection,
} from './interop-support.js';

// With loopback pinentry gpg asks every PIN with the same prompt: PW1 = PW3.
const PIN = '12345678';

async function certificateFor(blob: Uint8Array, commonName: string): Promise<Uint8Array> {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return createCertificate({
    publicKey: publicKeyBlobToKeyObject(blob),
    commonName,
    issuer: { commonName: 'foreign-write test CA', publicKey: ca.publicKey },
    sign: (tbs) => new Uint8Array(sign('sha256', tbs, ca.privateKey)),
  });
}

describeInterop('OpenPGP: the persistent cache after foreign writes by GnuPG', [], () => {
  vi.setConfig({ testTimeout: 240_000 });
  const card = new OpenPgpSimulator({ pw1: PIN, pw3: PIN });
  const directory = mkdtempSync(join(tmpdir(), 'openpgp-foreign-write-'));
  const cacheDirectory = join(directory, 'cache');
  let server: VpcdServer | undefined;
  let releaseLock: (() => void) | undefined;
  let gnupg: ReturnType<typeof createGnupgHome> | undefined;
  let firstCertificate: Uint8Array;

  /** One logon as a new process runs it: fresh stores, the persistent one over `cacheDirectory`. */
  function logonInNewProcess() {
    return withReaderConnection(async (connection) => {
      const session = await CardSession.open(plugin, connection, {
        cache: new DataCacheStore(),
        persistentCache: new PersistentCacheStore({ directory: cacheDirectory }),
      });
      try {
        const certificate = decodeCertificateFile(await session.readFile('mscp', 'ksc02'));
        const key = (await session.getContainerInfo(2)).signaturePublicKey as Uint8Array;
        return { certificate, key: toHex(key), stats: session.stats() };
      } finally {
        await session.close();
      }
    });
  }

  /** Our counters in DO 0102, read on a connection of their own. */
  function counters() {
    return withReaderConnection(async (connection) => {
      const app = new OpenPgpApplication(connection);
      await app.selectApplication();
      return decodeCountersDo(await app.readPrivateUse(0x0102));
    });
  }

  beforeAll(async () => {
    // Our plugin generates the authentication key and writes its certificate (ksc02 = 7F21 occurrence 0).
    const setup = await CardSession.open(plugin, new SimTransport(card));
    await setup.authenticateEx(2, 0, new TextEncoder().encode(PIN));
    await setup.createContainer(2, 1, KeySpec.AT_SIGNATURE, 2048);
    const blob = (await setup.getContainerInfo(2)).signaturePublicKey as Uint8Array;
    firstCertificate = await certificateFor(blob, 'first');
    await setup.writeFile('mscp', 'ksc02', compressCertificate(firstCertificate));
    await setup.close();
    releaseLock = await acquireVpcdPortLock(PORT);
    // The card of the test file that held the port before must be seen gone first.
    await waitForEmptyReader();
    server = serveVpcd(card, { port: PORT });
    await server.connected;
    await waitForOpenPgpCard(40);
    gnupg = createGnupgHome('openpgp-cache-gnupg-');
  }, 600_000);

  afterAll(async () => {
    if (gnupg !== undefined) {
      await run('gpgconf', ['--kill', 'all'], gnupg.env);
      rmSync(gnupg.home, { recursive: true, force: true });
    }
    await server?.close();
    releaseLock?.();
    rmSync(directory, { recursive: true, force: true });
  });

  /** Stops gpg-agent and scdaemon, so the reader is ours again (the next gpg starts them anew). */
  async function releaseScdaemon(): Promise<void> {
    if (gnupg !== undefined) await run('gpgconf', ['--kill', 'all'], gnupg.env);
  }

  it('a new process is answered from the store: the key from the cache, the certificate from the card', async () => {
    const cold = await logonInNewProcess();
    expect(cold.certificate).toEqual(firstCertificate);
    const warm = await logonInNewProcess();
    expect(warm.certificate).toEqual(firstCertificate);
    expect(warm.key).toBe(cold.key);
    // getContainerInfo came from the store: one hit, and the certificate was read from the card.
    expect(warm.stats.cacheHits).toBeGreaterThanOrEqual(1);
  });

  it('gpg --card-edit writecert replaces the certificate: the next new process returns the new one', async () => {
    const before = await logonInNewProcess();
    const replacement = await certificateFor(Buffer.from(before.key, 'hex'), 'written by gpg');
    const file = join(directory, 'replacement.der');
    writeFileSync(file, replacement);
    let prompts = 0;
    const result = await driveGpg(['--pinentry-mode', 'loopback', '--card-edit'], gnupg!.env, (keyword) => {
      if (keyword === 'cardedit.prompt') {
        prompts += 1;
        return prompts === 1 ? 'admin' : prompts === 2 ? `writecert 3 < ${file}` : 'quit';
      }
      return keyword === 'passphrase.enter' ? PIN : '';
    });
    expect(result.status, result.stderr).toBe(0);
    await releaseScdaemon();
    const after = await logonInNewProcess();
    expect(after.certificate).toEqual(replacement);
    expect(after.key).toBe(before.key);
  });

  it('gpg --card-edit generate replaces the keys: the next new process returns the new public key', async () => {
    const before = await logonInNewProcess();
    const { result } = await gpgCardGenerate(gnupg!.env, {
      pin: PIN,
      name: 'Foreign Writer',
      email: 'foreign@example.org',
    });
    expect(result.stdout, result.stderr).toMatch(/KEY_CREATED B/);
    await releaseScdaemon();
    const after = await logonInNewProcess();
    expect(after.key).not.toBe(before.key);
  });

  it('a write of ours through pcscd bumps exactly the files counter in DO 0102', async () => {
    const before = await counters();
    expect(before.kind).toBe('ours');
    await withReaderConnection(async (connection) => {
      const session = await CardSession.open(plugin, connection, { cache: new DataCacheStore() });
      try {
        await session.authenticateEx(2, 0, new TextEncoder().encode(PIN));
        const blob = (await session.getContainerInfo(2)).signaturePublicKey as Uint8Array;
        await session.writeFile('mscp', 'ksc02', compressCertificate(await certificateFor(blob, 'ours again')));
      } finally {
        await session.close();
      }
    });
    const after = await counters();
    if (before.kind !== 'ours' || after.kind !== 'ours') throw new Error('DO 0102 is not ours');
    expect(after.counters).toEqual({
      containersFreshness: before.counters.containersFreshness,
      filesFreshness: (before.counters.filesFreshness + 1) & 0xffff,
    });
  });
});
