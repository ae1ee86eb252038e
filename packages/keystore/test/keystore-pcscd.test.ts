/**
 * The key store through the real PC/SC stack: a PIV simulator in "Virtual PCD 00 00" and an OpenPGP
 * simulator in "Virtual PCD 00 01", served into pcscd by vpcd, watched by KeyStore.open({ readers }).
 * Both tokens listed, events observed, one card removed (in the middle of a signature) while the other keeps
 * signing, the card put back; and the whole algorithm x padding x format matrix verified by node:crypto.
 * Skipped when pcscd is not running (a failure when CI=true).
 */
import { verify } from 'node:crypto';
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { acquireVpcdPortLock, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { describeWithTools } from '@minidriver/sim/testing';
import { ScardError } from '@minidriver/spec';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeyStore, type Token } from '../src/index.js';
import { exerciseKey, OPENPGP_ABILITIES, PIV_ABILITIES } from './crypto-matrix.js';
import { OPENPGP_PLANS, PIV_PLAN, provision, testLoader, USER_PIN } from './support.js';
import { READER_00, READER_01, waitForReaderStates } from './vpcd-support.js';

const PIV_READER = READER_00;
const OPENPGP_READER = READER_01;
const DATA = new TextEncoder().encode('signed through pcscd');
const prompt = () => USER_PIN;

/** Resolves with the next `event` of `store` that `accept` takes (or rejects after `ms`). */
function nextEvent(
  store: KeyStore,
  event: 'token-added' | 'token-removed',
  accept: (token: Token) => boolean,
  ms = 30_000,
): Promise<Token> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    const listener = (token: Token) => {
      if (!accept(token)) return;
      clearTimeout(timer);
      store.off(event, listener);
      resolve(token);
    };
    store.on(event, listener);
  });
}

