/**
 * The OpenPGP card's data objects (docs/spec/openpgp.md §3): their persistent values, the constructed
 * objects built from them (6E, 65, 7A, FA ...), and GET DATA / PUT DATA with each DO's access rule.
 */
import { encodeTlv } from '@minidriver/iso7816';
import {
  AUTHENTICATION_SLOT,
  DECRYPTION_SLOT,
  encodeRsaAttributes,
  type KeySlot,
  parseAlgorithmAttributes,
  SIGNATURE_SLOT,
  supportedAttributes,
} from './openpgp-algorithms.js';
import { type OpenPgpPins, PIN_MAX_LENGTH } from './openpgp-pins.js';
import { CardStatus, OpenPgpStatus, requireCondition } from './openpgp-status.js';

/** Largest cardholder certificate (C0 bytes 5-6). */
export const MAX_CERTIFICATE_LENGTH = 0x0800;
/** Largest private DO, login data and URL (C0 bytes 7-8). */
export const MAX_SPECIAL_DO_LENGTH = 0x00ff;
/** Largest GET CHALLENGE answer (C0 bytes 3-4). */
export const MAX_CHALLENGE_LENGTH = 0x0800;
/** Largest command data and response data of one APDU (7F66): a full certificate plus its header fits. */
export const MAX_APDU_DATA_LENGTH = 0x0900;

/** Key status in DO DE: not present, generated on the card, imported. */
export const KeyStatus = { absent: 0x00, generated: 0x01, imported: 0x02 } as const;

/** Extended capabilities C0: GET CHALLENGE, key import, PW status changeable, private DOs, attributes changeable. */
const EXTENDED_CAPABILITY_FLAGS = 0x40 | 0x20 | 0x10 | 0x08 | 0x04;

/** The persistent values of the card's writable DOs, JSON-serialisable as hex by the simulator. */
export interface DataObjectValues {
  name: Uint8Array;
  languagePreference: Uint8Array;
  sex: Uint8Array;
  url: Uint8Array;
  loginData: Uint8Array;
  /** Private use DOs 0101-0104. */
  privateUse: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  /** Cardholder certificates by occurrence: 0 AUT, 1 DEC, 2 SIG. */
  certificates: [Uint8Array, Uint8Array, Uint8Array];
  /** C1, C2, C3. */
  algorithmAttributes: [Uint8Array, Uint8Array, Uint8Array];
  /** C7, C8, C9 (20 bytes each). */
  fingerprints: [Uint8Array, Uint8Array, Uint8Array];
  /** CA, CB, CC (20 bytes each). */
  caFingerprints: [Uint8Array, Uint8Array, Uint8Array];
  /** CE, CF, D0 (4 bytes each). */
  generationTimes: [Uint8Array, Uint8Array, Uint8Array];
  /** DE key status per slot. */
  keyStatus: [number, number, number];
  /** C4 byte 1: 00 = PW1 valid for one PSO:CDS only, 01 = for several. */
  pwStatusByte1: number;
  /** Digital signature counter (93 in 7A), 3 bytes. */
  signatureCounter: number;
}

/** The factory state of every DO: empty, RSA-2048 in all three slots. */
export function createFactoryDataObjects(): DataObjectValues {
  const empty = () => new Uint8Array(0);
  const zeros = (length: number) => new Uint8Array(length);
  return {
    name: empty(),
    languagePreference: empty(),
    sex: Uint8Array.of(0x39),
    url: empty(),
    loginData: empty(),
    privateUse: [empty(), empty(), empty(), empty()],
    certificates: [empty(), empty(), empty()],
    algorithmAttributes: [encodeRsaAttributes(2048), encodeRsaAttributes(2048), encodeRsaAttributes(2048)],
    fingerprints: [zeros(20), zeros(20), zeros(20)],
    caFingerprints: [zeros(20), zeros(20), zeros(20)],
    generationTimes: [zeros(4), zeros(4), zeros(4)],
    keyStatus: [KeyStatus.absent, KeyStatus.absent, KeyStatus.absent],
    pwStatusByte1: 0x00,
    signatureCounter: 0,
  };
}

