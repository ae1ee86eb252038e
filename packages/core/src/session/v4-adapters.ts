/**
 * The CARD_DATA version 4 entry points served from their version 6 and 7 forms, so a plugin implements
 * only the newest form of each (docs/spec/minidriver.md §5.2, §5.4): CardAuthenticatePin from
 * CardAuthenticateEx, CardGetChallenge / CardAuthenticateChallenge from CardGetChallengeEx /
 * CardAuthenticateEx(ROLE_ADMIN), CardUnblockPin and CardChangeAuthenticator from
 * CardChangeAuthenticatorEx, CardDeauthenticate from CardDeauthenticateEx, and CardCreateContainer from
 * CardCreateContainerEx(ROLE_USER). A plugin that still has the version 4 form is called through it.
 * The arguments are validated by the session before these run.
 *
 * @packageDocumentation
 */
import {
  CardProperty,
  type CreateContainerRequest,
  createPinSet,
  isPinInSet,
  type Minidriver,
  type PinId,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
  type UserId,
} from '@minidriver/spec';

/** How a version 4 caller authenticates the unblocking or changing party (CARD_AUTHENTICATE_PIN_*). */
export type AuthenticationMode = 'challenge-response' | 'pin';

function roleOf(userId: UserId): PinId {
  return userId === 'admin' ? ROLE_ADMIN : ROLE_USER;
}

function unsupported(entryPoint: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `the plugin implements neither ${entryPoint} nor its newer form`);
}

/** True when the plugin can serve CardAuthenticatePin (its own form or CardAuthenticateEx). */
export function canAuthenticatePin(minidriver: Minidriver): boolean {
  return typeof minidriver.authenticatePin === 'function' || typeof minidriver.authenticateEx === 'function';
}

/**
 * CardAuthenticatePin(user | admin, PIN) = CardAuthenticateEx(ROLE_USER | ROLE_ADMIN, 0, PIN); an admin
 * whose PIN_INFO says ChallengeResponsePinType has no PIN: SCARD_E_UNSUPPORTED_FEATURE.
 */
export async function authenticatePinV4(minidriver: Minidriver, userId: UserId, pin: Uint8Array): Promise<void> {
  if (typeof minidriver.authenticatePin === 'function') return minidriver.authenticatePin(userId, pin);
  if (typeof minidriver.authenticateEx !== 'function') unsupported('CardAuthenticatePin');
  if (userId === 'admin' && (await pinInfo(minidriver, ROLE_ADMIN)).pinType === SecretType.ChallengeResponsePinType) {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      'the administrator of this card is a challenge/response key: use CardGetChallenge and CardAuthenticateChallenge',
    );
  }
  await minidriver.authenticateEx(roleOf(userId), 0, pin);
}

/** CardGetChallenge = CardGetChallengeEx(ROLE_ADMIN). */
export async function getChallengeV4(minidriver: Minidriver): Promise<Uint8Array> {
  if (typeof minidriver.getChallenge === 'function') return minidriver.getChallenge();
  if (typeof minidriver.getChallengeEx !== 'function') unsupported('CardGetChallenge');
  return minidriver.getChallengeEx(ROLE_ADMIN);
}

/** CardAuthenticateChallenge(response) = CardAuthenticateEx(ROLE_ADMIN, 0, response). */
export async function authenticateChallengeV4(minidriver: Minidriver, response: Uint8Array): Promise<void> {
  if (typeof minidriver.authenticateChallenge === 'function') return minidriver.authenticateChallenge(response);
  if (typeof minidriver.authenticateEx !== 'function') unsupported('CardAuthenticateChallenge');
  await minidriver.authenticateEx(ROLE_ADMIN, 0, response);
}

async function pinInfo(minidriver: Minidriver, pinId: PinId) {
  return minidriver.getProperty(CardProperty.CP_CARD_PIN_INFO, pinId);
}

/**
 * The PIN that unblocks the user PIN in `mode` (docs/spec/minidriver.md §5.2.4, "equivalent to
 * CardChangeAuthenticatorEx(PIN_CHANGE_FLAG_UNBLOCK, ROLE_ADMIN, ...)"): among the PINs in the user PIN's
 * dwUnblockPermission, the challenge/response one for `challenge-response`, else an unblock-only PIN
 * (a PUK) before any other PIN. None → SCARD_E_UNSUPPORTED_FEATURE.
 */
