/**
 * The standard card properties (docs/spec/minidriver.md §7.1) answered from what a plugin knows, so no
 * plugin writes the property switch itself: CardGetProperty and CardSetProperty for cards built on the kit.
 *
 * @packageDocumentation
 */
import {
  type CacheMode,
  type CardCapabilities,
  type CardFreeSpaceInfo,
  type CardKeySizes,
  type CardPropertyName,
  type CardPropertyTypes,
  type PinCachePolicyType,
  type PinSet,
  ScardError,
  type SecretType,
} from '@minidriver/spec';
import type { PinRoleTable } from '../pins/pin-roles.js';

/** What the kit needs to answer the standard card properties. */
export interface StandardPropertySource {
  /** CP_CARD_FREE_SPACE. */
  freeSpace(): Promise<CardFreeSpaceInfo>;
  /** CP_CARD_CAPABILITIES. */
  capabilities(): Promise<CardCapabilities>;
  /** CP_CARD_KEYSIZES (flags = key spec). */
  keySizes(keySpec: number): Promise<CardKeySizes>;
  /** CP_CARD_GUID: the 16-byte card identifier. */
  cardId(): Promise<Uint8Array>;
  /** CP_CARD_SERIAL_NO. */
  serialNumber(): Promise<Uint8Array>;
  /** The PIN table (CP_CARD_LIST_PINS, CP_CARD_PIN_INFO, CP_CARD_PIN_STRENGTH_*). */
  readonly pins: PinRoleTable;
  /** Run-time PIN_INFO facts (PIN-pad entry, one-signature PINs); default none. */
  pinInfoOverride?(pinId: number): Promise<{ type?: SecretType; cachePolicy?: PinCachePolicyType }>;
  /** CP_CARD_AUTHENTICATED_STATE. */
  authenticatedState(): PinSet | Promise<PinSet>;
  /** CP_CARD_CACHE_MODE. */
  readonly cacheMode: CacheMode;
  /** Our vendor property CP_CACHE_MODE_REASON: why the card earns {@link cacheMode}; default none. */
  readonly cacheModeReason?: string;
  /** CP_CARD_READ_ONLY; default false. */
  readonly readOnly?: boolean;
  /** CP_SUPPORTS_WIN_X509_ENROLLMENT; default false. */
  readonly x509Enrollment?: boolean;
  /** CP_KEY_IMPORT_SUPPORT (CARD_KEY_IMPORT_* flags); default 0. */
  readonly keyImportSupport?: number;
  /** Our vendor property CP_PIN_RETRIES_LEFT (flags = PIN id, already checked against the table). */
  pinRetriesLeft?(pinId: number): Promise<number>;
}

/**
 * CardGetProperty for the standard properties. Write-only properties (CP_PARENT_WINDOW,
 * CP_PIN_CONTEXT_STRING) → SCARD_E_INVALID_PARAMETER; properties the card does not have (secure key
 * injection, CP_PIN_RETRIES_LEFT without a source) → SCARD_E_UNSUPPORTED_FEATURE; a PIN id not in the
 * table → SCARD_E_INVALID_PARAMETER.
 */
export async function getStandardProperty<K extends CardPropertyName>(
  source: StandardPropertySource,
  name: K,
  flags: number,
): Promise<CardPropertyTypes[K]> {
  const value = async (): Promise<unknown> => {
    switch (name as CardPropertyName) {
      case 'Free Space':
        return source.freeSpace();
      case 'Capabilities':
        return source.capabilities();
      case 'Key Sizes':
        return source.keySizes(flags);
      case 'Read Only Mode':
        return source.readOnly ?? false;
      case 'Cache Mode':
        return source.cacheMode;
      case 'minidriver:Cache Mode Reason':
        if (source.cacheModeReason === undefined) break;
        return source.cacheModeReason;
      case 'Supports Windows x.509 Enrollment':
        return source.x509Enrollment ?? false;
      case 'Card Identifier':
        return source.cardId();
      case 'Card Serial Number':
        return source.serialNumber();
      case 'PIN Information':
        source.pins.role(flags);
        return source.pins.pinInfo(flags, (await source.pinInfoOverride?.(flags)) ?? {});
      case 'PIN List':
        return source.pins.pinList;
      case 'Authenticated State':
        return source.authenticatedState();
      case 'PIN Strength Verify':
        return source.pins.strength(flags, 'verify');
      case 'PIN Strength Change':
        return source.pins.strength(flags, 'change');
      case 'PIN Strength Unblock':
        return source.pins.strength(flags, 'unblock');
      case 'Key Import Support':
        return source.keyImportSupport ?? 0;
      case 'minidriver:PIN Retries Left':
        source.pins.role(flags);
        if (source.pinRetriesLeft === undefined) break;
        return source.pinRetriesLeft(flags);
      case 'Parent Window':
      case 'PIN Context String':
        throw new ScardError('SCARD_E_INVALID_PARAMETER', `"${name}" is write-only`);
      default:
        break;
    }
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `card property "${name}" is not supported by this card`);
  };
  return (await value()) as CardPropertyTypes[K];
}

/**
 * CardSetProperty for cards built on the kit: CP_PARENT_WINDOW and CP_PIN_CONTEXT_STRING are accepted
 * (the card shows no UI of its own); every other property is SCARD_E_UNSUPPORTED_FEATURE.
 */
export function setStandardProperty(name: CardPropertyName): void {
  if (name === 'Parent Window' || name === 'PIN Context String') return;
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `card property "${name}" cannot be set on this card`);
}

/** The cache modes a card without a stored cardcf may answer (docs/spec/minidriver.md §4.8). */
export type InContextCacheMode = typeof CacheMode.NO_CACHE | typeof CacheMode.SESSION_ONLY;
