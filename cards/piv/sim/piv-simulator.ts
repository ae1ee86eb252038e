/**
 * A faithful simulation of a YubiKey-class PIV card: the SP 800-73-4 card edge (SELECT, GET/PUT DATA,
 * VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER, GENERAL AUTHENTICATE, GENERATE ASYMMETRIC KEY PAIR),
 * command chaining and 61xx responses, plus the Yubico extensions real clients use (version, serial,
 * metadata, management key, PIN retries, reset, key import). Cryptography is real (node:crypto).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { encodeResponseApdu, encodeTlv, type ParsedCommandApdu, parseCommandApdu } from '@minidriver/iso7816';
import type { SimulatedCard } from '@minidriver/sim';
import { concatBytes, ScardError } from '@minidriver/spec';
import {
  ATTESTATION_CERTIFICATE_TAG,
  ATTESTATION_SLOT,
  createAttestationCertificate,
  createAttestationKey,
} from './piv-attestation.js';
import { isAsymmetricAlgorithm, rsaBitsOf, SlotKey, type SlotKeyState } from './piv-keys.js';
import {
  DEFAULT_MANAGEMENT_KEY,
  ManagementKey,
  type ManagementKeyAlgorithm,
  managementAlgorithmFromId,
  managementKeyLength,
  timingSafeEqualBytes,
} from './piv-management-key.js';
import {
  buildCccValue,
  buildChuidValue,
  isPinProtectedObject,
  isPivObjectTag,
  MAX_OBJECT_VALUE_LENGTH,
  outerTagOf,
  PivObjectStore,
  PivObjectTag,
} from './piv-objects-store.js';
import { DEFAULT_PIN, DEFAULT_PUK, isValidNewReferenceData, padReferenceData, ReferenceData } from './piv-pins.js';
import { type RandomSource, seededRandom, systemRandom } from './piv-random.js';
import { CardStatus, fail, PivStatus, retriesStatus } from './piv-status.js';
import { childrenOf, childWithTag, decodeCommandTlv, requireTemplate } from './piv-tlv.js';
import { CommandChain, ResponseQueue } from './piv-transfer.js';

/** ATR of a YubiKey 5 NFC over USB (docs/spec/piv.md §8): OpenSC and yubico-piv-tool recognise it as a YubiKey. */
export const YUBIKEY5_ATR: Uint8Array = Uint8Array.from([
  0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69,
  0x4b, 0x65, 0x79, 0x40,
]);

/** The full PIV AID; SELECT accepts any prefix of it from the 5-byte RID on (yubico-piv-tool sends the RID). */
export const PIV_AID: Uint8Array = Uint8Array.from([0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00]);

/** The Application Property Template a YubiKey answers SELECT with (docs/spec/piv.md §2). */
export const APPLICATION_PROPERTY_TEMPLATE: Uint8Array = Uint8Array.from([
  0x61, 0x11, 0x4f, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x79, 0x07, 0x4f, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08,
]);

/** Options of a simulated card. Everything is optional: the defaults are a factory-fresh YubiKey 5. */
export interface PivSimulatorOptions {
  /** Serial number GET SERIAL returns (default: random 8-digit). */
  readonly serial?: number;
  /** Firmware version GET VERSION returns; gates features as on a YubiKey (default 5.4.3). */
  readonly version?: readonly [number, number, number];
  /** Initial management key (default: 3DES 0102030405060708 x3). */
  readonly managementKey?: { readonly algorithm: ManagementKeyAlgorithm; readonly key: Uint8Array };
  /** Initial PIN, 6-8 characters (default 123456). */
  readonly pin?: string;
  /** Initial PUK, 6-8 characters (default 12345678). */
  readonly puk?: string;
  /** Answer to reset (default: YubiKey 5 NFC). */
  readonly atr?: Uint8Array;
  /** RSA sizes GENERATE / IMPORT accept (default 1024+2048; firmware 5.7+ adds 3072 and 4096). */
  readonly rsaKeySizes?: readonly number[];
  /** Seed for the card's non-key randomness (GUID, CCC id, serial, witnesses) to make a card reproducible. */
  readonly seed?: Uint8Array | string;
  /** When set: the state is loaded from this file if it exists, and written back after every change. */
  readonly stateFile?: string;
}

/** The JSON form saveState produces. */
export interface PivSimulatorState {
  readonly format: 'minidriver-piv-sim/1';
  readonly serial: number;
  readonly version: readonly [number, number, number];
  readonly pin: ReferenceDataState;
  readonly puk: ReferenceDataState;
  readonly managementKey: { readonly algorithm: ManagementKeyAlgorithm; readonly key: string; readonly touch: boolean };
  readonly keys: Readonly<Record<string, SlotKeyState>>;
  readonly objects: Readonly<Record<string, string>>;
}

interface ReferenceDataState {
  readonly value: string;
  readonly maxRetries: number;
  readonly retriesLeft: number;
}

/** A management-key challenge-response in progress (GENERAL AUTHENTICATE 9B, step 1 done). */
type PendingManagementAuthentication =
  | { readonly kind: 'witness'; readonly plainWitness: Uint8Array }
  | { readonly kind: 'challenge'; readonly challenge: Uint8Array };

