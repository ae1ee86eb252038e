/**
 * @packageDocumentation
 * A faithful simulation of a GIDS card (Microsoft Generic Identity Device Specification, docs/spec/gids.md):
 * the application selected by AID, its life cycle (creation → operational on ACTIVATE), the DO files and key
 * files with their compact ACLs, GET/PUT DATA of data objects, the user PIN and its counter, the admin key
 * (mutual and external authentication), key generation and import, signature, decipherment and ECDH, command
 * chaining and 61xx responses. A default card is personalized exactly as `gids-tool --initialize` does it; a
 * blank card (`blank: true`) waits for that personalization. Cryptography is real (node:crypto).
 */
import { randomBytes } from 'node:crypto';
import {
  ApduDispatcher,
  byInstruction,
  failWith,
  type InstructionHandler,
  retriesLeftStatus,
  type SimCommand,
} from '@minidriver/card-kit/sim';
import { decodeTlv, findTlvValue, SW, type TlvNode } from '@minidriver/iso7816';
import type { SimulatedCard } from '@minidriver/sim';
import { ScardError } from '@minidriver/spec';
import { AccessBit, CompactAcl, type SecurityStatus } from './gids-acl.js';
import { ADMIN_KEY_LENGTH, AdminAuthentication } from './gids-admin-auth.js';
import {
  encodeDataObject,
  fileFromFcp,
  fileFromState,
  fileToState,
  type GidsFile,
  type GidsFileState,
  type KeyFile,
} from './gids-files.js';
import { GidsKey, mechanismInfo } from './gids-keys.js';
import { GidsPin, type GidsPinState } from './gids-pin.js';
import { provisioningCommands } from './gids-provisioning.js';

/**
 * The ATR of a Microsoft virtual smart card (a GIDS card): T=1, the GIDS AID in the historical bytes
 * (listed in pcsc-tools' smartcard_list.txt as "Microsoft Virtual Smart Card").
 */
export const GIDS_ATR: Uint8Array = Uint8Array.from([
  0x3b, 0x8d, 0x01, 0x80, 0xfb, 0xa0, 0x00, 0x00, 0x03, 0x97, 0x42, 0x54, 0x46, 0x59, 0x04, 0x01, 0xcf,
]);

/** The GIDS application AID (v2), as the card reports it; SELECT sends its first 9 bytes. */
export const GIDS_AID: Uint8Array = Uint8Array.from([0xa0, 0x00, 0x00, 0x03, 0x97, 0x42, 0x54, 0x46, 0x59, 0x02, 0x01]);

/** SELECT answers (docs/spec/gids.md §1): FCI (P2 00), FCP (P2 04), FMD (P2 08). */
const SELECT_FCI = Uint8Array.from([0x61, 0x12, 0x4f, 0x0b, ...GIDS_AID, 0x73, 0x03, 0x40, 0x01, 0xc0]);
const APPLICATION_FCP = Uint8Array.from([0x62, 0x08, 0x82, 0x01, 0x38, 0x8c, 0x03, 0x03, 0x30, 0x30]);
const SELECT_FMD = Uint8Array.from([0x64, 0x09, 0x5f, 0x2f, 0x01, 0x40, 0x7f, 0x65, 0x02, 0x80, 0x00]);

/** The application DF's file identifier. */
export const APPLICATION_FID = 0x3fff;

/** Default secrets of a personalized simulator (Microsoft's provisioning example values). */
export const DEFAULT_PIN: Uint8Array = new TextEncoder().encode('12345678');
export const DEFAULT_ADMIN_KEY: Uint8Array = Uint8Array.from(Buffer.from('0102030405060708'.repeat(3), 'hex'));

/** Files the card can hold (6A84 beyond). */
const MAX_FILES = 160;
/** Default space for data objects, in bytes (6A84 beyond). */
const DEFAULT_CAPACITY = 64 * 1024;
/** PUT DATA, PSO, CREATE FILE, GENERAL AUTHENTICATE, CHANGE REFERENCE DATA, RESET RETRY COUNTER. */
const CHAINABLE = new Set([0xdb, 0x2a, 0xe0, 0x87, 0x24, 0x2c]);
/** Largest command a chain may assemble (a 4096-bit RSA import or a large certificate fits). */
const MAX_CHAIN_LENGTH = 16384;

