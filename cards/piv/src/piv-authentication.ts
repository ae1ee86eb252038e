/**
 * PINs and the management key of the PIV plugin (docs/spec/piv.md §10.3): the PIN table — ROLE_USER the
 * card PIN 80, ROLE_ADMIN the management key (challenge/response), the PUK 81 (unblock only) and the
 * signature PIN (the same PIN 80 for PIN-always keys) — and CardAuthenticateEx, CardGetChallengeEx,
 * CardChangeAuthenticatorEx, CardDeauthenticateEx and the authenticated state. The version 4 forms are
 * served by the session from these.
 *
 * @packageDocumentation
 */
import {
  type PinRole,
  PinRoleTable,
  requireNoRetryCountChange,
  requireNoSessionPin,
  SIGNATURE_PIN_ID,
  UNBLOCK_PIN_ID,
} from '@minidriver/card-kit';
import {
  type AuthenticateExResult,
  CARD_DATA_VALUE_UNKNOWN,
  type CardContext,
  type ChangeAuthenticatorRequest,
  createPinSet,
  PinCachePolicyType,
  type PinId,
  type PinSet,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
} from '@minidriver/spec';
import { managementBlockLength, managementKeyLength, type PivApplication } from './piv-application.js';
import { PIN_REFERENCE, PUK_REFERENCE } from './piv-commands.js';
import { hasPinPad, verifyPinOnPinPad } from './piv-pin-pad.js';

const PIV_PINS: readonly PinRole[] = [
  {
    id: ROLE_USER,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.PrimaryCardPin,
    changedBy: [ROLE_USER],
    unblockedBy: [UNBLOCK_PIN_ID],
  },
  {
    id: ROLE_ADMIN,
    type: SecretType.ChallengeResponsePinType,
    purpose: SecretPurpose.AdministratorPin,
    changedBy: [ROLE_ADMIN],
    unblockedBy: [],
  },
  {
    id: UNBLOCK_PIN_ID,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.UnblockOnlyPin,
    changedBy: [UNBLOCK_PIN_ID],
    unblockedBy: [],
    cachePolicy: PinCachePolicyType.PinCacheNone,
  },
  {
    id: SIGNATURE_PIN_ID,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.DigitalSignaturePin,
    changedBy: [SIGNATURE_PIN_ID],
    unblockedBy: [UNBLOCK_PIN_ID],
    cachePolicy: PinCachePolicyType.PinCacheAlwaysPrompt,
  },
];

/** The PIV PIN table: user 1, admin 2 (management key), PUK 3, signature PIN 4. */
export const PIV_PIN_TABLE = new PinRoleTable(PIV_PINS);

/** The card PIN's two ids: the user PIN and the signature PIN (PIN 80 for PIN-always keys). */
const CARD_PIN_SET = createPinSet(ROLE_USER, SIGNATURE_PIN_ID);

function isCardPin(id: number): boolean {
  return id === ROLE_USER || id === SIGNATURE_PIN_ID;
}

function unsupported(message: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', message);
}

/** The authentication state of one PIV context and the entry points that change it. */
export class PivAuthentication {
  readonly #context: CardContext;
  readonly #app: PivApplication;
  readonly #hasMetadata: boolean;
  #pendingChallenge: { algorithmId: number; challenge: Uint8Array } | undefined;
  #authenticated: PinSet = 0;

  constructor(context: CardContext, app: PivApplication, hasMetadata: boolean) {
    this.#context = context;
    this.#app = app;
    this.#hasMetadata = hasMetadata;
  }

  /** CP_CARD_AUTHENTICATED_STATE. */
  get authenticated(): PinSet {
    return this.#authenticated;
  }

  /** The signature PIN is spent by a PIN-always operation. */
  spendSignaturePin(): void {
    this.#authenticated &= ~createPinSet(SIGNATURE_PIN_ID);
  }

