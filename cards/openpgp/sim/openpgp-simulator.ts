/**
 * `OpenPgpSimulator`: an OpenPGP card 3.4 on the wire. Holds the card state and dispatches
 * command APDUs; the data objects, PINs, algorithms and key operations live in their own modules.
 * Handles extended length, command chaining (CLA b5) and `61xx` / GET RESPONSE for long answers.
 */
import { randomBytes } from 'node:crypto';
import {
  decodeTlv,
  encodeResponseApdu,
  encodeTlv,
  findTlv,
  type ParsedCommandApdu,
  parseCommandApdu,
} from '@minidriver/iso7816';
import type { SimulatedCard } from '@minidriver/sim';
import { copyBytes, ScardError } from '@minidriver/spec';
import {
  AUTHENTICATION_SLOT,
  DECRYPTION_SLOT,
  type KeySlot,
  parseAlgorithmAttributes,
  SIGNATURE_SLOT,
} from './openpgp-algorithms.js';
import { buildAid, historicalBytesOf, OPENPGP_AID_PREFIX, OPENPGP_V3_ATR } from './openpgp-atr.js';
import {
  createFactoryDataObjects,
  type DataObjectContext,
  type DataObjectValues,
  KeyStatus,
  MAX_APDU_DATA_LENGTH,
  MAX_CHALLENGE_LENGTH,
  readDataObject,
  writeDataObject,
} from './openpgp-data-objects.js';
import {
  type CardKey,
  computeSignature,
  decipher,
  exportCardKey,
  generateCardKey,
  importCardKey,
  publicKeyFields,
  restoreCardKey,
} from './openpgp-keys.js';
import { OpenPgpPins, type PinReference } from './openpgp-pins.js';
import { type OpenPgpCardState, restoreDataObjects, snapshotDataObjects } from './openpgp-state.js';
import { CardStatus, OpenPgpStatus, requireCondition } from './openpgp-status.js';

/** Options of {@link OpenPgpSimulator}. */
export interface OpenPgpSimulatorOptions {
  /** Card serial number, AID bytes 10-13. Default 0x12345678. */
  serial?: number;
  /** Manufacturer id, AID bytes 8-9. Default 0xFFFF (test card). */
  manufacturer?: number;
  /** Specification version in the AID. Only 3.4 is simulated. */
  version?: [3, 4];
  /** Initial PW1. Default "123456". */
  pw1?: string;
  /** Initial PW3. Default "12345678". */
  pw3?: string;
  /** Initial Resetting Code. Default: none (RC counter 0). */
  resetCode?: string;
  /** ATR to present. Default {@link OPENPGP_V3_ATR}; DO 5F52 answers its historical bytes. */
  atr?: Uint8Array;
}

/** Key reference of each slot in CRTs, MSE and DE. */
const CONTROL_REFERENCE_TEMPLATES: ReadonlyMap<number, KeySlot> = new Map([
  [0xb6, SIGNATURE_SLOT],
  [0xb8, DECRYPTION_SLOT],
  [0xa4, AUTHENTICATION_SLOT],
]);

const INS = {
  select: 0xa4,
  getData: 0xca,
  getNextData: 0xcc,
  selectData: 0xa5,
  putData: 0xda,
  putDataOdd: 0xdb,
  verify: 0x20,
  changeReferenceData: 0x24,
  resetRetryCounter: 0x2c,
  performSecurityOperation: 0x2a,
  internalAuthenticate: 0x88,
  generateKeyPair: 0x47,
  getChallenge: 0x84,
  manageSecurityEnvironment: 0x22,
  terminateDf: 0xe6,
  activateFile: 0x44,
  getResponse: 0xc0,
} as const;

interface PendingChain {
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  readonly parts: Uint8Array[];
  length: number;
}

interface Answer {
  readonly data: Uint8Array;
  readonly statusWord: number;
}

function answer(data: Uint8Array = new Uint8Array(0), statusWord: number = OpenPgpStatus.success): Answer {
  return { data, statusWord };
}

