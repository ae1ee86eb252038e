/**
 * The key store's behaviour in process: tokens and events, several cards at once, removal in the middle of
 * an operation, the PIN cache policy (always-prompt, no silent retry), wrong PINs, usages and options refused
 * before any APDU, certificates imported and listed, waiting for a token.
 */
import { createHash, verify, X509Certificate } from 'node:crypto';
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { CardSession, createSelfSignedCertificate } from '@minidriver/core';
import { ApduRecorder, SimTransport } from '@minidriver/sim';
import { ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { KeyStore, openToken, type PinRequest, type Token } from '../src/index.js';
import { ADMIN_SECRET, provision, testLoader, USER_PIN } from './support.js';

const DATA = new TextEncoder().encode('data to sign');

async function failure(operation: Promise<unknown> | (() => Promise<unknown>)): Promise<ScardError> {
  const promise = typeof operation === 'function' ? operation() : operation;
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!ScardError.isInstance(error)) throw new Error(`expected a ScardError, got ${String(error)}`);
  return error;
}

/** A store over a PIV and an OpenPGP simulator given as transports (so the test can inject faults). */
async function twoCardStore() {
  const recorder = new ApduRecorder();
  const piv = new SimTransport(new PivSimulator({ seed: 'behaviour' }), { readerName: 'Reader A', recorder });
  const openpgp = new SimTransport(new OpenPgpSimulator(), { readerName: 'Reader B' });
  const added: Token[] = [];
  const removed: Token[] = [];
  const store = await KeyStore.open({ transports: [piv, openpgp], loader: testLoader() });
  store.on('token-added', (token) => added.push(token));
  store.on('token-removed', (token) => removed.push(token));
  const [pivToken, openpgpToken] = store.tokens as [Token, Token];
  await provision(pivToken, [
    { container: 0, algorithm: 'rsa2048' },
    { container: 1, algorithm: 'p256', pin: 'signature' },
    { container: 2, algorithm: 'p256' },
  ]);
  await provision(openpgpToken, [{ container: 2, algorithm: 'p256' }]);
  return { store, piv, openpgp, recorder, added, removed, pivToken, openpgpToken };
}