/** Options of a simulated GIDS card. */
export interface GidsSimulatorOptions {
  /** A blank card in creation state, to be personalized (e.g. by `gids-tool --initialize`). */
  readonly blank?: boolean;
  /** User PIN of a personalized card (default "12345678"). */
  readonly pin?: Uint8Array | string;
  /** 24-byte 3DES admin key of a personalized card (default 0102030405060708 × 3). */
  readonly adminKey?: Uint8Array;
  /** cardid of a personalized card (default: random 16 bytes). */
  readonly cardId?: Uint8Array;
  /** Personalize with cardcf writable by the admin only (see ProvisioningParameters.readOnlyCardcf). */
  readonly readOnlyCardcf?: boolean;
  /** RSA sizes the card generates and imports (default 1024, 2048, 3072, 4096). */
  readonly rsaKeySizes?: readonly number[];
  /** Bytes available for data objects (default 64 KiB). */
  readonly capacity?: number;
  /** Answer to reset (default GIDS_ATR). */
  readonly atr?: Uint8Array;
}

/** The JSON form of the card's non-volatile memory. */
export interface GidsSimulatorState {
  readonly format: 'minidriver-gids-sim/1';
  readonly operational: boolean;
  readonly pin: GidsPinState;
  readonly files: Readonly<Record<string, GidsFileState>>;
}

type SecurityEnvironment =
  | { readonly kind: 'sign' | 'decipher'; readonly algorithm: number; readonly file: KeyFile }
  | { readonly kind: 'authenticate'; readonly file: KeyFile };

/** A simulated GIDS card. */
export class GidsSimulator implements SimulatedCard {
  readonly name = 'GIDS';
  readonly #atr: Uint8Array;
  readonly #rsaKeySizes: readonly number[];
  readonly #capacity: number;

  // Non-volatile.
  #operational = false;
  #pin = new GidsPin();
  readonly #files = new Map<number, GidsFile>();

