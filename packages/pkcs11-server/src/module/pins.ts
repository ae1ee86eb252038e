/**
 * @packageDocumentation
 * The PINs of a token as PKCS #11 sees them: the user (`CKU_USER`) and the SO (`CKU_SO`, the card's admin),
 * C_Login's verification, and what C_SetPIN and C_InitPIN do on each card. No card is named here: what a
 * card allows comes from its PIN_INFO (type, purpose, which PINs unblock which).
 */
import { adminKeyBytes, answerChallenge } from '@minidriver/keystore';
import { PIN_CHANGE_FLAG_CHANGEPIN, PIN_CHANGE_FLAG_UNBLOCK, type PinId } from '@minidriver/spec';
import { CKR } from '../pkcs11/constants.js';
import { check } from '../pkcs11/errors.js';
import type { Token, TokenPin } from './token-source.js';

/** The keystore role of CKU_USER. */
export const USER_ROLE = 'user';
/** The keystore role of CKU_SO. */
export const SO_ROLE = 'admin';

/**
 * The secret an SO login keeps for C_InitPIN / C_SetPIN, on cards whose user PIN it unblocks: the admin
 * PIN (OpenPGP PW3), the admin key (GIDS: `challengeResponse`, it answers a fresh challenge each time), or
 * the unblock PIN (PIV PUK, which cards cannot verify on its own). Its holder wipes it at logout.
 */
export interface SoSecret {
  readonly pinId: number;
  readonly challengeResponse: boolean;
  secret: Uint8Array;
}

/** The PINs of each token as first read: role, type and cache policy do not change (retries do). */
const PINS = new WeakMap<Token, Promise<readonly TokenPin[]>>();

/** The token's PINs for their static facts, read from the card once. */
export function staticPins(token: Token): Promise<readonly TokenPin[]> {
  let pins = PINS.get(token);
  if (pins === undefined) {
    pins = token.pins();
    PINS.set(token, pins);
    pins.catch(() => PINS.delete(token));
  }
  return pins;
}

/**
 * Verifies PIN `role` with the bytes of C_Login. A challenge/response role (PIV management key) takes the
 * key as hex text; a NULL PIN means the reader's PIN pad (or an empty PIN) takes it.
 */
export async function verifyPin(token: Token, role: string | number, pin: Uint8Array | null): Promise<void> {
  const facts = (await staticPins(token)).find((candidate) => candidate.role === role || candidate.id === role);
  check(facts !== undefined, CKR.USER_TYPE_INVALID, 'the card has no such PIN');
  if (pin === null || pin.length === 0) {
    await token.login(facts.id);
    return;
  }
  await token.login(
    facts.id,
    facts.type === 'challenge-response' ? Buffer.from(pin).toString('latin1') : new Uint8Array(pin),
  );
}

/**
 * C_Login(CKU_SO). The SO is the card's admin (PIV and GIDS: the management/admin key as hex; OpenPGP:
 * PW3), verified now. Three cases keep the secret for C_InitPIN / C_SetPIN (see {@link SoSecret}):
 * - an admin PIN or admin key that unblocks the user PIN (OpenPGP PW3, GIDS admin key);
 * - on a card whose admin is a challenge/response key and whose user PIN an unblock-only PIN resets (PIV's
 *   PUK), a secret shorter than any admin key (under 32 characters: 16 bytes as hex) is that unblock PIN.
 *   Such cards cannot verify it on its own: it is first checked when used (C_InitPIN, C_SetPIN), where a
 *   wrong one is CKR_PIN_INCORRECT; the SO logged in this way is not the admin (no key generation).
 */
