/**
 * PINs of the OpenPGP plugin (docs/spec/openpgp.md §6.2): ROLE_USER = PW1 (VERIFY 82 and 81), ROLE_ADMIN =
 * PW3 (83), the signature PIN = PW1 as 81 alone (always-prompt when C4 byte 1 says one signature per
 * VERIFY), and the unblock-only PIN = the Resetting Code. CardAuthenticateEx, CardChangeAuthenticatorEx,
 * CardDeauthenticateEx and the authenticated state; the version 4 forms are served by the session.
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
import type { OpenPgpApplication } from './openpgp-application.js';
import { PasswordReference } from './openpgp-commands.js';

/** The Resetting Code's PIN id (the kit's unblock-only PIN). */
export const RESETTING_CODE_PIN_ID: typeof UNBLOCK_PIN_ID = UNBLOCK_PIN_ID;

const OPENPGP_PINS: readonly PinRole[] = [
  {
    id: ROLE_USER,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.PrimaryCardPin,
    changedBy: [ROLE_USER],
    unblockedBy: [ROLE_ADMIN, RESETTING_CODE_PIN_ID],
  },
  {
    id: ROLE_ADMIN,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.AdministratorPin,
    changedBy: [ROLE_ADMIN],
    unblockedBy: [],
  },
  {
    id: RESETTING_CODE_PIN_ID,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.UnblockOnlyPin,
    changedBy: [ROLE_ADMIN],
    unblockedBy: [],
    cachePolicy: PinCachePolicyType.PinCacheNone,
  },
  {
    id: SIGNATURE_PIN_ID,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.DigitalSignaturePin,
    changedBy: [ROLE_USER, SIGNATURE_PIN_ID],
    unblockedBy: [ROLE_ADMIN, RESETTING_CODE_PIN_ID],
  },
];

/** The OpenPGP PIN table: user 1 (PW1), admin 2 (PW3), Resetting Code 3, signature PIN 4. */
export const OPENPGP_PIN_TABLE = new PinRoleTable(OPENPGP_PINS);

function unsupported(feature: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `OpenPGP: ${feature} is not supported`);
}

/** PINs and their state on one OpenPGP card context. */
export class OpenPgpAuthentication {
  readonly #app: OpenPgpApplication;
  /** The card wants KDF-hashed PINs (KDF-DO F9), which this plugin does not compute. */
  readonly #pinKdfActive: boolean;

  constructor(app: OpenPgpApplication, pinKdfActive: boolean) {
    this.#app = app;
    this.#pinKdfActive = pinKdfActive;
  }

