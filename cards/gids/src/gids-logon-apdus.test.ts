/**
 * APDU cost of a logon (acquire context, read cardcf, cmapfile, every certificate, container info) through
 * CardSession in the GLOBAL cache mode the card earns: cold (a fresh cache), then warm (the same session
 * again: every call costs only the cardcf freshness check). The counts are exact for this simulator
 * (README.md "APDU counts"): a change in them is a change in behaviour and must be looked at.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressCertificate } from '@minidriver/card-kit';
import { baseCspLogon } from '@minidriver/conformance';
import { CardSession, DataCacheStore, PersistentCacheStore, withTransaction } from '@minidriver/core';
import { ApduRecorder, recordingTransport, SimTransport } from '@minidriver/sim';
import { CacheMode, interceptTransmit, KeySpec, toHex } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PIN, GidsSimulator } from '../sim/index.js';
import { plugin } from './index.js';

/** A card with an RSA 2048 and a P-256 container, each with a certificate file. */
async function provisionedCard(): Promise<GidsSimulator> {
  const card = new GidsSimulator();
  const session = await CardSession.open(plugin, new SimTransport(card));
  await session.authenticatePin('user', DEFAULT_PIN);
  await session.createContainer(0, 1, KeySpec.AT_KEYEXCHANGE, 2048);
  await session.createContainer(1, 1, KeySpec.AT_ECDSA_P256, 0);
  const fakeCertificate = (seed: number) => Uint8Array.from({ length: 900 }, (_, i) => (i * seed) & 0xff);
  await session.writeFile('mscp', 'kxc00', compressCertificate(fakeCertificate(7)));
  await session.writeFile('mscp', 'ksc01', compressCertificate(fakeCertificate(11)));
  await session.close();
  return card;
}

describe('GIDS logon APDU counts (2 containers with certificates: RSA-2048 kxc00, P-256 ksc01)', () => {
  it('GLOBAL: the cold logon reads the card, the warm one costs the freshness check of each call only', async () => {
    const card = await provisionedCard();
    const recorder = new ApduRecorder();
    const transport = recordingTransport(new SimTransport(card), recorder);
    const store = new DataCacheStore();
    recorder.begin('cold');
    const session = await CardSession.open(plugin, transport, { cache: store });
    expect(session.cacheMode).toBe(CacheMode.GLOBAL_CACHE);
    expect(await baseCspLogon(session)).toBe(2);
    recorder.end();
    recorder.begin('warm');
    await baseCspLogon(session);
    recorder.end();
    // The same logon held in one transaction (CardSession.transaction): cardcf is checked once, at its start.
    recorder.begin('one transaction');
    await session.transaction(() => baseCspLogon(session));
    recorder.end();
    await session.close();
    // A new session (a new CardAcquireContext) on the same GLOBAL store: the context costs SELECT, the master
    // file table, the FCP of cardcf's EF, cardid and cardcf; the logon itself only the freshness checks.
    recorder.begin('second');
    const second = await CardSession.open(plugin, transport, { cache: store });
    await baseCspLogon(second);
    recorder.end();
    await second.close();
    const counts = {
      cold: recorder.statsOf('cold').apdus,
      warm: recorder.statsOf('warm').apdus,
      secondSession: recorder.statsOf('second').apdus,
      oneTransaction: recorder.statsOf('one transaction').apdus,
    };
    console.log(
      `GIDS logon APDUs, GLOBAL: cold ${counts.cold}, warm ${counts.warm} (${counts.oneTransaction} in one transaction), new session ${counts.secondSession}`,
    );
    // Warm: cardcf, cmapfile, enumFiles, 2 certificates, 2 container infos = 7 calls, one GET DATA of cardcf each.
    // In one transaction: the one GET DATA of cardcf.
    expect(counts).toEqual({ cold: 25, warm: 7, secondSession: 12, oneTransaction: 1 });
  });

  it('a new process whose card stayed in the reader: SELECT and GET DATA cardcf, with and without a presence proof', async () => {
    const card = await provisionedCard();
    const directory = await mkdtemp(join(tmpdir(), 'gids-logon-'));
    try {
      const logonInNewProcess = async (presence: boolean) => {
        const commands: string[] = [];
        const transport = interceptTransmit(new SimTransport(card), async (command, send) => {
          commands.push(toHex(command.subarray(0, 4)));
          return send(command);
        });
        if (!presence) delete transport.presenceToken;
        await withTransaction(transport, async () => {
          const session = await CardSession.open(plugin, transport, {
            cache: new DataCacheStore(),
            persistentCache: new PersistentCacheStore({ directory }),
          });
          expect(await baseCspLogon(session)).toBe(2);
          await session.close();
        });
        return commands;
      };
      const cold = await logonInNewProcess(true);
      expect(cold.length).toBeGreaterThan(10);
      // The presence proof names the card: no master file table, no cardcf FCP, no cardid (docs/cache.md).
      expect(await logonInNewProcess(true)).toEqual(['00a40400', '00cba010']);
      // Without one (vpcd): the card is not known in CardAcquireContext: the table, the FCP of cardcf's
      // file and cardid are read; the logon itself is answered from the store.
      expect(await logonInNewProcess(false)).toEqual(['00a40400', '00cba000', '00a40004', '00cba012', '00cba010']);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
