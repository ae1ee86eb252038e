/**
 * OpenPGP management beyond the contract (OpenPgpManagement through CardSession.manage) against the OpenPGP
 * simulator: cardholder data, key slot listing, factory reset; the Resetting Code through the contract.
 */

import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  KeySpec,
  PIN_CHANGE_FLAG_CHANGEPIN,
  PIN_CHANGE_FLAG_UNBLOCK,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
} from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpenPgpSimulator } from '../sim/index.js';
import { plugin, RESETTING_CODE_PIN_ID } from './index.js';
import { CONTAINER_NAMES, describeAlgorithmAttributes, OpenPgpManagement } from './openpgp-management.js';

const encode = (text: string) => new TextEncoder().encode(text);
const PW1 = encode('123456');
const PW3 = encode('12345678');

async function openCard() {
  const card = new OpenPgpSimulator();
  const session = await CardSession.open(plugin, new SimTransport(card));
  return { card, session };
}

const manage = <T>(session: CardSession, work: (management: OpenPgpManagement) => Promise<T>) =>
  session.manage((access) => work(OpenPgpManagement.of(access)));

describe('OpenPgpManagement', () => {
  it('names the containers sig, dec, aut', () => {
    expect([...CONTAINER_NAMES]).toEqual([
      ['sig', 0],
      ['dec', 1],
      ['aut', 2],
    ]);
  });

  it('describes algorithm attributes byte for byte; any bytes give a string', () => {
    expect(describeAlgorithmAttributes(Uint8Array.of(0x01, 0x08, 0x00, 0x00, 0x20, 0x00))).toBe('rsa2048');
    expect(describeAlgorithmAttributes(Uint8Array.of(0x13, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07))).toBe(
      'nistp256 ECDSA',
    );
    expect(describeAlgorithmAttributes(Uint8Array.of(0x12, 0x2b, 0x81, 0x04, 0x00, 0x22, 0xff))).toBe('nistp384 ECDH');
    expect(describeAlgorithmAttributes(Uint8Array.of(0x16, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01))).toBe(
      'ed25519',
    );
    expect(describeAlgorithmAttributes(Uint8Array.of(0x42, 0x01))).toBe('4201');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(typeof describeAlgorithmAttributes(bytes)).toBe('string');
      }),
    );
  });

  it('reads and writes the cardholder data (PW3 needed to write)', async () => {
    const { session } = await openCard();
    expect(await manage(session, (m) => m.cardholder())).toEqual({
      name: '',
      language: '',
      sex: 'unspecified',
      url: '',
      login: '',
    });
    const change = { name: 'Doe<<Jane', language: 'enfr', sex: 'female', url: 'https://example.org/jane.asc' } as const;
    const refused = await manage(session, (m) => m.setCardholder(change)).catch((error) => error);
    expect(refused.name).toBe('SCARD_W_SECURITY_VIOLATION');
    await session.authenticateEx(ROLE_ADMIN, 0, PW3);
    await manage(session, (m) => m.setCardholder(change));
    expect(await manage(session, (m) => m.cardholder())).toEqual({ ...change, login: '' });
    const badLanguage = await manage(session, (m) => m.setCardholder({ language: 'English' })).catch((error) => error);
    expect(ScardError.hasCode(badLanguage, 'SCARD_E_INVALID_PARAMETER')).toBe(true);
  });

  it('lists the key slots with algorithm, fingerprint, date and status', async () => {
    const { session } = await openCard();
    const before = await manage(session, (m) => m.keys());
    expect(before.map((slot) => [slot.slot, slot.fingerprint, slot.created])).toEqual([
      ['sig', null, null],
      ['dec', null, null],
      ['aut', null, null],
    ]);
    await session.authenticateEx(ROLE_ADMIN, 0, PW3);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048);
    const after = await manage(session, (m) => m.keys());
    expect(after[0]).toMatchObject({ slot: 'sig', algorithm: 'rsa2048', status: 'generated' });
    expect(after[0]?.fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect(after[0]?.created).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('sets the Resetting Code through the contract, and it unblocks PW1', async () => {
    const { session } = await openCard();
    await session.changeAuthenticatorEx(
      PIN_CHANGE_FLAG_CHANGEPIN,
      ROLE_ADMIN,
      PW3,
      RESETTING_CODE_PIN_ID,
      encode('87654321'),
    );
    await session.changeAuthenticatorEx(
      PIN_CHANGE_FLAG_UNBLOCK,
      RESETTING_CODE_PIN_ID,
      encode('87654321'),
      ROLE_USER,
      encode('654321'),
    );
    await session.authenticateEx(ROLE_USER, 0, encode('654321'));
  });

  it('factory-resets the card without a PIN: keys, data and PINs back to the factory state', async () => {
    const { session } = await openCard();
    await session.authenticateEx(ROLE_ADMIN, 0, PW3);
    await manage(session, (m) => m.setCardholder({ name: 'Doe<<Jane' }));
    await session.changeAuthenticatorEx(PIN_CHANGE_FLAG_CHANGEPIN, ROLE_USER, PW1, ROLE_USER, encode('999999'));
    await manage(session, (m) => m.reset());
    expect((await manage(session, (m) => m.cardholder())).name).toBe('');
    await session.authenticateEx(ROLE_USER, 0, PW1);
  });
});
