/**
 * What the PIV plugin knows about the card during a call: the key in each slot, the certificates, the Key
 * History object and the card identifier. Each is read from the card at most once per call (the session's
 * per-call memo, `CardContext.memo`) and kept in the plugin cache (`piv:slot:<slot>`, `piv:cert:<slot>`,
 * `piv:history`, `piv:cardid`) for the cache mode the session runs (docs/spec/piv.md §10).
 *
 * @packageDocumentation
 */
import type { ContainerKeySummary } from '@minidriver/card-kit';
import { type CardContext, ScardError } from '@minidriver/spec';
import type { PivApplication } from './piv-application.js';
import { PinPolicy } from './piv-commands.js';
import { publicKeyOfCertificate } from './piv-keys.js';
import {
  algorithmIdOfKey,
  decodeKeyHistory,
  decodeSlotMetadata,
  encodeKeyHistory,
  encodeSlotMetadata,
  KEY_HISTORY_TAG,
  type KeyHistory,
  type PivPublicKey,
  retiredSlotsOfHistory,
  type SlotMetadata,
} from './piv-objects.js';
import {
  CONTAINER_SLOTS,
  containerGuid,
  keyHalfOfSlot,
  PIV_CONTAINER_COUNT,
  slotName,
  slotOfContainer,
} from './piv-slots.js';

/** What the plugin knows about one key slot. */
export interface SlotState {
  readonly publicKey: PivPublicKey;
  /** PIN policy byte (01 never, 02 once, 03 always) when the card told us (metadata), else undefined. */
  readonly pinPolicy: number | undefined;
}

/** The key of a container: its slot, state and the container half it is. */
export interface ContainerKey {
  readonly slot: number;
  readonly state: SlotState;
  readonly half: 'signature' | 'keyExchange';
}

/** True for firmware `version` at or above major.minor (YubiKey-class cards). */
export function versionAtLeast(version: readonly number[] | undefined, major: number, minor: number): boolean {
  if (version === undefined) return false;
  return version[0]! > major || (version[0] === major && version[1]! >= minor);
}

function stateOfMetadata(metadata: SlotMetadata): SlotState {
  return {
    publicKey: metadata.publicKey,
    pinPolicy: metadata.pinPolicy === PinPolicy.default ? undefined : metadata.pinPolicy,
  };
}

/** The public key of a certificate, or undefined when the bytes are not an X.509 certificate we can parse. */
export function parsePublicKey(der: Uint8Array): PivPublicKey | undefined {
  try {
    return publicKeyOfCertificate(der);
  } catch {
    return undefined;
  }
}

/** The card's slots, certificates and identity, read once per call and cached in the plugin cache. */
export class PivCardState {
  readonly #context: CardContext;
  readonly app: PivApplication;
  readonly firmware: readonly [number, number, number] | undefined;

  constructor(context: CardContext, app: PivApplication, firmware: readonly [number, number, number] | undefined) {
    this.#context = context;
    this.app = app;
    this.firmware = firmware;
  }

  /** YubiKey 5.3+: GET METADATA tells the key of a slot without its certificate. */
  get hasMetadata(): boolean {
    return versionAtLeast(this.firmware, 5, 3);
  }