/**
 * A faithful OpenPGP card 3.4: the data objects GnuPG and OpenSC read, PW1 (81/82) and PW3 with retry
 * counters and the Resetting Code, on-card key generation and import (RSA 2048/3072/4096, NIST P-256/
 * P-384/P-521, brainpool, Ed25519, X25519), PSO:CDS, PSO:DECIPHER, INTERNAL AUTHENTICATE, GET
 * CHALLENGE, SELECT DATA for three certificates, TERMINATE DF / ACTIVATE FILE. Not simulated: secure
 * messaging, the KDF-DO (F9, absent and not announced in C0), AES (PSO:ENCIPHER), UIF/touch, attestation.
 */
export class OpenPgpSimulator implements SimulatedCard {
  readonly name = 'OpenPGP';
  private readonly atrBytes: Uint8Array;
  private readonly historicalBytes: Uint8Array;
  private readonly aid: Uint8Array;
  private pins: OpenPgpPins;
  private values: DataObjectValues = createFactoryDataObjects();
  private keys: [CardKey | undefined, CardKey | undefined, CardKey | undefined] = [undefined, undefined, undefined];
  private terminated = false;
  // Volatile state (lost on power off / reset).
  private selected = false;
  private certificateOccurrence = 0;
  private decipherSlot: KeySlot = DECRYPTION_SLOT;
  private authenticateSlot: KeySlot = AUTHENTICATION_SLOT;
  private pendingResponse: Uint8Array | undefined;
  private chain: PendingChain | undefined;