/** What GET/PUT DATA need besides the stored values. */
export interface DataObjectContext {
  readonly aid: Uint8Array;
  readonly historicalBytes: Uint8Array;
  readonly pins: OpenPgpPins;
  /** The 7F21 occurrence chosen by SELECT DATA (0 AUT, 1 DEC, 2 SIG). */
  readonly certificateOccurrence: number;
  /** Called when C1-C3 change: the card deletes that slot's key. */
  readonly onAlgorithmChanged: (slot: KeySlot) => void;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** C0, 10 bytes (v3 layout). */
export function encodeExtendedCapabilities(): Uint8Array {
  return Uint8Array.of(
    EXTENDED_CAPABILITY_FLAGS,
    0x00, // no secure messaging
    MAX_CHALLENGE_LENGTH >> 8,
    MAX_CHALLENGE_LENGTH & 0xff,
    MAX_CERTIFICATE_LENGTH >> 8,
    MAX_CERTIFICATE_LENGTH & 0xff,
    MAX_SPECIAL_DO_LENGTH >> 8,
    MAX_SPECIAL_DO_LENGTH & 0xff,
    0x00, // PIN block 2 format not supported
    0x01, // MSE for key references 2 and 3 supported
  );
}

/** 7F66 value: max command and response data lengths as two 2-byte INTEGERs. */
export function encodeExtendedLengthInformation(): Uint8Array {
  const length = Uint8Array.of(MAX_APDU_DATA_LENGTH >> 8, MAX_APDU_DATA_LENGTH & 0xff);
  return concat(encodeTlv(0x02, length), encodeTlv(0x02, length));
}

/** C4, 7 bytes. */
export function encodePwStatus(values: DataObjectValues, pins: OpenPgpPins): Uint8Array {
  const retries = pins.retriesLeft();
  return Uint8Array.of(
    values.pwStatusByte1,
    PIN_MAX_LENGTH,
    PIN_MAX_LENGTH,
    PIN_MAX_LENGTH,
    retries.pw1,
    retries.resetCode,
    retries.pw3,
  );
}

/** DE: (key reference, status) pairs for SIG 01, DEC 02, AUT 03. */
function encodeKeyInformation(values: DataObjectValues): Uint8Array {
  return Uint8Array.of(0x01, values.keyStatus[0], 0x02, values.keyStatus[1], 0x03, values.keyStatus[2]);
}

/** The discretionary data objects `73` of 6E. */
function encodeDiscretionaryData(values: DataObjectValues, pins: OpenPgpPins): Uint8Array {
  return encodeTlv(
    0x73,
    concat(
      encodeTlv(0xc0, encodeExtendedCapabilities()),
      encodeTlv(0xc1, values.algorithmAttributes[0]),
      encodeTlv(0xc2, values.algorithmAttributes[1]),
      encodeTlv(0xc3, values.algorithmAttributes[2]),
      encodeTlv(0xc4, encodePwStatus(values, pins)),
      encodeTlv(0xc5, concat(...values.fingerprints)),
      encodeTlv(0xc6, concat(...values.caFingerprints)),
      encodeTlv(0xcd, concat(...values.generationTimes)),
      encodeTlv(0xde, encodeKeyInformation(values)),
    ),
  );
}

/** 6E application related data (full TLV, as GET DATA 6E answers). */
export function encodeApplicationRelatedData(values: DataObjectValues, context: DataObjectContext): Uint8Array {
  return encodeTlv(
    0x6e,
    concat(
      encodeTlv(0x4f, context.aid),
      encodeTlv(0x5f52, context.historicalBytes),
      encodeTlv(0x7f66, encodeExtendedLengthInformation()),
      encodeDiscretionaryData(values, context.pins),
    ),
  );
}

/** 65 cardholder related data. */
export function encodeCardholderRelatedData(values: DataObjectValues): Uint8Array {
  return encodeTlv(
    0x65,
    concat(encodeTlv(0x5b, values.name), encodeTlv(0x5f2d, values.languagePreference), encodeTlv(0x5f35, values.sex)),
  );
}

/** 7A security support template: the digital signature counter. */
export function encodeSecuritySupportTemplate(values: DataObjectValues): Uint8Array {
  const counter = values.signatureCounter;
  return encodeTlv(0x7a, encodeTlv(0x93, Uint8Array.of((counter >> 16) & 0xff, (counter >> 8) & 0xff, counter & 0xff)));
}

/** FA algorithm information: every accepted C1, C2, C3 value. */
export function encodeAlgorithmInformation(): Uint8Array {
  const slots: KeySlot[] = [SIGNATURE_SLOT, DECRYPTION_SLOT, AUTHENTICATION_SLOT];
  const entries = slots.flatMap((slot) =>
    supportedAttributes(slot).map((attributes) => encodeTlv(0xc1 + slot, attributes)),
  );
  return encodeTlv(0xfa, concat(...entries));
}

/** GET DATA: the value the card answers for `tag`, or a thrown status word. */
export function readDataObject(values: DataObjectValues, tag: number, context: DataObjectContext): Uint8Array {
  const { pins } = context;
  switch (tag) {
    case 0x004f:
      return context.aid.slice();
    case 0x005e:
      return values.loginData.slice();
    case 0x5f50:
      return values.url.slice();
    case 0x5f52:
      return context.historicalBytes.slice();
    case 0x0065:
      return encodeCardholderRelatedData(values);
    case 0x006e:
      return encodeApplicationRelatedData(values, context);
    case 0x007a:
      return encodeSecuritySupportTemplate(values);
    case 0x005b:
      return values.name.slice();
    case 0x5f2d:
      return values.languagePreference.slice();
    case 0x5f35:
      return values.sex.slice();
    case 0x0093:
      return encodeSecuritySupportTemplate(values).slice(4);
    case 0x7f21:
      return values.certificates[context.certificateOccurrence]!.slice();
    case 0x0101:
    case 0x0102:
      return values.privateUse[tag - 0x0101]!.slice();
    case 0x0103:
      requireCondition(pins.isVerified(0x82), OpenPgpStatus.securityStatusNotSatisfied);
      return values.privateUse[2].slice();
    case 0x0104:
      requireCondition(pins.isVerified(0x83), OpenPgpStatus.securityStatusNotSatisfied);
      return values.privateUse[3].slice();
    case 0x00c0:
      return encodeExtendedCapabilities();
    case 0x00c1:
    case 0x00c2:
    case 0x00c3:
      return values.algorithmAttributes[tag - 0xc1]!.slice();
    case 0x00c4:
      return encodePwStatus(values, pins);
    case 0x00c5:
      return concat(...values.fingerprints);
    case 0x00c6:
      return concat(...values.caFingerprints);
    case 0x00cd:
      return concat(...values.generationTimes);
    case 0x00de:
      return encodeKeyInformation(values);
    case 0x00fa:
      return encodeAlgorithmInformation();
    case 0x7f66:
      return encodeExtendedLengthInformation();
    default:
      // Includes F9 (KDF-DO: not implemented by this card), 7F74 (no buttons), and never-readable DOs.
      throw new CardStatus(OpenPgpStatus.referencedDataNotFound);
  }
}

function requireLength(value: Uint8Array, minimum: number, maximum: number): void {
  requireCondition(value.length >= minimum && value.length <= maximum, OpenPgpStatus.wrongLength);
}

/** PUT DATA (even INS): checks the access rule and the value, then stores it. */
export function writeDataObject(
  values: DataObjectValues,
  tag: number,
  value: Uint8Array,
  context: DataObjectContext,
): void {
  const { pins } = context;
  const needsPw1 = tag === 0x0101 || tag === 0x0103;
  requireCondition(pins.isVerified(needsPw1 ? 0x82 : 0x83), OpenPgpStatus.securityStatusNotSatisfied);
  const copy = value.slice();
  switch (tag) {
    case 0x005b:
      requireLength(copy, 0, 39);
      values.name = copy;
      return;
    case 0x5f2d:
      requireLength(copy, 0, 8);
      values.languagePreference = copy;
      return;
    case 0x5f35:
      requireLength(copy, 1, 1);
      values.sex = copy;
      return;
    case 0x5f50:
      requireLength(copy, 0, MAX_SPECIAL_DO_LENGTH);
      values.url = copy;
      return;
    case 0x005e:
      requireLength(copy, 0, MAX_SPECIAL_DO_LENGTH);
      values.loginData = copy;
      return;
    case 0x0101:
    case 0x0102:
    case 0x0103:
    case 0x0104:
      requireLength(copy, 0, MAX_SPECIAL_DO_LENGTH);
      values.privateUse[tag - 0x0101] = copy;
      return;
    case 0x7f21:
      requireLength(copy, 0, MAX_CERTIFICATE_LENGTH);
      values.certificates[context.certificateOccurrence] = copy;
      return;
    case 0x00c1:
    case 0x00c2:
    case 0x00c3: {
      const slot = (tag - 0xc1) as KeySlot;
      parseAlgorithmAttributes(copy, slot);
      if (!Buffer.from(values.algorithmAttributes[slot]).equals(copy)) {
        values.algorithmAttributes[slot] = copy;
        context.onAlgorithmChanged(slot);
      }
      return;
    }
    case 0x00c4:
      requireLength(copy, 1, 4);
      requireCondition(copy[0] === 0x00 || copy[0] === 0x01, OpenPgpStatus.incorrectData);
      values.pwStatusByte1 = copy[0]!;
      return;
    case 0x00c7:
    case 0x00c8:
    case 0x00c9:
      requireLength(copy, 20, 20);
      values.fingerprints[tag - 0xc7] = copy;
      return;
    case 0x00ca:
    case 0x00cb:
    case 0x00cc:
      requireLength(copy, 20, 20);
      values.caFingerprints[tag - 0xca] = copy;
      return;
    case 0x00ce:
    case 0x00cf:
    case 0x00d0:
      requireLength(copy, 4, 4);
      values.generationTimes[tag - 0xce] = copy;
      return;
    case 0x00d3:
      pins.setResetCode(copy);
      copy.fill(0);
      return;
    default:
      throw new CardStatus(OpenPgpStatus.referencedDataNotFound);
  }
}
