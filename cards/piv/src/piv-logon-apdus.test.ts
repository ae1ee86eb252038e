/**
 * APDU cost of a logon's steady state (acquire context, read cardcf, cmapfile, every certificate,
 * container info) through CardSession, cold and warm, in both cache modes. The counts are exact for this
 * simulator (README.md "APDU counts"): a change in them is a change in behaviour and must be looked at.
 */

import { baseCspLogon } from '@minidriver/conformance';
import { CardSession } from '@minidriver/core';
import { ApduRecorder, recordingTransport, SimTransport } from '@minidriver/sim';
import { CacheMode, type MinidriverPlugin } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { createPivPlugin } from './index.js';
import { provisionedCard } from './testing/provisioned-card.js';

async function measure(plugin: MinidriverPlugin): Promise<{ cold: number; warm: number }> {
  const card = await provisionedCard();
  const recorder = new ApduRecorder();
  const transport = recordingTransport(new SimTransport(card), recorder);
  recorder.begin('cold');
  const session = await CardSession.open(plugin, transport);
  expect(await baseCspLogon(session)).toBe(3);
  recorder.end();
  recorder.begin('warm');
  await baseCspLogon(session);
  recorder.end();
  await session.close();
  return { cold: recorder.statsOf('cold').apdus, warm: recorder.statsOf('warm').apdus };
}

describe('logon APDU counts (3 certificates: RSA-2048 9A, P-256 9C and 9D)', () => {
  it('NO_CACHE (default): every call asks the card', async () => {
    const counts = await measure(createPivPlugin({ cacheMode: CacheMode.NO_CACHE }));
    console.log(`PIV logon APDUs, NO_CACHE: cold ${counts.cold}, warm ${counts.warm}`);
    expect(counts).toEqual({ cold: 22, warm: 20 });
  });

  // Held in one transaction, nobody else can change the card between the calls, so what one call read is
  // reused by the next even in NO_CACHE mode: cmapfile, the listing, each certificate and each container
  // share the slots' metadata, CHUID and certificates. 11 = SELECT + GET VERSION at acquire, then GET
  // METADATA x4, CHUID, Key History, 3 certificates: the SESSION_ONLY cold count, and nothing kept after.
  it('NO_CACHE, the logon in one transaction (CardSession.transaction): each PIV object is read once', async () => {
    const card = await provisionedCard();
    const recorder = new ApduRecorder();
    const transport = recordingTransport(new SimTransport(card), recorder);
    recorder.begin('cold');
    const session = await CardSession.open(createPivPlugin(), transport);
    expect(await session.transaction(() => baseCspLogon(session))).toBe(3);
    recorder.end();
    recorder.begin('warm');
    await session.transaction(() => baseCspLogon(session));
    recorder.end();
    await session.close();
    const counts = { cold: recorder.statsOf('cold').apdus, warm: recorder.statsOf('warm').apdus };
    console.log(`PIV logon APDUs, NO_CACHE in one transaction: cold ${counts.cold}, warm ${counts.warm}`);
    expect(counts).toEqual({ cold: 11, warm: 9 });
  });

  it('listing the certificates (what pkcs15-tool --list-certificates does), NO_CACHE', async () => {
    const card = await provisionedCard();
    const recorder = new ApduRecorder();
    const session = await CardSession.open(createPivPlugin(), recordingTransport(new SimTransport(card), recorder));
    for (const name of (await session.enumFiles('mscp')).filter((file) => file !== 'cmapfile')) {
      await session.readFile('mscp', name);
    }
    await session.close();
    console.log(`PIV list certificates, NO_CACHE: ${recorder.totals().apdus}`);
    expect(recorder.totals().apdus).toBe(13);
  });

  it('SESSION_ONLY: the warm logon is answered from the session cache', async () => {
    const counts = await measure(createPivPlugin({ cacheMode: CacheMode.SESSION_ONLY }));
    console.log(`PIV logon APDUs, SESSION_ONLY: cold ${counts.cold}, warm ${counts.warm}`);
    expect(counts).toEqual({ cold: 11, warm: 0 });
  });
});