const PIN_REFERENCE = 0x80;
const PUK_REFERENCE = 0x81;
const MANAGEMENT_KEY_REFERENCE = 0x9b;
const PIN_POLICY = { default: 0x00, never: 0x01, once: 0x02, always: 0x03 } as const;
const TOUCH_POLICY = { default: 0x00, never: 0x01 } as const;

/** True for the asymmetric key slots: 9A, 9C, 9D, 9E and the retired 82..95. */
export function isKeySlot(slot: number): boolean {
  return slot === 0x9a || slot === 0x9c || slot === 0x9d || slot === 0x9e || (slot >= 0x82 && slot <= 0x95);
}

/** The PIN policy a slot has when the key was created with policy 00 ("default"). */
function defaultPinPolicy(slot: number): number {
  if (slot === 0x9c) return PIN_POLICY.always;
  if (slot === 0x9e) return PIN_POLICY.never;
  return PIN_POLICY.once;
}

/**
 * A simulated YubiKey-class PIV card. Feed it command APDUs through `process` (directly, through the in-memory
 * transport, or through pcscd with vpcd); it answers exactly as such a card does.
 */
export class PivSimulator implements SimulatedCard {
  readonly name = 'PIV';
  readonly #atr: Uint8Array;
  readonly #random: RandomSource;
  readonly #rsaKeySizesOption: readonly number[] | undefined;
  readonly #stateFile: string | undefined;

  // Persistent state (the card's non-volatile memory).
  #serial: number;
  #version: readonly [number, number, number];
  #pin: ReferenceData;
  #puk: ReferenceData;
  #managementKey: ManagementKey;
  readonly #keys = new Map<number, SlotKey>();
  readonly #objects = new PivObjectStore();

  // Volatile state (lost on reset, power-off and re-SELECT).
  #pinVerified = false;
  #pinAlwaysArmed = false;
  #managementAuthenticated = false;
  #pendingManagement: PendingManagementAuthentication | undefined;
  readonly #chain = new CommandChain();
  readonly #responses = new ResponseQueue();
  #stateChanged = false;

  constructor(options: PivSimulatorOptions = {}) {
    this.#random = options.seed === undefined ? systemRandom : seededRandom(options.seed);
    this.#atr = Uint8Array.from(options.atr ?? YUBIKEY5_ATR);
    this.#version = validateVersion(options.version ?? [5, 4, 3]);
    this.#rsaKeySizesOption = options.rsaKeySizes;
    this.#stateFile = options.stateFile;
    this.#serial = options.serial ?? this.#randomSerial();
    if (!Number.isInteger(this.#serial) || this.#serial < 0 || this.#serial > 0xffffffff) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'serial must be an unsigned 32-bit integer');
    }
    this.#pin = new ReferenceData(
      requireReferenceText(options.pin ?? DEFAULT_PIN, 'PIN'),
      padReferenceData(DEFAULT_PIN)!,
    );
    this.#puk = new ReferenceData(
      requireReferenceText(options.puk ?? DEFAULT_PUK, 'PUK'),
      padReferenceData(DEFAULT_PUK)!,
    );
    const managementKey = options.managementKey ?? { algorithm: '3des', key: DEFAULT_MANAGEMENT_KEY };
    if (managementKey.algorithm !== '3des' && this.#versionBelow(5, 4, 0)) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'AES management keys need firmware 5.4 or later');
    }
    this.#managementKey = new ManagementKey(managementKey.algorithm, managementKey.key);
    this.#writeFactoryObjects();
    if (this.#stateFile !== undefined) this.#loadStateFileIfPresent(this.#stateFile);
  }

