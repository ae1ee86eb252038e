/**
 * The rules of CardGetProperty / CardSetProperty and the container property calls (docs/spec/minidriver.md §5.4.5-6,
 * docs/spec/minidriver.md §5.7, §7): known names, what `dwFlags` means for each, which ones may be set.
 *
 * @packageDocumentation
 */
import {
  CacheMode,
  CardProperty,
  type CardPropertyName,
  ContainerProperty,
  type ContainerPropertyName,
  isKeySpec,
  isPinId,
  ScardError,
} from '@minidriver/spec';

const CARD_PROPERTY_NAMES: ReadonlySet<string> = new Set(Object.values(CardProperty));
const CONTAINER_PROPERTY_NAMES: ReadonlySet<string> = new Set(Object.values(ContainerProperty));

/** Properties whose dwFlags carries a PIN id. */
const PIN_ID_FLAG_PROPERTIES: ReadonlySet<string> = new Set([
  CardProperty.CP_CARD_PIN_INFO,
  CardProperty.CP_CARD_PIN_STRENGTH_VERIFY,
  CardProperty.CP_CARD_PIN_STRENGTH_CHANGE,
  CardProperty.CP_CARD_PIN_STRENGTH_UNBLOCK,
  CardProperty.CP_PIN_RETRIES_LEFT,
]);
/** Properties whose dwFlags is CARD_CIPHER_OPERATION (1) or CARD_ASYMMETRIC_OPERATION (2). */
const OPERATION_FLAG_PROPERTIES: ReadonlySet<string> = new Set([
  CardProperty.CP_ENUM_ALGORITHMS,
  CardProperty.CP_PADDING_SCHEMES,
]);
/** Write-only properties: reading them is SCARD_E_INVALID_PARAMETER (docs/spec/minidriver.md §7.1). */
const WRITE_ONLY_PROPERTIES: ReadonlySet<string> = new Set([
  CardProperty.CP_PARENT_WINDOW,
  CardProperty.CP_PIN_CONTEXT_STRING,
]);
/** Properties a caller may set (docs/spec/minidriver.md §7.1 "Set RW"); the others are SCARD_E_UNSUPPORTED_FEATURE. */
const SETTABLE_PROPERTIES: ReadonlySet<string> = new Set([
  CardProperty.CP_CARD_READ_ONLY,
  CardProperty.CP_CARD_CACHE_MODE,
  CardProperty.CP_SUPPORTS_WIN_X509_ENROLLMENT,
  CardProperty.CP_CARD_GUID,
  CardProperty.CP_CARD_SERIAL_NO,
  CardProperty.CP_CARD_PIN_INFO,
  CardProperty.CP_PARENT_WINDOW,
  CardProperty.CP_PIN_CONTEXT_STRING,
]);

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

function checkCardPropertyName(name: unknown): CardPropertyName {
  if (typeof name !== 'string' || !CARD_PROPERTY_NAMES.has(name)) invalid(`unknown card property "${String(name)}"`);
  return name as CardPropertyName;
}

function checkPropertyFlags(name: CardPropertyName, flags: unknown): number {
  if (typeof flags !== 'number' || !Number.isInteger(flags)) invalid(`dwFlags of "${name}" is not a DWORD`);
  if (name === CardProperty.CP_CARD_KEYSIZES) {
    if (!isKeySpec(flags)) invalid(`dwFlags ${flags} of "${name}" is not an AT_* key spec`);
  } else if (PIN_ID_FLAG_PROPERTIES.has(name)) {
    if (!isPinId(flags)) invalid(`dwFlags ${flags} of "${name}" is not a PIN id 0..7`);
  } else if (OPERATION_FLAG_PROPERTIES.has(name)) {
    if (flags !== 1 && flags !== 2) invalid(`dwFlags ${flags} of "${name}" is not 1 or 2`);
  } else if (flags !== 0) {
    invalid(`dwFlags of "${name}" must be 0`);
  }
  return flags;
}

