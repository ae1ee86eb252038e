/**
 * What the conformance suite does not pin down for GIDS: the cache mode the card earns (GLOBAL with a
 * user-writable cardcf, SESSION_ONLY and the reason when only the admin may write it), the admin key's mutual
 * authentication as a 40-byte challenge, unblock and admin-key change, directories, file growth, and the
 * on-card layout OpenSC reads (key map, cmapfile, certificates in A010 DOs).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import {
  CacheMode,
  DirectoryAccessCondition,
  FileAccessCondition,
  KeySpec,
  PIN_CHANGE_FLAG_CHANGEPIN,
  ROLE_ADMIN,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ADMIN_KEY, DEFAULT_PIN, GidsSimulator } from '../sim/index.js';
import { plugin } from './index.js';

const CARD_CREATE_CONTAINER_KEY_GEN = 1;
const CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE = 1;

function respondWith(key: Uint8Array) {
  return (challenge: Uint8Array) => {
    const cipher = createCipheriv('des-ede3-cbc', key, Buffer.alloc(8)).setAutoPadding(false);
    return new Uint8Array(Buffer.concat([cipher.update(challenge), cipher.final()]));
  };
}

async function open(card: GidsSimulator): Promise<CardSession> {
  return CardSession.open(plugin, new SimTransport(card));
}

const errorName = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error) => error.name as string,
  );

describe('GIDS plugin', () => {
  it('runs GLOBAL on a card whose cardcf the user may write, SESSION_ONLY when only the admin may', async () => {
    const normal = await open(new GidsSimulator());
    expect(normal.cacheMode).toBe(CacheMode.GLOBAL_CACHE);
    expect(await normal.getProperty('Cache Mode')).toBe(CacheMode.GLOBAL_CACHE);
    await normal.close();
    const readOnly = await open(new GidsSimulator({ readOnlyCardcf: true }));
    expect(await readOnly.getProperty('Cache Mode')).toBe(CacheMode.SESSION_ONLY);
    expect(readOnly.cacheMode).toBe(CacheMode.SESSION_ONLY);
    await readOnly.close();
  });

  it('says why it degrades through the session: a read-only cardcf ACL (the reason names its EF)', async () => {
    const readOnly = await open(new GidsSimulator({ readOnlyCardcf: true }));
    expect(readOnly.cacheModeDecision).toEqual({
      mode: CacheMode.SESSION_ONLY,
      reason: 'plugin-choice',
      detail:
        'cardcf (EF A012) cannot be written by the user: other writers could not signal changes, so nothing is cached beyond a session',
    });
    expect(await readOnly.getProperty('minidriver:Cache Mode Reason')).toBe(readOnly.cacheModeDecision.detail);
    await readOnly.close();
    const normal = await open(new GidsSimulator());
    expect(normal.cacheModeDecision).toEqual({
      mode: CacheMode.GLOBAL_CACHE,
      reason: 'plugin-choice',
      detail: 'cardcf is on the card and the user may write it',
    });
    await normal.close();
  });

  it('authenticates the admin by mutual authentication: a 40-byte challenge, 3DES-CBC response', async () => {
    const session = await open(new GidsSimulator());
    const challenge = await session.getChallengeEx(ROLE_ADMIN);
    expect(challenge.length).toBe(40);
    expect(challenge[39]).toBe(0x80);
    expect(await errorName(session.authenticateChallenge(respondWith(randomBytes(24))(challenge)))).toBe(
      'SCARD_W_WRONG_CHV',
    );
    expect(await errorName(session.authenticateChallenge(new Uint8Array(40)))).toBe('SCARD_W_WRONG_CHV');
    await session.authenticateChallenge(respondWith(DEFAULT_ADMIN_KEY)(await session.getChallenge()));
    expect(await session.getProperty('Authenticated State')).toBe(1 << ROLE_ADMIN);
    // The admin may write what only the admin may write: a file in A012 (everyone read, admin write).
    await session.createFile('mscp', 'adminf', 0, FileAccessCondition.EveryoneReadAdminWriteAc);
    await session.writeFile('mscp', 'adminf', Uint8Array.of(1, 2, 3));
    expect((await session.getFileInfo('mscp', 'adminf')).accessCondition).toBe(
      FileAccessCondition.EveryoneReadAdminWriteAc,
    );
    await session.close();
  });

  it('unblocks the PIN with the admin response and changes the admin key', async () => {
    const card = new GidsSimulator();
    const session = await open(card);
    for (let i = 0; i < 3; i++) await errorName(session.authenticatePin('user', new TextEncoder().encode('00000000')));
    expect(card.pinTriesLeft).toBe(0);
    const newPin = new TextEncoder().encode('87654321');
    await session.unblockPin(
      'user',
      respondWith(DEFAULT_ADMIN_KEY)(await session.getChallenge()),
      newPin,
      0,
      CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
    );
    expect(card.pinTriesLeft).toBe(3);
    await session.authenticatePin('user', newPin);
    const newKey = randomBytes(24);
    await session.changeAuthenticatorEx(
      PIN_CHANGE_FLAG_CHANGEPIN,
      ROLE_ADMIN,
      respondWith(DEFAULT_ADMIN_KEY)(await session.getChallengeEx(ROLE_ADMIN)),
      ROLE_ADMIN,
      newKey,
    );
    expect(
      await errorName(session.authenticateChallenge(respondWith(DEFAULT_ADMIN_KEY)(await session.getChallenge()))),
    ).toBe('SCARD_W_WRONG_CHV');
    await session.authenticateChallenge(respondWith(newKey)(await session.getChallenge()));
    await session.close();
  });

  it('an AES-sized new admin key is SCARD_E_UNSUPPORTED_FEATURE, refused before the card sees it; the key stays 3DES', async () => {
    const card = new GidsSimulator();
    const session = await open(card);
    const changeTo = async (key: Uint8Array) => {
      const response = respondWith(DEFAULT_ADMIN_KEY)(await session.getChallengeEx(ROLE_ADMIN));
      return session.changeAuthenticatorEx(PIN_CHANGE_FLAG_CHANGEPIN, ROLE_ADMIN, response, ROLE_ADMIN, key);
    };
    for (const length of [16, 32]) {
      const refusal = await changeTo(randomBytes(length)).catch((error: Error) => error);
      expect(refusal).toMatchObject({ name: 'SCARD_E_UNSUPPORTED_FEATURE' });
      expect((refusal as Error).message).toMatch(/AES admin keys are not supported on GIDS: no public GIDS source/);
    }
    expect(await errorName(changeTo(randomBytes(20)))).toBe('SCARD_E_INVALID_PARAMETER');
    // Nothing reached the card: the factory 3DES key still authenticates.
    await session.authenticateChallenge(respondWith(DEFAULT_ADMIN_KEY)(await session.getChallenge()));
    expect(await session.getProperty('Authenticated State')).toBe(1 << ROLE_ADMIN);
    await session.close();
  });

  it('creates and deletes directories and files that grow; the master file table lists them', async () => {
    const card = new GidsSimulator();
    const session = await open(card);
    await session.authenticatePin('user', DEFAULT_PIN);
    await session.createDirectory('app1', DirectoryAccessCondition.UserCreateDeleteDirAc);
    expect(await errorName(session.createDirectory('app2', DirectoryAccessCondition.AdminCreateDeleteDirAc))).toBe(
      'SCARD_E_UNSUPPORTED_FEATURE',
    );
    await session.createFile('app1', 'data', 0, FileAccessCondition.UserReadWriteAc);
    for (const size of [10, 3000, 5]) {
      const contents = randomBytes(size);
      await session.writeFile('app1', 'data', contents);
      expect(Buffer.from(await session.readFile('app1', 'data'))).toEqual(contents);
    }
    expect(await session.enumFiles('app1')).toEqual(['data']);
    expect(await errorName(session.deleteDirectory('app1'))).toBe('ERROR_DIR_NOT_EMPTY');
    await session.deleteFile('app1', 'data');
    await session.deleteDirectory('app1');
    expect(await errorName(session.enumFiles('app1'))).toBe('SCARD_E_DIR_NOT_FOUND');
    expect(await errorName(session.deleteFile(null, 'cardcf'))).toBe('SCARD_W_SECURITY_VIOLATION');
    // A013 is user read-write: after logout its file cannot even be read.
    await session.createFile('mscp', 'secret', 0, FileAccessCondition.UserReadWriteAc);
    await session.deauthenticate('user');
    expect(await errorName(session.readFile('mscp', 'secret'))).toBe('SCARD_W_SECURITY_VIOLATION');
    await session.close();
  });

  it("keeps OpenSC's layout: key file B081, key map record 9A/B081, cmapfile record, cardcf counters on the card", async () => {
    const card = new GidsSimulator();
    const session = await open(card);
    await session.authenticatePin('user', DEFAULT_PIN);
    const before = card.dataObject(0xa010, 0xdf22)!;
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 1024);
    expect(card.publicKey(0x81)?.asymmetricKeyDetails?.modulusLength).toBe(1024);
    expect(Buffer.from(card.dataObject(0xa000, 0xdf20)!).toString('hex')).toBe('0101000000069a81b0ffff0000');
    const cmap = card.dataObject(0xa010, 0xdf23)!;
    expect(cmap.length).toBe(86);
    expect(cmap[80]).toBe(0x03);
    expect(cmap[84]! | (cmap[85]! << 8)).toBe(1024);
    const after = card.dataObject(0xa010, 0xdf22)!;
    expect(after[2]! | (after[3]! << 8)).toBe((before[2]! | (before[3]! << 8)) + 1);
    await session.close();
  });
});