  /** The answer to reset. */
  get atr(): Uint8Array {
    return Uint8Array.from(this.#atr);
  }

  /** The serial number (GET SERIAL). */
  get serial(): number {
    return this.#serial;
  }

  /** Cold reset: the PIV application is selected, with no PIN or management key authenticated. */
  powerOn(): void {
    this.#clearVolatileState();
  }

  /** Power off: only the persistent state survives. */
  powerOff(): void {
    this.#clearVolatileState();
  }

  /** Warm reset. */
  reset(): void {
    this.#clearVolatileState();
  }

  /** Processes one command APDU; never throws (internal failures answer 6F00). */
  process(command: Uint8Array): Uint8Array {
    let response: Uint8Array;
    try {
      response = this.#processCommand(command);
    } catch (error) {
      const statusWord = error instanceof CardStatus ? error.statusWord : PivStatus.noPreciseDiagnosis;
      response = encodeResponseApdu(new Uint8Array(0), statusWord);
    }
    if (this.#stateChanged) {
      this.#stateChanged = false;
      if (this.#stateFile !== undefined) this.saveStateToFile(this.#stateFile);
    }
    return response;
  }

  /** The persistent state (keys, objects, PINs, counters, management key) as JSON-serialisable data. */
  saveState(): PivSimulatorState {
    const keys: Record<string, SlotKeyState> = {};
    for (const [slot, key] of this.#keys) keys[slot.toString(16)] = key.toState();
    return {
      format: 'minidriver-piv-sim/1',
      serial: this.#serial,
      version: [...this.#version] as [number, number, number],
      pin: referenceDataState(this.#pin),
      puk: referenceDataState(this.#puk),
      managementKey: {
        algorithm: this.#managementKey.algorithm,
        key: Buffer.from(this.#managementKey.exportKey()).toString('hex'),
        touch: this.#managementKey.touchRequired,
      },
      keys,
      objects: this.#objects.toState(),
    };
  }

  /** Restores a state produced by saveState; throws SCARD_E_INVALID_PARAMETER when it is not one. */
  loadState(state: unknown): void {
    try {
      const parsed = state as PivSimulatorState;
      if (parsed?.format !== 'minidriver-piv-sim/1') throw new Error('not a PIV simulator state');
      const keys = new Map<number, SlotKey>();
      for (const [slot, keyState] of Object.entries(parsed.keys))
        keys.set(Number.parseInt(slot, 16), SlotKey.fromState(keyState));
      const managementKey = new ManagementKey(
        parsed.managementKey.algorithm,
        Buffer.from(parsed.managementKey.key, 'hex'),
        parsed.managementKey.touch,
      );
      const pin = restoreReferenceData(parsed.pin, DEFAULT_PIN);
      const puk = restoreReferenceData(parsed.puk, DEFAULT_PUK);
      this.#serial = parsed.serial;
      this.#version = validateVersion(parsed.version);
      this.#pin = pin;
      this.#puk = puk;
      this.#managementKey = managementKey;
      this.#keys.clear();
      for (const [slot, key] of keys) this.#keys.set(slot, key);
      this.#objects.loadState(parsed.objects);
    } catch (error) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'invalid PIV simulator state', { cause: error });
    }
    this.#clearVolatileState();
  }

  /** Writes saveState() to a file as JSON. */
  saveStateToFile(path: string): void {
    try {
      writeFileSync(path, `${JSON.stringify(this.saveState(), null, 2)}\n`, { mode: 0o600 });
    } catch (error) {
      throw new ScardError('SCARD_E_UNEXPECTED', `cannot write the PIV simulator state to ${path}`, { cause: error });
    }
  }

  /** Loads a state file written by saveStateToFile. */
  loadStateFromFile(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ScardError('SCARD_E_FILE_NOT_FOUND', `cannot read the PIV simulator state ${path}`, { cause: error });
    }
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch (error) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `${path} is not JSON`, { cause: error });
    }
    this.loadState(state);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Dispatch

  #processCommand(bytes: Uint8Array): Uint8Array {
    let apdu: ParsedCommandApdu;
    try {
      apdu = parseCommandApdu(bytes);
    } catch {
      this.#responses.clear();
      return fail(PivStatus.wrongLength);
    }
    if ((apdu.cla & 0x0c) !== 0) fail(PivStatus.secureMessagingNotSupported);
    if ((apdu.cla & ~0x10) !== 0x00) fail(PivStatus.classNotSupported);
    const maxResponse = apdu.le ?? (apdu.extended ? 65536 : 256);

    if (apdu.ins === 0xc0) return this.#getResponse(apdu, maxResponse);
    this.#responses.clear();

    let data = apdu.data ?? new Uint8Array(0);
    if ((apdu.cla & 0x10) !== 0) {
      if (!CHAINABLE_INSTRUCTIONS.has(apdu.ins)) {
        this.#chain.discard();
        fail(0x6884);
      }
      this.#chain.append(apdu.ins, apdu.p1, apdu.p2, data);
      return encodeResponseApdu(new Uint8Array(0), PivStatus.success);
    }
    if (this.#chain.pending) data = this.#chain.complete(apdu.ins, apdu.p1, apdu.p2, data);

    const result = this.#dispatch(apdu, data);
    const piece = this.#responses.start(result, PivStatus.success, maxResponse);
    return encodeResponseApdu(piece.data, piece.statusWord);
  }

  #getResponse(apdu: ParsedCommandApdu, maxResponse: number): Uint8Array {
    if (apdu.p1 !== 0 || apdu.p2 !== 0) fail(PivStatus.incorrectP1P2);
    if (!this.#responses.pending) fail(PivStatus.conditionsOfUseNotSatisfied);
    const piece = this.#responses.next(maxResponse);
    return encodeResponseApdu(piece.data, piece.statusWord);
  }

  #dispatch(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    switch (apdu.ins) {
      case 0xa4:
        return this.#select(apdu, data);
      case 0xcb:
        return this.#getData(apdu, data);
      case 0xdb:
        return this.#putData(apdu, data);
      case 0x20:
        return this.#verify(apdu, data);
      case 0x24:
        return this.#changeReferenceData(apdu, data);
      case 0x2c:
        return this.#resetRetryCounter(apdu, data);
      case 0x87:
        return this.#generalAuthenticate(apdu, data);
      case 0x47:
        return this.#generateKeyPair(apdu, data);
      case 0xfd:
        return this.#getVersion(apdu);
      case 0xf8:
        return this.#getSerial(apdu);
      case 0xf7:
        return this.#getMetadata(apdu);
      case 0xff:
        return this.#setManagementKey(apdu, data);
      case 0xfa:
        return this.#setPinRetries(apdu);
      case 0xfb:
        return this.#resetApplication(apdu);
      case 0xfe:
        return this.#importKey(apdu, data);
      case 0xf9:
        return this.#attest(apdu);
      default:
        // Includes MOVE KEY (F6), which this simulator does not implement.
        return fail(PivStatus.instructionNotSupported);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // SP 800-73-4 card edge

  /** SELECT by AID: PIV (any prefix of its AID from the RID on) answers the APT; others 6A82. */
  #select(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x04) fail(PivStatus.incorrectP1P2);
    const isPiv =
      data.length >= 5 && data.length <= PIV_AID.length && data.every((byte, index) => byte === PIV_AID[index]);
    if (!isPiv) fail(PivStatus.notFound);
    // A YubiKey drops PIN and management-key status when PIV is selected again (yubico-piv-tool relies on it).
    this.#clearVolatileState();
    return APPLICATION_PROPERTY_TEMPLATE;
  }

  #getData(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x3f || apdu.p2 !== 0xff) fail(PivStatus.incorrectP1P2);
    if (data.length === 0) fail(PivStatus.wrongLength);
    const tag = parseObjectTagList(data).tag;
    if (tag === undefined || !isPivObjectTag(tag)) fail(PivStatus.notFound);
    if (isPinProtectedObject(tag) && !this.#pinVerified) fail(PivStatus.securityStatusNotSatisfied);
    const encoding = this.#objects.read(tag);
    if (encoding === undefined) fail(PivStatus.notFound);
    return encoding;
  }

  #putData(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x3f || apdu.p2 !== 0xff) fail(PivStatus.incorrectP1P2);
    if (data.length === 0) fail(PivStatus.wrongLength);
    this.#requireManagementKey();
    const { tag, rest } = parseObjectTagList(data);
    if (tag === undefined || !isPivObjectTag(tag) || tag === PivObjectTag.discovery) fail(PivStatus.incorrectData);
    const object = requireTemplate(rest, outerTagOf(tag));
    if (object.value.length > MAX_OBJECT_VALUE_LENGTH) fail(PivStatus.notEnoughMemory);
    if (object.tag === 0x53 && object.value.length === 0) this.#objects.delete(tag);
    else this.#objects.write(tag, rest);
    this.#stateChanged = true;
    return new Uint8Array(0);
  }

  #verify(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    const reference = this.#referenceData(apdu.p2);
    if (apdu.p1 === 0xff) {
      // Reset security status (SP 800-73-4 "logout"): no data allowed.
      if (data.length !== 0) fail(PivStatus.incorrectData);
      if (apdu.p2 === PIN_REFERENCE) this.#clearPinStatus();
      return new Uint8Array(0);
    }
    if (apdu.p1 !== 0x00) fail(PivStatus.incorrectP1P2);
    if (data.length === 0) {
      // Status query: 9000 when verified, else the tries left (nothing is spent).
      if (apdu.p2 === PIN_REFERENCE && this.#pinVerified) return new Uint8Array(0);
      if (reference.blocked) fail(PivStatus.authenticationBlocked);
      return fail(retriesStatus(reference.retriesLeft));
    }
    if (data.length !== 8) fail(PivStatus.incorrectData);
    const result = reference.check(data);
    this.#stateChanged = true;
    if (apdu.p2 === PIN_REFERENCE) this.#clearPinStatus();
    if (result.kind === 'blocked') fail(PivStatus.authenticationBlocked);
    if (result.kind === 'wrong') fail(retriesStatus(result.retriesLeft));
    if (apdu.p2 === PIN_REFERENCE) {
      this.#pinVerified = true;
      this.#pinAlwaysArmed = true;
    }
    return new Uint8Array(0);
  }

  #changeReferenceData(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x00) fail(PivStatus.incorrectP1P2);
    const reference = this.#referenceData(apdu.p2);
    if (data.length !== 16) fail(PivStatus.incorrectData);
    if (reference.blocked) fail(PivStatus.authenticationBlocked);
    const newValue = data.subarray(8);
    if (!isValidNewReferenceData(newValue)) fail(PivStatus.incorrectData);
    const result = reference.check(data.subarray(0, 8));
    this.#stateChanged = true;
    if (result.kind === 'blocked') fail(PivStatus.authenticationBlocked);
    if (result.kind === 'wrong') {
      if (apdu.p2 === PIN_REFERENCE) this.#clearPinStatus();
      fail(retriesStatus(result.retriesLeft));
    }
    reference.change(newValue);
    if (apdu.p2 === PIN_REFERENCE) {
      this.#pinVerified = true;
      this.#pinAlwaysArmed = true;
    }
    return new Uint8Array(0);
  }

