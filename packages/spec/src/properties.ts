/**
 * Card and container properties (docs/spec/minidriver.md §7): names as the spec spells them, and the value type of each.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import type { CacheMode, PinId, PinSet } from './constants.js';
import type { CardCapabilities, CardFreeSpaceInfo, CardKeySizes, ContainerInfo, PinInfo } from './structures.js';

/** Card property names (`CP_*`), exactly as the spec's wide strings. */
export const CardProperty = {
  CP_CARD_FREE_SPACE: 'Free Space',
  CP_CARD_CAPABILITIES: 'Capabilities',
  CP_CARD_KEYSIZES: 'Key Sizes',
  CP_CARD_READ_ONLY: 'Read Only Mode',
  CP_CARD_CACHE_MODE: 'Cache Mode',
  CP_SUPPORTS_WIN_X509_ENROLLMENT: 'Supports Windows x.509 Enrollment',
  CP_CARD_GUID: 'Card Identifier',
  CP_CARD_SERIAL_NO: 'Card Serial Number',
  CP_CARD_PIN_INFO: 'PIN Information',
  CP_CARD_LIST_PINS: 'PIN List',
  CP_CARD_AUTHENTICATED_STATE: 'Authenticated State',
  CP_CARD_PIN_STRENGTH_VERIFY: 'PIN Strength Verify',
  CP_CARD_PIN_STRENGTH_CHANGE: 'PIN Strength Change',
  CP_CARD_PIN_STRENGTH_UNBLOCK: 'PIN Strength Unblock',
  CP_PARENT_WINDOW: 'Parent Window',
  CP_PIN_CONTEXT_STRING: 'PIN Context String',
  CP_KEY_IMPORT_SUPPORT: 'Key Import Support',
  CP_ENUM_ALGORITHMS: 'Algorithms',
  CP_PADDING_SCHEMES: 'Padding Schemes',
  CP_CHAINING_MODES: 'Chaining Modes',
  /**
   * Our vendor extension (docs/spec/minidriver.md §5.7 "Vendors may add custom properties"), read-only: the tries a PIN has left
   * (flags = PIN id), asked without spending one. CARD_DATA_VALUE_UNKNOWN (0xFFFFFFFF) when the card
   * cannot tell. Lets applications read retry counters without card-specific APDUs.
   */
  CP_PIN_RETRIES_LEFT: 'minidriver:PIN Retries Left',
  /**
   * Our vendor extension, read-only, flags 0: why the card answers the CP_CARD_CACHE_MODE it does, in words for
   * people (e.g. that its cardcf cannot be written by the user, so it cannot run GLOBAL). A plugin without a
   * reason answers SCARD_E_UNSUPPORTED_FEATURE.
   */
  CP_CACHE_MODE_REASON: 'minidriver:Cache Mode Reason',
} as const;

/** The value type of each card property. `flags` of getProperty carries a PIN id or key spec where noted. */
export interface CardPropertyTypes {
  'Free Space': CardFreeSpaceInfo;
  Capabilities: CardCapabilities;
  /** flags = key spec. */
  'Key Sizes': CardKeySizes;
  'Read Only Mode': boolean;
  'Cache Mode': CacheMode;
  'Supports Windows x.509 Enrollment': boolean;
  /** 16 bytes, the same as the cardid file. */
  'Card Identifier': Uint8Array;
  'Card Serial Number': Uint8Array;
  /** flags = PIN id. */
  'PIN Information': PinInfo;
  'PIN List': PinSet;
  'Authenticated State': PinSet;
  /** flags = PIN id. */
  'PIN Strength Verify': number;
  /** flags = PIN id. */
  'PIN Strength Change': number;
  /** flags = PIN id. */
  'PIN Strength Unblock': number;
  /** Write-only: an HWND (0 = none). */
  'Parent Window': bigint;
  /** Write-only. */
  'PIN Context String': string;
  'Key Import Support': number;
  /** flags = CARD_CIPHER_OPERATION or CARD_ASYMMETRIC_OPERATION. */
  Algorithms: string[];
  /** flags = CARD_CIPHER_OPERATION or CARD_ASYMMETRIC_OPERATION. */
  'Padding Schemes': number;
  'Chaining Modes': string[];
  /**
   * Vendor extension, read-only. flags = PIN id; a DWORD: tries left, or CARD_DATA_VALUE_UNKNOWN
   * (0xFFFFFFFF) when the card cannot tell without spending a try.
   */
  'minidriver:PIN Retries Left': number;
  /** Vendor extension, read-only, flags 0: the plugin's reason for its CP_CARD_CACHE_MODE. */
  'minidriver:Cache Mode Reason': string;
}

/** A card property name. */
export type CardPropertyName = keyof CardPropertyTypes;

/** Container property names (`CCP_*`). */
export const ContainerProperty = {
  CCP_CONTAINER_INFO: 'Container Info',
  CCP_PIN_IDENTIFIER: 'PIN Identifier',
  CCP_ASSOCIATED_ECDH_KEY: 'Associated ECDH Key',
} as const;

/** The value type of each container property. */
export interface ContainerPropertyTypes {
  'Container Info': ContainerInfo;
  'PIN Identifier': PinId;
  /** Container index of the ECDH key paired with this ECDSA container. */
  'Associated ECDH Key': number;
}

/** A container property name. */
export type ContainerPropertyName = keyof ContainerPropertyTypes;

/** Key properties of secure key injection (docs/spec/minidriver.md §7.3). */
export const KeyProperty = {
  CKP_CHAINING_MODE: 'ChainingMode',
  CKP_INITIALIZATION_VECTOR: 'IV',
  CKP_BLOCK_LENGTH: 'BlockLength',
} as const;

/** Names of the secure functions of MDEncryptData / CardProcessEncryptedData. */
export const SecureFunction = {
  CSF_IMPORT_KEYPAIR: 'Import Key Pair',
  CSF_CHANGE_AUTHENTICATOR: 'Change Authenticator',
  CSF_AUTHENTICATE: 'Authenticate',
} as const;
