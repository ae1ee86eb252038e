/**
 * PIV and the cross-process cache (docs/cache.md) against yubico-piv-tool through pcscd + vpcd ("Virtual
 * PCD 00 01"): a PIV card has no freshness counter another tool would bump, so nothing PIV reaches the
 * persistent store, and after yubico-piv-tool replaces the certificate or the key of slot 9A the next
 * logon in a new process returns the new one. Skipped with a reason when a tool is missing; mandatory
 * with CI=true.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFileName, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { CardSession, DataCacheStore, PersistentCacheStore } from '@minidriver/core';
import { PcscContext } from '@minidriver/pcsc';
import { acquireVpcdPortLock, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { CacheMode } from '@minidriver/spec';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PivSimulator } from '../sim/index.js';
import { plugin } from '../src/index.js';
import {
  describeInterop,
  issueCertificateFor,
  PORT,
  pivTool,
  READER,
  waitForPivCard,
  waitForReaderState,
} from './interop-support.js';

const derOfPem = (pem: Buffer) => new Uint8Array(new X509Certificate(pem).raw);

describeInterop('PIV: no stale data across processes after yubico-piv-tool writes', 180_000, () => {
  const directory = mkdtempSync(join(tmpdir(), 'piv-cache-interop-'));
  const cacheDirectory = join(directory, 'cache');
  const file = (name: string) => join(directory, name);
  let releaseLock: (() => void) | undefined;
  let server: VpcdServer | undefined;

  /** One logon as a new process runs it: fresh stores, the persistent one over `cacheDirectory`. */
  async function logonInNewProcess() {
    const context = await PcscContext.establish();
    try {
      const connection = await context.connect(READER, { share: 'shared' });
      try {
        const session = await CardSession.open(plugin, connection, {
          cache: new DataCacheStore(),
          persistentCache: new PersistentCacheStore({ directory: cacheDirectory }),
        });
        try {
          const certificate = await session.readFile('mscp', certificateFileName('kxc', 0));
          const key = (await session.getContainerInfo(0)).keyExchangePublicKey as Uint8Array;
          const spki = publicKeyBlobToKeyObject(key).export({ type: 'spki', format: 'der' });
          return { certificate, spki: new Uint8Array(spki), mode: session.cacheMode };
        } finally {
          await session.close();
        }
      } finally {
        await connection.close();
      }
    } finally {
      await context.release();
    }
  }

  /** yubico-piv-tool generates a key in 9A (public key to `name`.pub.pem) and imports a certificate for it. */
  async function toolWritesSlot9a(name: string, generate: boolean): Promise<Uint8Array> {
    if (generate) {
      const generated = await pivTool('-a', 'generate', '-s', '9a', '-A', 'RSA2048', '-o', file(`${name}.pub.pem`));
      expect(generated.output).toContain('Successfully generated a new private key');
    }
    await issueCertificateFor({
      publicKeyPath: file(`${generate ? name : 'first'}.pub.pem`),
      commonName: `yubico-piv-tool ${name}`,
      outputPath: file(`${name}.cert.pem`),
      workDirectory: directory,
      caKey: 'p-256',
    });
    const imported = await pivTool('-a', 'import-certificate', '-s', '9a', '-i', file(`${name}.cert.pem`));
    expect(imported.output).toContain('Successfully imported a new certificate');
    return derOfPem(readFileSync(file(`${name}.cert.pem`)));
  }

  beforeAll(async () => {
    releaseLock = await acquireVpcdPortLock(PORT);
    await waitForReaderState(false);
    server = serveVpcd(new PivSimulator({ serial: 24681357 }), { port: PORT });
    await server.connected;
    await waitForReaderState(true);
    await waitForPivCard(120);
  }, 400_000);

  afterAll(async () => {
    try {
      await server?.close();
    } finally {
      releaseLock?.();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('nothing PIV is saved across processes, and an imported certificate is what the next process reads', async () => {
    const first = await toolWritesSlot9a('first', true);
    const cold = await logonInNewProcess();
    expect(cold.certificate).toEqual(first);
    expect(cold.mode).toBe(CacheMode.NO_CACHE);
    const second = await toolWritesSlot9a('second', false);
    expect(second).not.toEqual(first);
    const after = await logonInNewProcess();
    expect(after.certificate).toEqual(second);
    expect(after.spki).toEqual(cold.spki);
    // No counter proves a PIV object fresh: no entry file was written.
    const entries = existsSync(cacheDirectory) ? readdirSync(cacheDirectory) : [];
    expect(entries.filter((name) => name.endsWith('.mdcache'))).toEqual([]);
  });

  it('a key generated by yubico-piv-tool is the key the next process reports', async () => {
    const before = await logonInNewProcess();
    const certificate = await toolWritesSlot9a('third', true);
    const after = await logonInNewProcess();
    expect(after.certificate).toEqual(certificate);
    expect(after.spki).not.toEqual(before.spki);
  });
});
