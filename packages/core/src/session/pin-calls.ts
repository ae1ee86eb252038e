import {
  CARD_AUTHENTICATE_GENERATE_SESSION_PIN,
  CARD_AUTHENTICATE_SESSION_PIN,
  CARD_PIN_SILENT_CONTEXT,
  CardProperty,
  createPinSet,
  type Minidriver,
  PIN_CHANGE_FLAG_CHANGEPIN,
  PIN_CHANGE_FLAG_UNBLOCK,
  type PinId,
  type PinInfo,
  type PinSet,
  ROLE_ADMIN,
  ROLE_EVERYONE,
  ROLE_USER,
  ScardError,
  SecretType,
  type UserId,
  wipe,
} from '@minidriver/spec';
import { checkBytes, checkDword, checkFlagBits, checkSecretPinId, checkUserId, checkZeroFlags } from './parameters.js';
import { authenticationMode } from './request-checks.js';
import type { SessionCore } from './session-core.js';
import {
  authenticateChallengeV4,
  authenticatePinV4,
  changeAuthenticatorV4,
  deauthenticateV4,
  getChallengeV4,
  unblockPinV4,
} from './v4-adapters.js';

/**
 * An empty PIN is no PIN: refused (SCARD_E_INVALID_PARAMETER, no card command) unless the PIN's PIN_INFO
 * says it takes none (EmptyPinType). A card must never see an empty VERIFY as an attempt: on most cards it
 * only asks whether the PIN is verified.
 */
async function refuseEmptyPin(minidriver: Minidriver, pinId: PinId, data: Uint8Array | undefined): Promise<void> {
  if (data === undefined || data.length > 0) return;
  let pinType: number | undefined;
  try {
    const getProperty = (minidriver as Partial<Pick<Minidriver, 'getProperty'>>).getProperty;
    pinType = getProperty
      ? ((await getProperty.call(minidriver, CardProperty.CP_CARD_PIN_INFO, pinId)) as PinInfo).pinType
      : undefined;
  } catch {
    pinType = undefined;
  }
  if (pinType === SecretType.EmptyPinType) return;
  throw new ScardError('SCARD_E_INVALID_PARAMETER', `PIN ${pinId} needs a value: an empty PIN is refused`);
}

/**
 * CardAuthenticatePin: `user` or `admin` with a PIN. A wrong PIN is SCARD_W_WRONG_CHV with `retriesLeft`.
 * The session's copy of the PIN is wiped afterwards.
 */
export function authenticatePin(core: SessionCore, userId: UserId, pin: Uint8Array): Promise<void> {
  return core.pipeline.call(
    'authenticatePin',
    () => ({ userId: checkUserId(userId), pin: new Uint8Array(checkBytes(pin, 'pbPin', true)) }),
    async (minidriver, args) => {
      try {
        await refuseEmptyPin(minidriver, args.userId === 'user' ? ROLE_USER : ROLE_ADMIN, args.pin);
        await authenticatePinV4(minidriver, args.userId, args.pin);
        core.auth.grant(args.userId === 'user' ? ROLE_USER : ROLE_ADMIN);
      } finally {
        wipe(args.pin);
      }
    },
    { checkSlot: false },
  );
}

/**
 * CardAuthenticateEx. `flags`: CARD_AUTHENTICATE_GENERATE_SESSION_PIN, CARD_AUTHENTICATE_SESSION_PIN
 * (not both), CARD_PIN_SILENT_CONTEXT. `pinData` undefined = external PIN (PIN pad). Generating a session
 * PIN does not authenticate.
 */
export function authenticateEx(
  core: SessionCore,
  pinId: PinId,
  flags: number,
  pinData?: Uint8Array,
): Promise<{ sessionPin?: Uint8Array }> {
  return core.pipeline.call(
    'authenticateEx',
    () => {
      const id = checkSecretPinId(pinId);
      const checkedFlags = checkFlagBits(
        flags,
        CARD_AUTHENTICATE_GENERATE_SESSION_PIN | CARD_AUTHENTICATE_SESSION_PIN | CARD_PIN_SILENT_CONTEXT,
      );
      const both = CARD_AUTHENTICATE_GENERATE_SESSION_PIN | CARD_AUTHENTICATE_SESSION_PIN;
      if ((checkedFlags & both) === both) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'GENERATE_SESSION_PIN and SESSION_PIN together');
      }
      const data = pinData === undefined ? undefined : new Uint8Array(checkBytes(pinData, 'pbPinData', true));
      return { id, checkedFlags, data };
    },
    async (minidriver, args) => {
      try {
        await refuseEmptyPin(minidriver, args.id, args.data);
        const result = await minidriver.authenticateEx(args.id, args.checkedFlags, args.data);
        if ((args.checkedFlags & CARD_AUTHENTICATE_GENERATE_SESSION_PIN) === 0) {
          core.auth.grant(args.id);
        }
        if (result?.sessionPin === undefined) return {};
        const sessionPin = new Uint8Array(result.sessionPin);
        wipe(result.sessionPin);
        return { sessionPin };
      } finally {
        wipe(args.data);
      }
    },
    { checkSlot: false },
  );
}

