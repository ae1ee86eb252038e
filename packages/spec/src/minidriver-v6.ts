/**
 * Entry points added by CARD_DATA version 6 (docs/spec/minidriver.md §3.1 slots 45-52): PIN ids, session PINs, properties.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import type { PinId, PinSet } from './constants.js';
import type { MinidriverV5 } from './minidriver-v5.js';
import type {
  CardPropertyName,
  CardPropertyTypes,
  ContainerPropertyName,
  ContainerPropertyTypes,
} from './properties.js';
import type { AuthenticateExResult, ChangeAuthenticatorRequest } from './structures.js';

export interface MinidriverV6 extends MinidriverV5 {
  /** CardGetChallengeEx: challenge for a challenge/response PIN (normally ROLE_ADMIN). */
  getChallengeEx?(pinId: PinId): Promise<Uint8Array>;
  /**
   * CardAuthenticateEx. `flags` holds CARD_AUTHENTICATE_GENERATE_SESSION_PIN, CARD_AUTHENTICATE_SESSION_PIN
   * and CARD_PIN_SILENT_CONTEXT bits (validated). `pinData` is undefined for an external PIN (PIN pad).
   */
  authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined): Promise<AuthenticateExResult>;
  /** CardChangeAuthenticatorEx: change or unblock a PIN. */
  changeAuthenticatorEx?(request: ChangeAuthenticatorRequest): Promise<void>;
  /**
   * CardDeauthenticateEx: mandatory slot; a plugin that cannot undo authentication without a reset throws
   * SCARD_E_UNSUPPORTED_FEATURE and the session resets the card.
   */
  deauthenticateEx(pinSet: PinSet): Promise<void>;
  /** CardGetContainerProperty. */
  getContainerProperty<K extends ContainerPropertyName>(
    containerIndex: number,
    name: K,
  ): Promise<ContainerPropertyTypes[K]>;
  /** CardSetContainerProperty. */
  setContainerProperty?<K extends ContainerPropertyName>(
    containerIndex: number,
    name: K,
    value: ContainerPropertyTypes[K],
  ): Promise<void>;
  /** CardGetProperty; `flags` carries a PIN id or key spec for the properties that take one. */
  getProperty<K extends CardPropertyName>(name: K, flags: number): Promise<CardPropertyTypes[K]>;
  /** CardSetProperty. */
  setProperty<K extends CardPropertyName>(name: K, value: CardPropertyTypes[K], flags: number): Promise<void>;
}