  constructor(options: OpenPgpSimulatorOptions = {}) {
    const version = options.version ?? [3, 4];
    if (version[0] !== 3 || version[1] !== 4) {
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'OpenPGP simulator: only card version 3.4 is simulated');
    }
    const manufacturer = options.manufacturer ?? 0xffff;
    const serial = options.serial ?? 0x12345678;
    if (!Number.isInteger(manufacturer) || manufacturer < 0 || manufacturer > 0xffff) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'OpenPGP simulator: manufacturer must be 0..0xFFFF');
    }
    if (!Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'OpenPGP simulator: serial must be 0..0xFFFFFFFF');
    }
    this.atrBytes = copyBytes(options.atr ?? OPENPGP_V3_ATR);
    this.historicalBytes = historicalBytesOf(this.atrBytes);
    this.aid = buildAid(version, manufacturer, serial);
    this.pins = new OpenPgpPins(options.pw1, options.pw3, options.resetCode);
    this.powerOn();
  }

  /** The ATR (a copy). */
  get atr(): Uint8Array {
    return copyBytes(this.atrBytes);
  }

  /** The full 16-byte AID (a copy). */
  get applicationIdentifier(): Uint8Array {
    return copyBytes(this.aid);
  }

  powerOn(): void {
    this.resetVolatileState();
    // Single-application card: the OpenPGP application is selected implicitly after reset.
    this.selected = true;
  }

  powerOff(): void {
    this.resetVolatileState();
    this.selected = false;
  }

  reset(): void {
    this.powerOff();
    this.powerOn();
  }

  async process(command: Uint8Array): Promise<Uint8Array> {
    let apdu: ParsedCommandApdu;
    try {
      apdu = parseCommandApdu(command);
    } catch {
      return encodeResponseApdu(new Uint8Array(0), OpenPgpStatus.wrongLength);
    }
    try {
      return this.encodeAnswer(apdu, await this.processParsed(apdu));
    } catch (error) {
      this.pendingResponse = undefined;
      if (error instanceof CardStatus) return encodeResponseApdu(new Uint8Array(0), error.statusWord);
      return encodeResponseApdu(new Uint8Array(0), OpenPgpStatus.noPreciseDiagnosis);
    }
  }

  /** The persistent state: DOs, keys (PKCS#8), PIN values and counters, life cycle. */
  saveState(): OpenPgpCardState {
    return {
      format: 'openpgp-simulator/1',
      terminated: this.terminated,
      pins: this.pins.toSnapshot(),
      dataObjects: snapshotDataObjects(this.values),
      keys: this.keys.map((key) => (key ? Buffer.from(exportCardKey(key)).toString('hex') : null)),
    };
  }

  loadState(state: unknown): void {
    const candidate = state as Partial<OpenPgpCardState> | null;
    if (candidate?.format !== 'openpgp-simulator/1' || !candidate.pins || !candidate.dataObjects) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'OpenPGP simulator: not a saved OpenPGP simulator state');
    }
    try {
      const values = restoreDataObjects(candidate.dataObjects);
      const keys = (candidate.keys ?? [null, null, null]).map((hex, slot) =>
        hex
          ? restoreCardKey(
              parseAlgorithmAttributes(values.algorithmAttributes[slot]!, slot as KeySlot),
              Buffer.from(hex, 'hex'),
            )
          : undefined,
      );
      this.pins = OpenPgpPins.fromSnapshot(candidate.pins);
      this.values = values;
      this.keys = [keys[0], keys[1], keys[2]];
      this.terminated = candidate.terminated === true;
    } catch (error) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'OpenPGP simulator: saved state is corrupt', { cause: error });
    }
    this.reset();
  }

  private resetVolatileState(): void {
    this.pins.clearAllVerified();
    this.certificateOccurrence = 0;
    this.decipherSlot = DECRYPTION_SLOT;
    this.authenticateSlot = AUTHENTICATION_SLOT;
    this.pendingResponse = undefined;
    this.chain = undefined;
  }

  /** Splits a long answer into what fits Le plus `61xx`; the rest waits for GET RESPONSE. */
  private encodeAnswer(apdu: ParsedCommandApdu, result: Answer): Uint8Array {
    const limit = apdu.le ?? (apdu.extended ? 65536 : 256);
    if (result.data.length <= limit) return encodeResponseApdu(result.data, result.statusWord);
    const rest = result.data.slice(limit);
    this.pendingResponse = rest;
    return encodeResponseApdu(result.data.subarray(0, limit), 0x6100 | (Math.min(rest.length, 256) & 0xff));
  }

  private async processParsed(apdu: ParsedCommandApdu): Promise<Answer> {
    const { cla, ins } = apdu;
    if (cla & 0x80) throw new CardStatus(OpenPgpStatus.claNotSupported);
    if (cla & 0x40 || cla & 0x03) throw new CardStatus(OpenPgpStatus.logicalChannelNotSupported);
    if (cla & 0x0c) throw new CardStatus(OpenPgpStatus.secureMessagingNotSupported);
    requireCondition((apdu.data?.length ?? 0) <= MAX_APDU_DATA_LENGTH, OpenPgpStatus.wrongLength);

    if (ins === INS.getResponse) return this.getResponse(apdu);
    this.pendingResponse = undefined;

    const data = this.collectChain(apdu);
    if (data === undefined) return answer();

    if (ins === INS.select) return this.select(apdu, data);
    if (!this.selected) throw new CardStatus(OpenPgpStatus.conditionsOfUseNotSatisfied);
    if (this.terminated) {
      if (ins === INS.activateFile) return this.activateFile();
      throw new CardStatus(OpenPgpStatus.conditionsOfUseNotSatisfied);
    }
    switch (ins) {
      case INS.getData:
        return answer(readDataObject(this.values, (apdu.p1 << 8) | apdu.p2, this.dataObjectContext()));
      case INS.getNextData:
        return this.getNextData(apdu);
      case INS.selectData:
        return this.selectData(apdu, data);
      case INS.putData:
        writeDataObject(this.values, (apdu.p1 << 8) | apdu.p2, data, this.dataObjectContext());
        return answer();
      case INS.putDataOdd:
        return this.importKey(apdu, data);
      case INS.verify:
        return this.verify(apdu, data);
      case INS.changeReferenceData:
        return this.changeReferenceData(apdu, data);
      case INS.resetRetryCounter:
        return this.resetRetryCounter(apdu, data);
      case INS.performSecurityOperation:
        return this.performSecurityOperation(apdu, data);
      case INS.internalAuthenticate:
        return this.internalAuthenticate(apdu, data);
      case INS.generateKeyPair:
        return this.generateKeyPair(apdu, data);
      case INS.getChallenge:
        return this.getChallenge(apdu);
      case INS.manageSecurityEnvironment:
        return this.manageSecurityEnvironment(apdu, data);
      case INS.terminateDf:
        return this.terminateDf(apdu);
      case INS.activateFile:
        // ACTIVATE FILE in the operational state has no effect.
        return answer();
      default:
        throw new CardStatus(OpenPgpStatus.insNotSupported);
    }
  }

  /**
   * Command chaining: a command with CLA b5 set is stored and answered 9000 (undefined returned); the
   * last command of the chain gets the concatenated data. A different command discards the chain.
   */
  private collectChain(apdu: ParsedCommandApdu): Uint8Array | undefined {
    const data = apdu.data ?? new Uint8Array(0);
    const chain = this.chain;
    const continues = chain !== undefined && chain.ins === apdu.ins && chain.p1 === apdu.p1 && chain.p2 === apdu.p2;
    if (!continues) this.chain = undefined;
    if (apdu.cla & 0x10) {
      const current = continues ? chain : { ins: apdu.ins, p1: apdu.p1, p2: apdu.p2, parts: [], length: 0 };
      requireCondition(current.length + data.length <= 0xffff, OpenPgpStatus.wrongLength);
      current.parts.push(data.slice());
      current.length += data.length;
      this.chain = current;
      return undefined;
    }
    if (!continues) return data;
    this.chain = undefined;
    return Uint8Array.from(Buffer.concat([...chain.parts, data]));
  }

  private getResponse(apdu: ParsedCommandApdu): Answer {
    const pending = this.pendingResponse;
    this.pendingResponse = undefined;
    requireCondition(apdu.p1 === 0 && apdu.p2 === 0, OpenPgpStatus.wrongParameters);
    requireCondition(pending !== undefined, OpenPgpStatus.conditionsOfUseNotSatisfied);
    // encodeAnswer splits again if Le is shorter than what is left.
    return answer(pending);
  }

  private select(apdu: ParsedCommandApdu, data: Uint8Array): Answer {
    const byName = apdu.p1 === 0x04;
    const matches =
      byName &&
      data.length >= OPENPGP_AID_PREFIX.length &&
      data.length <= this.aid.length &&
      Buffer.from(this.aid.subarray(0, data.length)).equals(Buffer.from(data));
    // Any other application or file (EF.DIR, EF.GDO...) does not exist; the current selection stays.
    requireCondition(matches, OpenPgpStatus.fileNotFound);
    this.resetVolatileState();
    this.selected = true;
    if (this.terminated) throw new CardStatus(OpenPgpStatus.selectedFileTerminated);
    return answer();
  }

  private dataObjectContext(): DataObjectContext {
    return {
      aid: this.aid,
      historicalBytes: this.historicalBytes,
      pins: this.pins,
      certificateOccurrence: this.certificateOccurrence,
      onAlgorithmChanged: (slot) => this.deleteKey(slot),
    };
  }

  private deleteKey(slot: KeySlot): void {
    this.keys[slot] = undefined;
    this.values.keyStatus[slot] = KeyStatus.absent;
    this.values.fingerprints[slot] = new Uint8Array(20);
    this.values.generationTimes[slot] = new Uint8Array(4);
  }

  /** SELECT DATA `00 A5 <occurrence> 04 { 60 { 5C 02 7F 21 } }` (also with YubiKey's extra length byte). */
  private selectData(apdu: ParsedCommandApdu, data: Uint8Array): Answer {
    requireCondition(apdu.p2 === 0x04, OpenPgpStatus.wrongParameters);
    const body = data.length === 7 && data[0] === 0x06 ? data.subarray(1) : data;
    let tag: Uint8Array | undefined;
    try {
      tag = findTlv(decodeTlv(body), 0x60, 0x5c)?.value;
    } catch {
      throw new CardStatus(OpenPgpStatus.incorrectData);
    }
    requireCondition(
      tag !== undefined && tag.length === 2 && tag[0] === 0x7f && tag[1] === 0x21,
      OpenPgpStatus.referencedDataNotFound,
    );
    requireCondition(apdu.p1 <= 2, OpenPgpStatus.referencedDataNotFound);
    this.certificateOccurrence = apdu.p1;
    return answer();
  }

  /** GET NEXT DATA `00 CC 7F 21`: the next certificate occurrence. */
  private getNextData(apdu: ParsedCommandApdu): Answer {
    requireCondition(apdu.p1 === 0x7f && apdu.p2 === 0x21, OpenPgpStatus.referencedDataNotFound);
    requireCondition(this.certificateOccurrence < 2, OpenPgpStatus.referencedDataNotFound);
    this.certificateOccurrence += 1;
    return answer(this.values.certificates[this.certificateOccurrence]!.slice());
  }

  private verify(apdu: ParsedCommandApdu, data: Uint8Array): Answer {
    requireCondition(apdu.p2 === 0x81 || apdu.p2 === 0x82 || apdu.p2 === 0x83, OpenPgpStatus.referencedDataNotFound);
    const reference = apdu.p2 as PinReference;
    if (apdu.p1 === 0xff) {
      requireCondition(data.length === 0, OpenPgpStatus.wrongLength);
      this.pins.clearVerified(reference);
      return answer();
    }
    requireCondition(apdu.p1 === 0x00, OpenPgpStatus.wrongParameters);
    if (data.length === 0) {
      this.pins.checkVerified(reference);
      return answer();
    }
    try {
      this.pins.verify(reference, data);
    } finally {
      data.fill(0);
    }
    return answer();
  }

  private changeReferenceData(apdu: ParsedCommandApdu, data: Uint8Array): Answer {
    requireCondition(apdu.p1 === 0x00 && (apdu.p2 === 0x81 || apdu.p2 === 0x83), OpenPgpStatus.wrongParameters);
    try {
      this.pins.change(apdu.p2, data);
    } finally {
      data.fill(0);
    }
    return answer();
  }

  private resetRetryCounter(apdu: ParsedCommandApdu, data: Uint8Array): Answer {
    requireCondition(apdu.p2 === 0x81 && (apdu.p1 === 0x00 || apdu.p1 === 0x02), OpenPgpStatus.wrongParameters);
    try {
      if (apdu.p1 === 0x00) this.pins.resetWithResetCode(data);
      else this.pins.resetByAdmin(data);
    } finally {
      data.fill(0);
    }
    return answer();
  }

  private requireKey(slot: KeySlot): CardKey {
    const key = this.keys[slot];
    requireCondition(key !== undefined, OpenPgpStatus.referencedDataNotFound);
    return key;
  }

  private performSecurityOperation(apdu: ParsedCommandApdu, data: Uint8Array): Answer {
    const operation = (apdu.p1 << 8) | apdu.p2;
    if (operation === 0x9e9a) return this.computeDigitalSignature(data);
    if (operation === 0x8086) return this.decipher(data);
    // PSO:ENCIPHER (AES, C0 flag 02) is not offered by this card.
    throw new CardStatus(OpenPgpStatus.wrongParameters);
  }

  private computeDigitalSignature(data: Uint8Array): Answer {
    requireCondition(this.pins.isVerified(0x81), OpenPgpStatus.securityStatusNotSatisfied);
    const key = this.requireKey(SIGNATURE_SLOT);
    requireCondition(
      key.algorithm.kind === 'rsa' || key.algorithm.algorithmId !== 0x12,
      OpenPgpStatus.conditionsOfUseNotSatisfied,
    );
    const signature = computeSignature(key, data);
    this.values.signatureCounter = Math.min(this.values.signatureCounter + 1, 0xffffff);
    // C4 byte 1 = 00: PW1 (81) is good for one signature only.
    if (this.values.pwStatusByte1 === 0x00) this.pins.clearVerified(0x81);
    return answer(signature);
  }

  private decipher(data: Uint8Array): Answer {
    requireCondition(this.pins.isVerified(0x82), OpenPgpStatus.securityStatusNotSatisfied);
    const key = this.requireKey(this.decipherSlot);
    if (key.algorithm.kind === 'rsa') return answer(decipher(key, data));
    // ECDH: A6 { 7F49 { 86 <peer public key> } }.
    let peerKey: Uint8Array | undefined;
    try {
      peerKey = findTlv(decodeTlv(data), 0xa6, 0x7f49, 0x86)?.value;
    } catch {
      throw new CardStatus(OpenPgpStatus.incorrectData);
    }
    requireCondition(peerKey !== undefined, OpenPgpStatus.incorrectData);
    return answer(decipher(key, peerKey));
  }

  private internalAuthenticate(apdu: ParsedCommandApdu, data: Uint8Array): Answer {
    requireCondition(apdu.p1 === 0x00 && apdu.p2 === 0x00, OpenPgpStatus.wrongParameters);
    requireCondition(this.pins.isVerified(0x82), OpenPgpStatus.securityStatusNotSatisfied);
    const key = this.requireKey(this.authenticateSlot);
    requireCondition(
      key.algorithm.kind === 'rsa' || key.algorithm.algorithmId !== 0x12,
      OpenPgpStatus.conditionsOfUseNotSatisfied,
    );
    return answer(computeSignature(key, data));
  }

  /** The slot named by a control reference template `B6 00` / `B8 00` / `A4 00`. */
  private slotFromTemplate(data: Uint8Array): KeySlot {
    const tag = data[0];
    const slot = tag === undefined ? undefined : CONTROL_REFERENCE_TEMPLATES.get(tag);
    requireCondition(
      slot !== undefined && data.length >= 2 && data[1] === data.length - 2,
      OpenPgpStatus.incorrectData,
    );
    // Yubico's attestation key CRT (B6 03 84 01 81) names a slot this card does not have.
    requireCondition(data[1] === 0x00, OpenPgpStatus.incorrectData);
    return slot;
  }

  private encodePublicKey(key: CardKey): Uint8Array {
    const fields = publicKeyFields(key);
    return encodeTlv(0x7f49, Uint8Array.from(Buffer.concat(fields.map((field) => encodeTlv(field.tag, field.value)))));
  }

  private async generateKeyPair(apdu: ParsedCommandApdu, data: Uint8Array): Promise<Answer> {
    requireCondition(apdu.p2 === 0x00 && (apdu.p1 === 0x80 || apdu.p1 === 0x81), OpenPgpStatus.wrongParameters);
    const slot = this.slotFromTemplate(data);
    if (apdu.p1 === 0x81) return answer(this.encodePublicKey(this.requireKey(slot)));
    requireCondition(this.pins.isVerified(0x83), OpenPgpStatus.securityStatusNotSatisfied);
    const algorithm = parseAlgorithmAttributes(this.values.algorithmAttributes[slot], slot);
    const key = await generateCardKey(algorithm);
    this.storeKey(slot, key, KeyStatus.generated);
    return answer(this.encodePublicKey(key));
  }

  /** A new key replaces the old one; the host writes fingerprint and time afterwards (they are cleared). */
  private storeKey(slot: KeySlot, key: CardKey, status: number): void {
    this.deleteKey(slot);
    this.keys[slot] = key;
    this.values.keyStatus[slot] = status;
    if (slot === SIGNATURE_SLOT) this.values.signatureCounter = 0;
  }

  /**
   * Key import, PUT DATA odd `00 DB 3F FF`:
   * `4D { <CRT B6/B8/A4 00> 7F48 <tag-length list> 5F48 <concatenated values> }`.
   */
  private importKey(apdu: ParsedCommandApdu, data: Uint8Array): Answer {
    requireCondition(apdu.p1 === 0x3f && apdu.p2 === 0xff, OpenPgpStatus.wrongParameters);
    requireCondition(this.pins.isVerified(0x83), OpenPgpStatus.securityStatusNotSatisfied);
    let slot: KeySlot;
    let components: Map<number, Uint8Array>;
    try {
      const header = decodeTlv(data, { parseConstructed: false });
      const list = header.length === 1 && header[0]!.tag === 0x4d ? header[0]!.value : undefined;
      requireCondition(list !== undefined, OpenPgpStatus.incorrectData);
      const parts = decodeTlv(list, { parseConstructed: false });
      const crt = parts[0];
      const template = parts.find((part) => part.tag === 0x7f48)?.value;
      const values = parts.find((part) => part.tag === 0x5f48)?.value;
      requireCondition(
        crt !== undefined && template !== undefined && values !== undefined,
        OpenPgpStatus.incorrectData,
      );
      slot = this.slotFromTemplate(Uint8Array.of(crt.tag, crt.value.length, ...crt.value));
      components = splitImportValues(template, values);
      values.fill(0);
    } catch (error) {
      if (error instanceof CardStatus) throw error;
      throw new CardStatus(OpenPgpStatus.incorrectData);
    } finally {
      data.fill(0);
    }
    const algorithm = parseAlgorithmAttributes(this.values.algorithmAttributes[slot], slot);
    try {
      this.storeKey(slot, importCardKey(algorithm, components), KeyStatus.imported);
    } finally {
      for (const value of components.values()) value.fill(0);
    }
    return answer();
  }

  private getChallenge(apdu: ParsedCommandApdu): Answer {
    requireCondition(apdu.p1 === 0x00 && apdu.p2 === 0x00, OpenPgpStatus.wrongParameters);
    const length = apdu.le;
    requireCondition(length !== undefined && length <= MAX_CHALLENGE_LENGTH, OpenPgpStatus.wrongLength);
    return answer(new Uint8Array(randomBytes(length)));
  }

  /** MSE SET `00 22 41 A4|B8 { 83 01 02|03 }`: which key INTERNAL AUTHENTICATE / PSO:DECIPHER use. */
  private manageSecurityEnvironment(apdu: ParsedCommandApdu, data: Uint8Array): Answer {
    requireCondition(apdu.p1 === 0x41 && (apdu.p2 === 0xa4 || apdu.p2 === 0xb8), OpenPgpStatus.wrongParameters);
    requireCondition(data.length === 3 && data[0] === 0x83 && data[1] === 0x01, OpenPgpStatus.incorrectData);
    const reference = data[2];
    requireCondition(reference === 0x02 || reference === 0x03, OpenPgpStatus.referencedDataNotFound);
    const slot = reference === 0x02 ? DECRYPTION_SLOT : AUTHENTICATION_SLOT;
    if (apdu.p2 === 0xa4) this.authenticateSlot = slot;
    else this.decipherSlot = slot;
    return answer();
  }

  /** TERMINATE DF: needs PW3, or PW3 blocked (so a card with a forgotten PW3 can still be reset). */
  private terminateDf(apdu: ParsedCommandApdu): Answer {
    requireCondition(apdu.p1 === 0x00 && apdu.p2 === 0x00, OpenPgpStatus.wrongParameters);
    requireCondition(
      this.pins.isVerified(0x83) || this.pins.isAdminBlocked(),
      OpenPgpStatus.securityStatusNotSatisfied,
    );
    this.terminated = true;
    this.resetVolatileState();
    return answer();
  }

  /** ACTIVATE FILE in the termination state: back to factory state (default PINs, no keys, empty DOs). */
  private activateFile(): Answer {
    this.pins = new OpenPgpPins();
    this.values = createFactoryDataObjects();
    this.keys = [undefined, undefined, undefined];
    this.terminated = false;
    this.resetVolatileState();
    return answer();
  }
}

/** Cuts the 5F48 value into the components the 7F48 list announces (tag + BER length pairs). */
function splitImportValues(template: Uint8Array, values: Uint8Array): Map<number, Uint8Array> {
  const components = new Map<number, Uint8Array>();
  let offset = 0;
  let valueOffset = 0;
  while (offset < template.length) {
    const tag = template[offset++]!;
    const first = template[offset++];
    requireCondition(first !== undefined, OpenPgpStatus.incorrectData);
    let length = first;
    if (first & 0x80) {
      const count = first & 0x7f;
      requireCondition(count >= 1 && count <= 2 && offset + count <= template.length, OpenPgpStatus.incorrectData);
      length = 0;
      for (let index = 0; index < count; index++) length = (length << 8) | template[offset++]!;
    }
    requireCondition(valueOffset + length <= values.length, OpenPgpStatus.incorrectData);
    components.set(tag, values.slice(valueOffset, valueOffset + length));
    valueOffset += length;
  }
  requireCondition(valueOffset === values.length, OpenPgpStatus.incorrectData);
  return components;
}