/** CardGetChallenge: a challenge of the admin key. */
export function getChallenge(core: SessionCore): Promise<Uint8Array> {
  return core.pipeline.call(
    'getChallenge',
    () => undefined,
    async (minidriver) => new Uint8Array(await getChallengeV4(minidriver)),
    { checkSlot: false },
  );
}

/** CardAuthenticateChallenge: the response to the last challenge authenticates the admin. */
export function authenticateChallenge(core: SessionCore, response: Uint8Array): Promise<void> {
  return core.pipeline.call(
    'authenticateChallenge',
    () => new Uint8Array(checkBytes(response, 'pbResponseData')),
    async (minidriver, data) => {
      try {
        await authenticateChallengeV4(minidriver, data);
        core.auth.grant(ROLE_ADMIN);
      } finally {
        wipe(data);
      }
    },
    { checkSlot: false },
  );
}

/** CardGetChallengeEx: a challenge for a challenge/response PIN. `flags` must be 0. */
export function getChallengeEx(core: SessionCore, pinId: PinId, flags = 0): Promise<Uint8Array> {
  return core.pipeline.call(
    'getChallengeEx',
    () => {
      const id = checkSecretPinId(pinId);
      checkZeroFlags(flags);
      return id;
    },
    async (minidriver, id) => new Uint8Array(await minidriver.getChallengeEx!(id)),
  );
}

/**
 * CardUnblockPin: `userId` must be `user` (`admin` → SCARD_E_UNSUPPORTED_FEATURE); `flags`
 * CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE (1) or CARD_AUTHENTICATE_PIN_PIN (2). Bumps the pins counter.
 */
export function unblockPin(
  core: SessionCore,
  userId: UserId,
  authenticationData: Uint8Array,
  newPin: Uint8Array,
  retryCount: number,
  flags: number,
): Promise<void> {
  return core.pipeline.call(
    'unblockPin',
    () => {
      if (userId === 'admin') throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'the admin cannot be unblocked');
      if (userId !== 'user') throw new ScardError('SCARD_E_INVALID_PARAMETER', 'user id must be "user"');
      const authentication = checkBytes(authenticationData, 'pbAuthenticationData');
      const pin = checkBytes(newPin, 'pbNewPinData');
      const retries = checkDword(retryCount, 'cRetryCount');
      const mode = authenticationMode(flags);
      return { authentication: new Uint8Array(authentication), pin: new Uint8Array(pin), retries, mode };
    },
    async (minidriver, args) => {
      try {
        await unblockPinV4(minidriver, args.authentication, args.pin, args.retries, args.mode);
      } finally {
        wipe(args.authentication, args.pin);
      }
      await core.caches.bump('pins');
    },
    { checkSlot: false },
  );
}

/**
 * CardChangeAuthenticator: change a PIN (flags CARD_AUTHENTICATE_PIN_PIN) or the admin key (flags
 * CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE, `admin` only). Bumps the pins counter.
 */
export function changeAuthenticator(
  core: SessionCore,
  userId: UserId,
  currentAuthenticator: Uint8Array,
  newAuthenticator: Uint8Array,
  retryCount: number,
  flags: number,
): Promise<void> {
  return core.pipeline.call(
    'changeAuthenticator',
    () => {
      const user = checkUserId(userId);
      const current = checkBytes(currentAuthenticator, 'pbCurrentAuthenticator');
      const next = checkBytes(newAuthenticator, 'pbNewAuthenticator');
      const retries = checkDword(retryCount, 'cRetryCount');
      const mode = authenticationMode(flags);
      if (mode === 'challenge-response' && user === 'user') {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'challenge/response applies to the admin only');
      }
      return { user, current: new Uint8Array(current), next: new Uint8Array(next), retries, mode };
    },
    async (minidriver, args) => {
      try {
        await changeAuthenticatorV4(minidriver, args.user, args.current, args.next, args.retries, args.mode);
      } finally {
        wipe(args.current, args.next);
      }
      await core.caches.bump('pins');
    },
    { checkSlot: false },
  );
}

