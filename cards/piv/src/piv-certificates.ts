/**
 * The certificate files of the PIV plugin: `mscp/kscNN` / `kxcNN` are the certificate objects of the slots
 * of the fixed container table (docs/spec/piv.md §10.5), stored gzip-compressed above 3052 bytes as
 * YubiKeys do. A certificate written for a container must certify its key.
 *
 * @packageDocumentation
 */
import {
  type CertificateFileKind,
  type CertificateFileRef,
  type CertificateFileStore,
  certificateKindOfHalf,
} from '@minidriver/card-kit';
import { ScardError } from '@minidriver/spec';
import { type PivCardState, parsePublicKey } from './piv-card-state.js';
import { samePublicKey } from './piv-keys.js';
import { CONTAINER_SLOTS, keyHalfOfSlot, PIV_CONTAINER_COUNT, slotName, slotOfContainer } from './piv-slots.js';

/** Largest certificate object stored uncompressed; larger certificates are gzipped (Yubico: 3052 bytes). */
const MAX_UNCOMPRESSED_CERTIFICATE = 3052;

function notFound(index: number, kind: CertificateFileKind, why = ''): never {
  throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file mscp/${kind}${index.toString(16).padStart(2, '0')}${why}`);
}

/** The PIV slots' certificate objects as certificate files. */
export class PivCertificateStore implements CertificateFileStore {
  readonly #state: PivCardState;

  constructor(state: PivCardState) {
    this.#state = state;
  }

  /**
   * The file's certificate. Its kind (ksc/kxc) comes from the slot's key when already known in this call
   * or the plugin cache, else from the certificate's own key — which spares a GET METADATA per
   * certificate when nothing is cached.
   */
  async read(index: number, kind: CertificateFileKind): Promise<Uint8Array | undefined> {
    const slot = slotOfContainer(index);
    if (slot === undefined) return undefined;
    const known = this.#state.knownSlot(slot);
    if (known === null || (known === undefined && !(await this.#state.slotExposed(slot)))) return undefined;
    const certificate = await this.#state.certificate(slot);
    if (certificate === null) return undefined;
    const key = known?.publicKey ?? parsePublicKey(certificate) ?? (await this.#state.slot(slot))?.publicKey;
    if (key === undefined) {
      throw new ScardError('SCARD_E_COMM_DATA_LOST', `the certificate of slot ${slotName(slot)} does not parse`);
    }
    return certificateKindOfHalf(keyHalfOfSlot(slot, key.kind)) === kind ? certificate : undefined;
  }

  /**
   * Stores the certificate as written (docs/spec/minidriver.md §4.3: the minidriver returns what was
   * written); an X.509 certificate must certify the slot's key (else SCARD_E_INVALID_PARAMETER), so a
   * certificate for another key cannot be bound to the container.
   */
  async write(index: number, kind: CertificateFileKind, der: Uint8Array): Promise<void> {
    const slot = slotOfContainer(index);
    if (slot === undefined) notFound(index, kind);
    const certificateKey = parsePublicKey(der);
    const state = await this.#state.slot(slot);
    if (state !== null && certificateKey !== undefined && !samePublicKey(state.publicKey, certificateKey)) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `the certificate's key is not the key of container ${index} (slot ${slotName(slot)})`,
      );
    }
    if (state === null && this.#state.hasMetadata) notFound(index, kind, `: container ${index} holds no key`);
    const keyKind = state?.publicKey.kind ?? certificateKey?.kind;
    const half = keyKind === undefined ? undefined : keyHalfOfSlot(slot, keyKind);
    if (half !== undefined && certificateKindOfHalf(half) !== kind) {
      notFound(index, kind, `: container ${index} holds a ${half} key`);
    }
    this.#state.forgetCertificate(slot);
    await this.#state.app.putCertificate(slot, der, { compress: der.length > MAX_UNCOMPRESSED_CERTIFICATE });
    if (state === null) {
      await this.#state.exposeRetiredSlot(slot);
      this.#state.forgetSlot(slot);
    }
  }

  async delete(index: number): Promise<void> {
    const slot = slotOfContainer(index)!;
    this.#state.forgetCertificate(slot);
    await this.#state.app.deleteCertificate(slot);
    if (!this.#state.hasMetadata) this.#state.forgetSlot(slot);
  }

  async list(): Promise<CertificateFileRef[]> {
    const files: CertificateFileRef[] = [];
    for (let index = 0; index < PIV_CONTAINER_COUNT; index++) {
      const slot = CONTAINER_SLOTS[index]!;
      const state = await this.#state.slot(slot);
      if (state === null || (await this.#state.certificate(slot)) === null) continue;
      files.push({ containerIndex: index, kind: certificateKindOfHalf(keyHalfOfSlot(slot, state.publicKey.kind)) });
    }
    return files;
  }
}
