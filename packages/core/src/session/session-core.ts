/**
 * What the entry points of a CardSession share: the negotiated version, the call pipeline, the cache
 * coordinator and the authentication state, and the container lookups several entry points need (a
 * container's info and the key of one of its halves, both through the session cache).
 *
 * @packageDocumentation
 */
import { keyBlobInfo } from '@minidriver/card-kit';
import {
  type CardDataVersion,
  type ContainerInfo,
  ContainerProperty,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  isRsaKeySpec,
  KeySpec,
  type Minidriver,
  ScardError,
} from '@minidriver/spec';
import type { AuthState } from './auth-state.js';
import type { CacheCoordinator } from './cache-coordinator.js';
import type { CallPipeline } from './call-pipeline.js';

/** The parts of one session its entry points work with. */
export interface SessionCore {
  readonly version: CardDataVersion;
  readonly pipeline: CallPipeline;
  readonly caches: CacheCoordinator;
  readonly auth: AuthState;
}

/**
 * What a key BLOB the plugin returned holds. A malformed BLOB is the plugin's fault, SCARD_E_UNEXPECTED,
 * never the caller's SCARD_E_INVALID_PARAMETER (docs/spec/minidriver.md §1.5).
 */
function pluginKeyBlobInfo(blob: Uint8Array, index: number): ReturnType<typeof keyBlobInfo> {
  try {
    return keyBlobInfo(blob);
  } catch (error) {
    throw new ScardError('SCARD_E_UNEXPECTED', `the plugin returned a malformed key BLOB for container ${index}`, {
      cause: error,
    });
  }
}

/** CardGetContainerInfo through the session cache. */
export function containerInfoOf(core: SessionCore, minidriver: Minidriver, index: number): Promise<ContainerInfo> {
  return core.caches.cached('container', `info:${index}`, () => minidriver.getContainerInfo(index));
}

/** The public key of the half of a container that `keySpec` names, or SCARD_E_NO_KEY_CONTAINER. */
export async function keyOf(core: SessionCore, minidriver: Minidriver, index: number, keySpec: KeySpec) {
  const info = await containerInfoOf(core, minidriver, index);
  const useSignatureHalf = keySpec === KeySpec.AT_SIGNATURE || isEcdsaKeySpec(keySpec);
  const blob = useSignatureHalf ? info.signaturePublicKey : info.keyExchangePublicKey;
  if (blob === undefined) {
    throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} has no key for key spec ${keySpec}`);
  }
  const key = pluginKeyBlobInfo(blob, index);
  const fits = isRsaKeySpec(keySpec)
    ? key.algorithm === 'RSA'
    : isEcdsaKeySpec(keySpec)
      ? key.algorithm === 'ECDSA'
      : isEcdhKeySpec(keySpec) && key.algorithm === 'ECDH';
  if (!fits) {
    throw new ScardError(
      'SCARD_E_NO_KEY_CONTAINER',
      `container ${index} holds no ${keySpec} key (it has ${key.algorithm})`,
    );
  }
  return key;
}

/** A container property through the session cache (CCP_CONTAINER_INFO is the container info). */
export function containerPropertyOf<K extends ContainerPropertyName>(
  core: SessionCore,
  minidriver: Minidriver,
  index: number,
  name: K,
): Promise<ContainerPropertyTypes[K]> {
  if (name === ContainerProperty.CCP_CONTAINER_INFO) {
    return containerInfoOf(core, minidriver, index) as Promise<ContainerPropertyTypes[K]>;
  }
  return core.caches.cached('container', `property:${index}:${name}`, () =>
    minidriver.getContainerProperty(index, name),
  );
}
