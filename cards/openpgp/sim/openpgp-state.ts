/**
 * The simulator's saved state: a JSON-serialisable form of the data objects, PINs and keys,
 * and its validation when it is loaded back.
 */
import type { DataObjectValues } from './openpgp-data-objects.js';
import type { PinsSnapshot } from './openpgp-pins.js';

/** Data objects with every byte string as hex. */
export type DataObjectsSnapshot = {
  [Key in keyof DataObjectValues]: DataObjectValues[Key] extends Uint8Array
    ? string
    : DataObjectValues[Key] extends Uint8Array[]
      ? string[]
      : DataObjectValues[Key];
};

/** What `OpenPgpSimulator.saveState()` returns. */
export interface OpenPgpCardState {
  format: 'openpgp-simulator/1';
  terminated: boolean;
  pins: PinsSnapshot;
  dataObjects: DataObjectsSnapshot;
  /** PKCS#8 DER (hex) of the SIG, DEC and AUT private keys, or null. */
  keys: (string | null)[];
}

const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function fromHex(text: unknown): Uint8Array {
  if (typeof text !== 'string' || !/^([0-9a-f]{2})*$/i.test(text)) throw new TypeError('expected a hex string');
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

function fromHexList<Length extends number>(list: unknown, length: Length): Uint8Array[] {
  if (!Array.isArray(list) || list.length !== length) throw new TypeError('expected a list of hex strings');
  return list.map(fromHex);
}

function requireNumber(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TypeError('expected a count');
  return value;
}

/** The data objects as hex strings. */
export function snapshotDataObjects(values: DataObjectValues): DataObjectsSnapshot {
  return {
    name: toHex(values.name),
    languagePreference: toHex(values.languagePreference),
    sex: toHex(values.sex),
    url: toHex(values.url),
    loginData: toHex(values.loginData),
    privateUse: values.privateUse.map(toHex) as DataObjectsSnapshot['privateUse'],
    certificates: values.certificates.map(toHex) as DataObjectsSnapshot['certificates'],
    algorithmAttributes: values.algorithmAttributes.map(toHex) as DataObjectsSnapshot['algorithmAttributes'],
    fingerprints: values.fingerprints.map(toHex) as DataObjectsSnapshot['fingerprints'],
    caFingerprints: values.caFingerprints.map(toHex) as DataObjectsSnapshot['caFingerprints'],
    generationTimes: values.generationTimes.map(toHex) as DataObjectsSnapshot['generationTimes'],
    keyStatus: [...values.keyStatus],
    pwStatusByte1: values.pwStatusByte1,
    signatureCounter: values.signatureCounter,
  };
}

/** Rebuilds the data objects from a snapshot; throws TypeError when a field is malformed. */
export function restoreDataObjects(snapshot: DataObjectsSnapshot): DataObjectValues {
  const keyStatus = snapshot.keyStatus;
  if (!Array.isArray(keyStatus) || keyStatus.length !== 3) throw new TypeError('expected three key states');
  return {
    name: fromHex(snapshot.name),
    languagePreference: fromHex(snapshot.languagePreference),
    sex: fromHex(snapshot.sex),
    url: fromHex(snapshot.url),
    loginData: fromHex(snapshot.loginData),
    privateUse: fromHexList(snapshot.privateUse, 4) as DataObjectValues['privateUse'],
    certificates: fromHexList(snapshot.certificates, 3) as DataObjectValues['certificates'],
    algorithmAttributes: fromHexList(snapshot.algorithmAttributes, 3) as DataObjectValues['algorithmAttributes'],
    fingerprints: fromHexList(snapshot.fingerprints, 3) as DataObjectValues['fingerprints'],
    caFingerprints: fromHexList(snapshot.caFingerprints, 3) as DataObjectValues['caFingerprints'],
    generationTimes: fromHexList(snapshot.generationTimes, 3) as DataObjectValues['generationTimes'],
    keyStatus: keyStatus.map(requireNumber) as DataObjectValues['keyStatus'],
    pwStatusByte1: requireNumber(snapshot.pwStatusByte1),
    signatureCounter: requireNumber(snapshot.signatureCounter),
  };
}
