/**
 * PIV management beyond the contract (PivManagement through CardSession.manage) against the PIV simulator:
 * reset, retry limits, management key algorithm and touch, attestation, key generation with PIN and touch
 * policies, and slot metadata.
 */
import { X509Certificate } from 'node:crypto';
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { PIN_CHANGE_FLAG_CHANGEPIN, ROLE_ADMIN, ROLE_USER, ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MANAGEMENT_KEY, PivSimulator } from '../sim/index.js';
import { encryptManagementChallenge, plugin } from './index.js';
import { CONTAINER_NAMES, containerOfSlotName, PivManagement } from './piv-management.js';

const PIN = new TextEncoder().encode('123456');

async function openCard(card = new PivSimulator({ seed: 'piv-management', serial: 7654321 })) {
  const session = await CardSession.open(plugin, new SimTransport(card));
  return { card, session };
}

async function authenticateAdmin(session: CardSession, algorithmId = 0x03, key = DEFAULT_MANAGEMENT_KEY) {
  const challenge = await session.getChallengeEx(ROLE_ADMIN);
  await session.authenticateEx(ROLE_ADMIN, 0, encryptManagementChallenge(algorithmId, key, challenge));
}

const manage = <T>(session: CardSession, work: (management: PivManagement) => Promise<T>) =>
  session.manage((access) => work(PivManagement.of(access)));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(ScardError.isInstance(error)).toBe(true);
    return (error as ScardError).name;
  }
  return 'success';
}

describe('PivManagement', () => {
  it('names the containers by slot: 9a 9c 9d 9e 82..95', () => {
    expect([...CONTAINER_NAMES.entries()].slice(0, 5)).toEqual([
      ['9a', 0],
      ['9c', 1],
      ['9d', 2],
      ['9e', 3],
      ['82', 4],
    ]);
    expect(containerOfSlotName('95')).toBe(23);
    expect(containerOfSlotName('9b')).toBeUndefined();
    expect(containerOfSlotName('zz')).toBeUndefined();
  });

  it('refuses a card that is not PIV', async () => {
    const { session } = await openCard();
    const error = await session
      .manage((access) => Promise.resolve(PivManagement.of({ ...access, pluginName: 'OpenPGP' })))
      .catch((failure) => failure);
    expect(error.name).toBe('SCARD_E_UNSUPPORTED_FEATURE');
  });

  it('sets the management key to AES-256 with touch, and the new key (only) authenticates', async () => {
    const { session } = await openCard();
    expect(await manage(session, (m) => m.managementKeyInfo())).toEqual({
      algorithm: '3des',
      touchRequired: false,
      isDefault: true,
    });
    expect(await codeOf(manage(session, (m) => m.setManagementKey('aes256', new Uint8Array(32).fill(7))))).toBe(
      'SCARD_W_SECURITY_VIOLATION',
    );
    await authenticateAdmin(session);
    const key = new Uint8Array(32).fill(7);
    expect(await codeOf(manage(session, (m) => m.setManagementKey('aes256', key.subarray(0, 24))))).toBe(
      'SCARD_E_INVALID_PARAMETER',
    );
    await manage(session, (m) => m.setManagementKey('aes256', key, { requireTouch: true }));
    expect(await manage(session, (m) => m.managementKeyInfo())).toEqual({
      algorithm: 'aes256',
      touchRequired: true,
      isDefault: false,
    });
    expect(await codeOf(authenticateAdmin(session))).toBe('SCARD_W_WRONG_CHV');
    await authenticateAdmin(session, 0x0c, key);
  });

  it('the contract changes the management key within its algorithm (changeAuthenticatorEx)', async () => {
    const { session } = await openCard();
    const next = new Uint8Array(24).fill(0x11);
    const challenge = await session.getChallengeEx(ROLE_ADMIN);
    await session.changeAuthenticatorEx(
      PIN_CHANGE_FLAG_CHANGEPIN,
      ROLE_ADMIN,
      encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, challenge),
      ROLE_ADMIN,
      next,
    );
    await authenticateAdmin(session, 0x03, next);
    expect(await manage(session, (m) => m.managementKeyInfo())).toMatchObject({ algorithm: '3des', isDefault: false });
  });

  it('sets the PIN and PUK retry limits (management key and PIN needed); PIN and PUK become the defaults', async () => {
    const { session } = await openCard();
    await authenticateAdmin(session);
    expect(await codeOf(manage(session, (m) => m.setPinRetries(5, 6)))).toBe('SCARD_W_SECURITY_VIOLATION');
    await authenticateAdmin(session);
    await session.authenticateEx(ROLE_USER, 0, PIN);
    expect(await codeOf(manage(session, (m) => m.setPinRetries(0, 6)))).toBe('SCARD_E_INVALID_PARAMETER');
    await manage(session, (m) => m.setPinRetries(5, 6));
    expect(await manage(session, (m) => m.retries('pin'))).toEqual({ total: 5, left: 5 });
    expect(await manage(session, (m) => m.retries('puk'))).toEqual({ total: 6, left: 6 });
  });

  it('generates with PIN and touch policies, reads them back, and attests the key (F9)', async () => {
    const { session } = await openCard();
    await authenticateAdmin(session);
    const publicKey = await manage(session, (m) =>
      m.generateKey(1, 'p256', { pinPolicy: 'always', touchPolicy: 'cached' }),
    );
    expect(await manage(session, (m) => m.slotKey(1))).toEqual({
      slot: '9c',
      algorithm: 'p256',
      pinPolicy: 'always',
      touchPolicy: 'cached',
      origin: 'generated',
    });
    const attestation = new X509Certificate(await manage(session, (m) => m.attest(1)));
    expect(attestation.subject).toBe('CN=YubiKey PIV Attestation 9c');
    expect(attestation.publicKey.equals(publicKey)).toBe(true);
    const issuer = new X509Certificate((await manage(session, (m) => m.attestationCertificate())) as Uint8Array);
    expect(attestation.verify(issuer.publicKey)).toBe(true);
    expect(await manage(session, (m) => m.slotKey(2))).toBeUndefined();
    expect(await codeOf(manage(session, (m) => m.attest(2)))).toBe('SCARD_E_NO_KEY_CONTAINER');
    expect(await codeOf(manage(session, (m) => m.attest(99)))).toBe('SCARD_E_INVALID_PARAMETER');
  });

  it('resets the PIV application: keys and certificates gone, default PIN and management key', async () => {
    const card = new PivSimulator({ seed: 'piv-reset', pin: '654321', puk: '87654321' });
    const { session } = await openCard(card);
    await authenticateAdmin(session);
    await manage(session, (m) => m.generateKey(0, 'p256', {}));
    await manage(session, (m) => m.reset());
    expect(await manage(session, (m) => m.slotKey(0))).toBeUndefined();
    expect(await manage(session, (m) => m.managementKeyInfo())).toMatchObject({ algorithm: '3des', isDefault: true });
    expect(await manage(session, (m) => m.retries('pin'))).toEqual({ total: 3, left: 3 });
    await session.authenticateEx(ROLE_USER, 0, PIN);
  });
});
