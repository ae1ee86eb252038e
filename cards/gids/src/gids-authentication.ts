/**
 * The user PIN and the admin key of the GIDS plugin (docs/spec/gids.md §4.2, §4.4): the PIN table — ROLE_USER
 * the PIN `80` (changed by the user, unblocked by the admin), ROLE_ADMIN the 3DES admin key (challenge/response,
 * mutual authentication) — and CardAuthenticateEx, CardGetChallengeEx, CardChangeAuthenticatorEx,
 * CardDeauthenticateEx and the authenticated state. The version 4 forms are served by the session from these.
 *
 * @packageDocumentation
 */
import {
  type KitPinEntryPoints,
  type PinRole,
  PinRoleTable,
  requireNoRetryCountChange,
  requireNoSessionPin,
} from '@minidriver/card-kit';
import {
  type AuthenticateExResult,
  CARD_DATA_VALUE_UNKNOWN,
  type ChangeAuthenticatorRequest,
  createPinSet,
  type PinId,
  type PinSet,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
} from '@minidriver/spec';
import type { GidsApplication } from './gids-application.js';

const GIDS_PINS: readonly PinRole[] = [
  {
    id: ROLE_USER,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.PrimaryCardPin,
    changedBy: [ROLE_USER],
    unblockedBy: [ROLE_ADMIN],
  },
  {
    id: ROLE_ADMIN,
    type: SecretType.ChallengeResponsePinType,
    purpose: SecretPurpose.AdministratorPin,
    changedBy: [ROLE_ADMIN],
    unblockedBy: [],
  },
];

/** The GIDS PIN table: user 1 (PIN `80`), admin 2 (the admin key). */
export const GIDS_PIN_TABLE = new PinRoleTable(GIDS_PINS);

/** A 3-key 3DES admin key. */
const ADMIN_KEY_LENGTH = 24;
/** The key lengths of AES-128 and AES-256 (AES-192 shares 24 bytes with 3DES). */
const AES_ONLY_KEY_LENGTHS = new Set([16, 32]);

const USER = createPinSet(ROLE_USER);
const ADMIN = createPinSet(ROLE_ADMIN);

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/**
 * The length check of a new admin key. GIDS admin keys are 3DES: no public source (the GIDS specification text,
 * OpenSC's card-gids.c and gids-tool, GidsApplet) defines how an AES admin key is referenced or authenticated,
 * so an AES-sized key is SCARD_E_UNSUPPORTED_FEATURE rather than a guess.
 */
export function requireAdminKeyLength(length: number): void {
  if (AES_ONLY_KEY_LENGTHS.has(length)) {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      'AES admin keys are not supported on GIDS: no public GIDS source defines their algorithm reference or protocol; use a 24-byte 3DES key',
    );
  }
  if (length !== ADMIN_KEY_LENGTH) invalid('the new admin key must be 24 bytes (3DES)');
}

/** The PINs of one GIDS context. */
export class GidsAuthentication implements KitPinEntryPoints {
  readonly #app: GidsApplication;
  #authenticated: PinSet = 0;

  constructor(app: GidsApplication) {
    this.#app = app;
  }

  /** CP_CARD_AUTHENTICATED_STATE. */
  get authenticated(): PinSet {
    return this.#authenticated;
  }

  /** CardGetChallengeEx(ROLE_ADMIN): the 40-byte block of a mutual authentication, for the caller to encrypt. */
  async getChallengeEx(pinId: PinId): Promise<Uint8Array> {
    GIDS_PIN_TABLE.role(pinId);
    if (pinId !== ROLE_ADMIN) invalid(`PIN ${pinId} is not a challenge/response PIN`);
    this.#authenticated &= ~ADMIN;
    return this.#app.beginAdminAuthentication();
  }

  async #answerChallenge(response: Uint8Array): Promise<void> {
    this.#authenticated &= ~ADMIN;
    if (!this.#app.adminAuthenticationPending) {
      throw new ScardError('SCARD_W_WRONG_CHV', 'no challenge is outstanding: call CardGetChallenge first');
    }
    await this.#app.completeAdminAuthentication(response);
    this.#authenticated |= ADMIN;
  }

  /** CardAuthenticateEx: the user PIN (VERIFY) or the admin key's response to the outstanding challenge. */
  async authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined): Promise<AuthenticateExResult> {
    requireNoSessionPin(flags);
    if (pinData === undefined) invalid('PIN data is required');
    GIDS_PIN_TABLE.role(pinId);
    if (pinId === ROLE_ADMIN) {
      await this.#answerChallenge(pinData);
      return {};
    }
    this.#authenticated &= ~USER;
    await this.#app.verifyPin(pinData);
    this.#authenticated |= USER;
    return {};
  }

  /**
   * CardChangeAuthenticatorEx: the user changes the PIN; the admin key unblocks the PIN (RESET RETRY COUNTER)
   * or replaces itself (PUT KEY).
   */
  async changeAuthenticatorEx(request: ChangeAuthenticatorRequest): Promise<void> {
    requireNoRetryCountChange(request.retryCount);
    const { targetPinId: target, authenticatingPinId: source } = request;
    GIDS_PIN_TABLE.role(target);
    GIDS_PIN_TABLE.role(source);
    if (request.operation === 'unblock') {
      if (target !== ROLE_USER) invalid('only the user PIN can be unblocked');
      if (source !== ROLE_ADMIN)
        throw new ScardError('SCARD_W_SECURITY_VIOLATION', 'only the admin key unblocks the GIDS PIN');
      await this.#answerChallenge(request.authenticatingData);
      await this.#app.resetPin(request.targetData);
      // The card forgets the admin after RESET RETRY COUNTER. The new PIN is verified at once so the user is
      // logged in with it, as after a PIN change — and cardcf (user-writable) can record the change.
      this.#authenticated = 0;
      await this.#app.verifyPin(request.targetData);
      this.#authenticated = USER;
      return;
    }
    if (source !== target)
      throw new ScardError('SCARD_W_SECURITY_VIOLATION', `PIN ${source} cannot change PIN ${target}`);
    if (target === ROLE_USER) {
      await this.#app.changePin(request.authenticatingData, request.targetData);
      this.#authenticated |= USER;
      return;
    }
    requireAdminKeyLength(request.targetData.length);
    await this.#answerChallenge(request.authenticatingData);
    await this.#app.setAdminKey(request.targetData);
  }

  /** CardDeauthenticateEx: VERIFY 82 logs out both roles, so the admin alone cannot be logged out. */
  async deauthenticateEx(pinSet: PinSet): Promise<void> {
    const wanted = pinSet & GIDS_PIN_TABLE.pinList;
    if (wanted === 0) return;
    if ((wanted & USER) === 0 && (this.#authenticated & USER) !== 0) {
      throw new ScardError(
        'SCARD_E_UNSUPPORTED_FEATURE',
        'GIDS cannot log out the admin key while keeping the PIN verified (VERIFY 82 drops both)',
      );
    }
    await this.#app.deauthenticateAll();
    this.#app.forgetAdminChallenge();
    this.#authenticated = 0;
  }

  /** CP_PIN_RETRIES_LEFT: the PIN's counter; the admin key has none the card reports. */
  async pinRetriesLeft(pinId: number): Promise<number> {
    return pinId === ROLE_USER ? (await this.#app.pinStatus()).triesLeft : CARD_DATA_VALUE_UNKNOWN;
  }

  /** Forgets a pending admin challenge (CardDeleteContext). */
  forgetPending(): void {
    this.#app.forgetAdminChallenge();
  }
}
