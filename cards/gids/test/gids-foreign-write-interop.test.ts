import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressCertificate, decodeCertificateFile } from '@minidriver/card-kit';
import { certificateForKeyBlob, newProcessStores } from '@minidriver/conformance/interop';
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { describeWithTools, serveVpcdForSuite } from '@minidriver/sim/testing';
import { KeySpec } from '@minidriver/spec';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DEFAULT_PIN, GidsSimulator } from '../sim/index.js';
import { plugin } from '../src/index.js';
import { GIDS_INTEROP_TOOLS, PORT, pkcs11SlotIndex, pkcs11Tool, withPluginSession } from './interop-support.js';

const PIN = new TextDecoder().decode(DEFAULT_PIN);

describeWithTools(GIDS_INTEROP_TOOLS, 'GIDS: the persistent cache after a foreign write by OpenSC', () => {
  vi.setConfig({ testTimeout: 180_000 });
  const card = new GidsSimulator();
  const directory = mkdtempSync(join(tmpdir(), 'gids-foreign-write-'));
  const cacheDirectory = join(directory, 'cache');
  let firstCertificate: Uint8Array;
  let publicKey: Uint8Array;

  /** One logon as a new process would run it: fresh stores, the persistent one over `cacheDirectory`. */
  function logonInNewProcess(): Promise<{ certificate: Uint8Array; hits: number; misses: number }> {
    return withPluginSession(
      plugin,
      async (session) => {
        const certificate = await session.readFile('mscp', 'kxc00');
        const { cacheHits, cacheMisses } = session.stats();
        return { certificate, hits: cacheHits, misses: cacheMisses };
      },
      newProcessStores(cacheDirectory),
    );
  }

  beforeAll(async () => {
    const setup = await CardSession.open(plugin, new SimTransport(card));
    await setup.authenticatePin('user', DEFAULT_PIN);
    await setup.createContainer(0, 1, KeySpec.AT_KEYEXCHANGE, 2048);
    publicKey = (await setup.getContainerInfo(0)).keyExchangePublicKey as Uint8Array;
    firstCertificate = compressCertificate(await certificateForKeyBlob(publicKey, 'first'));
    await setup.writeFile('mscp', 'kxc00', firstCertificate);
    await setup.close();
  });
  serveVpcdForSuite(card, { port: PORT });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

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
    const replacement = await certificateForKeyBlob(publicKey, 'written by OpenSC');
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
