/**
 * The card property entry points of CardSession (docs/spec/minidriver.md §5.7, §7.1): names and flags
 * checked by the property rules, values copied, byte forms sized for the caller's buffer.
 *
 * @packageDocumentation
 */
import { encodeCardProperty } from '@minidriver/card-kit';
import type { CardPropertyName, CardPropertyTypes } from '@minidriver/spec';
import { cloneValue } from './data-cache.js';
import { checkDword } from './parameters.js';
import { checkGetProperty, checkSetProperty } from './property-rules.js';
import { fitBuffer } from './request-checks.js';
import type { SessionCore } from './session-core.js';

/** CardGetProperty: `flags` is a key spec, PIN id or operation class for the properties that take one, else 0. */
export function getProperty<K extends CardPropertyName>(
  core: SessionCore,
  name: K,
  flags = 0,
): Promise<CardPropertyTypes[K]> {
  return core.pipeline.call(
    'getProperty',
    () => checkGetProperty(name, flags) as K,
    async (minidriver, checked) => cloneValue(await minidriver.getProperty(checked, flags)),
    { checkSlot: false },
  );
}

/**
 * CardGetProperty with the spec's byte layout (`encodeCardProperty`): e.g. a DWORD as 4 bytes
 * little-endian. A `bufferSize` smaller than the value → {@link InsufficientBufferError}
 * (ERROR_INSUFFICIENT_BUFFER, `requiredSize` = what `*pdwDataLen` receives).
 */
export function getPropertyBytes(
  core: SessionCore,
  name: CardPropertyName,
  flags = 0,
  bufferSize?: number,
): Promise<Uint8Array> {
  return core.pipeline.call(
    'getProperty',
    () => {
      const checked = checkGetProperty(name, flags);
      if (bufferSize !== undefined) checkDword(bufferSize, 'cbData');
      return checked;
    },
    async (minidriver, checked) =>
      fitBuffer(encodeCardProperty(checked, await minidriver.getProperty(checked, flags)), bufferSize),
    { checkSlot: false },
  );
}

/** CardSetProperty: only the settable properties of docs/spec/minidriver.md §7.1 (others → SCARD_E_UNSUPPORTED_FEATURE). */
export function setProperty<K extends CardPropertyName>(
  core: SessionCore,
  name: K,
  value: CardPropertyTypes[K],
  flags = 0,
): Promise<void> {
  return core.pipeline.call(
    'setProperty',
    () => checkSetProperty(name, value, flags) as K,
    async (minidriver, checked) => {
      await minidriver.setProperty(checked, cloneValue(value), flags);
    },
    { checkSlot: false },
  );
}