  #resetRetryCounter(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x00) fail(PivStatus.incorrectP1P2);
    if (apdu.p2 !== PIN_REFERENCE) fail(PivStatus.referenceNotFound);
    if (data.length !== 16) fail(PivStatus.incorrectData);
    if (this.#puk.blocked) fail(PivStatus.authenticationBlocked);
    const newPin = data.subarray(8);
    if (!isValidNewReferenceData(newPin)) fail(PivStatus.incorrectData);
    const result = this.#puk.check(data.subarray(0, 8));
    this.#stateChanged = true;
    if (result.kind === 'blocked') fail(PivStatus.authenticationBlocked);
    if (result.kind === 'wrong') fail(retriesStatus(result.retriesLeft));
    this.#pin.change(newPin);
    this.#clearPinStatus();
    return new Uint8Array(0);
  }

  #generalAuthenticate(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    if (data.length === 0) fail(PivStatus.wrongLength);
    const template = requireTemplate(data, 0x7c);
    const items = childrenOf(template);
    if (apdu.p2 === MANAGEMENT_KEY_REFERENCE) return this.#authenticateManagementKey(apdu.p1, items);
    if (!isKeySlot(apdu.p2)) fail(PivStatus.incorrectP1P2);
    const key = this.#keys.get(apdu.p2);
    if (key === undefined) fail(PivStatus.referenceNotFound);
    if (key.algorithmId !== apdu.p1) fail(PivStatus.incorrectP1P2);
    const response = childWithTag(items, 0x82);
    const challenge = childWithTag(items, 0x81);
    const exponentiation = childWithTag(items, 0x85);
    if (response === undefined || response.value.length !== 0) fail(PivStatus.incorrectData);
    if ((challenge === undefined) === (exponentiation === undefined)) fail(PivStatus.incorrectData);
    this.#requireKeyAccess(apdu.p2, key);
    let result: Uint8Array;
    if (challenge !== undefined) {
      result = key.isRsa ? key.rsaPrivateOperation(challenge.value) : key.ecdsaSignDigest(challenge.value);
    } else {
      if (key.isRsa) fail(PivStatus.incorrectData);
      result = key.ecdhSharedSecret(exponentiation!.value);
    }
    return encodeTlv(0x7c, encodeTlv(0x82, result));
  }

  /** Management key (9B) challenge-response: mutual (witness first) or external (challenge first). */
  #authenticateManagementKey(algorithmId: number, items: readonly { tag: number; value: Uint8Array }[]): Uint8Array {
    const key = this.#managementKey;
    if (algorithmId !== key.algorithmId) fail(PivStatus.incorrectP1P2);
    const blockLength = key.blockLength;
    const witness = childWithTag(items, 0x80);
    const challenge = childWithTag(items, 0x81);
    const response = childWithTag(items, 0x82);
    const pending = this.#pendingManagement;
    this.#pendingManagement = undefined;

    if (witness !== undefined && witness.value.length === 0 && challenge === undefined) {
      // Mutual step 1: give the host an encrypted random witness.
      this.#managementAuthenticated = false;
      const plainWitness = this.#random.nextBytes(blockLength);
      this.#pendingManagement = { kind: 'witness', plainWitness };
      return encodeTlv(0x7c, encodeTlv(0x80, key.encryptBlock(plainWitness)));
    }
    if (witness !== undefined && challenge !== undefined && witness.value.length > 0) {
      // Mutual step 2: the host decrypted the witness and challenges us in turn.
      if (pending?.kind !== 'witness') fail(PivStatus.incorrectData);
      if (witness.value.length !== blockLength || challenge.value.length !== blockLength) fail(PivStatus.incorrectData);
      if (response !== undefined && response.value.length !== 0) fail(PivStatus.incorrectData);
      if (!timingSafeEqualBytes(witness.value, pending.plainWitness)) fail(PivStatus.securityStatusNotSatisfied);
      this.#managementAuthenticated = true;
      return encodeTlv(0x7c, encodeTlv(0x82, key.encryptBlock(challenge.value)));
    }
    if (challenge !== undefined && challenge.value.length === 0 && witness === undefined) {
      // External step 1: a plain challenge the host must encrypt.
      this.#managementAuthenticated = false;
      const plainChallenge = this.#random.nextBytes(blockLength);
      this.#pendingManagement = { kind: 'challenge', challenge: plainChallenge };
      return encodeTlv(0x7c, encodeTlv(0x81, plainChallenge));
    }
    if (response !== undefined && response.value.length > 0 && witness === undefined && challenge === undefined) {
      // External step 2: check the host's encryption of our challenge.
      if (pending?.kind !== 'challenge') fail(PivStatus.incorrectData);
      if (response.value.length !== blockLength) fail(PivStatus.incorrectData);
      if (!timingSafeEqualBytes(response.value, key.encryptBlock(pending.challenge))) {
        fail(PivStatus.securityStatusNotSatisfied);
      }
      this.#managementAuthenticated = true;
      return new Uint8Array(0);
    }
    return fail(PivStatus.incorrectData);
  }

  #generateKeyPair(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0x00) fail(PivStatus.incorrectP1P2);
    if (!isKeySlot(apdu.p2)) fail(PivStatus.incorrectP1P2);
    this.#requireManagementKey();
    if (data.length === 0) fail(PivStatus.wrongLength);
    const template = requireTemplate(data, 0xac);
    const items = childrenOf(template);
    const algorithm = childWithTag(items, 0x80);
    if (algorithm?.value.length !== 1) fail(PivStatus.incorrectData);
    const algorithmId = algorithm.value[0]!;
    this.#requireSupportedAlgorithm(algorithmId);
    const exponent = childWithTag(items, 0x81);
    if (exponent !== undefined && !isExponent65537(exponent.value)) fail(PivStatus.incorrectData);
    const { pinPolicy, touchPolicy } = parsePolicies(items);
    const key = SlotKey.generate(algorithmId, pinPolicy, touchPolicy);
    this.#keys.set(apdu.p2, key);
    this.#stateChanged = true;
    return key.publicKeyTemplate();
  }

  // ---------------------------------------------------------------------------------------------------------
  // YubiKey extensions

  #getVersion(apdu: ParsedCommandApdu): Uint8Array {
    if (apdu.p1 !== 0 || apdu.p2 !== 0) fail(PivStatus.incorrectP1P2);
    return Uint8Array.from(this.#version);
  }

  #getSerial(apdu: ParsedCommandApdu): Uint8Array {
    if (this.#versionBelow(5, 0, 0)) fail(PivStatus.instructionNotSupported);
    if (apdu.p1 !== 0 || apdu.p2 !== 0) fail(PivStatus.incorrectP1P2);
    const serial = new Uint8Array(4);
    new DataView(serial.buffer).setUint32(0, this.#serial);
    return serial;
  }

  #getMetadata(apdu: ParsedCommandApdu): Uint8Array {
    if (this.#versionBelow(5, 3, 0)) fail(PivStatus.instructionNotSupported);
    if (apdu.p1 !== 0x00) fail(PivStatus.incorrectP1P2);
    const slot = apdu.p2;
    if (slot === MANAGEMENT_KEY_REFERENCE) {
      const key = this.#managementKey;
      return Uint8Array.from([
        ...encodeTlv(0x01, Uint8Array.of(key.algorithmId)),
        ...encodeTlv(0x02, Uint8Array.of(PIN_POLICY.default, key.touchRequired ? 0x02 : TOUCH_POLICY.never)),
        ...encodeTlv(0x05, Uint8Array.of(key.isDefault() ? 1 : 0)),
      ]);
    }
    if (slot === PIN_REFERENCE || slot === PUK_REFERENCE) {
      const reference = slot === PIN_REFERENCE ? this.#pin : this.#puk;
      return Uint8Array.from([
        ...encodeTlv(0x01, Uint8Array.of(0xff)),
        ...encodeTlv(0x05, Uint8Array.of(reference.isDefault() ? 1 : 0)),
        ...encodeTlv(0x06, Uint8Array.of(reference.maxRetries, reference.retriesLeft)),
      ]);
    }
    if (!isKeySlot(slot) && slot !== 0xf9) fail(PivStatus.incorrectP1P2);
    const key = this.#keys.get(slot);
    if (key === undefined) fail(PivStatus.referenceNotFound);
    const pinPolicy = key.pinPolicy === PIN_POLICY.default ? defaultPinPolicy(slot) : key.pinPolicy;
    const touchPolicy = key.touchPolicy === TOUCH_POLICY.default ? TOUCH_POLICY.never : key.touchPolicy;
    return Uint8Array.from([
      ...encodeTlv(0x01, Uint8Array.of(key.algorithmId)),
      ...encodeTlv(0x02, Uint8Array.of(pinPolicy, touchPolicy)),
      ...encodeTlv(0x03, Uint8Array.of(key.origin === 'generated' ? 1 : 2)),
      ...encodeTlv(0x04, key.publicKeyObjects()),
    ]);
  }

  #setManagementKey(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    if (apdu.p1 !== 0xff || (apdu.p2 !== 0xff && apdu.p2 !== 0xfe)) fail(PivStatus.incorrectP1P2);
    this.#requireManagementKey();
    if (data.length < 3 || data[1] !== MANAGEMENT_KEY_REFERENCE || data[2] !== data.length - 3) {
      fail(PivStatus.incorrectData);
    }
    const algorithm = managementAlgorithmFromId(data[0]!);
    if (algorithm === undefined) fail(PivStatus.incorrectData);
    if (algorithm !== '3des' && this.#versionBelow(5, 4, 0)) fail(PivStatus.incorrectData);
    if (data.length - 3 !== managementKeyLength(algorithm)) fail(PivStatus.incorrectData);
    this.#managementKey = new ManagementKey(algorithm, data.subarray(3), apdu.p2 === 0xfe);
    this.#stateChanged = true;
    return new Uint8Array(0);
  }

  #setPinRetries(apdu: ParsedCommandApdu): Uint8Array {
    if (apdu.p1 === 0 || apdu.p2 === 0) fail(PivStatus.incorrectP1P2);
    this.#requireManagementKey();
    if (!this.#pinVerified) fail(PivStatus.securityStatusNotSatisfied);
    this.#pin.resetTo(padReferenceData(DEFAULT_PIN)!, apdu.p1);
    this.#puk.resetTo(padReferenceData(DEFAULT_PUK)!, apdu.p2);
    this.#clearPinStatus();
    this.#stateChanged = true;
    return new Uint8Array(0);
  }

  /**
   * YubiKey ATTEST (4.3+): the attestation certificate of a key generated in `slot`, signed by the F9 key
   * (made on first use). An imported key or an empty slot cannot be attested (6A80 / 6A88 as on a YubiKey).
   */
  #attest(apdu: ParsedCommandApdu): Uint8Array {
    if (this.#versionBelow(4, 3, 0)) fail(PivStatus.instructionNotSupported);
    if (apdu.p2 !== 0x00 || !isKeySlot(apdu.p1)) fail(PivStatus.incorrectP1P2);
    const key = this.#keys.get(apdu.p1);
    if (key === undefined) fail(PivStatus.referenceNotFound);
    if (key.origin !== 'generated') fail(PivStatus.incorrectData);
    let attestationKey = this.#keys.get(ATTESTATION_SLOT);
    if (attestationKey === undefined) {
      const created = createAttestationKey();
      attestationKey = created.key;
      this.#keys.set(ATTESTATION_SLOT, attestationKey);
      this.#objects.write(
        ATTESTATION_CERTIFICATE_TAG,
        encodeTlv(0x53, concatBytes(encodeTlv(0x70, created.certificate), encodeTlv(0x71, Uint8Array.of(0)))),
      );
      this.#stateChanged = true;
    }
    return createAttestationCertificate(attestationKey, {
      slot: apdu.p1,
      key,
      pinPolicy: key.pinPolicy === PIN_POLICY.default ? defaultPinPolicy(apdu.p1) : key.pinPolicy,
      touchPolicy: key.touchPolicy === TOUCH_POLICY.default ? TOUCH_POLICY.never : key.touchPolicy,
      firmware: this.#version,
      serial: this.#serial,
    });
  }

  /** YubiKey RESET: allowed only once both PIN and PUK are blocked; back to factory state. */
  #resetApplication(apdu: ParsedCommandApdu): Uint8Array {
    if (apdu.p1 !== 0 || apdu.p2 !== 0) fail(PivStatus.incorrectP1P2);
    if (!this.#pin.blocked || !this.#puk.blocked) fail(PivStatus.conditionsOfUseNotSatisfied);
    this.#pin = new ReferenceData(padReferenceData(DEFAULT_PIN)!, padReferenceData(DEFAULT_PIN)!);
    this.#puk = new ReferenceData(padReferenceData(DEFAULT_PUK)!, padReferenceData(DEFAULT_PUK)!);
    this.#managementKey = new ManagementKey('3des', DEFAULT_MANAGEMENT_KEY);
    // The attestation key and its certificate survive a reset, as on a YubiKey.
    const attestationKey = this.#keys.get(ATTESTATION_SLOT);
    const attestationCertificate = this.#objects.read(ATTESTATION_CERTIFICATE_TAG);
    this.#keys.clear();
    this.#objects.clear();
    if (attestationKey !== undefined) this.#keys.set(ATTESTATION_SLOT, attestationKey);
    if (attestationCertificate !== undefined) this.#objects.write(ATTESTATION_CERTIFICATE_TAG, attestationCertificate);
    this.#writeFactoryObjects();
    this.#clearVolatileState();
    this.#stateChanged = true;
    return new Uint8Array(0);
  }

  #importKey(apdu: ParsedCommandApdu, data: Uint8Array): Uint8Array {
    if (!isKeySlot(apdu.p2)) fail(PivStatus.incorrectP1P2);
    this.#requireManagementKey();
    this.#requireSupportedAlgorithm(apdu.p1);
    const items = decodeCommandTlv(data);
    const { pinPolicy, touchPolicy } = parsePolicies(items);
    const rsaBits = rsaBitsOf(apdu.p1);
    let key: SlotKey;
    if (rsaBits !== undefined) {
      const partLength = rsaBits / 16;
      const part = (tag: number): Uint8Array => {
        const value = childWithTag(items, tag)?.value;
        if (value === undefined || value.length === 0 || value.length > partLength) fail(PivStatus.incorrectData);
        return value;
      };
      key = SlotKey.importRsa(
        apdu.p1,
        { p: part(0x01), q: part(0x02), dP: part(0x03), dQ: part(0x04), qInv: part(0x05) },
        pinPolicy,
        touchPolicy,
      );
    } else {
      const scalar = childWithTag(items, 0x06)?.value;
      if (scalar === undefined) fail(PivStatus.incorrectData);
      key = SlotKey.importEc(apdu.p1, scalar, pinPolicy, touchPolicy);
    }
    this.#keys.set(apdu.p2, key);
    this.#stateChanged = true;
    return new Uint8Array(0);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Security conditions and helpers

  #referenceData(reference: number): ReferenceData {
    if (reference === PIN_REFERENCE) return this.#pin;
    if (reference === PUK_REFERENCE) return this.#puk;
    return fail(PivStatus.referenceNotFound);
  }

  #requireManagementKey(): void {
    if (!this.#managementAuthenticated) fail(PivStatus.securityStatusNotSatisfied);
  }

  /** PIN policy of the key: never, once per session, or (9C by default) a VERIFY before every use. */
  #requireKeyAccess(slot: number, key: SlotKey): void {
    const policy = key.pinPolicy === PIN_POLICY.default ? defaultPinPolicy(slot) : key.pinPolicy;
    if (policy === PIN_POLICY.never) return;
    if (!this.#pinVerified) fail(PivStatus.securityStatusNotSatisfied);
    if (policy === PIN_POLICY.always) {
      if (!this.#pinAlwaysArmed) fail(PivStatus.securityStatusNotSatisfied);
      this.#pinAlwaysArmed = false;
    }
  }

  #requireSupportedAlgorithm(algorithmId: number): void {
    if (!isAsymmetricAlgorithm(algorithmId)) fail(PivStatus.incorrectData);
    const bits = rsaBitsOf(algorithmId);
    if (bits !== undefined && !this.#rsaKeySizes().includes(bits)) fail(PivStatus.incorrectData);
  }

  #rsaKeySizes(): readonly number[] {
    if (this.#rsaKeySizesOption !== undefined) return this.#rsaKeySizesOption;
    return this.#versionBelow(5, 7, 0) ? [1024, 2048] : [1024, 2048, 3072, 4096];
  }

  #versionBelow(major: number, minor: number, patch: number): boolean {
    const [ownMajor, ownMinor, ownPatch] = this.#version;
    if (ownMajor !== major) return ownMajor < major;
    if (ownMinor !== minor) return ownMinor < minor;
    return ownPatch < patch;
  }

  #clearPinStatus(): void {
    this.#pinVerified = false;
    this.#pinAlwaysArmed = false;
  }

  #clearVolatileState(): void {
    this.#clearPinStatus();
    this.#managementAuthenticated = false;
    this.#pendingManagement = undefined;
    this.#chain.discard();
    this.#responses.clear();
  }

  #writeFactoryObjects(): void {
    this.#objects.write(PivObjectTag.chuid, encodeTlv(0x53, buildChuidValue(this.#randomGuid())));
    this.#objects.write(PivObjectTag.ccc, encodeTlv(0x53, buildCccValue(this.#random.nextBytes(14))));
  }

  /** A random RFC 4122 version-4 UUID, as the card UUID (GUID) in the CHUID. */
  #randomGuid(): Uint8Array {
    const guid = this.#random.nextBytes(16);
    guid[6] = (guid[6]! & 0x0f) | 0x40;
    guid[8] = (guid[8]! & 0x3f) | 0x80;
    return guid;
  }

  #randomSerial(): number {
    const bytes = this.#random.nextBytes(4);
    return 10_000_000 + (new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) % 30_000_000);
  }

  #loadStateFileIfPresent(path: string): void {
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === undefined) this.saveStateToFile(path);
    else this.loadStateFromFile(path);
  }
}

