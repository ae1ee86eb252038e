import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressCertificate, decodeCertificateFile } from '@minidriver/card-kit';
import { certificateForKeyBlob, newProcessStores } from '@minidriver/conformance/interop';
import { CardSession, DataCacheStore } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { serveVpcdForSuite } from '@minidriver/sim/testing';
import { KeySpec, toHex } from '@minidriver/spec';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { OpenPgpSimulator } from '../sim/index.js';
import { plugin } from '../src/index.js';
import { OpenPgpApplication } from '../src/openpgp-application.js';
import { decodeCountersDo } from '../src/openpgp-freshness.js';
import {
  describeInterop,
  driveGpg,
  gnupgHomeForSuite,
  gpgCardGenerate,
  PORT,
  run,
  waitForEmptyReader,
  waitForOpenPgpCard,
  withPluginSession,
  withReaderConnection,
} from './interop-support.js';

// With loopback pinentry gpg asks every PIN with the same prompt: PW1 = PW3.
const PIN = '12345678';

describeInterop('OpenPGP: the persistent cache after foreign writes by GnuPG', [], () => {
  vi.setConfig({ testTimeout: 240_000 });
  const card = new OpenPgpSimulator({ pw1: PIN, pw3: PIN });
  const directory = mkdtempSync(join(tmpdir(), 'openpgp-foreign-write-'));
  const cacheDirectory = join(directory, 'cache');
  let firstCertificate: Uint8Array;

  /** One logon as a new process runs it: fresh stores, the persistent one over `cacheDirectory`. */
  function logonInNewProcess() {
    return withPluginSession(
      plugin,
      async (session) => {
        const certificate = decodeCertificateFile(await session.readFile('mscp', 'ksc02'));
        const key = (await session.getContainerInfo(2)).signaturePublicKey as Uint8Array;
        return { certificate, key: toHex(key), stats: session.stats() };
      },
      newProcessStores(cacheDirectory),
    );
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
    firstCertificate = await certificateForKeyBlob(blob, 'first');
    await setup.writeFile('mscp', 'ksc02', compressCertificate(firstCertificate));
    await setup.close();
  });
  serveVpcdForSuite(card, {
    port: PORT,
    // The card of the test file that held the port before must be seen gone first.
    beforeServe: waitForEmptyReader,
    ready: async () => {
      await waitForOpenPgpCard(40);
    },
    setupTimeoutMs: 600_000,
  });
  const gnupg = gnupgHomeForSuite('openpgp-cache-gnupg-');
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  /** Stops gpg-agent and scdaemon, so the reader is ours again (the next gpg starts them anew). */
  async function releaseScdaemon(): Promise<void> {
    await run('gpgconf', ['--kill', 'all'], gnupg.env);
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
    const replacement = await certificateForKeyBlob(Buffer.from(before.key, 'hex'), 'written by gpg');
    const file = join(directory, 'replacement.der');
    writeFileSync(file, replacement);
    let prompts = 0;
    const result = await driveGpg(['--pinentry-mode', 'loopback', '--card-edit'], gnupg.env, (keyword) => {
      if (keyword === 'cardedit.prompt') {
        prompts += 1;
        return prompts === 1 ? 'admin' : prompts === 2 ? `writecert 3 < ${file}` : 'quit';
      }
      return keyword === 'passphrase.enter' ? PIN : '';
    });
    expect(result.code, result.stderr).toBe(0);
    await releaseScdaemon();
    const after = await logonInNewProcess();
    expect(after.certificate).toEqual(replacement);
    expect(after.key).toBe(before.key);
  });

  it('gpg --card-edit generate replaces the keys: the next new process returns the new public key', async () => {
    const before = await logonInNewProcess();
    const { result } = await gpgCardGenerate(gnupg.env, {
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
    await withPluginSession(
      plugin,
      async (session) => {
        await session.authenticateEx(2, 0, new TextEncoder().encode(PIN));
        const blob = (await session.getContainerInfo(2)).signaturePublicKey as Uint8Array;
        await session.writeFile('mscp', 'ksc02', compressCertificate(await certificateForKeyBlob(blob, 'ours again')));
      },
      { cache: new DataCacheStore() },
    );
    const after = await counters();
    if (before.kind !== 'ours' || after.kind !== 'ours') throw new Error('DO 0102 is not ours');
    expect(after.counters).toEqual({
      containersFreshness: before.counters.containersFreshness,
      filesFreshness: (before.counters.filesFreshness + 1) & 0xffff,
    });
  });
});
