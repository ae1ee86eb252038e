/**
 * A declarative table of a card's PINs (docs/spec/minidriver.md §6): each role's id, type, purpose,
 * who may change or unblock it and its cache policy, from which the kit answers CP_CARD_LIST_PINS,
 * CP_CARD_PIN_INFO and the CP_CARD_PIN_STRENGTH_* properties.
 *
 * @packageDocumentation
 */
import {
  CARD_AUTHENTICATE_GENERATE_SESSION_PIN,
  CARD_AUTHENTICATE_SESSION_PIN,
  CARD_PIN_STRENGTH_PLAINTEXT,
  createPinSet,
  PinCachePolicyType,
  type PinId,
  type PinInfo,
  type PinSet,
  ScardError,
  type SecretPurpose,
  type SecretType,
} from '@minidriver/spec';

/**
 * The PIN id of a signature PIN (a PIN verified right before each signature with its key), for every
 * card built on the kit: one value, so applications need not know the card.
 */
export const SIGNATURE_PIN_ID = 4 as PinId;
/** The PIN id of an unblock-only secret (PIV PUK, OpenPGP Resetting Code), for every card built on the kit. */
export const UNBLOCK_PIN_ID = 3 as PinId;

/** One PIN of a card. */
export interface PinRole {
  readonly id: PinId;
  /** SECRET_TYPE (AlphaNumericPinType, ChallengeResponsePinType, ExternalPinType, ...). */
  readonly type: SecretType;
  /** SECRET_PURPOSE. */
  readonly purpose: SecretPurpose;
  /** The PINs that may change this one (dwChangePermission). */
  readonly changedBy: readonly PinId[];
  /** The PINs that may unblock this one (dwUnblockPermission). */
  readonly unblockedBy: readonly PinId[];
  /** PIN_CACHE_POLICY type; default PinCacheNormal. */
  readonly cachePolicy?: PinCachePolicyType;
  /** PIN_INFO dwFlags (PIN_INFO_REQUIRE_SECURE_ENTRY); default 0. */
  readonly flags?: number;
}

/** The three PIN strength properties. */
export type PinStrengthOperation = 'verify' | 'change' | 'unblock';

/**
 * A card's PIN table. A PIN id not in the table is SCARD_E_INVALID_PARAMETER for every question about it
 * (docs/spec/minidriver.md §5.7.1: "PIN id not present on the card").
 */
export class PinRoleTable {
  readonly #roles: ReadonlyMap<number, PinRole>;
  /** CP_CARD_LIST_PINS. */
  readonly pinList: PinSet;

  constructor(roles: readonly PinRole[]) {
    const map = new Map<number, PinRole>();
    for (const role of roles) {
      if (map.has(role.id)) throw new ScardError('SCARD_E_UNEXPECTED', `PIN ${role.id} is declared twice`);
      map.set(role.id, role);
    }
    this.#roles = map;
    this.pinList = createPinSet(...roles.map((role) => role.id));
  }

  /** True when `pinId` is a PIN of the card. */
  has(pinId: number): pinId is PinId {
    return this.#roles.has(pinId);
  }

  /** The role of `pinId`, or SCARD_E_INVALID_PARAMETER. */
  role(pinId: number): PinRole {
    const role = this.#roles.get(pinId);
    if (role === undefined)
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `PIN ${pinId} does not exist on this card`);
    return role;
  }

  /**
   * CP_CARD_PIN_INFO of `pinId`. `override` carries what the card decides at run time (a PIN typed on a
   * PIN-pad reader is ExternalPinType; a PIN valid for one signature is PinCacheAlwaysPrompt).
   */
  pinInfo(pinId: number, override: { type?: SecretType; cachePolicy?: PinCachePolicyType } = {}): PinInfo {
    const role = this.role(pinId);
    return {
      pinType: override.type ?? role.type,
      purpose: role.purpose,
      changePermission: createPinSet(...role.changedBy),
      unblockPermission: createPinSet(...role.unblockedBy),
      cachePolicy: { type: override.cachePolicy ?? role.cachePolicy ?? PinCachePolicyType.PinCacheNormal, info: 0 },
      flags: role.flags ?? 0,
    };
  }

  /** CP_CARD_PIN_STRENGTH_*: plaintext PINs (no session PINs on cards built on the kit). */
  strength(pinId: number, _operation: PinStrengthOperation): number {
    this.role(pinId);
    return CARD_PIN_STRENGTH_PLAINTEXT;
  }

  /** The ids of the table, in declaration order. */
  ids(): PinId[] {
    return [...this.#roles.keys()] as PinId[];
  }
}

/**
 * The one policy for `cRetryCount` of CardUnblockPin / CardChangeAuthenticator(Ex)
 * (docs/spec/minidriver.md §5.2.4): 0 leaves the retry limit as it is; a card that cannot set a new limit
 * while changing a PIN answers any other value with SCARD_E_UNSUPPORTED_FEATURE.
 */
export function requireNoRetryCountChange(retryCount: number): void {
  if (retryCount !== 0) {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      'this card cannot set a PIN retry limit while changing a PIN (use 0)',
    );
  }
}

/**
 * The one policy for session PINs (docs/spec/minidriver.md §5.2.7): cards built on the kit have none (their
 * PIN strength is plaintext), so CardAuthenticateEx with CARD_AUTHENTICATE_GENERATE_SESSION_PIN or
 * CARD_AUTHENTICATE_SESSION_PIN in `flags` is SCARD_E_UNSUPPORTED_FEATURE.
 */
export function requireNoSessionPin(flags: number): void {
  if ((flags & (CARD_AUTHENTICATE_GENERATE_SESSION_PIN | CARD_AUTHENTICATE_SESSION_PIN)) !== 0) {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'this card has no session PINs');
  }
}
