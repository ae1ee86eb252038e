/**
 * @packageDocumentation
 * YubiKey-class PIV attestation (INS F9) for the simulator: the attestation key in slot F9 with its
 * certificate in object 5FFF01, and the attestation certificate of a generated key — an X.509 certificate
 * for the slot's public key, subject `CN=YubiKey PIV Attestation <slot>`, issued and signed by the F9 key,
 * with Yubico's extensions (https://developers.yubico.com/PIV/Introduction/PIV_attestation.html):
 * 1.3.6.1.4.1.41482.3.3 firmware version (3 bytes), .3.7 serial number (INTEGER), .3.8 PIN and touch
 * policy (2 bytes), .3.9 form factor (1 byte). A real YubiKey's F9 certificate chains to Yubico's root;
 * the simulator's F9 key is an EC P-256 key made on first use, its certificate self-signed.
 */
import { createHash, type KeyObject } from 'node:crypto';
import {
  derBitString,
  derBoolean,
  derExplicit,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSet,
  derSmallInteger,
  derTime,
  derUnsignedInteger,
  derUtf8String,
} from '@minidriver/core';
import { PivAlgorithm, SlotKey } from './piv-keys.js';

/** The slot of the attestation key. */
export const ATTESTATION_SLOT = 0xf9;
/** The object holding the attestation key's certificate (Yubico vendor object 5FFF01). */
export const ATTESTATION_CERTIFICATE_TAG = 0x5fff01;
/** Subject CN of the simulator's attestation certificate. */
export const ATTESTATION_ISSUER_NAME = 'minidriver simulated PIV Attestation';

const OID_FIRMWARE = '1.3.6.1.4.1.41482.3.3';
const OID_SERIAL = '1.3.6.1.4.1.41482.3.7';
const OID_POLICY = '1.3.6.1.4.1.41482.3.8';
const OID_FORM_FACTOR = '1.3.6.1.4.1.41482.3.9';
/** Form factor 0x01: USB-A keychain. */
const FORM_FACTOR_USB_A_KEYCHAIN = 0x01;

const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_COMMON_NAME = '2.5.4.3';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const TWENTY_YEARS = 20 * 365 * 86_400_000;

function name(commonName: string): Uint8Array {
  return derSequence(derSet(derSequence(derObjectIdentifier(OID_COMMON_NAME), derUtf8String(commonName))));
}

function serialBytes(serial: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, serial);
  return bytes;
}

interface Extension {
  readonly oid: string;
  readonly critical?: boolean;
  readonly value: Uint8Array;
}

/**
 * An X.509 v3 certificate signed by `issuerKey` (EC P-256, ecdsa-with-SHA256), built synchronously: the
 * simulator answers APDUs synchronously.
 */
function certificate(options: {
  readonly serial: Uint8Array;
  readonly issuer: string;
  readonly subject: string;
  readonly publicKey: KeyObject;
  readonly issuerKey: SlotKey;
  readonly extensions: readonly Extension[];
}): Uint8Array {
  const algorithm = derSequence(derObjectIdentifier(OID_ECDSA_WITH_SHA256));
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
  const tbs = derSequence(
    derExplicit(0, derSmallInteger(2)),
    derUnsignedInteger(options.serial),
    algorithm,
    name(options.issuer),
    derSequence(derTime(notBefore), derTime(new Date(notBefore.getTime() + TWENTY_YEARS))),
    name(options.subject),
    new Uint8Array(options.publicKey.export({ type: 'spki', format: 'der' })),
    derExplicit(
      3,
      derSequence(
        ...options.extensions.map(({ oid, critical, value }) =>
          derSequence(derObjectIdentifier(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value)),
        ),
      ),
    ),
  );
  const signature = options.issuerKey.ecdsaSignDigest(new Uint8Array(createHash('sha256').update(tbs).digest()));
  return derSequence(tbs, algorithm, derBitString(signature));
}

/** A new attestation key (EC P-256, never PIN-protected) and its self-signed certificate. */
export function createAttestationKey(): { key: SlotKey; certificate: Uint8Array } {
  const key = SlotKey.generate(PivAlgorithm.eccP256, 0x01, 0x01);
  return {
    key,
    certificate: certificate({
      serial: Uint8Array.of(0x01),
      issuer: ATTESTATION_ISSUER_NAME,
      subject: ATTESTATION_ISSUER_NAME,
      publicKey: key.publicKey(),
      issuerKey: key,
      // basicConstraints cA TRUE: it issues the attestation certificates.
      extensions: [{ oid: OID_BASIC_CONSTRAINTS, critical: true, value: derSequence(derBoolean(true)) }],
    }),
  };
}

/** What an attestation certificate states about the attested key and the card. */
export interface AttestationFacts {
  readonly slot: number;
  readonly key: SlotKey;
  /** The effective PIN and touch policies (never 00). */
  readonly pinPolicy: number;
  readonly touchPolicy: number;
  readonly firmware: readonly [number, number, number];
  readonly serial: number;
}

/** The attestation certificate of `facts.key`, issued by the attestation key. */
export function createAttestationCertificate(attestationKey: SlotKey, facts: AttestationFacts): Uint8Array {
  return certificate({
    serial: Uint8Array.of(0x01, ...serialBytes(facts.serial), facts.slot),
    issuer: ATTESTATION_ISSUER_NAME,
    subject: `YubiKey PIV Attestation ${facts.slot.toString(16)}`,
    publicKey: facts.key.publicKey(),
    issuerKey: attestationKey,
    extensions: [
      { oid: OID_FIRMWARE, value: Uint8Array.from(facts.firmware) },
      { oid: OID_SERIAL, value: derUnsignedInteger(serialBytes(facts.serial)) },
      { oid: OID_POLICY, value: Uint8Array.of(facts.pinPolicy, facts.touchPolicy) },
      { oid: OID_FORM_FACTOR, value: Uint8Array.of(FORM_FACTOR_USB_A_KEYCHAIN) },
    ],
  });
}
