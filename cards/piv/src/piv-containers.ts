/**
 * Keys of the PIV plugin's containers (docs/spec/piv.md §10.4, §10.5): CardCreateContainerEx (on-card
 * generation or import with the PIN policy the PIN id asks for), CardDeleteContainer (YubiKey 5.7+
 * DELETE KEY), CardGetContainerInfo and the container properties. The version 4 CardCreateContainer is
 * served by the session (ROLE_USER).
 *
 * @packageDocumentation
 */
import { decodeEccPrivateKeyBlob, decodeRsaPrivateKeyBlob, SIGNATURE_PIN_ID } from '@minidriver/card-kit';
import {
  type ContainerInfo,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  type CreateContainerRequest,
  eccKeySpecBits,
  isEcdsaKeySpec,
  isRsaKeySpec,
  KeySpec,
  leftPad,
  type PinId,
  ROLE_ADMIN,
  ROLE_EVERYONE,
  ROLE_USER,
  ScardError,
  wipe,
} from '@minidriver/spec';
import { type PivCardState, versionAtLeast } from './piv-card-state.js';
import { PinPolicy, PivAlgorithmId, TAG_PIN_POLICY } from './piv-commands.js';
import { publicKeyBlob } from './piv-keys.js';
import { algorithmIdOfKey, type PivPublicKey } from './piv-objects.js';
import { defaultPinIdOfSlot, keyHalfOfSlot, PIV_CONTAINER_COUNT, slotName, slotOfContainer } from './piv-slots.js';

function unsupported(message: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', message);
}

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/** The PIN id guarding a key, from its PIN policy (or the PIV defaults of its slot). */
function pinIdOfPolicy(slot: number, pinPolicy: number | undefined): PinId {
  if (pinPolicy === PinPolicy.never) return ROLE_EVERYONE;
  if (pinPolicy === PinPolicy.always) return SIGNATURE_PIN_ID;
  if (pinPolicy === PinPolicy.once) return ROLE_USER;
  return defaultPinIdOfSlot(slot);
}

/** The PIN policy byte that binds a new key to `pinId`. */
function policyOfPinId(pinId: PinId): number {
  switch (pinId) {
    case ROLE_EVERYONE:
      return PinPolicy.never;
    case ROLE_USER:
      return PinPolicy.once;
    case SIGNATURE_PIN_ID:
      return PinPolicy.always;
    case ROLE_ADMIN:
      throw new ScardError('SCARD_W_SECURITY_VIOLATION', 'a key cannot be bound to the management key');
    default:
      return invalid(`PIN ${pinId} cannot guard a key (the PUK only unblocks)`);
  }
}

/** The container entry points of the PIV plugin. */
export class PivContainers {
  readonly #state: PivCardState;

  constructor(state: PivCardState) {
    this.#state = state;
  }

  async getContainerInfo(containerIndex: number): Promise<ContainerInfo> {
    const { state, half } = await this.#state.containerKey(containerIndex);
    const blob = publicKeyBlob(state.publicKey, half);
    return half === 'signature' ? { signaturePublicKey: blob } : { keyExchangePublicKey: blob };
  }

  async createContainerEx(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    const slot = slotOfContainer(containerIndex);
    if (slot === undefined)
      invalid(`container index ${containerIndex} is not 0..${PIV_CONTAINER_COUNT - 1} (a PIV slot)`);
    const pinPolicy = policyOfPinId(request.pinId);
    const { algorithmId, half } = this.#algorithmForRequest(slot, request);
    // The slot's certificate certifies the key about to be replaced: it goes first, so that a card pulled
    // out during the generation or import never shows the new key with the old key's certificate.
    this.#state.forgetCertificate(slot);
    await this.#state.app.deleteCertificate(slot);
    const publicKey =
      request.mode === 'generate'
        ? await this.#state.app.generateKey(slot, algorithmId, pinPolicy)
        : await this.#importKey(slot, algorithmId, half, request, pinPolicy);
    await this.#state.exposeRetiredSlot(slot);
    this.#state.rememberSlot(slot, { publicKey, pinPolicy });
  }