  /**
   * ROLE_USER verifies PW1 for both of its access states (82, then 81) so that one PIN entry allows
   * decryption, authentication and the next signature; a wrong PIN fails at the first VERIFY and spends
   * one try only. The signature PIN verifies 81 alone, right before a signature.
   */
  async authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined): Promise<AuthenticateExResult> {
    requireNoSessionPin(flags);
    OPENPGP_PIN_TABLE.role(pinId);
    if (pinData === undefined) unsupported('external PIN entry');
    // Sending the plain PIN to a KDF card would spend a try for nothing.
    if (this.#pinKdfActive) unsupported('PINs hashed with the KDF-DO (F9)');
    switch (pinId) {
      case ROLE_USER:
        await this.#app.verifyPin(PasswordReference.otherPw1, pinData);
        await this.#app.verifyPin(PasswordReference.signaturePw1, pinData);
        break;
      case ROLE_ADMIN:
        await this.#app.verifyPin(PasswordReference.pw3, pinData);
        break;
      case SIGNATURE_PIN_ID:
        await this.#app.verifyPin(PasswordReference.signaturePw1, pinData);
        break;
      default:
        unsupported('authenticating with the Resetting Code (it only unblocks PW1)');
    }
    return {};
  }

  async changeAuthenticatorEx(request: ChangeAuthenticatorRequest): Promise<void> {
    requireNoRetryCountChange(request.retryCount);
    const by = OPENPGP_PIN_TABLE.role(request.authenticatingPinId).id;
    const target = OPENPGP_PIN_TABLE.role(request.targetPinId).id;
    const targetIsPw1 = target === ROLE_USER || target === SIGNATURE_PIN_ID;
    if (request.operation === 'change') {
      if (targetIsPw1 && (by === target || by === ROLE_USER)) {
        return this.#app.changePin(0x81, request.authenticatingData, request.targetData);
      }
      if (target === ROLE_ADMIN && by === ROLE_ADMIN) {
        return this.#app.changePin(0x83, request.authenticatingData, request.targetData);
      }
      if (target === RESETTING_CODE_PIN_ID && by === ROLE_ADMIN) {
        await this.#app.verifyPin(PasswordReference.pw3, request.authenticatingData);
        return this.#app.writeResettingCode(request.targetData);
      }
    } else if (targetIsPw1) {
      if (by === ROLE_ADMIN) {
        await this.#app.verifyPin(PasswordReference.pw3, request.authenticatingData);
        return this.#app.resetPinAsAdmin(request.targetData);
      }
      if (by === RESETTING_CODE_PIN_ID) {
        return this.#app.resetPinWithResettingCode(request.authenticatingData, request.targetData);
      }
    }
    throw new ScardError('SCARD_W_SECURITY_VIOLATION', `OpenPGP: PIN ${by} cannot ${request.operation} PIN ${target}`);
  }

  /** VERIFY P1 FF per reference; cards before 3.1 answer SCARD_E_UNSUPPORTED_FEATURE and the session resets. */
  async deauthenticateEx(pinSet: PinSet): Promise<void> {
    if (pinSet & createPinSet(ROLE_USER)) {
      await this.#app.resetVerification(PasswordReference.otherPw1);
      await this.#app.resetVerification(PasswordReference.signaturePw1);
    }
    if (pinSet & createPinSet(SIGNATURE_PIN_ID)) await this.#app.resetVerification(PasswordReference.signaturePw1);
    if (pinSet & createPinSet(ROLE_ADMIN)) await this.#app.resetVerification(PasswordReference.pw3);
  }

  /** The PINs whose access state the card reports as granted (empty VERIFY, v3). */
  async authenticatedState(): Promise<PinSet> {
    let set = 0;
    if (await this.#app.isVerified(PasswordReference.otherPw1)) set |= createPinSet(ROLE_USER);
    if (await this.#app.isVerified(PasswordReference.signaturePw1)) set |= createPinSet(SIGNATURE_PIN_ID);
    if (await this.#app.isVerified(PasswordReference.pw3)) set |= createPinSet(ROLE_ADMIN);
    return set;
  }

  /** The signature PIN is always-prompt when the card allows one signature per VERIFY (C4 byte 1). */
  async cachePolicy(pinId: number): Promise<PinCachePolicyType | undefined> {
    if (pinId !== SIGNATURE_PIN_ID) return undefined;
    const status = await this.#app.readPasswordStatus();
    return status.signaturePinOncePerSignature
      ? PinCachePolicyType.PinCacheAlwaysPrompt
      : PinCachePolicyType.PinCacheNormal;
  }

  /**
   * Our vendor property CP_PIN_RETRIES_LEFT from the PW status bytes C4 (bytes 5-7, which GET DATA reads
   * without spending a try): PW1 for the user and signature PINs, PW3 for the admin, the Resetting Code's
   * own counter (0 also when no Resetting Code is set).
   */
  async pinRetriesLeft(pinId: number): Promise<number> {
    const status = await this.#app.readPasswordStatus();
    if (pinId === ROLE_ADMIN) return status.retriesPw3;
    if (pinId === RESETTING_CODE_PIN_ID) return status.retriesResetCode;
    return status.retriesPw1;
  }
}