/** CardGetProperty: a known, readable name and the flags it allows. */
export function checkGetProperty(name: unknown, flags: unknown): CardPropertyName {
  const checked = checkCardPropertyName(name);
  if (WRITE_ONLY_PROPERTIES.has(checked)) invalid(`"${checked}" is write-only`);
  checkPropertyFlags(checked, flags);
  return checked;
}

/**
 * CardSetProperty: a known, settable name, its flags, and a value of the right type. A property name the
 * card does not know is SCARD_E_UNSUPPORTED_FEATURE (cardmod.h CardSetProperty; docs/spec/minidriver.md
 * docs/spec/minidriver.md §5.7: the specification's "unsupported property"), not SCARD_E_INVALID_PARAMETER.
 */
export function checkSetProperty(name: unknown, value: unknown, flags: unknown): CardPropertyName {
  if (typeof name !== 'string') invalid('the property name is missing');
  if (!CARD_PROPERTY_NAMES.has(name)) {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `unknown card property "${name}" cannot be set`);
  }
  const checked = name as CardPropertyName;
  if (!SETTABLE_PROPERTIES.has(checked)) {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `"${checked}" cannot be set`);
  }
  if (checked === CardProperty.CP_CARD_PIN_INFO) checkPropertyFlags(checked, flags);
  else if (flags !== 0) invalid(`dwFlags of "${checked}" must be 0`);
  if (value === null || value === undefined) invalid(`a value for "${checked}" is missing`);
  switch (checked) {
    case CardProperty.CP_PARENT_WINDOW:
      if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n) {
        invalid('CP_PARENT_WINDOW needs an HWND (a bigint 0..2^64-1)');
      }
      break;
    case CardProperty.CP_PIN_CONTEXT_STRING:
      if (typeof value !== 'string') invalid('CP_PIN_CONTEXT_STRING needs a string');
      break;
    case CardProperty.CP_CARD_CACHE_MODE:
      if (!Object.values(CacheMode).includes(value as CacheMode)) invalid(`cache mode ${String(value)} is not 1..3`);
      break;
    case CardProperty.CP_CARD_READ_ONLY:
    case CardProperty.CP_SUPPORTS_WIN_X509_ENROLLMENT:
      if (typeof value !== 'boolean') invalid(`"${checked}" needs a boolean`);
      break;
    case CardProperty.CP_CARD_GUID:
      if (!(value instanceof Uint8Array) || value.length !== 16) invalid('CP_CARD_GUID needs 16 bytes');
      break;
    case CardProperty.CP_CARD_SERIAL_NO:
      if (!(value instanceof Uint8Array) || value.length === 0) invalid('CP_CARD_SERIAL_NO needs bytes');
      break;
    default:
      if (typeof value !== 'object') invalid(`"${checked}" needs a PIN_INFO`);
  }
  return checked;
}

/** Container property calls: a known name, dwFlags 0. */
export function checkContainerProperty(name: unknown, flags: unknown): ContainerPropertyName {
  if (typeof name !== 'string' || !CONTAINER_PROPERTY_NAMES.has(name)) {
    invalid(`unknown container property "${String(name)}"`);
  }
  if (flags !== 0) invalid('dwFlags of a container property must be 0');
  return name as ContainerPropertyName;
}

/** CardSetContainerProperty: CCP_CONTAINER_INFO is read-only; values of the settable ones. */
export function checkSetContainerProperty(name: unknown, value: unknown, flags: unknown): ContainerPropertyName {
  const checked = checkContainerProperty(name, flags);
  if (checked === ContainerProperty.CCP_CONTAINER_INFO) {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `"${checked}" is read-only`);
  }
  if (checked === ContainerProperty.CCP_PIN_IDENTIFIER && (typeof value !== 'number' || !isPinId(value))) {
    invalid('CCP_PIN_IDENTIFIER needs a PIN id 0..7');
  }
  if (
    checked === ContainerProperty.CCP_ASSOCIATED_ECDH_KEY &&
    (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 255)
  ) {
    invalid('CCP_ASSOCIATED_ECDH_KEY needs a container index 0..255');
  }
  return checked;
}