  #algorithmForRequest(
    slot: number,
    request: CreateContainerRequest,
  ): { algorithmId: number; half: 'signature' | 'keyExchange' } {
    const spec = request.keySpec;
    if (isRsaKeySpec(spec)) {
      const wanted = spec === KeySpec.AT_SIGNATURE ? 'signature' : 'keyExchange';
      const slotHalf = keyHalfOfSlot(slot, 'rsa');
      if (slotHalf !== wanted) {
        unsupported(
          `slot ${slotName(slot)} holds RSA keys as ${slotHalf === 'signature' ? 'AT_SIGNATURE' : 'AT_KEYEXCHANGE'}`,
        );
      }
      if (request.mode === 'import') {
        const bits = request.keyData === undefined ? 0 : decodeRsaPrivateKeyBlob(request.keyData).bits;
        const shape = { kind: 'rsa', bits, modulus: new Uint8Array(0), publicExponent: new Uint8Array(0) } as const;
        return { algorithmId: algorithmIdOfKey(shape), half: wanted };
      }
      const sizes: Record<number, number> = { 1024: PivAlgorithmId.RSA1024, 2048: PivAlgorithmId.RSA2048 };
      if (versionAtLeast(this.#state.firmware, 5, 7)) {
        Object.assign(sizes, { 3072: PivAlgorithmId.RSA3072, 4096: PivAlgorithmId.RSA4096 });
      }
      const algorithmId = sizes[request.keySize];
      if (algorithmId === undefined) invalid(`RSA ${request.keySize} is not a size this card generates`);
      return { algorithmId, half: wanted };
    }
    const bits = eccKeySpecBits(spec);
    if (bits !== 256 && bits !== 384) unsupported(`key spec ${spec} (${bits ?? '?'} bits) is not a PIV curve`);
    const wanted = isEcdsaKeySpec(spec) ? 'signature' : 'keyExchange';
    const slotHalf = keyHalfOfSlot(slot, 'ecc');
    if (slotHalf !== wanted) {
      unsupported(`slot ${slotName(slot)} holds EC keys as ${slotHalf === 'signature' ? 'ECDSA' : 'ECDH'} keys`);
    }
    return { algorithmId: bits === 256 ? PivAlgorithmId.ECC_P256 : PivAlgorithmId.ECC_P384, half: wanted };
  }

  async #importKey(
    slot: number,
    algorithmId: number,
    half: 'signature' | 'keyExchange',
    request: CreateContainerRequest,
    pinPolicy: number,
  ): Promise<PivPublicKey> {
    if (request.keyData === undefined) invalid('no key BLOB to import');
    const policy = { tag: TAG_PIN_POLICY, value: Uint8Array.of(pinPolicy) };
    if (isRsaKeySpec(request.keySpec)) {
      const key = decodeRsaPrivateKeyBlob(request.keyData);
      const part = key.bits / 16;
      const items = [
        { tag: 0x01, value: leftPad(key.prime1, part) },
        { tag: 0x02, value: leftPad(key.prime2, part) },
        { tag: 0x03, value: leftPad(key.exponent1, part) },
        { tag: 0x04, value: leftPad(key.exponent2, part) },
        { tag: 0x05, value: leftPad(key.coefficient, part) },
      ];
      try {
        await this.#state.app.importKey(slot, algorithmId, [...items, policy]);
      } finally {
        wipe(...items.map((item) => item.value), key.privateExponent, key.prime1, key.prime2);
        wipe(key.exponent1, key.exponent2, key.coefficient);
      }
      return { kind: 'rsa', bits: key.bits, modulus: key.modulus, publicExponent: key.publicExponent };
    }
    const key = decodeEccPrivateKeyBlob(request.keyData);
    const wantedUse = half === 'signature' ? 'ecdsa' : 'ecdh';
    const curveBits = key.curve === 'P-256' ? 256 : key.curve === 'P-384' ? 384 : 521;
    if (key.use !== wantedUse || eccKeySpecBits(request.keySpec) !== curveBits) {
      invalid('the key BLOB does not match the key spec');
    }
    if (key.curve === 'P-521') unsupported('PIV has no P-521 keys');
    const scalar = leftPad(key.d, key.curve === 'P-256' ? 32 : 48);
    try {
      await this.#state.app.importKey(slot, algorithmId, [{ tag: 0x06, value: scalar }, policy]);
    } finally {
      wipe(scalar, key.d);
    }
    return { kind: 'ecc', curve: key.curve, bits: key.curve === 'P-256' ? 256 : 384, x: key.x, y: key.y };
  }

  async deleteContainer(containerIndex: number): Promise<void> {
    const slot = slotOfContainer(containerIndex);
    if (slot === undefined || (await this.#state.slot(slot)) === null) return;
    if (!versionAtLeast(this.#state.firmware, 5, 7)) {
      unsupported(
        `PIV cannot delete the key in slot ${slotName(slot)}: only YubiKey 5.7+ has DELETE KEY (INS F6); overwrite it with createContainer instead`,
      );
    }
    await this.#state.app.deleteKey(slot);
    this.#state.forgetCertificate(slot);
    await this.#state.app.deleteCertificate(slot);
    this.#state.rememberSlot(slot, null);
  }

  async getContainerProperty<K extends ContainerPropertyName>(
    containerIndex: number,
    name: K,
  ): Promise<ContainerPropertyTypes[K]> {
    if (name === 'Container Info') return (await this.getContainerInfo(containerIndex)) as ContainerPropertyTypes[K];
    if (name === 'PIN Identifier') {
      const { slot, state } = await this.#state.containerKey(containerIndex);
      return pinIdOfPolicy(slot, state.pinPolicy) as ContainerPropertyTypes[K];
    }
    return unsupported(`container property "${name}" is not available on PIV`);
  }

  async setContainerProperty<K extends ContainerPropertyName>(containerIndex: number, name: K): Promise<void> {
    await this.#state.containerKey(containerIndex);
    unsupported(`PIV cannot change "${name}" of an existing key (use createContainerEx with the PIN id)`);
  }
}