/** Instructions a chain may be built for (SP 800-73-4 table 15 plus the Yubico writes). */
const CHAINABLE_INSTRUCTIONS: ReadonlySet<number> = new Set([0x20, 0x24, 0x87, 0xdb, 0x47, 0xfe, 0xff]);

/** Parses `5C L tag` at the start of GET/PUT DATA: the tag (1..3 bytes) and what follows it. */
function parseObjectTagList(data: Uint8Array): { tag: number | undefined; rest: Uint8Array } {
  if (data[0] !== 0x5c || data.length < 2) fail(PivStatus.incorrectData);
  const length = data[1]!;
  if (length < 1 || length > 3 || data.length < 2 + length) fail(PivStatus.incorrectData);
  let tag = 0;
  for (let index = 0; index < length; index++) tag = tag * 256 + data[2 + index]!;
  return { tag, rest: data.subarray(2 + length) };
}

/** Reads the YubiKey AA (PIN policy) and AB (touch policy) elements; out-of-range values answer 6A80. */
function parsePolicies(items: readonly { tag: number; value: Uint8Array }[]): {
  pinPolicy: number;
  touchPolicy: number;
} {
  const pin = childWithTag(items, 0xaa);
  const touch = childWithTag(items, 0xab);
  const pinPolicy = pin === undefined ? PIN_POLICY.default : singleByte(pin.value);
  const touchPolicy = touch === undefined ? TOUCH_POLICY.default : singleByte(touch.value);
  if (pinPolicy > PIN_POLICY.always || touchPolicy > 0x03) fail(PivStatus.incorrectData);
  return { pinPolicy, touchPolicy };
}