  // Volatile.
  #current: number = APPLICATION_FID;
  #environment: SecurityEnvironment | undefined;
  readonly #admin = new AdminAuthentication();
  /** Chaining, 61xx / GET RESPONSE, the class byte and status words: the kit's dispatcher; the GIDS instructions. */
  readonly #dispatcher = new ApduDispatcher(
    byInstruction(
      new Map<number, InstructionHandler>([
        [0xa4, (command) => this.#select(command, command.data)],
        [0xcb, (command) => this.#getData(command, command.data)],
        [0xdb, (command) => this.#putData(command, command.data)],
        [0x20, (command) => this.#verify(command, command.data)],
        [0x24, (command) => this.#changeReferenceData(command, command.data)],
        [0x2c, (command) => this.#resetRetryCounter(command, command.data)],
        [0x22, (command) => this.#manageSecurityEnvironment(command, command.data)],
        [0x87, (command) => this.#generalAuthenticate(command, command.data)],
        [0x2a, (command) => this.#performSecurityOperation(command, command.data)],
        [0x47, (command) => this.#generateKeyPair(command, command.data)],
        [0xe0, (command) => this.#createFile(command, command.data)],
        [0x44, (command) => this.#activateFile(command)],
        [0xe4, (command) => this.#deleteFile(command, command.data)],
      ]),
    ),
    {
      chainableInstructions: CHAINABLE,
      maxChainLength: MAX_CHAIN_LENGTH,
      interindustryClassOnly: true,
      internalErrorStatus: SW.NO_PRECISE_DIAGNOSIS,
    },
  );

  constructor(options: GidsSimulatorOptions = {}) {
    this.#atr = Uint8Array.from(options.atr ?? GIDS_ATR);
    this.#rsaKeySizes = options.rsaKeySizes ?? [1024, 2048, 3072, 4096];
    this.#capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (options.blank) return;
    const pin = typeof options.pin === 'string' ? new TextEncoder().encode(options.pin) : (options.pin ?? DEFAULT_PIN);
    const adminKey = options.adminKey ?? DEFAULT_ADMIN_KEY;
    const cardId = options.cardId ?? new Uint8Array(randomBytes(16));
    if (pin.length < 4 || pin.length > 16)
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the PIN must be 4-16 bytes');
    if (adminKey.length !== ADMIN_KEY_LENGTH) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the admin key must be 24 bytes (3DES)');
    }
    if (cardId.length !== 16) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the cardid must be 16 bytes');
    for (const command of provisioningCommands({
      pin,
      adminKey,
      cardId,
      ...(options.readOnlyCardcf ? { readOnlyCardcf: true } : {}),
    })) {
      const response = this.#dispatcher.processSync(command);
      if (response.length < 2 || response[response.length - 2] !== 0x90) {
        throw new ScardError('SCARD_E_UNEXPECTED', 'the simulator rejected its own personalization');
      }
    }
    this.#clearVolatile();
  }

  get atr(): Uint8Array {
    return Uint8Array.from(this.#atr);
  }

  /** True once the application has been activated (personalization done). */
  get operational(): boolean {
    return this.#operational;
  }

  /** The user PIN's tries left (for tests). */
  get pinTriesLeft(): number {
    return this.#pin.triesLeft;
  }

  /** The data object `tag` of DO file `fid` (a copy), for tests that look at the card's memory. */
  dataObject(fid: number, tag: number): Uint8Array | undefined {
    const file = this.#files.get(fid);
    const value = file?.kind === 'do' ? file.objects.get(tag) : undefined;
    return value === undefined ? undefined : Uint8Array.from(value);
  }

  /** The public key in key file B0xx (for tests), or undefined. */
  publicKey(keyReference: number): import('node:crypto').KeyObject | undefined {
    const file = this.#files.get(0xb000 | keyReference);
    return file?.kind === 'key' ? file.key?.publicKey() : undefined;
  }

  powerOn(): void {
    this.#clearVolatile();
  }

  powerOff(): void {
    this.#clearVolatile();
  }

  reset(): void {
    this.#clearVolatile();
  }

  /** Processes one command APDU; never throws (internal failures answer 6F00). */
  process(command: Uint8Array): Uint8Array {
    return this.#dispatcher.processSync(command);
  }

  saveState(): GidsSimulatorState {
    const files: Record<string, GidsFileState> = {};
    for (const [fid, file] of this.#files) files[fid.toString(16)] = fileToState(file);
    return { format: 'minidriver-gids-sim/1', operational: this.#operational, pin: this.#pin.toState(), files };
  }

  loadState(state: unknown): void {
    try {
      const parsed = state as GidsSimulatorState;
      if (parsed?.format !== 'minidriver-gids-sim/1') throw new Error('not a GIDS simulator state');
      const files = new Map<number, GidsFile>();
      for (const [fid, fileState] of Object.entries(parsed.files)) {
        const file = fileFromState(fileState);
        if (file.fid !== Number.parseInt(fid, 16)) throw new Error(`file ${fid} does not match its FCP`);
        files.set(file.fid, file);
      }
      const pin = GidsPin.fromState(parsed.pin);
      this.#operational = parsed.operational === true;
      this.#pin = pin;
      this.#files.clear();
      for (const [fid, file] of files) this.#files.set(fid, file);
    } catch (error) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'invalid GIDS simulator state', { cause: error });
    }
    this.#clearVolatile();
  }

  // ---------------------------------------------------------------------------------------------------------

  #clearVolatile(): void {
    this.#current = APPLICATION_FID;
    this.#environment = undefined;
    this.#deauthenticateAll();
    this.#dispatcher.reset();
  }

  #deauthenticateAll(): void {
    this.#pin.verified = false;
    this.#admin.reset();
  }

  get #status(): SecurityStatus {
    return {
      userVerified: this.#pin.verified,
      adminAuthenticated: this.#admin.authenticated,
      initialization: !this.#operational,
    };
  }

  // SELECT ----------------------------------------------------------------------------------------------------

  #select(apdu: SimCommand, data: Uint8Array): Uint8Array {
    if (apdu.p1 === 0x04) {
      if (
        data.length < 9 ||
        data.length > GIDS_AID.length ||
        !GIDS_AID.subarray(0, data.length).every((b, i) => b === data[i])
      ) {
        return failWith(SW.FILE_NOT_FOUND);
      }
      this.#current = APPLICATION_FID;
      this.#environment = undefined;
      switch (apdu.p2) {
        case 0x00:
          return Uint8Array.from(SELECT_FCI);
        case 0x04:
          return Uint8Array.from(APPLICATION_FCP);
        case 0x08:
          return Uint8Array.from(SELECT_FMD);
        case 0x0c:
          return new Uint8Array(0);
        default:
          return failWith(SW.INCORRECT_P1P2);
      }
    }
    if (apdu.p1 !== 0x00 || data.length !== 2) return failWith(SW.INCORRECT_P1P2);
    const fid = ((data[0] as number) << 8) | (data[1] as number);
    let fcp: Uint8Array;
    if (fid === APPLICATION_FID) fcp = APPLICATION_FCP;
    else {
      const file = this.#files.get(fid);
      if (file === undefined) return failWith(SW.FILE_NOT_FOUND);
      fcp = file.fcp;
    }
    this.#current = fid;
    if (apdu.p2 === 0x0c) return new Uint8Array(0);
    if (apdu.p2 === 0x00 || apdu.p2 === 0x04) return Uint8Array.from(fcp);
    return failWith(SW.INCORRECT_P1P2);
  }

  // DATA OBJECTS ------------------------------------------------------------------------------------------------

  #getData(apdu: SimCommand, data: Uint8Array): Uint8Array {
    const fid = (apdu.p1 << 8) | apdu.p2;
    const nodes = parseCommandTlv(data);
    if (fid === APPLICATION_FID) return this.#getApplicationData(nodes);
    const file = this.#files.get(fid);
    if (file?.kind !== 'do') return failWith(SW.FILE_NOT_FOUND);
    const tagBytes = findTlvValue(nodes, 0x5c);
    if (tagBytes === undefined || tagBytes.length < 1 || tagBytes.length > 3) return failWith(SW.INCORRECT_DATA);
    file.acl.require(AccessBit.read, this.#status);
    const tag = tagBytes.reduce((value, byte) => (value << 8) | byte, 0);
    const value = file.objects.get(tag);
    if (value === undefined) return failWith(SW.FILE_NOT_FOUND);
    return encodeDataObject(tag, value);
  }

  #getApplicationData(nodes: readonly TlvNode[]): Uint8Array {
    const tagBytes = findTlvValue(nodes, 0x5c);
    if (tagBytes !== undefined) {
      const tag = tagBytes.reduce((value, byte) => (value << 8) | byte, 0);
      if (tag !== 0x7f71 && tag !== 0x7f72) return failWith(SW.REFERENCED_DATA_NOT_FOUND);
      if (!this.#pin.isSet) return failWith(SW.REFERENCED_DATA_NOT_FOUND);
      return Uint8Array.of(tag >> 8, tag & 0xff, 0x06, 0x97, 0x01, this.#pin.triesLeft, 0x93, 0x01, this.#pin.tryLimit);
    }
    const reference = findTlvValue(nodes, 0x70, 0x84);
    const wanted = findTlvValue(nodes, 0x70, 0xa5);
    if (reference?.length !== 1 || wanted === undefined) return failWith(SW.INCORRECT_DATA);
    const file = this.#keyFile(reference[0] as number);
    file.acl.require(AccessBit.read, this.#status);
    if (file.key === undefined) return failWith(SW.FILE_NOT_FOUND);
    return file.key.publicKeyTemplate();
  }

  #putData(apdu: SimCommand, data: Uint8Array): Uint8Array {
    const fid = (apdu.p1 << 8) | apdu.p2;
    if (fid === APPLICATION_FID) return this.#putKey(data);
    const file = this.#files.get(fid);
    if (file?.kind !== 'do') return failWith(SW.FILE_NOT_FOUND);
    file.acl.require(AccessBit.write, this.#status);
    const nodes = parseCommandTlv(data, false);
    if (nodes.length === 0) return failWith(SW.INCORRECT_DATA);
    let total = this.#usedSpace();
    for (const node of nodes) total += node.value.length - (file.objects.get(node.tag)?.length ?? 0);
    if (total > this.#capacity) return failWith(SW.NOT_ENOUGH_MEMORY);
    const added = nodes.filter((node) => !file.objects.has(node.tag)).length;
    if (file.objects.size + added > 30) return failWith(SW.NOT_ENOUGH_MEMORY);
    for (const node of nodes) file.put(node.tag, node.value);
    return new Uint8Array(0);
  }

  #usedSpace(): number {
    let total = 0;
    for (const file of this.#files.values()) if (file.kind === 'do') total += file.size;
    return total;
  }

  /** PUT DATA 3FFF, DO 70: a key (asymmetric import, or the admin key) into key file B0xx. */
  #putKey(data: Uint8Array): Uint8Array {
    const nodes = parseCommandTlv(data);
    const reference = findTlvValue(nodes, 0x70, 0x84);
    const value = findTlvValue(nodes, 0x70, 0xa5, 0x87);
    if (reference?.length !== 1 || value === undefined) return failWith(SW.INCORRECT_DATA);
    const file = this.#keyFile(reference[0] as number);
    file.acl.require(AccessBit.write, this.#status);
    if (file.isSymmetric) {
      if (value.length !== ADMIN_KEY_LENGTH) return failWith(SW.INCORRECT_DATA);
      file.symmetricKey?.fill(0);
      file.symmetricKey = Uint8Array.from(value);
    } else {
      const key = GidsKey.import(value, this.#rsaKeySizes);
      if (!file.allowsMechanism(key.mechanism)) return failWith(SW.INCORRECT_DATA);
      file.key = key;
    }
    value.fill(0);
    data.fill(0);
    return new Uint8Array(0);
  }

  #keyFile(reference: number): KeyFile {
    const file = this.#files.get(0xb000 | reference);
    if (file?.kind !== 'key') return failWith(SW.REFERENCED_DATA_NOT_FOUND);
    return file;
  }

  // PIN ------------------------------------------------------------------------------------------------------

  #verify(apdu: SimCommand, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x00) return failWith(SW.INCORRECT_P1P2);
    if (apdu.p2 === 0x82) {
      this.#deauthenticateAll();
      return new Uint8Array(0);
    }
    if (apdu.p2 !== 0x80 && apdu.p2 !== 0x00) return failWith(SW.REFERENCED_DATA_NOT_FOUND);
    if (!this.#pin.isSet) return failWith(SW.CONDITIONS_NOT_SATISFIED);
    if (data.length === 0) {
      if (this.#pin.triesLeft === 0) return failWith(SW.REFERENCE_DATA_NOT_USABLE);
      if (!this.#operational || this.#pin.verified) return new Uint8Array(0);
      return failWith(retriesLeftStatus(this.#pin.triesLeft));
    }
    try {
      this.#pin.verify(data);
    } finally {
      data.fill(0);
    }
    return new Uint8Array(0);
  }

  #changeReferenceData(apdu: SimCommand, data: Uint8Array): Uint8Array {
    if (apdu.p2 !== 0x80 && apdu.p2 !== 0x00) return failWith(SW.REFERENCED_DATA_NOT_FOUND);
    try {
      if (apdu.p1 === 0x01) {
        this.#pin.checkLength(data.length);
        if (this.#operational && !this.#pin.verified) return failWith(SW.SECURITY_STATUS_NOT_SATISFIED);
        this.#pin.set(data);
        return new Uint8Array(0);
      }
      if (apdu.p1 !== 0x00) return failWith(SW.INCORRECT_P1P2);
      this.#pin.change(data);
      return new Uint8Array(0);
    } finally {
      data.fill(0);
    }
  }

  #resetRetryCounter(apdu: SimCommand, data: Uint8Array): Uint8Array {
    try {
      if (!this.#operational) return failWith(SW.COMMAND_NOT_ALLOWED_NO_EF);
      if (apdu.p1 !== 0x02) return failWith(SW.INCORRECT_P1P2);
      if (apdu.p2 !== 0x80) return failWith(SW.REFERENCED_DATA_NOT_FOUND);
      if (!this.#admin.authenticated) return failWith(SW.SECURITY_STATUS_NOT_SATISFIED);
      this.#pin.checkLength(data.length);
      this.#pin.set(data);
      this.#deauthenticateAll();
      return new Uint8Array(0);
    } finally {
      data.fill(0);
    }
  }

  // SECURITY ENVIRONMENT, ADMIN KEY -------------------------------------------------------------------------------

  #manageSecurityEnvironment(apdu: SimCommand, data: Uint8Array): Uint8Array {
    const nodes = parseCommandTlv(data);
    if ((apdu.p1 === 0xc1 || apdu.p1 === 0x81) && apdu.p2 === 0xa4) {
      const reference = findTlvValue(nodes, 0x83) ?? findTlvValue(nodes, 0x84);
      if (reference?.length !== 1) return failWith(SW.INCORRECT_DATA);
      const file = this.#keyFile(reference[0] as number);
      if (!file.isSymmetric) return failWith(SW.INCORRECT_DATA);
      this.#environment = { kind: 'authenticate', file };
      this.#admin.reset();
      return new Uint8Array(0);
    }
    if (apdu.p1 !== 0x41 || (apdu.p2 !== 0xb6 && apdu.p2 !== 0xb8)) return failWith(SW.INCORRECT_P1P2);
    const algorithm = findTlvValue(nodes, 0x80);
    const reference = findTlvValue(nodes, 0x84) ?? findTlvValue(nodes, 0x83);
    if (algorithm?.length !== 1 || reference?.length !== 1) return failWith(SW.INCORRECT_DATA);
    const file = this.#keyFile(reference[0] as number);
    if (file.isSymmetric || !file.allows(apdu.p2, algorithm[0] as number)) return failWith(SW.INCORRECT_DATA);
    this.#environment = { kind: apdu.p2 === 0xb6 ? 'sign' : 'decipher', algorithm: algorithm[0] as number, file };
    return new Uint8Array(0);
  }

  #generalAuthenticate(apdu: SimCommand, data: Uint8Array): Uint8Array {
    if (!this.#operational) return failWith(SW.COMMAND_NOT_ALLOWED_NO_EF);
    if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) return failWith(SW.INCORRECT_P1P2);
    const environment = this.#environment;
    if (environment?.kind !== 'authenticate') return failWith(SW.CONDITIONS_NOT_SATISFIED);
    const file = environment.file;
    file.acl.require(AccessBit.use, this.#status);
    const key = file.symmetricKey;
    if (key === undefined) return failWith(SW.CONDITIONS_NOT_SATISFIED);
    const nodes = parseCommandTlv(data);
    const challenge = findTlvValue(nodes, 0x7c, 0x81);
    if (challenge !== undefined) return this.#admin.challenge(challenge);
    const response = findTlvValue(nodes, 0x7c, 0x82);
    if (response === undefined) return failWith(SW.INCORRECT_DATA);
    return this.#admin.respond(response, key);
  }

  // CRYPTOGRAPHY ---------------------------------------------------------------------------------------------------

  #performSecurityOperation(apdu: SimCommand, data: Uint8Array): Uint8Array {
    const environment = this.#environment;
    const operation =
      apdu.p1 === 0x9e && apdu.p2 === 0x9a ? 'sign' : apdu.p1 === 0x80 && apdu.p2 === 0x86 ? 'decipher' : undefined;
    if (operation === undefined) return failWith(SW.INCORRECT_P1P2);
    if (environment?.kind !== operation) return failWith(SW.CONDITIONS_NOT_SATISFIED);
    const file = environment.file;
    file.acl.require(AccessBit.use, this.#status);
    const key = file.key;
    if (key === undefined) return failWith(SW.CONDITIONS_NOT_SATISFIED);
    const padding = environment.algorithm & 0xf0;
    if (operation === 'sign') {
      if (key.info.kind === 'ec') return key.ecdsaSign(data);
      return padding === 0x50 ? key.rsaSignPkcs1(data) : key.rsaRaw(data);
    }
    // OpenSC sends ISO's padding-indicator byte 00 in front of the cryptogram; Microsoft's driver does not.
    const expected = key.info.kind === 'rsa' ? key.info.bits / 8 : 1 + 2 * key.info.fieldLength;
    const input = data.length === expected + 1 && data[0] === 0x00 ? data.subarray(1) : data;
    if (key.info.kind === 'ec') return key.ecdh(input);
    if (padding === 0x40) return key.rsaDecryptPkcs1(input);
    if (padding === 0x80) return key.rsaDecryptOaep(input);
    return key.rsaRaw(input);
  }

  #generateKeyPair(apdu: SimCommand, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) return failWith(SW.INCORRECT_P1P2);
    const nodes = parseCommandTlv(data);
    const mechanism = findTlvValue(nodes, 0xac, 0x80);
    const reference = findTlvValue(nodes, 0xac, 0x83) ?? findTlvValue(nodes, 0xac, 0x84);
    if (mechanism?.length !== 1 || reference?.length !== 1) return failWith(SW.INCORRECT_DATA);
    const file = this.#keyFile(reference[0] as number);
    file.acl.require(AccessBit.write, this.#status);
    const id = mechanism[0] as number;
    if (file.isSymmetric || mechanismInfo(id) === undefined || !file.allowsMechanism(id)) {
      return failWith(SW.INCORRECT_DATA);
    }
    file.key = GidsKey.generate(id, this.#rsaKeySizes);
    return new Uint8Array(0);
  }

  // FILES ------------------------------------------------------------------------------------------------------

  #applicationAcl(): CompactAcl {
    return CompactAcl.decode(APPLICATION_FCP.subarray(7));
  }

  #createFile(apdu: SimCommand, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) return failWith(SW.INCORRECT_P1P2);
    this.#applicationAcl().require(AccessBit.createChild, this.#status);
    const file = fileFromFcp(data);
    if (this.#files.has(file.fid)) return failWith(SW.FILE_ALREADY_EXISTS);
    if (this.#files.size >= MAX_FILES) return failWith(SW.NOT_ENOUGH_MEMORY);
    this.#files.set(file.fid, file);
    this.#current = file.fid;
    return new Uint8Array(0);
  }

  #activateFile(apdu: SimCommand): Uint8Array {
    if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) return failWith(SW.INCORRECT_P1P2);
    if (this.#current === APPLICATION_FID) {
      if (!this.#operational) {
        if (!this.#pin.isSet) return failWith(SW.CONDITIONS_NOT_SATISFIED);
        this.#operational = true;
        this.#deauthenticateAll();
      }
      return new Uint8Array(0);
    }
    if (!this.#files.has(this.#current)) return failWith(SW.FILE_NOT_FOUND);
    return new Uint8Array(0);
  }

  #deleteFile(apdu: SimCommand, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) return failWith(SW.INCORRECT_P1P2);
    if (data.length !== 0 && data.length !== 2) return failWith(SW.WRONG_LENGTH);
    const fid = data.length === 2 ? ((data[0] as number) << 8) | (data[1] as number) : this.#current;
    if (fid === APPLICATION_FID) return failWith(SW.COMMAND_NOT_ALLOWED_NO_EF);
    const file = this.#files.get(fid);
    if (file === undefined) return failWith(SW.FILE_NOT_FOUND);
    const status = this.#status;
    const allowed =
      conditionAllows(this.#applicationAcl(), AccessBit.deleteChild, status) ||
      (file.kind === 'key' && conditionAllows(file.acl, AccessBit.delete, status));
    if (!allowed) return failWith(SW.SECURITY_STATUS_NOT_SATISFIED);
    this.#files.delete(fid);
    if (file.kind === 'key') file.symmetricKey?.fill(0);
    if (this.#environment && this.#environment.file === file) this.#environment = undefined;
    this.#current = APPLICATION_FID;
    return new Uint8Array(0);
  }
}

function conditionAllows(acl: CompactAcl, bit: number, status: SecurityStatus): boolean {
  try {
    acl.require(bit, status);
    return true;
  } catch {
    return false;
  }
}

/** Command data as BER-TLV (6A80 when malformed); `parseConstructed` false keeps values raw. */
function parseCommandTlv(data: Uint8Array, parseConstructed = true): TlvNode[] {
  try {
    return decodeTlv(data, { parseConstructed });
  } catch {
    return failWith(SW.INCORRECT_DATA);
  }
}