describe('KeyStore tokens', () => {
  it('lists one token per card with label, serial, plugin, read-only mode and PINs', async () => {
    const { store, pivToken, openpgpToken } = await twoCardStore();
    expect(store.tokens.map((token) => token.readerName)).toEqual(['Reader A', 'Reader B']);
    expect(pivToken.plugin).toMatchObject({ packageName: '@minidriver/card-piv', name: 'PIV', method: 'atr' });
    expect(openpgpToken.plugin).toMatchObject({ packageName: '@minidriver/card-openpgp', name: 'OpenPGP' });
    expect(pivToken.label).toBe('YubiKey 5');
    expect(openpgpToken.serial).toMatch(/^[0-9a-f]+$|^\S+$/);
    expect(pivToken.serial.length).toBeGreaterThan(0);
    expect(pivToken.readOnly).toBe(false);
    const pins = await pivToken.pins();
    expect(pins.map((pin) => `${pin.id}:${pin.role}:${pin.type}:${pin.cachePolicy.type}`)).toEqual([
      '1:user:alphanumeric:normal',
      '2:admin:challenge-response:normal',
      '3:unblock:alphanumeric:none',
      '4:signature:alphanumeric:always-prompt',
    ]);
    expect(pins.find((pin) => pin.role === 'user')?.retriesLeft).toBe(3);
    const openpgpPins = await openpgpToken.pins();
    expect(openpgpPins.find((pin) => pin.role === 'admin')).toMatchObject({ type: 'alphanumeric', retriesLeft: 3 });
    await store.close();
  });

  it('waitForToken answers the first token present, times out on an empty store, and fails once closed', async () => {
    const { store, pivToken } = await twoCardStore();
    expect(await store.waitForToken()).toBe(pivToken);
    expect((await store.waitForToken({ reader: 'Reader B' })).readerName).toBe('Reader B');
    const empty = await KeyStore.open({ transports: [], loader: testLoader() });
    expect((await failure(empty.waitForToken({ timeoutMs: 20 }))).name).toBe('SCARD_E_TIMEOUT');
    const pending = empty.waitForToken();
    await empty.close();
    expect((await failure(pending)).name).toBe('SCARD_E_CANCELLED');
    await store.close();
  });

  it('a card removed in the middle of a signature: typed error, token-removed, the other token keeps signing', async () => {
    const { store, piv, added, removed, pivToken, openpgpToken } = await twoCardStore();
    await pivToken.login('user', USER_PIN);
    const [rsa] = await pivToken.keys();
    if (!rsa) throw new Error('no key');
    // The card leaves after it received the signature command, before the answer reaches the host.
    piv.faults.setPlan({ removeAfterApdu: 1 });
    const error = await failure(rsa.sign(DATA));
    expect(error.name).toBe('SCARD_W_REMOVED_CARD');
    expect(removed).toHaveLength(1);
    expect(removed[0]).toBe(pivToken);
    expect(pivToken.removed).toBe(true);
    expect(store.tokens).toHaveLength(1);
    expect(store.tokens[0]).toBe(openpgpToken);
    // Every later call on the removed token fails at once, with the same code.
    expect((await failure(rsa.sign(DATA))).name).toBe('SCARD_W_REMOVED_CARD');
    expect((await failure(pivToken.keys())).name).toBe('SCARD_W_REMOVED_CARD');
    // The other card is not disturbed.
    await openpgpToken.login('user', USER_PIN);
    const [auth] = await openpgpToken.keys();
    if (!auth) throw new Error('no OpenPGP key');
    expect(verify('sha256', DATA, auth.publicKey, await auth.sign(DATA))).toBe(true);
    // The card comes back: a new token, with its keys.
    await piv.reinsert();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(added).toHaveLength(1);
    const again = added[0] as Token;
    expect(again).not.toBe(pivToken);
    expect((await again.keys()).map((key) => key.id)).toContain(rsa.id);
    await store.close();
    expect(removed).toHaveLength(3);
    expect(removed.includes(again) && removed.includes(openpgpToken)).toBe(true);
  });

  it('a wrong PIN is SCARD_W_WRONG_CHV with the tries left, and the prompt is not asked again', async () => {
    const { store, pivToken } = await twoCardStore();
    const asked: PinRequest[] = [];
    const error = await failure(
      pivToken.login('user', (request) => {
        asked.push(request);
        return '654321';
      }),
    );
    expect(error.name).toBe('SCARD_W_WRONG_CHV');
    expect(error.retriesLeft).toBe(2);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ role: 'user', pinId: 1, type: 'alphanumeric', retriesLeft: 3, reason: 'login' });
    expect((await pivToken.pins()).find((pin) => pin.role === 'user')?.retriesLeft).toBe(2);
    // A wrong admin key: the challenge/response fails the same way.
    const admin = await failure(pivToken.login('admin', '0102030405060708010203040506070801020304050607ff'));
    expect(admin.name).toBe('SCARD_W_WRONG_CHV');
    await pivToken.login('user', USER_PIN);
    expect((await pivToken.pins()).find((pin) => pin.role === 'user')).toMatchObject({
      retriesLeft: 3,
      verified: true,
    });
    await store.close();
  });

  it('always-prompt PINs: a PIN value authorises one signature; a prompt is asked before every signature', async () => {
    const { store, pivToken } = await twoCardStore();
    const signingKey = (await pivToken.keys()).find((key) => key.container === 1);
    if (!signingKey) throw new Error('no 9C key');
    expect(signingKey.pinRole).toBe('signature');
    await pivToken.login('signature', USER_PIN);
    expect(verify('sha256', DATA, signingKey.publicKey, await signingKey.sign(DATA))).toBe(true);
    const second = await failure(signingKey.sign(DATA));
    expect(second.name).toBe('SCARD_W_CARD_NOT_AUTHENTICATED');
    expect(second.message).toContain('always-prompt');
    let asked = 0;
    await pivToken.login('signature', () => {
      asked++;
      return USER_PIN;
    });
    expect(asked).toBe(1);
    await signingKey.sign(DATA);
    await signingKey.sign(DATA);
    await signingKey.sign(DATA);
    expect(asked).toBe(3);
    await pivToken.logout();
    expect((await failure(signingKey.sign(DATA))).name).toBe('SCARD_W_CARD_NOT_AUTHENTICATED');
    await store.close();
  });

  it('a store prompt answers the PIN the card asks for, once per need; without one the card refusal is thrown', async () => {
    const requests: PinRequest[] = [];
    const store = await KeyStore.open({
      simulators: [new PivSimulator({ seed: 'prompted' })],
      loader: testLoader(),
      prompt: (request) => {
        requests.push(request);
        return request.role === 'admin' ? ADMIN_SECRET['PIV'] : USER_PIN;
      },
    });
    const [token] = store.tokens as [Token];
    // Key generation needs the admin: the card refuses, the store prompt gives the management key.
    const key = await token.generateKey(0, 'p256');
    expect(requests.map((request) => `${request.role}:${request.reason}`)).toEqual(['admin:operation']);
    expect(verify('sha256', DATA, key.publicKey, await key.sign(DATA))).toBe(true);
    expect(requests.map((request) => request.role)).toEqual(['admin', 'user']);
    await key.sign(DATA);
    expect(requests).toHaveLength(2);
    await store.close();

    // OpenPGP checks the key spec before the admin: the slot's other key kind is tried, then the admin asked.
    const openpgp = await KeyStore.open({
      simulators: [new OpenPgpSimulator()],
      loader: testLoader(),
      prompt: (request) => (request.role === 'admin' ? ADMIN_SECRET['OpenPGP'] : USER_PIN),
    });
    const signatureKey = await (openpgp.tokens[0] as Token).generateKey(0, 'rsa2048');
    expect(signatureKey.usages).toEqual(['sign']);
    expect(verify('sha256', DATA, signatureKey.publicKey, await signatureKey.sign(DATA))).toBe(true);
    await openpgp.close();

    const unprompted = await KeyStore.open({
      simulators: [new PivSimulator({ seed: 'prompted' })],
      loader: testLoader(),
    });
    const [bare] = unprompted.tokens as [Token];
    expect((await failure(bare.generateKey(0, 'p256'))).name).toBe('SCARD_W_SECURITY_VIOLATION');
    await unprompted.close();
  });

  it('refuses a forbidden usage, unknown algorithms and unknown options before any APDU', async () => {
    const { store, recorder, pivToken } = await twoCardStore();
    const keys = await pivToken.keys();
    const ecdsa = keys.find((key) => key.container === 1);
    const ecdh = keys.find((key) => key.container === 2);
    const rsa = keys.find((key) => key.container === 0);
    if (!ecdsa || !ecdh || !rsa) throw new Error('keys missing');
    expect(ecdh.usages).toEqual(['derive']);
    const before = recorder.totals().apdus;
    const refusals = [
      await failure(ecdsa.decrypt(new Uint8Array(256))),
      await failure(ecdh.sign(DATA)),
      await failure(rsa.deriveSharedSecret(ecdsa.publicKey)),
      await failure(rsa.sign(DATA, { hash: 'md5' as never })),
      await failure(rsa.sign(DATA, { hash: 'sha256', colour: 'blue' } as never)),
      await failure(rsa.sign(DATA, { padding: 'raw' as never })),
      await failure(rsa.sign(DATA, { saltLength: 20 })),
      await failure(ecdsa.sign(DATA, { padding: 'pss' })),
      await failure(ecdsa.sign(DATA, { format: 'asn1' as never })),
      await failure(rsa.signDigest(new Uint8Array(31), { hash: 'sha256' })),
      await failure(rsa.decrypt(new Uint8Array(255), { padding: 'pkcs1' })),
      await failure(rsa.decrypt(new Uint8Array(256), { padding: 'pkcs1', hash: 'sha256' })),
      await failure(ecdh.deriveSharedSecret(rsa.publicKey)),
      await failure(pivToken.generateKey(5, 'rsa999' as never)),
      await failure(pivToken.generateKey(5, { type: 'ec', curve: 'P-192' as never, bits: 192 })),
      await failure(pivToken.generateKey(5, 'p256', { usage: 'wrap' as never })),
      await failure(pivToken.generateKey(256, 'p256')),
      await failure(pivToken.login('nobody', '1234')),
      await failure(pivToken.keys({ fresh: true } as never)),
      await failure(store.waitForToken({ readerName: 'x' } as never)),
      await failure(KeyStore.open({ simulator: [] } as never)),
    ];
    for (const error of refusals) expect(error.name, error.message).toBe('SCARD_E_INVALID_PARAMETER');
    expect(refusals[0]?.message).toContain('cannot decrypt');
    expect(recorder.totals().apdus).toBe(before);
    await store.close();
  });

  it('imports a certificate signed by the card key and lists it with the key', async () => {
    const { store, pivToken } = await twoCardStore();
    await pivToken.login('user', USER_PIN);
    const key = (await pivToken.keys()).find((candidate) => candidate.container === 0);
    if (!key) throw new Error('no key');
    expect(key.certificate).toBeUndefined();
    const der = await createSelfSignedCertificate({
      commonName: 'keystore test',
      publicKey: key.publicKey,
      sign: (tbs) => key.sign(tbs, { hash: 'sha256' }),
    });
    const stored = await pivToken.importCertificate(0, der);
    expect(stored.certificate?.subject).toBe('CN=keystore test');
    expect(stored.certificate?.verify(key.publicKey)).toBe(true);
    const listed = (await pivToken.keys({ refresh: true })).find((candidate) => candidate.id === key.id);
    expect(listed?.certificate?.fingerprint256).toBe(new X509Certificate(der).fingerprint256);
    // A certificate of another key is refused.
    const other = (await pivToken.keys()).find((candidate) => candidate.container === 1);
    expect((await failure(pivToken.importCertificate(1, der))).name).toBe('SCARD_E_INVALID_PARAMETER');
    expect(other?.certificate).toBeUndefined();
    expect(key.id).toBe(
      createHash('sha1')
        .update(key.publicKey.export({ type: 'pkcs1', format: 'der' }))
        .digest('hex'),
    );
    await store.close();
  });

  it('openToken: a token over a CardSession the caller opened and keeps', async () => {
    const transport = new SimTransport(new PivSimulator({ seed: 'open-token' }));
    const loader = testLoader();
    const resolution = await loader.choosePlugin(transport);
    const session = await CardSession.open(await loader.loadPlugin(resolution), transport);
    const token = await openToken(session, {
      resolution,
      readerName: 'my reader',
      prompt: (request) => (request.role === 'admin' ? ADMIN_SECRET['PIV'] : USER_PIN),
    });
    expect(token.plugin).toMatchObject({ packageName: '@minidriver/card-piv', name: 'PIV' });
    expect(token.readerName).toBe('my reader');
    const key = await token.generateKey(0, 'rsa2048');
    expect(key.certificateFile).toBe('mscp/kxc00');
    expect(verify('sha256', DATA, key.publicKey, await key.sign(DATA))).toBe(true);
    expect((await failure(openToken(session, { reader: 'x' } as never))).name).toBe('SCARD_E_INVALID_PARAMETER');
    expect(session.closed).toBe(false);
    await session.close();
    await transport.close();
  });
});
