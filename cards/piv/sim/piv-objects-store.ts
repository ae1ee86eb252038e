/**
 * The PIV data objects a card holds (SP 800-73-4 part 1 docs/spec/piv.md §3), their read access rules, the YubiKey
 * size limit, and the CHUID / CCC / Discovery contents a YubiKey-class card starts with.
 */

import { encodeTlv } from '@minidriver/iso7816';
import { concatBytes } from '@minidriver/spec';

/** BER-TLV tags of the PIV data objects (as integers, 5FC105 = 0x5fc105). */
export const PivObjectTag = {
  cardAuthenticationCertificate: 0x5fc101,
  chuid: 0x5fc102,
  fingerprints: 0x5fc103,
  pivAuthenticationCertificate: 0x5fc105,
  securityObject: 0x5fc106,
  ccc: 0x5fc107,
  facialImage: 0x5fc108,
  printedInformation: 0x5fc109,
  digitalSignatureCertificate: 0x5fc10a,
  keyManagementCertificate: 0x5fc10b,
  keyHistory: 0x5fc10c,
  firstRetiredCertificate: 0x5fc10d,
  lastRetiredCertificate: 0x5fc120,
  irisImages: 0x5fc121,
  smCertificateSigner: 0x5fc122,
  pairingCode: 0x5fc123,
  discovery: 0x7e,
  biometricGroupTemplate: 0x7f61,
  /** YubiKey vendor range 5FFF00..5FFFFF (admin data, attestation certificate, minidriver map, msroots). */
  firstVendor: 0x5fff00,
  lastVendor: 0x5fffff,
} as const;

/** The largest `53` value a YubiKey 4/5 stores (3072-byte PUT DATA message minus its 9-byte header). */
export const MAX_OBJECT_VALUE_LENGTH = 3063;

/** True when GET DATA / PUT DATA accept the tag at all. */
export function isPivObjectTag(tag: number): boolean {
  return (
    (tag >= PivObjectTag.cardAuthenticationCertificate && tag <= PivObjectTag.pairingCode && tag !== 0x5fc104) ||
    tag === PivObjectTag.discovery ||
    tag === PivObjectTag.biometricGroupTemplate ||
    (tag >= PivObjectTag.firstVendor && tag <= PivObjectTag.lastVendor)
  );
}

/** True when reading the object needs the PIN (SP 800-73-4 part 1 table 2; YubiKey protected data in 5FC109). */
export function isPinProtectedObject(tag: number): boolean {
  return (
    tag === PivObjectTag.fingerprints ||
    tag === PivObjectTag.facialImage ||
    tag === PivObjectTag.printedInformation ||
    tag === PivObjectTag.irisImages ||
    tag === PivObjectTag.pairingCode
  );
}

/** Objects the card answers with its own TLV instead of a `53` wrapper. */
export function outerTagOf(tag: number): number {
  return tag === PivObjectTag.discovery || tag === PivObjectTag.biometricGroupTemplate ? tag : 0x53;
}

/** The certificate object of a key slot (9A, 9C, 9D, 9E, 82..95), or undefined. */
export function certificateTagOfSlot(slot: number): number | undefined {
  switch (slot) {
    case 0x9a:
      return PivObjectTag.pivAuthenticationCertificate;
    case 0x9c:
      return PivObjectTag.digitalSignatureCertificate;
    case 0x9d:
      return PivObjectTag.keyManagementCertificate;
    case 0x9e:
      return PivObjectTag.cardAuthenticationCertificate;
    default:
      return slot >= 0x82 && slot <= 0x95 ? PivObjectTag.firstRetiredCertificate + (slot - 0x82) : undefined;
  }
}

/** FASC-N a YubiKey writes into its CHUID (agency code 9999: "not a government card"). */
export const YUBICO_FASC_N: Uint8Array = Uint8Array.from([
  0xd4, 0xe7, 0x39, 0xda, 0x73, 0x9c, 0xed, 0x39, 0xce, 0x73, 0x9d, 0x83, 0x68, 0x58, 0x21, 0x08, 0x42, 0x10, 0x84,
  0x21, 0xc8, 0x42, 0x10, 0xc3, 0xeb,
]);

/** The CHUID value (inside `53`) Yubico tools write: FASC-N, GUID, expiry 2030-01-01, empty signature, LRC. */
export function buildChuidValue(guid: Uint8Array): Uint8Array {
  return concatBytes(
    encodeTlv(0x30, YUBICO_FASC_N),
    encodeTlv(0x34, guid),
    encodeTlv(0x35, new TextEncoder().encode('20300101')),
    encodeTlv(0x3e, new Uint8Array(0)),
    encodeTlv(0xfe, new Uint8Array(0)),
  );
}

/** The CCC value (inside `53`) Yubico tools write: card identifier A0 00 00 01 16 FF 02 + 14 random bytes. */
export function buildCccValue(cardIdSuffix: Uint8Array): Uint8Array {
  const empty = new Uint8Array(0);
  return concatBytes(
    encodeTlv(0xf0, concatBytes(Uint8Array.from([0xa0, 0x00, 0x00, 0x01, 0x16, 0xff, 0x02]), cardIdSuffix)),
    encodeTlv(0xf1, Uint8Array.of(0x21)),
    encodeTlv(0xf2, Uint8Array.of(0x21)),
    encodeTlv(0xf3, empty),
    encodeTlv(0xf4, Uint8Array.of(0x00)),
    encodeTlv(0xf5, Uint8Array.of(0x10)),
    encodeTlv(0xf6, empty),
    encodeTlv(0xf7, empty),
    encodeTlv(0xfa, empty),
    encodeTlv(0xfb, empty),
    encodeTlv(0xfc, empty),
    encodeTlv(0xfd, empty),
    encodeTlv(0xfe, empty),
  );
}

/**
 * The Discovery object a YubiKey answers with (fixed, read-only): the full PIV AID and PIN usage policy
 * 40 00 (only the PIV application PIN).
 */
export const DISCOVERY_OBJECT: Uint8Array = Uint8Array.from([
  0x7e, 0x12, 0x4f, 0x0b, 0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x5f, 0x2f, 0x02, 0x40,
  0x00,
]);

/**
 * The card's data objects, each stored as the exact bytes GET DATA returns (`53 L value`, or the object's own
 * TLV for 7E and 7F61).
 */
export class PivObjectStore {
  readonly #objects = new Map<number, Uint8Array>();

  /** The stored encoding, or undefined when the object is absent. */
  read(tag: number): Uint8Array | undefined {
    if (tag === PivObjectTag.discovery) return DISCOVERY_OBJECT;
    return this.#objects.get(tag);
  }

  /** Stores the encoding (already validated by the caller). */
  write(tag: number, encoding: Uint8Array): void {
    this.#objects.set(tag, Uint8Array.from(encoding));
  }

  /** Removes the object (PUT DATA with an empty value). */
  delete(tag: number): void {
    this.#objects.delete(tag);
  }

  /** Removes every object (YubiKey RESET). */
  clear(): void {
    this.#objects.clear();
  }

  /** Persisted form: tag (hex) → encoding (hex). */
  toState(): Record<string, string> {
    const state: Record<string, string> = {};
    for (const [tag, encoding] of this.#objects) state[tag.toString(16)] = Buffer.from(encoding).toString('hex');
    return state;
  }

  /** Restores from toState's output (replaces everything). */
  loadState(state: Record<string, string>): void {
    this.#objects.clear();
    for (const [tag, hex] of Object.entries(state))
      this.#objects.set(Number.parseInt(tag, 16), new Uint8Array(Buffer.from(hex, 'hex')));
  }
}
