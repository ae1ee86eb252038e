/**
 * @module The minidriver contract (CARD_DATA v4..v7) on a PIV card: the logical file system synthesised
 * from PIV objects, the fixed container <-> slot table, PINs, the management key as the admin
 * challenge/response role, signing, decryption, ECDH and key generation (piv.md §10, minidriver.md §4-9).
 * README.md of this package records every design decision.
 */
import {
  type AuthenticateExResult,
  CARD_DATA_VALUE_UNKNOWN,
  CacheMode,
  type CardCapabilities,
  type CardContext,
  type CardFileInfo,
  type CardFreeSpaceInfo,
  type CardKeySizes,
  type CardPropertyName,
  type CardPropertyTypes,
  type ChangeAuthenticatorRequest,
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  type ContainerInfo,
  type ContainerMapRecord,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  type CreateContainerRequest,
  certificateFileName,
  createPinSet,
  type DeriveKeyRequest,
  type DhAgreementRequest,
  type DirectoryName,
  decodeCertificateFile,
  decodeContainerMap,
  decodeEccPrivateKeyBlob,
  decodeEccPublicKeyBlob,
  decodeRsaPrivateKeyBlob,
  deriveKeyFromSecret,
  EMPTY_CARD_CACHE_FILE,
  eccKeySpecBits,
  ecdsaDerToRaw,
  encodeCardApps,
  encodeCardCacheFile,
  encodeContainerMap,
  FileAccessCondition,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  isPinInSet,
  isRsaKeySpec,
  KeySpec,
  leftPad,
  type Minidriver,
  PinCachePolicyType,
  type PinId,
  type PinInfo,
  type PinSet,
  parseCertificateFileName,
  ROLE_ADMIN,
  ROLE_EVERYONE,
  ROLE_USER,
  type RsaDecryptRequest,
  reverseBytes,
  ScardError,
  SecretPurpose,
  SecretType,
  type SignDataRequest,
  type UserId,
  wipe,
} from '@minidriver/core';
import { managementBlockLength, managementKeyLength, PivApplication } from './piv-application.js';
import { PIN_REFERENCE, PinPolicy, PivAlgorithmId, PUK_REFERENCE, TAG_PIN_POLICY } from './piv-commands.js';
import { publicKeyBlob, publicKeyOfCertificate, samePublicKey } from './piv-keys.js';
import {
  algorithmIdOfKey,
  decodeKeyHistory,
  decodeSlotMetadata,
  encodeKeyHistory,
  encodeSlotMetadata,
  KEY_HISTORY_TAG,
  type KeyHistory,
  NON_GOVERNMENT_FASCN_PREFIX,
  type PivPublicKey,
  retiredSlotsOfHistory,
  type SlotMetadata,
} from './piv-objects.js';
import { hasPinPad, verifyPinOnPinPad } from './piv-pin-pad.js';
import {
  CONTAINER_SLOTS,
  containerGuid,
  defaultPinIdOfSlot,
  keyHalfOfSlot,
  PIV_CONTAINER_COUNT,
  PUK_PIN_ID,
  SIGNATURE_PIN_ID,
  slotName,
  slotOfContainer,
} from './piv-slots.js';

/** Options of {@link PivMinidriver}. */
export interface PivMinidriverOptions {
  /**
   * CP_CARD_CACHE_MODE to answer. Default NO_CACHE: the spec's mode for "cards whose state can change but
   * that cannot maintain cardcf" (a PIV card is changed by ykman, yubico-piv-tool, OpenSC without any
   * freshness counter). SESSION_ONLY may be chosen where nothing else writes the card during an insertion.
   */
  readonly cacheMode?: typeof CacheMode.NO_CACHE | typeof CacheMode.SESSION_ONLY;
}

/** Largest certificate object stored uncompressed; larger certificates are gzipped (Yubico: 3052 bytes). */
const MAX_UNCOMPRESSED_CERTIFICATE = 3052;
/** Largest certificate file accepted: its length must fit the 16-bit length of a compressed certificate file. */
const MAX_CERTIFICATE_FILE = 65_535;
const MSCP = 'mscp';
const CARDAPPS = encodeCardApps([MSCP]);
const PIN_LIST: PinSet = createPinSet(ROLE_USER, ROLE_ADMIN, PUK_PIN_ID, SIGNATURE_PIN_ID);

/** What the plugin knows about one key slot. */
interface SlotState {
  readonly publicKey: PivPublicKey;
  /** PIN policy byte (01 never, 02 once, 03 always) when the card told us (metadata), else undefined. */
  readonly pinPolicy: number | undefined;
}

/** The public key of a certificate, or undefined when the bytes are not an X.509 certificate we can parse. */
function parsePublicKey(der: Uint8Array): PivPublicKey | undefined {
  try {
    return publicKeyOfCertificate(der);
  } catch {
    return undefined;
  }
}

function unsupported(message: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', message);
}

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