async function unblockingPin(minidriver: Minidriver, mode: AuthenticationMode): Promise<PinId> {
  const allowed = (await pinInfo(minidriver, ROLE_USER)).unblockPermission;
  const candidates: { id: PinId; purpose: number }[] = [];
  for (let id = 0; id < 8; id++) {
    if (!isPinInSet(allowed, id) || id === ROLE_USER) continue;
    const info = await pinInfo(minidriver, id as PinId);
    const challengeResponse = info.pinType === SecretType.ChallengeResponsePinType;
    if (challengeResponse === (mode === 'challenge-response'))
      candidates.push({ id: id as PinId, purpose: info.purpose });
  }
  const chosen = candidates.find((pin) => pin.purpose === SecretPurpose.UnblockOnlyPin) ?? candidates[0];
  if (chosen === undefined) {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `no PIN unblocks the user PIN by ${mode === 'pin' ? 'PIN' : 'challenge/response'} on this card`,
    );
  }
  return chosen.id;
}

/** CardUnblockPin(user, ...) = CardChangeAuthenticatorEx(UNBLOCK, unblocking PIN, ..., ROLE_USER, ...). */
export async function unblockPinV4(
  minidriver: Minidriver,
  authenticationData: Uint8Array,
  newPin: Uint8Array,
  retryCount: number,
  mode: AuthenticationMode,
): Promise<void> {
  if (typeof minidriver.unblockPin === 'function') {
    return minidriver.unblockPin('user', authenticationData, newPin, retryCount, mode);
  }
  if (typeof minidriver.changeAuthenticatorEx !== 'function') unsupported('CardUnblockPin');
  await minidriver.changeAuthenticatorEx({
    operation: 'unblock',
    authenticatingPinId: await unblockingPin(minidriver, mode),
    authenticatingData: authenticationData,
    targetPinId: ROLE_USER,
    targetData: newPin,
    retryCount,
    silent: false,
  });
}

/**
 * CardChangeAuthenticator(user | admin, current, new) = CardChangeAuthenticatorEx(CHANGEPIN, role,
 * current, role, new). `mode` must match the role's PIN type (challenge/response for a
 * ChallengeResponsePinType PIN, PIN otherwise), else SCARD_E_INVALID_PARAMETER.
 */
export async function changeAuthenticatorV4(
  minidriver: Minidriver,
  userId: UserId,
  current: Uint8Array,
  next: Uint8Array,
  retryCount: number,
  mode: AuthenticationMode,
): Promise<void> {
  if (typeof minidriver.changeAuthenticator === 'function') {
    return minidriver.changeAuthenticator(userId, current, next, retryCount, mode);
  }
  if (typeof minidriver.changeAuthenticatorEx !== 'function') unsupported('CardChangeAuthenticator');
  const role = roleOf(userId);
  const challengeResponse = (await pinInfo(minidriver, role)).pinType === SecretType.ChallengeResponsePinType;
  if (challengeResponse !== (mode === 'challenge-response')) {
    throw new ScardError(
      'SCARD_E_INVALID_PARAMETER',
      `the ${userId} authenticator is ${challengeResponse ? 'a challenge/response key' : 'a PIN'} on this card`,
    );
  }
  await minidriver.changeAuthenticatorEx({
    operation: 'change',
    authenticatingPinId: role,
    authenticatingData: current,
    targetPinId: role,
    targetData: next,
    retryCount,
    silent: false,
  });
}

/**
 * CardDeauthenticate(user | admin) = CardDeauthenticateEx({ROLE_USER} | {ROLE_ADMIN}). Returns false when
 * the plugin has neither form (the caller then resets the card, docs/spec/minidriver.md §5.2.6).
 */
export async function deauthenticateV4(minidriver: Minidriver, userId: UserId): Promise<boolean> {
  if (typeof minidriver.deauthenticate === 'function') {
    await minidriver.deauthenticate(userId);
    return true;
  }
  if (typeof minidriver.deauthenticateEx !== 'function') return false;
  await minidriver.deauthenticateEx(createPinSet(roleOf(userId)));
  return true;
}

/** CardCreateContainer = CardCreateContainerEx with the key bound to ROLE_USER. */
export async function createContainerV4(
  minidriver: Minidriver,
  index: number,
  request: CreateContainerRequest,
): Promise<void> {
  if (typeof minidriver.createContainer === 'function') return minidriver.createContainer(index, request);
  if (typeof minidriver.createContainerEx !== 'function') unsupported('CardCreateContainer');
  await minidriver.createContainerEx(index, { ...request, pinId: ROLE_USER });
}
