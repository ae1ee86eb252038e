/**
 * The persistent data cache against a foreign writer, through pcscd: a logon with the persistent store
 * (docs/cache.md) saves the card's certificate; a new "process" (fresh process and persistent stores over
 * the same directory) is answered from it; then OpenSC (pkcs11-tool, through its GIDS driver, which rewrites
 * cardcf after every change) replaces the certificate, and the next logon returns the new one.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressCertificate, decodeCertificateFile, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { CardSession, createCertificate, DataCacheStore, PersistentCacheStore } from '@minidriver/core';
import { PcscContext } from '@minidriver/pcsc';
import { acquireVpcdPortLock, SimTransport, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { describeWithTools } from '@minidriver/sim/testing';
import { KeySpec } from '@minidriver/spec';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DEFAULT_PIN, GidsSimulator } from '../sim/index.js';
import { plugin } from '../src/index.js';
import { GIDS_INTEROP_TOOLS, PORT, pkcs11SlotIndex, pkcs11Tool, READER } from './interop-support.js';

const PIN = new TextDecoder().decode(DEFAULT_PIN);

/** A certificate for `blob`'s key, issued by a throwaway CA. */
async function certificateFor(blob: Uint8Array, commonName: string): Promise<Uint8Array> {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return createCertificate({
    publicKey: publicKeyBlobToKeyObject(blob),
    commonName,
    issuer: { commonName: 'foreign-write test CA', publicKey: ca.publicKey },
    sign: (tbs) => new Uint8Array(sign('sha256', tbs, ca.privateKey)),
  });
}

describeWithTools(GIDS_INTEROP_TOOLS, 'GIDS: the persistent cache after a foreign write by OpenSC', () => {
  vi.setConfig({ testTimeout: 180_000 });
  const card = new GidsSimulator();
  const directory = mkdtempSync(join(tmpdir(), 'gids-foreign-write-'));
  const cacheDirectory = join(directory, 'cache');
  let server: VpcdServer;
  let releaseLock: (() => void) | undefined;
  let firstCertificate: Uint8Array;
  let publicKey: Uint8Array;

  /** One logon as a new process would run it: fresh stores, the persistent one over `cacheDirectory`. */
  async function logonInNewProcess(): Promise<{ certificate: Uint8Array; hits: number; misses: number }> {
    const context = await PcscContext.establish();
    try {
      const connection = await context.connect(READER, { share: 'shared' });
      try {
        const session = await CardSession.open(plugin, connection, {
          cache: new DataCacheStore(),
          persistentCache: new PersistentCacheStore({ directory: cacheDirectory }),
        });
        const certificate = await session.readFile('mscp', 'kxc00');
        const { cacheHits, cacheMisses } = session.stats();
        await session.close();
        return { certificate, hits: cacheHits, misses: cacheMisses };
      } finally {
        await connection.close();
      }
    } finally {
      await context.release();
    }
  }

  beforeAll(async () => {
    const setup = await CardSession.open(plugin, new SimTransport(card));
    await setup.authenticatePin('user', DEFAULT_PIN);
    await setup.createContainer(0, 1, KeySpec.AT_KEYEXCHANGE, 2048);
    publicKey = (await setup.getContainerInfo(0)).keyExchangePublicKey as Uint8Array;
    firstCertificate = compressCertificate(await certificateFor(publicKey, 'first'));
    await setup.writeFile('mscp', 'kxc00', firstCertificate);
    await setup.close();
    releaseLock = await acquireVpcdPortLock(PORT);
    server = serveVpcd(card, { port: PORT });
    await server.connected;
  }, 400_000);

  afterAll(async () => {
    try {
      await server?.close();
    } finally {
      releaseLock?.();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('a new process is answered from the store; after pkcs11-tool replaces the certificate, the next logon reads it', async () => {
    let first: Awaited<ReturnType<typeof logonInNewProcess>> | undefined;
    for (let attempt = 0; attempt < 40 && first === undefined; attempt++) {
      first = await logonInNewProcess().catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        return undefined;
      });
    }
    expect(first?.certificate).toEqual(firstCertificate);
    const warm = await logonInNewProcess();
    expect(warm).toMatchObject({ certificate: firstCertificate, hits: 1, misses: 0 });

    // OpenSC replaces the certificate of container 0 (PKCS #15 ID 00): delete, then write another one.
    const slot = await pkcs11SlotIndex();
    const deleted = await pkcs11Tool(slot, '--login', '--pin', PIN, '--delete-object', '--type', 'cert', '--id', '00');
    expect(deleted.code, deleted.output).toBe(0);
    const replacement = await certificateFor(publicKey, 'written by OpenSC');
    writeFileSync(join(directory, 'replacement.der'), replacement);
    const written = await pkcs11Tool(
      slot,
      ...['--login', '--pin', PIN, '--write-object', join(directory, 'replacement.der'), '--type', 'cert'],
      ...['--id', '00', '--label', 'replacement'],
    );
    expect(written.code, written.output).toBe(0);

    const after = await logonInNewProcess();
    expect(after.misses).toBe(1);
    expect(after.certificate).not.toEqual(firstCertificate);
    // The certificate OpenSC wrote (in the Base CSP's compressed form, compressed by OpenSC).
    expect(decodeCertificateFile(after.certificate)).toEqual(replacement);
  });
});