function versionAtLeast(version: readonly number[] | undefined, major: number, minor: number): boolean {
  if (version === undefined) return false;
  return version[0]! > major || (version[0] === major && version[1]! >= minor);
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

/** The minidriver of one PIV card context. */
export class PivMinidriver implements Minidriver {
  readonly #context: CardContext;
  readonly #app: PivApplication;
  readonly #firmware: readonly [number, number, number] | undefined;
  readonly #cacheMode: CacheMode;
  /** cardcf as last written by the caller: a PIV card cannot store it, so it lives for this context (§4.1). */
  #cardcf: Uint8Array = encodeCardCacheFile(EMPTY_CARD_CACHE_FILE);
  /** Container names from an accepted cmapfile write, by index (kept for this context). */
  readonly #containerNames = new Map<number, string>();
  readonly #agreements = new Map<number, Uint8Array>();
  #pendingChallenge: { algorithmId: number; challenge: Uint8Array } | undefined;
  #authenticated: PinSet = 0;
  /** Slot states learnt during the current entry point (the card is not re-asked within one call). */
  #memo = new Map<number, SlotState | null>();
  /** The Key History object read during the current entry point (null = the card has none). */
  #historyMemo: KeyHistory | null | undefined;
  /** Certificates read during the current entry point (null = the slot has none). */
  #certificateMemo = new Map<number, Uint8Array | null>();

  private constructor(
    context: CardContext,
    app: PivApplication,
    firmware: readonly [number, number, number] | undefined,
    cacheMode: CacheMode,
  ) {
    this.#context = context;
    this.#app = app;
    this.#firmware = firmware;
    this.#cacheMode = cacheMode;
  }

  /** CardAcquireContext: SELECT PIV (SCARD_E_UNKNOWN_CARD without it) and GET VERSION (YubiKey-class cards). */
  static async open(context: CardContext, options: PivMinidriverOptions = {}): Promise<PivMinidriver> {
    const app = new PivApplication(context.transport);
    await app.select();
    const firmware = await app.getVersion();
    return new PivMinidriver(context, app, firmware, options.cacheMode ?? CacheMode.NO_CACHE);
  }

  /** The PIV application, for operations outside the contract. */
  get application(): PivApplication {
    return this.#app;
  }

  get #hasMetadata(): boolean {
    return versionAtLeast(this.#firmware, 5, 3);
  }

  async deleteContext(): Promise<void> {
    for (const secret of this.#agreements.values()) wipe(secret);
    this.#agreements.clear();
    this.#pendingChallenge = undefined;
    this.#memo.clear();
  }

  async queryCapabilities(): Promise<CardCapabilities> {
    // The plugin inflates PIV's gzip certificates itself and hands out DER: the caller need not compress.
    return { certificateCompression: true, keyGeneration: true };
  }

  // -------------------------------------------------------------------------------------------------
  // Slots

  /** What the card holds in `slot`, or null when it is empty; cached per call and in the session cache. */
  async #slot(slot: number): Promise<SlotState | null> {
    const memo = this.#memo.get(slot);
    if (memo !== undefined) return memo;
    let state = this.#cachedSlot(slot);
    if (state === undefined && !(await this.#slotExposed(slot))) state = null;
    else if (state === undefined) {
      state = await this.#readSlot(slot);
      this.#rememberSlot(slot, state);
    }
    this.#memo.set(slot, state);
    return state;
  }

  #stateOfMetadata(metadata: SlotMetadata): SlotState {
    return {
      publicKey: metadata.publicKey,
      pinPolicy: metadata.pinPolicy === PinPolicy.default ? undefined : metadata.pinPolicy,
    };
  }

  async #readSlot(slot: number): Promise<SlotState | null> {
    if (this.#hasMetadata) {
      const metadata = await this.#app.getSlotMetadata(slot);
      if (metadata !== 'unsupported') return metadata === undefined ? null : this.#stateOfMetadata(metadata);
    }
    // Without metadata a key is visible only through its certificate (piv.md §10.1).
    const certificate = await this.#certificate(slot);
    return certificate === null ? null : { publicKey: publicKeyOfCertificate(certificate), pinPolicy: undefined };
  }

  #rememberSlot(slot: number, state: SlotState | null): void {
    this.#memo.set(slot, state);
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

  #forgetSlot(slot: number): void {
    this.#memo.delete(slot);
    this.#context.cache.deleteFile(`piv:slot:${slotName(slot)}`);
  }

  /** The key of container `index` and its half, or SCARD_E_NO_KEY_CONTAINER. */
  async #containerKey(index: number): Promise<{ slot: number; state: SlotState; half: 'signature' | 'keyExchange' }> {
    const slot = slotOfContainer(index);
    const state = slot === undefined ? null : await this.#slot(slot);
    if (slot === undefined || state === null) {
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} holds no key`);
    }
    return { slot, state, half: keyHalfOfSlot(slot, state.publicKey.kind) };
  }

  async #cardId(): Promise<Uint8Array> {
    const chuid = await this.#app.getChuid();
    const guid = chuid?.guid;
    if (guid?.some((byte) => byte !== 0)) return new Uint8Array(guid);
    if (chuid?.fascn !== undefined && chuid.fascn.length >= 16) return chuid.fascn.slice(0, 16);
    const serial = await this.#app.getSerial();
    if (serial !== undefined) {
      const id = new Uint8Array(16);
      for (let offset = 0; offset < 16; offset += 4) new DataView(id.buffer).setUint32(offset, serial);
      return id;
    }
    throw new ScardError('SCARD_E_FILE_NOT_FOUND', 'the card has no CHUID GUID, FASC-N or serial to identify it');
  }

  /** cardid through the plugin cache, for uses other than reading the cardid file itself. */
  async #cachedCardId(): Promise<Uint8Array> {
    const cached = this.#context.cache.lookupFile('piv:cardid');
    if (cached?.length === 16) return cached;
    const id = await this.#cardId();
    this.#context.cache.addFile('piv:cardid', id);
    return id;
  }

  async #containerMapRecords(): Promise<ContainerMapRecord[]> {
    const records: ContainerMapRecord[] = [];
    let cardId: Uint8Array | undefined;
    let defaultGiven = false;
    for (let index = 0; index < PIV_CONTAINER_COUNT; index++) {
      const slot = CONTAINER_SLOTS[index]!;
      const state = await this.#slot(slot);
      if (state === null) {
        records.push({ guid: '', flags: 0, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 0 });
        continue;
      }
      cardId ??= await this.#cachedCardId();
      const half = keyHalfOfSlot(slot, state.publicKey.kind);
      const bits = state.publicKey.bits;
      records.push({
        guid: this.#containerNames.get(index) ?? containerGuid(cardId, index),
        flags: CONTAINER_MAP_VALID_CONTAINER | (defaultGiven ? 0 : CONTAINER_MAP_DEFAULT_CONTAINER),
        signatureKeySizeBits: half === 'signature' ? bits : 0,
        keyExchangeKeySizeBits: half === 'keyExchange' ? bits : 0,
      });
      defaultGiven = true;
    }
    return records;
  }

  /**
   * The DER certificate of a certificate file, or SCARD_E_FILE_NOT_FOUND. The file's kind (ksc/kxc) comes
   * from the slot's key when already known in this call or the session cache, else from the certificate's
   * own key — which spares a GET METADATA per certificate when nothing is cached.
   */
  async #certificateFile(name: string): Promise<{ der: Uint8Array; slot: number; index: number }> {
    const parsed = parseCertificateFileName(name);
    const slot = parsed === undefined ? undefined : slotOfContainer(parsed.containerIndex);
    const missing = (): never => {
      throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file mscp/${name}`);
    };
    if (parsed === undefined || slot === undefined) return missing();
    const known = this.#memo.get(slot) ?? this.#cachedSlot(slot);
    if (known === null || (known === undefined && !(await this.#slotExposed(slot)))) return missing();
    const certificate = await this.#certificate(slot);
    if (certificate === null) return missing();
    const key = known?.publicKey ?? parsePublicKey(certificate) ?? (await this.#slot(slot))?.publicKey;
    if (key === undefined)
      throw new ScardError('SCARD_E_COMM_DATA_LOST', `the certificate of slot ${slotName(slot)} does not parse`);
    const kind = keyHalfOfSlot(slot, key.kind) === 'signature' ? 'ksc' : 'kxc';
    if (kind !== parsed.kind) return missing();
    return { der: certificate, slot, index: parsed.containerIndex };
  }

  /** The slot state in the session cache, without asking the card (undefined when not cached). */
  #cachedSlot(slot: number): SlotState | null | undefined {
    const cached = this.#context.cache.lookupFile(`piv:slot:${slotName(slot)}`);
    if (cached === undefined) return undefined;
    return cached.length === 0 ? null : this.#stateOfMetadata(decodeSlotMetadata(cached));
  }

  #begin(): void {
    this.#memo = new Map();
    this.#certificateMemo = new Map();
    this.#historyMemo = undefined;
  }

  /** The Key History object (per call, and cached as `piv:history`); null when the card has none. */
  async #keyHistory(): Promise<KeyHistory | null> {
    if (this.#historyMemo !== undefined) return this.#historyMemo;
    const cached = this.#context.cache.lookupFile('piv:history');
    let encoded: Uint8Array | undefined;
    if (cached !== undefined) encoded = cached.length === 0 ? undefined : cached;
    else {
      encoded = await this.#app.readObject(KEY_HISTORY_TAG);
      this.#context.cache.addFile('piv:history', encoded ?? new Uint8Array(0));
    }
    this.#historyMemo = encoded === undefined ? null : decodeKeyHistory(encoded);
    return this.#historyMemo;
  }

  /**
   * True when the card exposes `slot`: the four standard slots always; a retired slot only when the Key
   * History object counts it (SP 800-73-4 §3.3.2, and what OpenSC shows), which spares 20 probes per scan.
   */
  async #slotExposed(slot: number): Promise<boolean> {
    if (slot >= 0x9a) return true;
    const history = await this.#keyHistory();
    return history !== null && retiredSlotsOfHistory(history).has(slot);
  }

  /** Makes a retired slot visible by raising keysWithOnCardCerts in the Key History object (admin needed). */
  async #exposeRetiredSlot(slot: number): Promise<void> {
    if (await this.#slotExposed(slot)) return;
    const history = (await this.#keyHistory()) ?? {
      keysWithOnCardCerts: 0,
      keysWithOffCardCerts: 0,
      offCardCertUrl: undefined,
    };
    const updated = { ...history, keysWithOnCardCerts: slot - 0x82 + 1 };
    this.#context.cache.deleteFile('piv:history');
    await this.#app.writeObject(KEY_HISTORY_TAG, encodeKeyHistory(updated));
    this.#historyMemo = updated;
  }

  /** The DER certificate of `slot` (null when none): per call, and in the session cache as `piv:cert:<slot>`. */
  async #certificate(slot: number): Promise<Uint8Array | null> {
    const memo = this.#certificateMemo.get(slot);
    if (memo !== undefined) return memo;
    const tag = `piv:cert:${slotName(slot)}`;
    const cached = this.#context.cache.lookupFile(tag);
    let certificate: Uint8Array | null;
    if (cached !== undefined) certificate = cached.length === 0 ? null : cached;
    else {
      certificate = (await this.#app.getCertificate(slot)).certificate ?? null;
      this.#context.cache.addFile(tag, certificate ?? new Uint8Array(0));
    }
    this.#certificateMemo.set(slot, certificate);
    return certificate;
  }

  #forgetCertificate(slot: number): void {
    this.#certificateMemo.delete(slot);
    this.#context.cache.deleteFile(`piv:cert:${slotName(slot)}`);
  }

  // -------------------------------------------------------------------------------------------------
  // Files

  async readFile(directory: DirectoryName, name: string): Promise<Uint8Array> {
    this.#begin();
    const file = name.toLowerCase();
    const dir = directory?.toLowerCase() ?? null;
    if (dir === null || dir === '') {
      // No cache use here: cardid and cardcf are what the cache itself validates with (§4.8).
      if (file === 'cardid') return this.#cardId();
      if (file === 'cardcf') return new Uint8Array(this.#cardcf);
      if (file === 'cardapps') return new Uint8Array(CARDAPPS);
      throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file ${name}`);
    }
    if (dir !== MSCP) throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory ${directory}`);
    if (file === 'cmapfile') return encodeContainerMap(await this.#containerMapRecords());
    return (await this.#certificateFile(file)).der;
  }

  async enumFiles(directory: DirectoryName): Promise<string[]> {
    this.#begin();
    const dir = directory?.toLowerCase() ?? null;
    if (dir === null || dir === '') return ['cardid', 'cardcf', 'cardapps'];
    if (dir !== MSCP) throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory ${directory}`);
    const names = ['cmapfile'];
    for (let index = 0; index < PIV_CONTAINER_COUNT; index++) {
      const slot = CONTAINER_SLOTS[index]!;
      const state = await this.#slot(slot);
      if (state === null) continue;
      if ((await this.#certificate(slot)) === null) continue;
      const half = keyHalfOfSlot(slot, state.publicKey.kind);
      names.push(certificateFileName(half === 'signature' ? 'ksc' : 'kxc', index));
    }
    return names;
  }

  async getFileInfo(directory: DirectoryName, name: string): Promise<CardFileInfo> {
    const contents = await this.readFile(directory, name);
    const file = name.toLowerCase();
    const accessCondition =
      file === 'cardcf' || file === 'cmapfile'
        ? FileAccessCondition.EveryoneReadUserWriteAc
        : FileAccessCondition.EveryoneReadAdminWriteAc;
    return { size: contents.length, accessCondition };
  }

  async createFile(directory: DirectoryName, name: string): Promise<void> {
    this.#begin();
    const dir = directory?.toLowerCase() ?? null;
    const file = name.toLowerCase();
    if (dir === MSCP) {
      const parsed = parseCertificateFileName(file);
      // Certificate files are the slots' certificate objects: they exist virtually; writeFile fills them.
      if (parsed !== undefined && slotOfContainer(parsed.containerIndex) !== undefined) return;
      if (file === 'cmapfile') throw new ScardError('ERROR_FILE_EXISTS', 'mscp/cmapfile exists');
    } else if (dir === null || dir === '') {
      if (file === 'cardid' || file === 'cardcf' || file === 'cardapps') {
        throw new ScardError('ERROR_FILE_EXISTS', `${file} exists`);
      }
    } else throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory ${directory}`);
    unsupported(`a PIV card has no free-form files: cannot create ${dir ?? ''}/${file}`);
  }

  async writeFile(directory: DirectoryName, name: string, data: Uint8Array): Promise<void> {
    this.#begin();
    const dir = directory?.toLowerCase() ?? null;
    const file = name.toLowerCase();
    if (dir === null || dir === '') {
      if (file === 'cardcf') {
        // A PIV card cannot store cardcf: the written value is kept for this context (§4.1 simulated write).
        this.#cardcf = new Uint8Array(data);
        return;
      }
      if (
        file === 'cardapps' &&
        data.length === CARDAPPS.length &&
        data.every((byte, index) => byte === CARDAPPS[index])
      )
        return;
      if (file === 'cardid' || file === 'cardapps')
        unsupported(`${file} is synthesised from PIV objects and cannot be rewritten`);
      throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file ${name}`);
    }
    if (dir !== MSCP) throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory ${directory}`);
    if (file === 'cmapfile') return this.#writeContainerMap(data);
    const parsed = parseCertificateFileName(file);
    const slot = parsed === undefined ? undefined : slotOfContainer(parsed.containerIndex);
    if (parsed === undefined || slot === undefined)
      throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file mscp/${name}`);
    // Refused before any decoding or compression: a huge input costs nothing.
    if (data.length > MAX_CERTIFICATE_FILE) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `a certificate file is at most ${MAX_CERTIFICATE_FILE} bytes`);
    }
    let der: Uint8Array;
    try {
      der = decodeCertificateFile(data);
    } catch (error) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the data is neither a DER certificate nor a compressed one', {
        cause: error,
      });
    }
    // Stored as written (§4.3: the minidriver returns what was written); an X.509 certificate is also
    // checked against the slot's key, so a certificate for another key cannot be bound to the container.
    const certificateKey = parsePublicKey(der);
    const state = await this.#slot(slot);
    if (state !== null && certificateKey !== undefined && !samePublicKey(state.publicKey, certificateKey)) {
      invalid(`the certificate's key is not the key of container ${parsed.containerIndex} (slot ${slotName(slot)})`);
    }
    if (state === null && this.#hasMetadata) {
      throw new ScardError(
        'SCARD_E_FILE_NOT_FOUND',
        `container ${parsed.containerIndex} holds no key for mscp/${name}`,
      );
    }
    const keyKind = state?.publicKey.kind ?? certificateKey?.kind;
    const half = keyKind === undefined ? undefined : keyHalfOfSlot(slot, keyKind);
    if (half !== undefined && (half === 'signature' ? 'ksc' : 'kxc') !== parsed.kind) {
      throw new ScardError(
        'SCARD_E_FILE_NOT_FOUND',
        `container ${parsed.containerIndex} holds a ${half} key: no file mscp/${name}`,
      );
    }
    this.#forgetCertificate(slot);
    await this.#app.putCertificate(slot, der, { compress: der.length > MAX_UNCOMPRESSED_CERTIFICATE });
    if (state === null) {
      await this.#exposeRetiredSlot(slot);
      this.#forgetSlot(slot);
    }
  }

  /** Accepts a cmapfile write that agrees with the slots (validity and key sizes); keeps its names. */
  async #writeContainerMap(data: Uint8Array): Promise<void> {
    let records: ContainerMapRecord[];
    try {
      records = decodeContainerMap(data);
    } catch (error) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'cmapfile data is not a container map', { cause: error });
    }
    const current = await this.#containerMapRecords();
    for (let index = 0; index < Math.max(records.length, PIV_CONTAINER_COUNT); index++) {
      const written = records[index];
      const valid = written !== undefined && (written.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0;
      const actual = current[index];
      const actualValid = actual !== undefined && (actual.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0;
      if (valid !== actualValid) {
        invalid(
          `cmapfile record ${index} says ${valid ? 'valid' : 'empty'} but the card's slot is ${actualValid ? 'in use' : 'empty'}`,
        );
      }
      if (
        valid &&
        (written.signatureKeySizeBits !== actual!.signatureKeySizeBits ||
          written.keyExchangeKeySizeBits !== actual!.keyExchangeKeySizeBits)
      ) {
        invalid(`cmapfile record ${index} key sizes do not match the card's key`);
      }
    }
    this.#containerNames.clear();
    records.forEach((record, index) => {
      if ((record.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0) this.#containerNames.set(index, record.guid);
    });
  }

  async deleteFile(directory: DirectoryName, name: string): Promise<void> {
    this.#begin();
    const dir = directory?.toLowerCase() ?? null;
    if (dir !== MSCP) {
      if (dir === null || dir === '') unsupported(`${name} is synthesised from PIV objects and cannot be deleted`);
      throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory ${directory}`);
    }
    const file = name.toLowerCase();
    if (file === 'cmapfile') unsupported('mscp/cmapfile is synthesised from the key slots and cannot be deleted');
    const { slot } = await this.#certificateFile(file);
    this.#forgetCertificate(slot);
    await this.#app.deleteCertificate(slot);
    if (!this.#hasMetadata) this.#forgetSlot(slot);
  }

  async queryFreeSpace(): Promise<CardFreeSpaceInfo> {
    this.#begin();
    let used = 0;
    for (const slot of CONTAINER_SLOTS) if ((await this.#slot(slot)) !== null) used++;
    // PIV has no command that reports free memory: bytes unknown; containers are the free slots.
    return {
      bytesAvailable: CARD_DATA_VALUE_UNKNOWN,
      keyContainersAvailable: PIV_CONTAINER_COUNT - used,
      maxKeyContainers: PIV_CONTAINER_COUNT,
    };
  }

  async queryKeySizes(keySpec: number): Promise<CardKeySizes> {
    if (keySpec === 0 || isRsaKeySpec(keySpec)) {
      const maximum = versionAtLeast(this.#firmware, 5, 7) ? 4096 : 2048;
      return { minimumBitLength: 1024, defaultBitLength: 2048, maximumBitLength: maximum, incrementalBitLength: 1024 };
    }
    const bits = eccKeySpecBits(keySpec);
    if (bits === 256 || bits === 384) {
      return { minimumBitLength: bits, defaultBitLength: bits, maximumBitLength: bits, incrementalBitLength: 1 };
    }
    if (bits === 521) unsupported('PIV has no P-521 keys');
    return invalid(`key spec ${keySpec} is not defined`);
  }

  // -------------------------------------------------------------------------------------------------
  // Containers

  async getContainerInfo(containerIndex: number): Promise<ContainerInfo> {
    this.#begin();
    const { state, half } = await this.#containerKey(containerIndex);
    const blob = publicKeyBlob(state.publicKey, half);
    return half === 'signature' ? { signaturePublicKey: blob } : { keyExchangePublicKey: blob };
  }

  async createContainer(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    await this.createContainerEx(containerIndex, { ...request, pinId: ROLE_USER });
  }

  async createContainerEx(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    this.#begin();
    const slot = slotOfContainer(containerIndex);
    if (slot === undefined)
      invalid(`container index ${containerIndex} is not 0..${PIV_CONTAINER_COUNT - 1} (a PIV slot)`);
    const pinPolicy = policyOfPinId(request.pinId);
    const { algorithmId, half } = this.#algorithmForRequest(slot, request);
    // The slot's certificate certifies the key about to be replaced: it goes first, so that a card pulled
    // out during the generation or import never shows the new key with the old key's certificate.
    this.#forgetCertificate(slot);
    await this.#app.deleteCertificate(slot);
    let publicKey: PivPublicKey;
    if (request.mode === 'generate') {
      publicKey = await this.#app.generateKey(slot, algorithmId, pinPolicy);
    } else {
      publicKey = await this.#importKey(slot, algorithmId, half, request, pinPolicy);
    }
    await this.#exposeRetiredSlot(slot);
    this.#rememberSlot(slot, { publicKey, pinPolicy });
  }

  #algorithmForRequest(
    slot: number,
    request: CreateContainerRequest,
  ): { algorithmId: number; half: 'signature' | 'keyExchange' } {
    const spec = request.keySpec;
    if (isRsaKeySpec(spec)) {
      const wanted = spec === KeySpec.AT_SIGNATURE ? 'signature' : 'keyExchange';
      if (keyHalfOfSlot(slot, 'rsa') !== wanted) {
        unsupported(
          `slot ${slotName(slot)} holds RSA keys as ${keyHalfOfSlot(slot, 'rsa') === 'signature' ? 'AT_SIGNATURE' : 'AT_KEYEXCHANGE'}`,
        );
      }
      if (request.mode === 'import') {
        const bits = request.keyData === undefined ? 0 : decodeRsaPrivateKeyBlob(request.keyData).bits;
        return {
          algorithmId: algorithmIdOfKey({
            kind: 'rsa',
            bits,
            modulus: new Uint8Array(0),
            publicExponent: new Uint8Array(0),
          }),
          half: wanted,
        };
      }
      const sizes: Record<number, number> = { 1024: PivAlgorithmId.RSA1024, 2048: PivAlgorithmId.RSA2048 };
      if (versionAtLeast(this.#firmware, 5, 7))
        Object.assign(sizes, { 3072: PivAlgorithmId.RSA3072, 4096: PivAlgorithmId.RSA4096 });
      const algorithmId = sizes[request.keySize];
      if (algorithmId === undefined) invalid(`RSA ${request.keySize} is not a size this card generates`);
      return { algorithmId, half: wanted };
    }
    const bits = eccKeySpecBits(spec);
    if (bits !== 256 && bits !== 384) unsupported(`key spec ${spec} (${bits ?? '?'} bits) is not a PIV curve`);
    const wanted = isEcdsaKeySpec(spec) ? 'signature' : 'keyExchange';
    if (keyHalfOfSlot(slot, 'ecc') !== wanted) {
      unsupported(
        `slot ${slotName(slot)} holds EC keys as ${keyHalfOfSlot(slot, 'ecc') === 'signature' ? 'ECDSA' : 'ECDH'} keys`,
      );
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
        await this.#app.importKey(slot, algorithmId, [...items, policy]);
      } finally {
        wipe(
          ...items.map((item) => item.value),
          key.privateExponent,
          key.prime1,
          key.prime2,
          key.exponent1,
          key.exponent2,
          key.coefficient,
        );
      }
      return { kind: 'rsa', bits: key.bits, modulus: key.modulus, publicExponent: key.publicExponent };
    }
    const key = decodeEccPrivateKeyBlob(request.keyData);
    const wantedUse = half === 'signature' ? 'ecdsa' : 'ecdh';
    if (
      key.use !== wantedUse ||
      eccKeySpecBits(request.keySpec) !== (key.curve === 'P-256' ? 256 : key.curve === 'P-384' ? 384 : 521)
    ) {
      invalid('the key BLOB does not match the key spec');
    }
    if (key.curve === 'P-521') unsupported('PIV has no P-521 keys');
    const scalar = leftPad(key.d, key.curve === 'P-256' ? 32 : 48);
    try {
      await this.#app.importKey(slot, algorithmId, [{ tag: 0x06, value: scalar }, policy]);
    } finally {
      wipe(scalar, key.d);
    }
    return { kind: 'ecc', curve: key.curve, bits: key.curve === 'P-256' ? 256 : 384, x: key.x, y: key.y };
  }

  async deleteContainer(containerIndex: number): Promise<void> {
    this.#begin();
    const slot = slotOfContainer(containerIndex);
    if (slot === undefined || (await this.#slot(slot)) === null) return;
    if (!versionAtLeast(this.#firmware, 5, 7)) {
      unsupported(
        `PIV cannot delete the key in slot ${slotName(slot)}: only YubiKey 5.7+ has DELETE KEY (INS F6); overwrite it with createContainer instead`,
      );
    }
    await this.#app.deleteKey(slot);
    this.#forgetCertificate(slot);
    await this.#app.deleteCertificate(slot);
    this.#rememberSlot(slot, null);
  }

  async getContainerProperty<K extends ContainerPropertyName>(
    containerIndex: number,
    name: K,
  ): Promise<ContainerPropertyTypes[K]> {
    if (name === 'Container Info') return (await this.getContainerInfo(containerIndex)) as ContainerPropertyTypes[K];
    if (name === 'PIN Identifier') {
      this.#begin();
      const { slot, state } = await this.#containerKey(containerIndex);
      return pinIdOfPolicy(slot, state.pinPolicy) as ContainerPropertyTypes[K];
    }
    return unsupported(`container property "${name}" is not available on PIV`);
  }

  async setContainerProperty<K extends ContainerPropertyName>(containerIndex: number, name: K): Promise<void> {
    this.#begin();
    await this.#containerKey(containerIndex);
    unsupported(`PIV cannot change "${name}" of an existing key (use createContainerEx with the PIN id)`);
  }

  // -------------------------------------------------------------------------------------------------
  // PINs and the management key

  async authenticatePin(userId: UserId, pin: Uint8Array): Promise<void> {
    if (userId === 'admin') unsupported('the PIV administrator is the management key: use challenge/response');
    await this.authenticateEx(ROLE_USER, 0, pin);
  }

  async getChallenge(): Promise<Uint8Array> {
    return this.getChallengeEx(ROLE_ADMIN);
  }

  async authenticateChallenge(response: Uint8Array): Promise<void> {
    await this.authenticateEx(ROLE_ADMIN, 0, response);
  }

  async getChallengeEx(pinId: PinId): Promise<Uint8Array> {
    if (pinId !== ROLE_ADMIN) invalid(`PIN ${pinId} is not a challenge/response PIN`);
    const algorithmId = await this.#app.getManagementKeyAlgorithm();
    if (managementBlockLength(algorithmId) === undefined) unsupported(`management key algorithm ${algorithmId}`);
    const challenge = await this.#app.requestManagementChallenge(algorithmId);
    this.#pendingChallenge = { algorithmId, challenge };
    return new Uint8Array(challenge);
  }

  /** Sends the response to the last challenge; the challenge is used once, whatever the outcome. */
  async #answerChallenge(response: Uint8Array): Promise<void> {
    const pending = this.#pendingChallenge;
    this.#pendingChallenge = undefined;
    if (pending === undefined)
      throw new ScardError('SCARD_W_WRONG_CHV', 'no challenge is outstanding: call getChallengeEx first');
    if (response.length !== pending.challenge.length) {
      throw new ScardError('SCARD_W_WRONG_CHV', `the response must be ${pending.challenge.length} bytes`);
    }
    this.#authenticated &= ~createPinSet(ROLE_ADMIN);
    await this.#app.answerManagementChallenge(pending.algorithmId, response);
    this.#authenticated |= createPinSet(ROLE_ADMIN);
  }

  async authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined): Promise<AuthenticateExResult> {
    if ((flags & 0x30000000) !== 0) unsupported('PIV has no session PINs');
    if (pinId === ROLE_ADMIN) {
      if (pinData === undefined) invalid('the management key response is required');
      await this.#answerChallenge(pinData);
      return {};
    }
    if (pinId === PUK_PIN_ID) unsupported('the PUK only unblocks the PIN (changeAuthenticatorEx)');
    if (pinId !== ROLE_USER && pinId !== SIGNATURE_PIN_ID) invalid(`PIN ${pinId} does not exist on this card`);
    // No PIN data = an external PIN (minidriver.md §5.2.7): typed on the reader's PIN pad when it has one.
    // PIN data given is still verified from the host, PIN pad or not (§5.2.7 only says it may be ignored).
    const transport = this.#context.transport;
    if (pinData === undefined && !hasPinPad(transport)) {
      invalid('this reader has no PIN pad: PIN data is required');
    }
    this.#authenticated &= ~createPinSet(ROLE_USER, SIGNATURE_PIN_ID);
    if (pinData === undefined) {
      // CARD_PIN_SILENT_CONTEXT forbids host UI only; the reader's keypad shows its own prompt.
      if (hasPinPad(transport)) await verifyPinOnPinPad(transport);
    } else {
      await this.#app.verifyPin(pinData);
    }
    // Both ids are the card PIN 80; id 4 additionally arms the next PIN-always (9C) operation.
    this.#authenticated |= createPinSet(ROLE_USER, pinId);
    return {};
  }

  async unblockPin(
    _userId: 'user',
    authenticationData: Uint8Array,
    newPin: Uint8Array,
    retryCount: number,
    mode: 'challenge-response' | 'pin',
  ): Promise<void> {
    if (mode === 'challenge-response') {
      unsupported('PIV unblocks the PIN only with the PUK (RESET RETRY COUNTER); the management key cannot');
    }
    await this.changeAuthenticatorEx({
      operation: 'unblock',
      authenticatingPinId: PUK_PIN_ID,
      authenticatingData: authenticationData,
      targetPinId: ROLE_USER,
      targetData: newPin,
      retryCount,
      silent: false,
    });
  }

  async changeAuthenticator(
    userId: UserId,
    currentAuthenticator: Uint8Array,
    newAuthenticator: Uint8Array,
    retryCount: number,
    mode: 'challenge-response' | 'pin',
  ): Promise<void> {
    const pinId: PinId = userId === 'admin' ? ROLE_ADMIN : ROLE_USER;
    if ((pinId === ROLE_ADMIN) !== (mode === 'challenge-response')) {
      invalid('the PIV user has a PIN and the administrator a challenge/response key');
    }
    await this.changeAuthenticatorEx({
      operation: 'change',
      authenticatingPinId: pinId,
      authenticatingData: currentAuthenticator,
      targetPinId: pinId,
      targetData: newAuthenticator,
      retryCount,
      silent: false,
    });
  }

  async changeAuthenticatorEx(request: ChangeAuthenticatorRequest): Promise<void> {
    if (request.retryCount !== 0) invalid('PIV cannot set a retry count while changing a PIN (use 0)');
    const target = request.targetPinId;
    const source = request.authenticatingPinId;
    const isUserPin = (id: number): boolean => id === ROLE_USER || id === SIGNATURE_PIN_ID;
    if (!isPinInSet(PIN_LIST, target) || !isPinInSet(PIN_LIST, source)) invalid('no such PIN on this card');
    if (request.operation === 'unblock') {
      if (!isUserPin(target)) invalid(`PIN ${target} cannot be unblocked on PIV`);
      if (source !== PUK_PIN_ID) {
        throw new ScardError('SCARD_W_SECURITY_VIOLATION', 'only the PUK unblocks the PIV PIN');
      }
      await this.#app.unblockPin(request.authenticatingData, request.targetData);
      this.#authenticated &= ~createPinSet(ROLE_USER, SIGNATURE_PIN_ID);
      return;
    }
    const sameSecret = source === target || (isUserPin(source) && isUserPin(target));
    if (!sameSecret) throw new ScardError('SCARD_W_SECURITY_VIOLATION', `PIN ${source} cannot change PIN ${target}`);
    if (isUserPin(target)) {
      await this.#app.changeReference(PIN_REFERENCE, request.authenticatingData, request.targetData);
      this.#authenticated |= createPinSet(ROLE_USER);
      return;
    }
    if (target === PUK_PIN_ID) {
      await this.#app.changeReference(PUK_REFERENCE, request.authenticatingData, request.targetData);
      return;
    }
    // ROLE_ADMIN: answer the outstanding challenge, then SET MANAGEMENT KEY of the same algorithm.
    const algorithmId = this.#pendingChallenge?.algorithmId;
    if (algorithmId !== undefined && request.targetData.length !== managementKeyLength(algorithmId)) {
      invalid(`the new management key must be ${managementKeyLength(algorithmId)} bytes`);
    }
    await this.#answerChallenge(request.authenticatingData);
    await this.#app.setManagementKey(algorithmId!, request.targetData);
  }

  async deauthenticate(userId: UserId): Promise<void> {
    await this.deauthenticateEx(createPinSet(userId === 'admin' ? ROLE_ADMIN : ROLE_USER));
  }

  async deauthenticateEx(pinSet: PinSet): Promise<void> {
    const userBits = createPinSet(ROLE_USER, SIGNATURE_PIN_ID);
    if ((pinSet & createPinSet(ROLE_ADMIN)) !== 0) {
      // PIV cannot drop the management key alone: re-SELECT drops every security status.
      if ((this.#authenticated & userBits) !== 0 && (pinSet & userBits) === 0) {
        unsupported('PIV cannot log out the management key while keeping the PIN verified');
      }
      await this.#app.select();
      this.#authenticated = 0;
      this.#pendingChallenge = undefined;
      return;
    }
    if ((pinSet & userBits) !== 0) {
      await this.#app.logoutPin();
      this.#authenticated &= ~userBits;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Cryptography

  async signData(request: SignDataRequest): Promise<Uint8Array> {
    this.#begin();
    if (isEcdhKeySpec(request.keySpec)) invalid('an ECDH key cannot sign');
    const { slot, state, half } = await this.#containerKey(request.containerIndex);
    const key = state.publicKey;
    const algorithmId = algorithmIdOfKey(key);
    let result: Uint8Array;
    if (isRsaKeySpec(request.keySpec)) {
      const wanted = request.keySpec === KeySpec.AT_SIGNATURE ? 'signature' : 'keyExchange';
      if (key.kind !== 'rsa' || half !== wanted) {
        throw new ScardError(
          'SCARD_E_NO_KEY_CONTAINER',
          `container ${request.containerIndex} has no ${wanted} RSA key`,
        );
      }
      const modulusBytes = key.bits / 8;
      const block = this.#context.padData(request, modulusBytes);
      try {
        const signature = await this.#app.authenticateWithKey(slot, algorithmId, block);
        result = reverseBytes(leftPad(signature, modulusBytes));
      } finally {
        wipe(block);
      }
    } else {
      if (key.kind !== 'ecc' || half !== 'signature' || eccKeySpecBits(request.keySpec) !== key.bits) {
        throw new ScardError(
          'SCARD_E_NO_KEY_CONTAINER',
          `container ${request.containerIndex} has no ECDSA key of that curve`,
        );
      }
      const size = key.bits / 8;
      // ECDSA input: the hash truncated to (or left-padded to) the field size (piv.md §6.6).
      const input = request.data.length >= size ? request.data.slice(0, size) : leftPad(request.data, size);
      result = ecdsaDerToRaw(await this.#app.authenticateWithKey(slot, algorithmId, input), size);
    }
    if (slot === 0x9c || state.pinPolicy === PinPolicy.always) this.#authenticated &= ~createPinSet(SIGNATURE_PIN_ID);
    return result;
  }

  async rsaDecrypt(request: RsaDecryptRequest): Promise<Uint8Array> {
    this.#begin();
    if (request.keySpec !== KeySpec.AT_KEYEXCHANGE) invalid('RSA decryption needs AT_KEYEXCHANGE');
    const { slot, state, half } = await this.#containerKey(request.containerIndex);
    const key = state.publicKey;
    if (key.kind !== 'rsa' || half !== 'keyExchange') {
      throw new ScardError(
        'SCARD_E_NO_KEY_CONTAINER',
        `container ${request.containerIndex} has no RSA key-exchange key`,
      );
    }
    const modulusBytes = key.bits / 8;
    if (request.data.length < modulusBytes) {
      throw new ScardError('SCARD_E_INSUFFICIENT_BUFFER', `the ciphertext must be ${modulusBytes} bytes`);
    }
    if (request.data.length > modulusBytes) invalid(`the ciphertext must be ${modulusBytes} bytes`);
    const ciphertext = reverseBytes(request.data);
    if (Buffer.compare(Buffer.from(ciphertext), Buffer.from(leftPad(key.modulus, modulusBytes))) >= 0) {
      invalid('the ciphertext is not smaller than the modulus');
    }
    const block = leftPad(await this.#app.authenticateWithKey(slot, algorithmIdOfKey(key), ciphertext), modulusBytes);
    try {
      if (request.padding.type === 'none') return reverseBytes(block);
      const message = this.#context.unpadData(block, request.padding);
      try {
        return reverseBytes(message);
      } finally {
        wipe(message);
      }
    } finally {
      wipe(block);
    }
  }

  async constructDHAgreement(request: DhAgreementRequest): Promise<number> {
    this.#begin();
    const { slot, state, half } = await this.#containerKey(request.containerIndex);
    const key = state.publicKey;
    if (key.kind !== 'ecc' || half !== 'keyExchange') {
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${request.containerIndex} has no ECDH key`);
    }
    const peer = decodeEccPublicKeyBlob(request.publicKey);
    if (peer.use !== 'ecdh' || peer.curve !== key.curve) invalid(`the peer key is not an ECDH ${key.curve} public key`);
    let index = 0;
    while (this.#agreements.has(index)) index++;
    if (index > 255) throw new ScardError('SCARD_E_NO_MEMORY', 'all 256 agreement slots are in use');
    const point = Uint8Array.from([0x04, ...peer.x, ...peer.y]);
    const secret = await this.#app.calculateSecret(slot, algorithmIdOfKey(key), point);
    this.#agreements.set(index, secret);
    return index;
  }

  async deriveKey(request: DeriveKeyRequest): Promise<Uint8Array> {
    const secret = this.#agreements.get(request.agreementIndex);
    if (secret === undefined) invalid(`agreement ${request.agreementIndex} does not exist`);
    return deriveKeyFromSecret(secret, request);
  }

  async destroyDHAgreement(agreementIndex: number): Promise<void> {
    const secret = this.#agreements.get(agreementIndex);
    if (secret === undefined) invalid(`agreement ${agreementIndex} does not exist`);
    wipe(secret);
    this.#agreements.delete(agreementIndex);
  }

  // -------------------------------------------------------------------------------------------------
  // Properties

  #pinInfo(pinId: number): PinInfo {
    const normal = { type: PinCachePolicyType.PinCacheNormal, info: 0 } as const;
    // The card PIN (ids 1 and 4) is typed on the reader when it has a PIN pad (minidriver.md §6.3, §6.9).
    const cardPinType = hasPinPad(this.#context.transport)
      ? SecretType.ExternalPinType
      : SecretType.AlphaNumericPinType;
    switch (pinId) {
      case ROLE_USER:
        return {
          pinType: cardPinType,
          purpose: SecretPurpose.PrimaryCardPin,
          changePermission: createPinSet(ROLE_USER),
          unblockPermission: createPinSet(PUK_PIN_ID),
          cachePolicy: normal,
          flags: 0,
        };
      case ROLE_ADMIN:
        return {
          pinType: SecretType.ChallengeResponsePinType,
          purpose: SecretPurpose.AdministratorPin,
          changePermission: createPinSet(ROLE_ADMIN),
          unblockPermission: 0,
          cachePolicy: normal,
          flags: 0,
        };
      case PUK_PIN_ID:
        return {
          pinType: SecretType.AlphaNumericPinType,
          purpose: SecretPurpose.UnblockOnlyPin,
          changePermission: createPinSet(PUK_PIN_ID),
          unblockPermission: 0,
          cachePolicy: { type: PinCachePolicyType.PinCacheNone, info: 0 },
          flags: 0,
        };
      case SIGNATURE_PIN_ID:
        return {
          pinType: cardPinType,
          purpose: SecretPurpose.DigitalSignaturePin,
          changePermission: createPinSet(SIGNATURE_PIN_ID),
          unblockPermission: createPinSet(PUK_PIN_ID),
          cachePolicy: { type: PinCachePolicyType.PinCacheAlwaysPrompt, info: 0 },
          flags: 0,
        };
      default:
        return invalid(`PIN ${pinId} does not exist on this card`);
    }
  }

  async #serialNumber(): Promise<Uint8Array> {
    const chuid = await this.#app.getChuid();
    const fascn = chuid?.fascn;
    const governmentFascn =
      fascn !== undefined &&
      fascn.length === 25 &&
      !NON_GOVERNMENT_FASCN_PREFIX.every((byte, index) => fascn[index] === byte);
    if (!governmentFascn && chuid?.guid !== undefined && chuid.guid.some((byte) => byte !== 0))
      return new Uint8Array(chuid.guid);
    if (fascn !== undefined) return new Uint8Array(fascn);
    const serial = await this.#app.getSerial();
    if (serial === undefined) unsupported('the card has no CHUID and no serial number');
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, serial);
    return bytes;
  }

  async getProperty<K extends CardPropertyName>(name: K, flags: number): Promise<CardPropertyTypes[K]> {
    const answer = async (): Promise<unknown> => {
      switch (name) {
        case 'Free Space':
          return this.queryFreeSpace();
        case 'Capabilities':
          return this.queryCapabilities();
        case 'Key Sizes':
          return this.queryKeySizes(flags);
        case 'Read Only Mode':
          return false;
        case 'Cache Mode':
          return this.#cacheMode;
        case 'Supports Windows x.509 Enrollment':
          return true;
        case 'Card Identifier':
          return this.#cardId();
        case 'Card Serial Number':
          return this.#serialNumber();
        case 'PIN Information':
          return this.#pinInfo(flags);
        case 'PIN List':
          return PIN_LIST;
        case 'Authenticated State':
          return this.#authenticated;
        case 'PIN Strength Verify':
        case 'PIN Strength Change':
        case 'PIN Strength Unblock':
          this.#pinInfo(flags);
          return 1; // CARD_PIN_STRENGTH_PLAINTEXT: no session PINs
        case 'Key Import Support':
          return 0; // no secure key injection
        case 'minidriver:PIN Retries Left':
          return this.#pinRetriesLeft(flags);
        case 'Parent Window':
        case 'PIN Context String':
          return invalid(`"${name}" is write-only`);
        default:
          return unsupported(`card property "${name}" (secure key injection is not supported)`);
      }
    };
    return (await answer()) as CardPropertyTypes[K];
  }

  /**
   * Our vendor property CP_PIN_RETRIES_LEFT, never spending a try: the PIN (user and signature PIN share
   * card PIN 80) from GET METADATA 80 (5.3+) or an empty VERIFY 80 (63Cx); the PUK from GET METADATA 81
   * (5.3+ only: older cards have no way to ask); the management key has no retry counter.
   * CARD_DATA_VALUE_UNKNOWN where the card cannot tell (an empty VERIFY answers 9000 once verified).
   */
  async #pinRetriesLeft(pinId: number): Promise<number> {
    switch (pinId) {
      case ROLE_USER:
      case SIGNATURE_PIN_ID:
        return (await this.#app.getPinRetries(PIN_REFERENCE)) ?? CARD_DATA_VALUE_UNKNOWN;
      case PUK_PIN_ID:
        if (!this.#hasMetadata) return CARD_DATA_VALUE_UNKNOWN;
        return (await this.#app.getPinRetries(PUK_REFERENCE)) ?? CARD_DATA_VALUE_UNKNOWN;
      case ROLE_ADMIN:
        return CARD_DATA_VALUE_UNKNOWN;
      default:
        return invalid(`PIN ${pinId} does not exist on this card`);
    }
  }

  async setProperty<K extends CardPropertyName>(name: K, _value: CardPropertyTypes[K], _flags: number): Promise<void> {
    // PIV PINs are typed on the host: no instruction window needs the parent window or the context string.
    if (name === 'Parent Window' || name === 'PIN Context String') return;
    unsupported(`card property "${name}" cannot be set on PIV`);
  }
}