/**
 * CardChangeAuthenticatorEx: `flags` holds exactly one of PIN_CHANGE_FLAG_UNBLOCK / _CHANGEPIN, optionally
 * CARD_PIN_SILENT_CONTEXT. Unblocking a PIN with itself is SCARD_E_INVALID_PARAMETER. Bumps pins.
 */
export function changeAuthenticatorEx(
  core: SessionCore,
  flags: number,
  authenticatingPinId: PinId,
  authenticatingData: Uint8Array,
  targetPinId: PinId,
  targetData: Uint8Array,
  retryCount = 0,
): Promise<void> {
  return core.pipeline.call(
    'changeAuthenticatorEx',
    () => {
      const checkedFlags = checkFlagBits(
        flags,
        PIN_CHANGE_FLAG_UNBLOCK | PIN_CHANGE_FLAG_CHANGEPIN | CARD_PIN_SILENT_CONTEXT,
      );
      const unblock = (checkedFlags & PIN_CHANGE_FLAG_UNBLOCK) !== 0;
      const change = (checkedFlags & PIN_CHANGE_FLAG_CHANGEPIN) !== 0;
      if (unblock === change) {
        throw new ScardError(
          'SCARD_E_INVALID_PARAMETER',
          'dwFlags needs exactly one of PIN_CHANGE_FLAG_UNBLOCK and _CHANGEPIN',
        );
      }
      const authenticatingId = checkSecretPinId(authenticatingPinId, 'dwAuthenticatingPinId');
      const targetId = checkSecretPinId(targetPinId, 'dwTargetPinId');
      if (unblock && authenticatingId === targetId) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'a PIN cannot unblock itself');
      }
      const authentication = checkBytes(authenticatingData, 'pbAuthenticatingPinData');
      const target = checkBytes(targetData, 'pbTargetData');
      return {
        operation: unblock ? ('unblock' as const) : ('change' as const),
        authenticatingPinId: authenticatingId,
        authenticatingData: new Uint8Array(authentication),
        targetPinId: targetId,
        targetData: new Uint8Array(target),
        retryCount: checkDword(retryCount, 'cRetryCount'),
        silent: (checkedFlags & CARD_PIN_SILENT_CONTEXT) !== 0,
      };
    },
    async (minidriver, request) => {
      try {
        await minidriver.changeAuthenticatorEx!(request);
      } finally {
        wipe(request.authenticatingData, request.targetData);
      }
      await core.caches.bump('pins');
    },
  );
}

/**
 * CardDeauthenticate (v4): when the plugin has no such slot, or it fails, the transaction ends with a card
 * reset instead (the caller's fallback, docs/spec/minidriver.md §5.2.6) and the call succeeds.
 */
export function deauthenticate(core: SessionCore, userId: UserId, flags = 0): Promise<void> {
  return core.pipeline.call(
    'deauthenticate',
    () => {
      const user = checkUserId(userId);
      checkZeroFlags(flags);
      return user;
    },
    async (minidriver, user, scope) => {
      try {
        if (await deauthenticateV4(minidriver, user)) {
          core.auth.drop(createPinSet(user === 'user' ? ROLE_USER : ROLE_ADMIN));
          return;
        }
      } catch (error) {
        if (ScardError.hasCode(error, 'SCARD_W_REMOVED_CARD')) throw error;
      }
      scope.requestReset();
      core.auth.drop(0xff);
    },
    { checkSlot: false },
  );
}

/**
 * CardDeauthenticateEx(pinSet): the ROLE_EVERYONE bit is ignored (a set of only that bit does nothing); bits above 0xFF or non-zero flags → SCARD_E_INVALID_PARAMETER. When the
 * plugin answers SCARD_E_UNSUPPORTED_FEATURE the transaction ends with a card reset and the call succeeds
 * (docs/spec/minidriver.md §5.2.10); any other failure also resets the card and is thrown.
 */
export function deauthenticateEx(core: SessionCore, pinSet: PinSet, flags = 0): Promise<void> {
  return core.pipeline.call(
    'deauthenticateEx',
    () => {
      const set = checkFlagBits(pinSet, 0xff, 'PIN_SET');
      checkZeroFlags(flags);
      // ROLE_EVERYONE is never authenticated: its bit is ignored, not passed on (cardmod.h PIN_SET).
      return set & ~createPinSet(ROLE_EVERYONE);
    },
    async (minidriver, set, scope) => {
      if (set === 0) return;
      try {
        await minidriver.deauthenticateEx(set);
        core.auth.drop(set);
      } catch (error) {
        scope.requestReset();
        core.auth.drop(0xff);
        if (!ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE')) throw error;
      }
    },
    { checkSlot: false },
  );
}
