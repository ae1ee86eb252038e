/**
 * PIV command APDUs (docs/spec/piv.md §6, §8): one builder per card command, wire constants with their
 * spec names. Builders only build; sending and status mapping live in PivApplication.
 */

import { type CommandApdu, MAX_EXTENDED_LE } from '@minidriver/iso7816';
import type { SecretApdu } from '@minidriver/spec';

/** The right-truncated PIV AID everyone sends (docs/spec/piv.md §1). */
export const PIV_AID_TRUNCATED: Uint8Array = Uint8Array.of(0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00);

export const INS_SELECT = 0xa4;
export const INS_GET_DATA = 0xcb;
export const INS_PUT_DATA = 0xdb;
export const INS_VERIFY = 0x20;
export const INS_CHANGE_REFERENCE = 0x24;
export const INS_RESET_RETRY_COUNTER = 0x2c;
export const INS_GENERAL_AUTHENTICATE = 0x87;
export const INS_GENERATE_ASYMMETRIC = 0x47;
export const INS_GET_VERSION = 0xfd;
export const INS_GET_SERIAL = 0xf8;
export const INS_GET_METADATA = 0xf7;
export const INS_SET_MANAGEMENT_KEY = 0xff;
export const INS_IMPORT_KEY = 0xfe;
export const INS_MOVE_KEY = 0xf6;

/**
 * The PIV commands that carry a secret beyond the ISO ones (traces redact them, the channel wipes them):
 * SET MANAGEMENT KEY and IMPORT ASYMMETRIC KEY (Yubico extensions) carry a key; GENERAL AUTHENTICATE
 * answers decrypted data or an ECDH shared secret (and management-key witnesses).
 */
export const PIV_SECRET_APDUS: readonly SecretApdu[] = Object.freeze([
  { ins: INS_SET_MANAGEMENT_KEY, p1: 0xff, data: true },
  { ins: INS_IMPORT_KEY, data: true },
  { ins: INS_GENERAL_AUTHENTICATE, response: true },
]);

export const TAG_OBJ_ID = 0x5c;
export const TAG_OBJ_DATA = 0x53;
export const TAG_DYNAMIC_AUTH = 0x7c;
export const TAG_AUTH_WITNESS = 0x80;
export const TAG_AUTH_CHALLENGE = 0x81;
export const TAG_AUTH_RESPONSE = 0x82;
export const TAG_AUTH_EXPONENTIATION = 0x85;
export const TAG_GEN_ALGORITHM = 0x80;
export const TAG_GEN_TEMPLATE = 0xac;
export const TAG_PIN_POLICY = 0xaa;

/** Authenticator references (docs/spec/piv.md §5.1). */
export const PIN_REFERENCE = 0x80;
export const PUK_REFERENCE = 0x81;
/** The card application administration (management) key. */
export const MANAGEMENT_KEY_REFERENCE = 0x9b;

/** Algorithm identifiers (docs/spec/piv.md §5.4). */
export const PivAlgorithmId = {
  TDES: 0x03,
  RSA3072: 0x05,
  RSA1024: 0x06,
  RSA2048: 0x07,
  AES128: 0x08,
  AES192: 0x0a,
  AES256: 0x0c,
  ECC_P256: 0x11,
  ECC_P384: 0x14,
  RSA4096: 0x16,
} as const;

/** YubiKey PIN policy byte (docs/spec/piv.md §8). */
export const PinPolicy = { default: 0x00, never: 0x01, once: 0x02, always: 0x03 } as const;

/** `tag` as its 1..3 big-endian bytes. */
export function objectTagBytes(tag: number): Uint8Array {
  if (tag > 0xffff) return Uint8Array.of(tag >>> 16, (tag >>> 8) & 0xff, tag & 0xff);
  if (tag > 0xff) return Uint8Array.of(tag >>> 8, tag & 0xff);
  return Uint8Array.of(tag);
}

function tlv(tag: number, value: Uint8Array): Uint8Array {
  const length =
    value.length < 0x80
      ? Uint8Array.of(value.length)
      : value.length < 0x100
        ? Uint8Array.of(0x81, value.length)
        : Uint8Array.of(0x82, value.length >>> 8, value.length & 0xff);
  const out = new Uint8Array(1 + length.length + value.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(value, 1 + length.length);
  return out;
}

/** SELECT the PIV application by its truncated AID: `00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00`. */
export function selectCommand(): CommandApdu {
  return { cla: 0x00, ins: INS_SELECT, p1: 0x04, p2: 0x00, data: PIV_AID_TRUNCATED, le: 256 };
}

/**
 * GET DATA of one object: `00 CB 3F FF 05 5C 03 <tag> 00`. Le asks for the whole object: a channel with
 * extended length sends `00 00` (up to 65,536 bytes in one answer), a short one `00` and GET RESPONSE.
 */
export function getDataCommand(tag: number): CommandApdu {
  return {
    cla: 0x00,
    ins: INS_GET_DATA,
    p1: 0x3f,
    p2: 0xff,
    data: tlv(TAG_OBJ_ID, objectTagBytes(tag)),
    le: MAX_EXTENDED_LE,
  };
}

/** PUT DATA of one object: `00 DB 3F FF Lc 5C 03 <tag> <encoded object>` (the object is its `53` TLV). */
export function putDataCommand(tag: number, encodedObject: Uint8Array): CommandApdu {
  const id = tlv(TAG_OBJ_ID, objectTagBytes(tag));
  const data = new Uint8Array(id.length + encodedObject.length);
  data.set(id);
  data.set(encodedObject, id.length);
  return { cla: 0x00, ins: INS_PUT_DATA, p1: 0x3f, p2: 0xff, data };
}

/** VERIFY with an 8-byte padded PIN, or (no data) the status query `00 20 00 80`. */
export function verifyCommand(reference: number, paddedPin?: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: INS_VERIFY, p1: 0x00, p2: reference, data: paddedPin };
}