  /** The card PIN is typed on the reader when it has a PIN pad (docs/spec/minidriver.md §6.3, §6.9). */
  pinType(pinId: number): SecretType | undefined {
    return isCardPin(pinId) && hasPinPad(this.#context.transport) ? SecretType.ExternalPinType : undefined;
  }

  async getChallengeEx(pinId: PinId): Promise<Uint8Array> {
    if (pinId !== ROLE_ADMIN) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `PIN ${pinId} is not a challenge/response PIN`);
    }
    const algorithmId = await this.#app.getManagementKeyAlgorithm();
    if (managementBlockLength(algorithmId) === undefined) unsupported(`management key algorithm ${algorithmId}`);
    const challenge = await this.#app.requestManagementChallenge(algorithmId);
    this.#pendingChallenge = { algorithmId, challenge };
    return new Uint8Array(challenge);
  }

  /** Sends the response to the last challenge; the challenge is used once, whatever the outcome. */
  async #answerChallenge(response: Uint8Array): Promise<void> {
    const pending = this.#pendingChallenge;
    this.#pendingChallenge = undefined;
    if (pending === undefined) {
      throw new ScardError('SCARD_W_WRONG_CHV', 'no challenge is outstanding: call getChallengeEx first');
    }
    if (response.length !== pending.challenge.length) {
      throw new ScardError('SCARD_W_WRONG_CHV', `the response must be ${pending.challenge.length} bytes`);
    }
    this.#authenticated &= ~createPinSet(ROLE_ADMIN);
    await this.#app.answerManagementChallenge(pending.algorithmId, response);
    this.#authenticated |= createPinSet(ROLE_ADMIN);
  }

  async authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined): Promise<AuthenticateExResult> {
    requireNoSessionPin(flags);
    PIV_PIN_TABLE.role(pinId);
    if (pinId === ROLE_ADMIN) {
      if (pinData === undefined) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the management key response is required');
      }
      await this.#answerChallenge(pinData);
      return {};
    }
    if (pinId === UNBLOCK_PIN_ID) unsupported('the PUK only unblocks the PIN (changeAuthenticatorEx)');
    // No PIN data = an external PIN (docs/spec/minidriver.md §5.2.7): typed on the reader's PIN pad when it
    // has one. PIN data given is still verified from the host, PIN pad or not (docs/spec/minidriver.md §5.2.7: it may be ignored).
    const transport = this.#context.transport;
    if (pinData === undefined && !hasPinPad(transport)) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'this reader has no PIN pad: PIN data is required');
    }
    this.#authenticated &= ~CARD_PIN_SET;
    if (pinData === undefined) {
      // CARD_PIN_SILENT_CONTEXT forbids host UI only; the reader's keypad shows its own prompt.
      if (hasPinPad(transport)) await verifyPinOnPinPad(transport);
    } else {
      await this.#app.verifyPin(pinData);
    }
    // Both ids are the card PIN 80; id 4 additionally arms the next PIN-always (9C) operation.
    this.#authenticated |= createPinSet(ROLE_USER, pinId);
    return {};
  }

  async changeAuthenticatorEx(request: ChangeAuthenticatorRequest): Promise<void> {
    requireNoRetryCountChange(request.retryCount);
    const target = PIV_PIN_TABLE.role(request.targetPinId).id;
    const source = PIV_PIN_TABLE.role(request.authenticatingPinId).id;
    if (request.operation === 'unblock') {
      if (!isCardPin(target)) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', `PIN ${target} cannot be unblocked on PIV`);
      }
      if (source !== UNBLOCK_PIN_ID) {
        throw new ScardError('SCARD_W_SECURITY_VIOLATION', 'only the PUK unblocks the PIV PIN');
      }
      await this.#app.unblockPin(request.authenticatingData, request.targetData);
      this.#authenticated &= ~CARD_PIN_SET;
      return;
    }
    const sameSecret = source === target || (isCardPin(source) && isCardPin(target));
    if (!sameSecret) throw new ScardError('SCARD_W_SECURITY_VIOLATION', `PIN ${source} cannot change PIN ${target}`);
    if (isCardPin(target)) {
      await this.#app.changeReference(PIN_REFERENCE, request.authenticatingData, request.targetData);
      this.#authenticated |= createPinSet(ROLE_USER);
      return;
    }
    if (target === UNBLOCK_PIN_ID) {
      await this.#app.changeReference(PUK_REFERENCE, request.authenticatingData, request.targetData);
      return;
    }
    // ROLE_ADMIN: answer the outstanding challenge, then SET MANAGEMENT KEY of the same algorithm.
    const algorithmId = this.#pendingChallenge?.algorithmId;
    if (algorithmId !== undefined && request.targetData.length !== managementKeyLength(algorithmId)) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `the new management key must be ${managementKeyLength(algorithmId)} bytes`,
      );
    }
    await this.#answerChallenge(request.authenticatingData);
    await this.#app.setManagementKey(algorithmId!, request.targetData);
  }

  async deauthenticateEx(pinSet: PinSet): Promise<void> {
    if ((pinSet & createPinSet(ROLE_ADMIN)) !== 0) {
      // PIV cannot drop the management key alone: re-SELECT drops every security status.
      if ((this.#authenticated & CARD_PIN_SET) !== 0 && (pinSet & CARD_PIN_SET) === 0) {
        unsupported('PIV cannot log out the management key while keeping the PIN verified');
      }
      await this.#app.select();
      this.#authenticated = 0;
      this.#pendingChallenge = undefined;
      return;
    }
    if ((pinSet & CARD_PIN_SET) !== 0) {
      await this.#app.logoutPin();
      this.#authenticated &= ~CARD_PIN_SET;
    }
  }

  /** Forgets an outstanding challenge (CardDeleteContext). */
  forgetPending(): void {
    this.#pendingChallenge = undefined;
  }

  /**
   * Our vendor property CP_PIN_RETRIES_LEFT, never spending a try: the card PIN from GET METADATA 80 (5.3+)
   * or an empty VERIFY 80 (63Cx); the PUK from GET METADATA 81 (5.3+ only: older cards have no way to
   * ask); the management key has no retry counter. CARD_DATA_VALUE_UNKNOWN where the card cannot tell.
   */
  async pinRetriesLeft(pinId: number): Promise<number> {
    if (isCardPin(pinId)) return (await this.#app.getPinRetries(PIN_REFERENCE)) ?? CARD_DATA_VALUE_UNKNOWN;
    if (pinId === UNBLOCK_PIN_ID && this.#hasMetadata) {
      return (await this.#app.getPinRetries(PUK_REFERENCE)) ?? CARD_DATA_VALUE_UNKNOWN;
    }
    return CARD_DATA_VALUE_UNKNOWN;
  }
}
