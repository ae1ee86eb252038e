/**
 * The container entry points of CardSession (docs/spec/minidriver.md §5.4): arguments checked, the
 * version 4 CardCreateContainer served from CardCreateContainerEx, the containers counter bumped after changes.
 *
 * @packageDocumentation
 */
import { encodeContainerProperty } from '@minidriver/card-kit';
import type { ContainerInfo } from '@minidriver/spec';
import {
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  type PinId,
  ROLE_USER,
  StructureVersion,
  wipe,
} from '@minidriver/spec';
import { resolveStructureVersion } from './negotiate.js';
import { checkContainerIndex, checkDword, checkZeroFlags } from './parameters.js';
import { checkContainerProperty, checkSetContainerProperty } from './property-rules.js';
import { checkCreateContainer, fitBuffer } from './request-checks.js';
import { containerInfoOf, containerPropertyOf, type SessionCore } from './session-core.js';
import { createContainerV4 } from './v4-adapters.js';

/**
 * CardCreateContainer: `flags` CARD_CREATE_CONTAINER_KEY_GEN (with `keySize` bits for RSA, 0 for ECC) or
 * CARD_CREATE_CONTAINER_KEY_IMPORT (with `keyData`). The key is bound to ROLE_USER. Bumps containers.
 */
export function createContainer(
  core: SessionCore,
  index: number,
  flags: number,
  keySpec: number,
  keySize: number,
  keyData?: Uint8Array,
): Promise<void> {
  return core.pipeline.call(
    'createContainer',
    () => checkCreateContainer(index, flags, keySpec, keySize, keyData, ROLE_USER),
    async (minidriver, args) => {
      try {
        await createContainerV4(minidriver, args.index, args.request);
      } finally {
        wipe(args.request.keyData);
      }
      await core.caches.bump('containers');
    },
    { checkSlot: false },
  );
}

/** CardCreateContainerEx: as {@link createContainer}, binding the key to `pinId` (1..7). */
export function createContainerEx(
  core: SessionCore,
  index: number,
  flags: number,
  keySpec: number,
  keySize: number,
  keyData: Uint8Array | undefined,
  pinId: PinId,
): Promise<void> {
  return core.pipeline.call(
    'createContainerEx',
    () => checkCreateContainer(index, flags, keySpec, keySize, keyData, pinId),
    async (minidriver, args) => {
      try {
        await minidriver.createContainerEx!(args.index, args.request);
      } finally {
        wipe(args.request.keyData);
      }
      await core.caches.bump('containers');
    },
  );
}

/** CardDeleteContainer: `reserved` must be 0; an empty index succeeds. Bumps containers. */
export function deleteContainer(core: SessionCore, index: number, reserved = 0): Promise<void> {
  return core.pipeline.call(
    'deleteContainer',
    () => {
      const checked = checkContainerIndex(index);
      checkZeroFlags(reserved, 'dwReserved');
      return checked;
    },
    async (minidriver, checked) => {
      await minidriver.deleteContainer!(checked);
      await core.caches.bump('containers');
    },
  );
}

/** CardGetContainerInfo: the container's public key BLOBs (cached; copies). */
export function getContainerInfo(
  core: SessionCore,
  index: number,
  flags = 0,
  structureVersion = 1,
): Promise<ContainerInfo & { version: 1 }> {
  return core.pipeline.call(
    'getContainerInfo',
    () => {
      const checked = checkContainerIndex(index);
      checkZeroFlags(flags);
      resolveStructureVersion('CONTAINER_INFO', structureVersion, StructureVersion.CONTAINER_INFO);
      return checked;
    },
    async (minidriver, checked) => ({ ...(await containerInfoOf(core, minidriver, checked)), version: 1 as const }),
    { checkSlot: false },
  );
}

/** CardGetContainerProperty: CCP_CONTAINER_INFO, CCP_PIN_IDENTIFIER, CCP_ASSOCIATED_ECDH_KEY (cached). */
export function getContainerProperty<K extends ContainerPropertyName>(
  core: SessionCore,
  index: number,
  name: K,
  flags = 0,
): Promise<ContainerPropertyTypes[K]> {
  return core.pipeline.call(
    'getContainerProperty',
    () => ({ index: checkContainerIndex(index), name: checkContainerProperty(name, flags) as K }),
    (minidriver, args) => containerPropertyOf(core, minidriver, args.index, args.name),
    { checkSlot: false },
  );
}

/**
 * CardGetContainerProperty with the spec's byte layout (`encodeContainerProperty`). A `bufferSize`
 * smaller than the value → {@link InsufficientBufferError} (ERROR_INSUFFICIENT_BUFFER, `requiredSize`).
 */
export function getContainerPropertyBytes(
  core: SessionCore,
  index: number,
  name: ContainerPropertyName,
  flags = 0,
  bufferSize?: number,
): Promise<Uint8Array> {
  return core.pipeline.call(
    'getContainerProperty',
    () => {
      const args = { index: checkContainerIndex(index), name: checkContainerProperty(name, flags) };
      if (bufferSize !== undefined) checkDword(bufferSize, 'cbData');
      return args;
    },
    async (minidriver, args) => {
      const value = await containerPropertyOf(core, minidriver, args.index, args.name);
      return fitBuffer(encodeContainerProperty(args.name, value), bufferSize);
    },
    { checkSlot: false },
  );
}

/** CardSetContainerProperty: CCP_PIN_IDENTIFIER or CCP_ASSOCIATED_ECDH_KEY. Bumps containers. */
export function setContainerProperty<K extends ContainerPropertyName>(
  core: SessionCore,
  index: number,
  name: K,
  value: ContainerPropertyTypes[K],
  flags = 0,
): Promise<void> {
  return core.pipeline.call(
    'setContainerProperty',
    () => ({ index: checkContainerIndex(index), name: checkSetContainerProperty(name, value, flags) as K }),
    async (minidriver, args) => {
      await minidriver.setContainerProperty!(args.index, args.name, value);
      await core.caches.bump('containers');
    },
  );
}