/** VERIFY with P1 FF: reset the security status of `reference` (SP 800-73-4 logout). */
export function logoutCommand(reference: number): CommandApdu {
  return { cla: 0x00, ins: INS_VERIFY, p1: 0xff, p2: reference };
}

/** CHANGE REFERENCE DATA: `00 24 00 <ref> 10 <old 8> <new 8>`. */
export function changeReferenceCommand(reference: number, oldValue: Uint8Array, newValue: Uint8Array): CommandApdu {
  const data = new Uint8Array(16);
  data.set(oldValue);
  data.set(newValue, 8);
  return { cla: 0x00, ins: INS_CHANGE_REFERENCE, p1: 0x00, p2: reference, data };
}

/** RESET RETRY COUNTER (unblock the PIN with the PUK): `00 2C 00 80 10 <PUK 8> <new PIN 8>`. */
export function resetRetryCounterCommand(puk: Uint8Array, newPin: Uint8Array): CommandApdu {
  const data = new Uint8Array(16);
  data.set(puk);
  data.set(newPin, 8);
  return { cla: 0x00, ins: INS_RESET_RETRY_COUNTER, p1: 0x00, p2: PIN_REFERENCE, data };
}

/** GENERAL AUTHENTICATE with a dynamic authentication template `7C { items }`. */
export function generalAuthenticateCommand(
  algorithmId: number,
  keyReference: number,
  items: readonly { tag: number; value: Uint8Array }[],
): CommandApdu {
  const parts = items.map((item) => tlv(item.tag, item.value));
  const inner = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    inner.set(part, offset);
    offset += part.length;
  }
  return {
    cla: 0x00,
    ins: INS_GENERAL_AUTHENTICATE,
    p1: algorithmId,
    p2: keyReference,
    data: tlv(TAG_DYNAMIC_AUTH, inner),
    le: 256,
  };
}

/** GENERATE ASYMMETRIC KEY PAIR: `00 47 00 <slot> Lc AC { 80 01 <alg> [AA 01 <pin policy>] } 00`. */
export function generateKeyCommand(slot: number, algorithmId: number, pinPolicy?: number): CommandApdu {
  const policy = pinPolicy === undefined ? new Uint8Array(0) : tlv(TAG_PIN_POLICY, Uint8Array.of(pinPolicy));
  const algorithm = tlv(TAG_GEN_ALGORITHM, Uint8Array.of(algorithmId));
  const inner = new Uint8Array(algorithm.length + policy.length);
  inner.set(algorithm);
  inner.set(policy, algorithm.length);
  // Le for the whole public key (an RSA one passes 256 bytes): one answer on an extended channel.
  return {
    cla: 0x00,
    ins: INS_GENERATE_ASYMMETRIC,
    p1: 0x00,
    p2: slot,
    data: tlv(TAG_GEN_TEMPLATE, inner),
    le: MAX_EXTENDED_LE,
  };
}

/** YubiKey GET VERSION `00 FD 00 00`. */
export function getVersionCommand(): CommandApdu {
  return { cla: 0x00, ins: INS_GET_VERSION, p1: 0x00, p2: 0x00, le: 256 };
}

/** YubiKey GET SERIAL `00 F8 00 00`. */
export function getSerialCommand(): CommandApdu {
  return { cla: 0x00, ins: INS_GET_SERIAL, p1: 0x00, p2: 0x00, le: 256 };
}

/** YubiKey GET METADATA `00 F7 00 <slot or reference>` (firmware 5.3+). */
export function getMetadataCommand(reference: number): CommandApdu {
  // An RSA key's metadata holds its public key (more than 256 bytes): all of it in one extended answer.
  return { cla: 0x00, ins: INS_GET_METADATA, p1: 0x00, p2: reference, le: MAX_EXTENDED_LE };
}

/** YubiKey SET MANAGEMENT KEY `00 FF FF FF Lc <alg> 9B <len> <key>` (no touch). */
export function setManagementKeyCommand(algorithmId: number, key: Uint8Array): CommandApdu {
  const data = new Uint8Array(3 + key.length);
  data.set([algorithmId, MANAGEMENT_KEY_REFERENCE, key.length]);
  data.set(key, 3);
  return { cla: 0x00, ins: INS_SET_MANAGEMENT_KEY, p1: 0xff, p2: 0xff, data };
}

/** YubiKey IMPORT KEY `00 FE <alg> <slot> Lc <TLVs>` (RSA: 01..05 CRT parts; EC: 06 scalar). */
export function importKeyCommand(
  algorithmId: number,
  slot: number,
  items: readonly { tag: number; value: Uint8Array }[],
): CommandApdu {
  const parts = items.map((item) => tlv(item.tag, item.value));
  const data = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(part, offset);
    offset += part.length;
  }
  return { cla: 0x00, ins: INS_IMPORT_KEY, p1: algorithmId, p2: slot, data };
}

/** YubiKey 5.7 MOVE/DELETE KEY with destination FF: delete the key of `slot`. */
export function deleteKeyCommand(slot: number): CommandApdu {
  return { cla: 0x00, ins: INS_MOVE_KEY, p1: 0xff, p2: slot };
}