describeWithTools(['pcscd'], 'KeyStore through pcscd + vpcd, two readers', () => {
  const releases: (() => void)[] = [];
  const piv = new PivSimulator({ seed: 'keystore-pcscd', version: [5, 7, 0] });
  const openpgp = new OpenPgpSimulator({ serial: 0x4b455953 });
  let pivServer: VpcdServer | undefined;
  let openpgpServer: VpcdServer | undefined;

  beforeAll(async () => {
    // Both cards get their keys in process first: the same simulator objects are then served.
    const local = await KeyStore.open({ simulators: [piv, openpgp], loader: testLoader() });
    const byPlugin = (name: string) => local.tokens.find((token) => token.plugin.name === name) as Token;
    await provision(byPlugin('PIV'), PIV_PLAN);
    await provision(byPlugin('OpenPGP'), OPENPGP_PLANS[0] ?? []);
    await local.close();
    releases.push(await acquireVpcdPortLock(35963));
    releases.push(await acquireVpcdPortLock(35964));
    // pcscd must see each reader empty before our card comes (the last lock holder's card may linger), then
    // powered with ours.
    await waitForReaderStates({ [PIV_READER]: false, [OPENPGP_READER]: false });
    pivServer = serveVpcd(piv, { port: 35963 });
    openpgpServer = serveVpcd(openpgp, { port: 35964 });
    await Promise.all([pivServer.connected, openpgpServer.connected]);
    await waitForReaderStates({ [PIV_READER]: true, [OPENPGP_READER]: true });
  }, 600_000);

  afterAll(async () => {
    await pivServer?.close();
    await openpgpServer?.close();
    // The next lock holder's card must not arrive before pcscd has seen ours leave.
    if (pivServer || openpgpServer) await waitForReaderStates({ [PIV_READER]: false, [OPENPGP_READER]: false });
    for (const release of releases) release();
  });

  it('lists both tokens, observes removal in the middle of a signature while the other card signs, and the card coming back', async () => {
    const added: Token[] = [];
    const store = await KeyStore.open({ readers: [PIV_READER, OPENPGP_READER], loader: testLoader(), prompt });
    store.on('token-added', (token) => added.push(token));
    try {
      // open() resolves with the cards present already opened.
      expect(store.tokens).toHaveLength(2);
      const pivToken = await store.waitForToken({ reader: PIV_READER, timeoutMs: 30_000 });
      const openpgpToken = await store.waitForToken({ reader: OPENPGP_READER, timeoutMs: 30_000 });
      expect(store.tokens.map((token) => `${token.readerName}: ${token.plugin.name}`)).toEqual([
        `${PIV_READER}: PIV`,
        `${OPENPGP_READER}: OpenPGP`,
      ]);
      expect(openpgpToken.serial).toContain('4b455953');
      const pivKey = (await pivToken.keys()).find((key) => key.container === 0);
      const openpgpKey = (await openpgpToken.keys()).find((key) => key.container === 2);
      if (!pivKey || !openpgpKey) throw new Error('keys missing');
      expect(verify('sha256', DATA, pivKey.publicKey, await pivKey.sign(DATA))).toBe(true);

      // The PIV card leaves after it received the next command, before its answer: a removal mid-signature.
      const removedEvent = nextEvent(store, 'token-removed', (token) => token === pivToken);
      pivServer?.faults.setPlan({ removeAfterApdu: 1 });
      const failed = await pivKey.sign(DATA).catch((error: unknown) => error);
      expect(
        ScardError.isInstance(failed) &&
          ['SCARD_W_REMOVED_CARD', 'SCARD_E_NO_SMARTCARD', 'SCARD_E_READER_UNAVAILABLE'].includes(failed.name),
        String(failed),
      ).toBe(true);
      expect(await removedEvent).toBe(pivToken);
      expect(pivToken.removed).toBe(true);
      expect(store.tokens).toHaveLength(1);
      expect(store.tokens[0]).toBe(openpgpToken);
      // The other card keeps signing, with its PIN cache intact.
      for (let round = 0; round < 3; round++) {
        expect(verify('sha256', DATA, openpgpKey.publicKey, await openpgpKey.sign(DATA))).toBe(true);
      }
      // The PIV card comes back (vpcd reconnects after the fault): a new token with the same keys.
      pivServer?.faults.clear();
      if (!pivServer?.isConnected()) await pivServer?.insert();
      const again = await store.waitForToken({ reader: PIV_READER, timeoutMs: 30_000 });
      expect(again).not.toBe(pivToken);
      expect(added).toContain(again);
      const sameKey = (await again.keys()).find((key) => key.id === pivKey.id);
      if (!sameKey) throw new Error('the key is gone');
      expect(verify('sha256', DATA, sameKey.publicKey, await sameKey.sign(DATA))).toBe(true);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('every algorithm x padding x format through pcscd, verified by node:crypto (PIV and OpenPGP)', async () => {
    const store = await KeyStore.open({ readers: [PIV_READER, OPENPGP_READER], loader: testLoader(), prompt });
    try {
      const pivToken = await store.waitForToken({ reader: PIV_READER, timeoutMs: 30_000 });
      const openpgpToken = await store.waitForToken({ reader: OPENPGP_READER, timeoutMs: 30_000 });
      const done: string[] = [];
      for (const key of await pivToken.keys()) done.push(...(await exerciseKey(key, PIV_ABILITIES)));
      for (const [round, plan] of OPENPGP_PLANS.entries()) {
        if (round > 0) await provision(openpgpToken, plan);
        const keys = (await openpgpToken.keys()).filter((key) =>
          plan.some((entry) => entry.container === key.container),
        );
        for (const key of keys) done.push(...(await exerciseKey(key, OPENPGP_ABILITIES)));
      }
      expect(done).toContain('rsa4096#6 sign sha512 pss');
      expect(done).toContain('ec256#7 derive');
      expect(done).toContain('rsa4096#2 sign sha384 pkcs1');
      expect(done).toContain('ec521#1 derive');
      expect(done).toContain('ec521#0 sign sha256 ieee-p1363');
    } finally {
      await store.close();
    }
  }, 600_000);
});
