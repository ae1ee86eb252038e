/**
 * The PIV plugin (NO_CACHE, its default) under CardSession.transaction on the simulator: what a logon
 * reads is reused inside one transaction and never after it, another program's write waits for the
 * transaction and is seen by the next one, and a card that loses power inside it is read again.
 */
import { X509Certificate } from 'node:crypto';
import { CardSession, withTransaction } from '@minidriver/core';
import { ApduRecorder, recordingTransport, SimTransport } from '@minidriver/sim';
import { ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MANAGEMENT_KEY } from '../sim/index.js';
import { createPivPlugin } from './index.js';
import { PivApplication } from './piv-application.js';
import { provisionedCard } from './testing/provisioned-card.js';
import { makeTestCertificate } from './testing/test-certificate.js';

/** What another program does: replaces the certificate of slot 9A through its own connection. */
async function foreignCertificateWrite(transport: SimTransport, der: Uint8Array): Promise<void> {
  await withTransaction(transport, async () => {
    const app = new PivApplication(transport);
    await app.select();
    await app.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY);
    await app.putCertificate(0x9a, der);
  });
}

async function settle(): Promise<void> {
  for (let round = 0; round < 5; round++) await new Promise((resolve) => setImmediate(resolve));
}

describe('PIV under CardSession.transaction (NO_CACHE)', () => {
  it('another program waits for the transaction; its write is seen by the next one, never hidden by a reuse', async () => {
    const card = await provisionedCard();
    const recorder = new ApduRecorder();
    const session = await CardSession.open(createPivPlugin(), recordingTransport(new SimTransport(card), recorder));
    let written = false;
    let foreign: Promise<void> | undefined;
    let replacement: Uint8Array = new Uint8Array(0);
    const [before, again] = await session.transaction(async () => {
      const first = await session.readFile('mscp', 'kxc00');
      // Another certificate for the same key (the plugin shows a certificate only with its key).
      replacement = await makeTestCertificate(new X509Certificate(first).publicKey, 'written by another tool');
      foreign = foreignCertificateWrite(new SimTransport(card), replacement).then(() => {
        written = true;
      });
      await settle();
      expect(written).toBe(false);
      recorder.begin('reused');
      const second = await session.readFile('mscp', 'kxc00');
      recorder.end();
      return [first, second];
    });
    expect(recorder.statsOf('reused').apdus).toBe(0);
    expect(again).toEqual(before);
    await foreign;
    expect(written).toBe(true);
    expect(await session.transaction(() => session.readFile('mscp', 'kxc00'))).toEqual(replacement);
    await session.close();
  });

  it('a card that loses power inside it is read again (the reused data is dropped)', async () => {
    const card = await provisionedCard();
    const recorder = new ApduRecorder();
    const transport = new SimTransport(card, { recorder });
    const session = await CardSession.open(createPivPlugin(), transport);
    await session.transaction(async () => {
      await session.readFile('mscp', 'kxc00');
      recorder.begin('reused');
      await session.readFile('mscp', 'kxc00');
      recorder.end();
      // The next APDU reaches the card, which then loses power.
      transport.faults.setPlan({ unpowerAfterApdu: 1 });
      await expect(session.readFile('mscp', 'ksc01')).rejects.toSatisfy((error: unknown) =>
        ScardError.hasCode(error, 'SCARD_W_RESET_CARD'),
      );
      recorder.begin('after reset');
      expect((await session.readFile('mscp', 'kxc00')).length).toBeGreaterThan(0);
      recorder.end();
    });
    expect(recorder.statsOf('reused').apdus).toBe(0);
    // The certificate is read from the card again.
    expect(recorder.statsOf('after reset').apdus).toBeGreaterThan(0);
    await session.close();
  });
});
