/**
 * Command APDU builders of the OpenPGP card application (docs/spec/openpgp.md §4). Pure functions: each
 * returns the `CommandApdu` of one card command and sends nothing.
 */

import type { CommandApdu } from '@minidriver/iso7816';
import type { SecretApdu } from '@minidriver/spec';

/** The partial AID every OpenPGP application answers to (docs/spec/openpgp.md §1). */
export const OPENPGP_PARTIAL_AID = Uint8Array.of(0xd2, 0x76, 0x00, 0x01, 0x24, 0x01);

/** Password references of VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER (docs/spec/openpgp.md §4.1). */
export const PasswordReference = {
  /** PW1 for PSO:COMPUTE DIGITAL SIGNATURE. */
  signaturePw1: 0x81,
  /** PW1 for every other operation (decipher, internal authenticate). */
  otherPw1: 0x82,
  /** PW3, the admin PIN. */
  pw3: 0x83,
} as const;
export type PasswordReference = (typeof PasswordReference)[keyof typeof PasswordReference];

/** Key slots in C1/C2/C3 order: 0 signature, 1 decryption, 2 authentication. */
export type KeySlot = 0 | 1 | 2;

/** Control reference templates naming each key slot in GENERATE ASYMMETRIC KEY PAIR (docs/spec/openpgp.md §4.7). */
const CONTROL_REFERENCE_TEMPLATE: Readonly<Record<KeySlot, number>> = { 0: 0xb6, 1: 0xb8, 2: 0xa4 };

/** Le asking for "up to 256 bytes"; longer answers arrive through 61xx / GET RESPONSE or extended Le. */
const SHORT_LE = 256;

/**
 * The OpenPGP card commands that carry a secret beyond the ISO ones (traces redact them, the channel wipes
 * them): PUT DATA of the Resetting Code (D3) and of the PSO:DEC/ENC AES key (D5), key import (PUT DATA odd,
 * extended header list 4D), and PSO:DECIPHER, which answers decrypted data or an ECDH shared secret.
 */
export const OPENPGP_SECRET_APDUS: readonly SecretApdu[] = Object.freeze([
  { ins: 0xda, p1: 0x00, p2: 0xd3, data: true },
  { ins: 0xda, p1: 0x00, p2: 0xd5, data: true },
  { ins: 0xdb, p1: 0x3f, p2: 0xff, data: true },
  { ins: 0x2a, p1: 0x80, p2: 0x86, response: true },
]);

/** SELECT the OpenPGP application by its partial AID (P2 00: "with FCI", the only form it supports). */
export function selectCommand(): CommandApdu {
  return { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: OPENPGP_PARTIAL_AID, le: SHORT_LE };
}

/** GET DATA of a data object by its tag (one or two bytes). */
export function getDataCommand(tag: number): CommandApdu {
  return { cla: 0x00, ins: 0xca, p1: (tag >> 8) & 0xff, p2: tag & 0xff, le: SHORT_LE };
}

/** PUT DATA of a data object; an empty value deletes it. */
export function putDataCommand(tag: number, value: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0xda, p1: (tag >> 8) & 0xff, p2: tag & 0xff, data: value };
}

/** SELECT DATA of occurrence `occurrence` (0 AUT, 1 DEC, 2 SIG) of the cardholder certificate 7F21 (v3). */
export function selectCertificateCommand(occurrence: number): CommandApdu {
  return {
    cla: 0x00,
    ins: 0xa5,
    p1: occurrence,
    p2: 0x04,
    data: Uint8Array.of(0x60, 0x04, 0x5c, 0x02, 0x7f, 0x21),
  };
}

/** VERIFY `reference` with a PIN (raw UTF-8 bytes, no padding). */
export function verifyCommand(reference: PasswordReference, pin: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x20, p1: 0x00, p2: reference, data: pin };
}

/** VERIFY without data: `9000` when the access state is granted, `63Cx` otherwise (v3). */
export function verifyStatusCommand(reference: PasswordReference): CommandApdu {
  return { cla: 0x00, ins: 0x20, p1: 0x00, p2: reference };
}

/** VERIFY with P1 FF: drops the access state of `reference` (v3.1+). */
export function resetVerificationCommand(reference: PasswordReference): CommandApdu {
  return { cla: 0x00, ins: 0x20, p1: 0xff, p2: reference };
}

/** CHANGE REFERENCE DATA of PW1 (81) or PW3 (83): data = old ‖ new. */
export function changeReferenceDataCommand(reference: 0x81 | 0x83, oldAndNew: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x24, p1: 0x00, p2: reference, data: oldAndNew };
}

/** RESET RETRY COUNTER of PW1 with the Resetting Code (P1 00, data = RC ‖ new PW1). */
export function resetRetryCounterWithCodeCommand(codeAndNewPin: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x2c, p1: 0x00, p2: 0x81, data: codeAndNewPin };
}

/** RESET RETRY COUNTER of PW1 after VERIFY PW3 (P1 02, data = new PW1). */
export function resetRetryCounterAsAdminCommand(newPin: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x2c, p1: 0x02, p2: 0x81, data: newPin };
}

/** PSO: COMPUTE DIGITAL SIGNATURE with the signature key: data = DigestInfo (RSA) or hash (ECDSA). */
export function computeDigitalSignatureCommand(data: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x2a, p1: 0x9e, p2: 0x9a, data, le: SHORT_LE };
}

/** INTERNAL AUTHENTICATE with the authentication key: data = DigestInfo (RSA) or hash (ECDSA). */
export function internalAuthenticateCommand(data: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x88, p1: 0x00, p2: 0x00, data, le: SHORT_LE };
}

/** PSO: DECIPHER with the decryption key: `00 ‖ ciphertext` (RSA) or the `A6` ECDH template. */
export function decipherCommand(data: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x2a, p1: 0x80, p2: 0x86, data, le: SHORT_LE };
}

/** GENERATE ASYMMETRIC KEY PAIR: P1 80 generates (PW3), P1 81 reads the existing public key. */
export function generateKeyPairCommand(slot: KeySlot, mode: 'generate' | 'read'): CommandApdu {
  return {
    cla: 0x00,
    ins: 0x47,
    p1: mode === 'generate' ? 0x80 : 0x81,
    p2: 0x00,
    data: Uint8Array.of(CONTROL_REFERENCE_TEMPLATE[slot], 0x00),
    le: SHORT_LE,
  };
}

/** PUT DATA (odd INS DB, P1-P2 3FFF): key import with an extended header list `4D …` (docs/spec/openpgp.md §4.8). */
export function importKeyCommand(extendedHeaderList: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0xdb, p1: 0x3f, p2: 0xff, data: extendedHeaderList };
}

/** The control reference template tag of a key slot (B6 SIG, B8 DEC, A4 AUT). */
export function controlReferenceTag(slot: KeySlot): number {
  return CONTROL_REFERENCE_TEMPLATE[slot];
}
