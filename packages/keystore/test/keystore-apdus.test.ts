/**
 * What opening a token and listing its keys costs in a new process, in APDUs, on the simulators: the key
 * listing (cmapfile, the certificate files, each container's public key and PIN) runs in one card
 * transaction, where each card object is read once whatever the cache mode. The counts are exact for these
 * simulators: a change in them is a change in behaviour and must be looked at.
 */
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { createSelfSignedCertificate } from '@minidriver/core';
import { ApduRecorder, SimTransport, type SimulatedCard } from '@minidriver/sim';
import { describe, expect, it } from 'vitest';
import { KeyStore, type Token } from '../src/index.js';
import { ADMIN_SECRET, type KeyPlan, provision, testLoader, USER_PIN } from './support.js';

/** Generates the planned keys and stores a self-signed certificate with each. */
async function provisionWithCertificates(card: SimulatedCard, plan: KeyPlan): Promise<void> {
  const store = await KeyStore.open({ transports: [new SimTransport(card)], loader: testLoader() });
  try {
    const token = store.tokens[0] as Token;
    await provision(token, plan);
    await token.login('user', USER_PIN);
    for (const key of await token.keys()) {
      if (!key.usages.includes('sign')) continue;
      const der = await createSelfSignedCertificate({
        commonName: `container ${key.container}`,
        publicKey: key.publicKey,
        sign: (tbs) => key.sign(tbs, { hash: 'sha256' }),
      });
      await token.login('admin', ADMIN_SECRET[token.plugin.name] as string);
      await token.importCertificate(key.container, der);
    }
  } finally {
    await store.close();
  }
}

/** A new process's store on `card`: opening its token, then its keys. */
async function openAndList(card: SimulatedCard): Promise<{ open: number; keys: number; certificates: number }> {
  const recorder = new ApduRecorder();
  recorder.begin('open');
  const store = await KeyStore.open({ transports: [new SimTransport(card, { recorder })], loader: testLoader() });
  recorder.end();
  try {
    recorder.begin('keys');
    const keys = await (store.tokens[0] as Token).keys();
    recorder.end();
    return {
      open: recorder.statsOf('open').apdus,
      keys: recorder.statsOf('keys').apdus,
      certificates: keys.filter((key) => key.certificate !== undefined).length,
    };
  } finally {
    await store.close();
  }
}

describe('token open and key listing in a new process (APDUs)', () => {
  // Open: SELECT and GET VERSION (CardAcquireContext), CHUID (the serial). Before the listing ran in one
  // transaction, PIV (NO_CACHE) read the slots' metadata, CHUID and certificates again for every call: 22
  // APDUs. Now each object once: GET METADATA x4, CHUID, Key History, the 3 certificate objects.
  it('PIV (NO_CACHE), 3 keys, the 2 signing ones with certificates', async () => {
    const card = new PivSimulator({ seed: 'keystore-apdus' });
    await provisionWithCertificates(card, [
      { container: 0, algorithm: 'rsa2048' },
      { container: 1, algorithm: 'p256' },
      { container: 2, algorithm: 'p256' },
    ]);
    const counts = await openAndList(card);
    console.log(`keystore PIV: open ${counts.open}, keys ${counts.keys}`);
    expect(counts).toEqual({ open: 3, keys: 9, certificates: 2 });
  });

  // Before, every call checked cardcf again (GET DATA 6E + 0102, its own transaction) and the certificate
  // listing's reads were dropped at the end of each call: open 18, keys 16. Open is now CardAcquireContext
  // and the token's properties in one transaction (SELECT, 6E, 0102, and C4 for the PIN facts); the keys
  // one freshness check, then the listing (which reads the certificate) and the containers.
  it('OpenPGP (GLOBAL), the authentication key with its certificate', async () => {
    const card = new OpenPgpSimulator();
    await provisionWithCertificates(card, [{ container: 2, algorithm: 'p256' }]);
    const counts = await openAndList(card);
    console.log(`keystore OpenPGP: open ${counts.open}, keys ${counts.keys}`);
    expect(counts).toEqual({ open: 4, keys: 6, certificates: 1 });
  });
});