export async function soLogin(token: Token, pin: Uint8Array | null): Promise<SoSecret | undefined> {
  const pins = await staticPins(token);
  const admin = pins.find((candidate) => candidate.role === SO_ROLE);
  const user = pins.find((candidate) => candidate.role === USER_ROLE);
  const unblock = pins.find(
    (candidate) => candidate.purpose === 'unblock' && user?.unblockedBy.includes(candidate.id) === true,
  );
  if (admin?.type === 'challenge-response' && unblock !== undefined && pin !== null && pin.length > 0) {
    if (pin.length < 32) return { pinId: unblock.id, challengeResponse: false, secret: new Uint8Array(pin) };
  }
  await verifyPin(token, SO_ROLE, pin);
  if (admin === undefined || pin === null || pin.length === 0 || user?.unblockedBy.includes(admin.id) !== true) {
    return undefined;
  }
  if (admin.type === 'alphanumeric') return { pinId: admin.id, challengeResponse: false, secret: new Uint8Array(pin) };
  if (admin.type === 'challenge-response') {
    return { pinId: admin.id, challengeResponse: true, secret: adminKeyBytes(Buffer.from(pin).toString('latin1')) };
  }
  return undefined;
}

/**
 * C_SetPIN: the user PIN (`so` false), or the SO's PIN — the admin PIN, or the unblock PIN the SO logged in
 * with (`kept`, updated to the new PIN) — when the card takes a PIN change for it. An admin key is not a
 * PIN: CKR_FUNCTION_NOT_SUPPORTED. The caller wipes both PINs.
 */
export async function changePin(
  token: Token,
  so: boolean,
  kept: SoSecret | undefined,
  oldPin: Uint8Array | null,
  newPin: Uint8Array | null,
): Promise<void> {
  check(oldPin !== null && newPin !== null && oldPin.length > 0 && newPin.length > 0, CKR.PIN_LEN_RANGE);
  check(kept?.challengeResponse !== true, CKR.FUNCTION_NOT_SUPPORTED, 'an admin key is not changed with C_SetPIN');
  const pins = await staticPins(token);
  const pin =
    kept === undefined
      ? pins.find((candidate) => candidate.role === (so ? SO_ROLE : USER_ROLE))
      : pins.find((candidate) => candidate.id === kept.pinId);
  check(
    pin !== undefined && pin.type === 'alphanumeric',
    CKR.FUNCTION_NOT_SUPPORTED,
    `the ${so ? 'SO' : 'user'} PIN is not changed with C_SetPIN`,
  );
  const id = pin.id as PinId;
  await token.session.changeAuthenticatorEx(
    PIN_CHANGE_FLAG_CHANGEPIN,
    id,
    new Uint8Array(oldPin),
    id,
    new Uint8Array(newPin),
  );
  if (kept !== undefined) {
    kept.secret.fill(0);
    kept.secret = new Uint8Array(newPin);
  }
}

/**
 * C_InitPIN: the SO sets a new user PIN (and unblocks it), on cards where the SO's secret unblocks the user
 * PIN: OpenPGP (the Admin PIN, PW3, resets PW1), GIDS (the admin key), PIV (the SO logged in with the PUK:
 * RESET RETRY COUNTER). Without a kept secret (the card's SO cannot do it): CKR_FUNCTION_NOT_SUPPORTED.
 * The caller wipes the new PIN.
 */
export async function setUserPin(token: Token, kept: SoSecret | undefined, newPin: Uint8Array | null): Promise<void> {
  check(kept !== undefined, CKR.FUNCTION_NOT_SUPPORTED, "the card's SO cannot set the user PIN");
  check(newPin !== null, CKR.FUNCTION_NOT_SUPPORTED, 'the new user PIN must be given (no PIN pad entry)');
  check(newPin.length > 0, CKR.PIN_LEN_RANGE);
  const user = (await staticPins(token)).find((candidate) => candidate.role === USER_ROLE);
  check(user !== undefined, CKR.FUNCTION_NOT_SUPPORTED, 'the card has no user PIN');
  const card = token.session;
  const by = kept.pinId as PinId;
  // An admin key proves itself by answering the card's challenge, asked right before.
  const proof = kept.challengeResponse
    ? answerChallenge(kept.secret, await card.getChallengeEx(by))
    : new Uint8Array(kept.secret);
  try {
    await card.changeAuthenticatorEx(PIN_CHANGE_FLAG_UNBLOCK, by, proof, user.id as PinId, new Uint8Array(newPin));
  } finally {
    proof.fill(0);
  }
}