  /** What the card holds in `slot`, or null when it is empty. */
  async slot(slot: number): Promise<SlotState | null> {
    return this.#context.memo.get(`slot:${slot}`, async () => {
      const cached = this.cachedSlot(slot);
      if (cached !== undefined) return cached;
      if (!(await this.slotExposed(slot))) return null;
      const state = await this.#readSlot(slot);
      this.rememberSlot(slot, state);
      return state;
    });
  }

  /** The slot state known in this call or in the plugin cache, without asking the card. */
  knownSlot(slot: number): SlotState | null | undefined {
    return this.#context.memo.peek<SlotState | null>(`slot:${slot}`) ?? this.cachedSlot(slot);
  }

  async #readSlot(slot: number): Promise<SlotState | null> {
    if (this.hasMetadata) {
      const metadata = await this.app.getSlotMetadata(slot);
      if (metadata !== 'unsupported') return metadata === undefined ? null : stateOfMetadata(metadata);
    }
    // Without metadata a key is visible only through its certificate (docs/spec/piv.md §10.1).
    const certificate = await this.certificate(slot);
    return certificate === null ? null : { publicKey: publicKeyOfCertificate(certificate), pinPolicy: undefined };
  }

  /** The slot state in the plugin cache (undefined when not cached). */
  cachedSlot(slot: number): SlotState | null | undefined {
    const cached = this.#context.cache.lookupFile(`piv:slot:${slotName(slot)}`);
    if (cached === undefined) return undefined;
    return cached.length === 0 ? null : stateOfMetadata(decodeSlotMetadata(cached));
  }

  /** Records what `slot` now holds, for this call and in the plugin cache. */
  rememberSlot(slot: number, state: SlotState | null): void {
    this.#context.memo.set(`slot:${slot}`, state);
    const tag = `piv:slot:${slotName(slot)}`;
    if (state === null) this.#context.cache.addFile(tag, new Uint8Array(0));
    else {
      this.#context.cache.addFile(
        tag,
        encodeSlotMetadata({
          algorithmId: algorithmIdOfKey(state.publicKey),
          pinPolicy: state.pinPolicy ?? PinPolicy.default,
          touchPolicy: 0,
          publicKey: state.publicKey,
        }),
      );
    }
  }

  /** Forgets what `slot` holds (it is read again when next needed). */
  forgetSlot(slot: number): void {
    this.#context.memo.delete(`slot:${slot}`);
    this.#context.cache.deleteFile(`piv:slot:${slotName(slot)}`);
  }

  /** The key of container `index` and its half, or SCARD_E_NO_KEY_CONTAINER. */
  async containerKey(index: number): Promise<ContainerKey> {
    const slot = slotOfContainer(index);
    const state = slot === undefined ? null : await this.slot(slot);
    if (slot === undefined || state === null) {
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} holds no key`);
    }
    return { slot, state, half: keyHalfOfSlot(slot, state.publicKey.kind) };
  }

  /** The key of every container (null = empty), for cmapfile and free space. */
  async containerKeys(): Promise<(ContainerKeySummary | null)[]> {
    const keys: (ContainerKeySummary | null)[] = [];
    let cardId: Uint8Array | undefined;
    for (let index = 0; index < PIV_CONTAINER_COUNT; index++) {
      const slot = CONTAINER_SLOTS[index]!;
      const state = await this.slot(slot);
      if (state === null) {
        keys.push(null);
        continue;
      }
      cardId ??= await this.cachedCardId();
      keys.push({
        half: keyHalfOfSlot(slot, state.publicKey.kind),
        bits: state.publicKey.bits,
        name: containerGuid(cardId, index),
      });
    }
    return keys;
  }

  /**
   * The 16-byte card identifier: the CHUID GUID, else the first 16 bytes of the FASC-N, else the serial
   * number repeated. Never from the plugin cache (the cache itself is validated with it, docs/spec/minidriver.md §4.8).
   */
  async cardId(): Promise<Uint8Array> {
    const chuid = await this.app.getChuid();
    const guid = chuid?.guid;
    if (guid?.some((byte) => byte !== 0)) return new Uint8Array(guid);
    if (chuid?.fascn !== undefined && chuid.fascn.length >= 16) return chuid.fascn.slice(0, 16);
    const serial = await this.app.getSerial();
    if (serial !== undefined) {
      const id = new Uint8Array(16);
      for (let offset = 0; offset < 16; offset += 4) new DataView(id.buffer).setUint32(offset, serial);
      return id;
    }
    throw new ScardError('SCARD_E_FILE_NOT_FOUND', 'the card has no CHUID GUID, FASC-N or serial to identify it');
  }

  /** The card identifier through the plugin cache, for uses other than reading the cardid file itself. */
  async cachedCardId(): Promise<Uint8Array> {
    const cached = this.#context.cache.lookupFile('piv:cardid');
    if (cached?.length === 16) return cached;
    const id = await this.cardId();
    this.#context.cache.addFile('piv:cardid', id);
    return id;
  }

  /** The Key History object; null when the card has none. */
  async keyHistory(): Promise<KeyHistory | null> {
    return this.#context.memo.get('history', async () => {
      const cached = this.#context.cache.lookupFile('piv:history');
      let encoded: Uint8Array | undefined;
      if (cached !== undefined) encoded = cached.length === 0 ? undefined : cached;
      else {
        encoded = await this.app.readObject(KEY_HISTORY_TAG);
        this.#context.cache.addFile('piv:history', encoded ?? new Uint8Array(0));
      }
      return encoded === undefined ? null : decodeKeyHistory(encoded);
    });
  }

  /**
   * True when the card exposes `slot`: the four standard slots always; a retired slot only when the Key
   * History object counts it (SP 800-73-4 §3.3.2, and what OpenSC shows), which spares 20 probes per scan.
   */
  async slotExposed(slot: number): Promise<boolean> {
    if (slot >= 0x9a) return true;
    const history = await this.keyHistory();
    return history !== null && retiredSlotsOfHistory(history).has(slot);
  }

  /** Makes a retired slot visible by raising keysWithOnCardCerts in the Key History object (admin needed). */
  async exposeRetiredSlot(slot: number): Promise<void> {
    if (await this.slotExposed(slot)) return;
    const history = (await this.keyHistory()) ?? {
      keysWithOnCardCerts: 0,
      keysWithOffCardCerts: 0,
      offCardCertUrl: undefined,
    };
    const updated = { ...history, keysWithOnCardCerts: slot - 0x82 + 1 };
    this.#context.cache.deleteFile('piv:history');
    await this.app.writeObject(KEY_HISTORY_TAG, encodeKeyHistory(updated));
    this.#context.memo.set('history', updated);
  }

  /** The DER certificate of `slot` (null when none). */
  async certificate(slot: number): Promise<Uint8Array | null> {
    return this.#context.memo.get(`cert:${slot}`, async () => {
      const tag = `piv:cert:${slotName(slot)}`;
      const cached = this.#context.cache.lookupFile(tag);
      if (cached !== undefined) return cached.length === 0 ? null : cached;
      const certificate = (await this.app.getCertificate(slot)).certificate ?? null;
      this.#context.cache.addFile(tag, certificate ?? new Uint8Array(0));
      return certificate;
    });
  }

  /** Forgets the certificate of `slot` (it is read again when next needed). */
  forgetCertificate(slot: number): void {
    this.#context.memo.delete(`cert:${slot}`);
    this.#context.cache.deleteFile(`piv:cert:${slotName(slot)}`);
  }
}