function singleByte(value: Uint8Array): number {
  if (value.length !== 1) fail(PivStatus.incorrectData);
  return value[0]!;
}

function isExponent65537(value: Uint8Array): boolean {
  let exponent = 0;
  for (const byte of value) exponent = exponent * 256 + byte;
  return exponent === 65537;
}

function validateVersion(version: readonly number[]): readonly [number, number, number] {
  if (
    !Array.isArray(version) ||
    version.length !== 3 ||
    !version.every((part) => Number.isInteger(part) && part >= 0 && part <= 255)
  ) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'version must be three bytes [major, minor, patch]');
  }
  return [version[0]!, version[1]!, version[2]!];
}

function requireReferenceText(text: string, name: string): Uint8Array {
  const padded = typeof text === 'string' ? padReferenceData(text) : undefined;
  if (padded === undefined || !isValidNewReferenceData(padded)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `${name} must be 6 to 8 characters`);
  }
  return padded;
}

function referenceDataState(reference: ReferenceData): ReferenceDataState {
  return {
    value: Buffer.from(reference.exportValue()).toString('hex'),
    maxRetries: reference.maxRetries,
    retriesLeft: reference.retriesLeft,
  };
}

function restoreReferenceData(state: ReferenceDataState, factoryText: string): ReferenceData {
  const value = Buffer.from(state.value, 'hex');
  if (value.length !== 8 || !Number.isInteger(state.maxRetries) || !Number.isInteger(state.retriesLeft)) {
    throw new Error('bad reference data');
  }
  return new ReferenceData(value, padReferenceData(factoryText)!, state.maxRetries, state.retriesLeft);
}
