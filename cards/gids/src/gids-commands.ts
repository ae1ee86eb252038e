/**
 * @packageDocumentation
 * The command APDUs of a GIDS card (docs/spec/gids.md §4), as plain builders: no card I/O here. Every builder
 * returns a `CommandApdu` the card channel sends (chaining long data, fetching long answers with GET RESPONSE).
 */

import { type CommandApdu, encodeTlv } from '@minidriver/iso7816';
import type { SecretApdu } from '@minidriver/spec';

/** The GIDS AID prefix sent in SELECT (the last two AID bytes are never sent). */
export const GIDS_AID_PREFIX: Uint8Array = Uint8Array.from([0xa0, 0x00, 0x00, 0x03, 0x97, 0x42, 0x54, 0x46, 0x59]);
/** The application DF: P1-P2 of GET/PUT DATA that address the application itself. */
export const APPLICATION_EF = 0x3fff;
/** PIN references. */
export const USER_PIN_REFERENCE = 0x80;
/** The admin key's reference (key file B080). */
export const ADMIN_KEY_REFERENCE = 0x80;
/** Key reference of container 0 (key file B081); container n uses 0x81 + n. */
export const FIRST_KEY_REFERENCE = 0x81;
/** The highest container index OpenSC and Microsoft's layout allow (126 containers). */
export const MAX_CONTAINER_INDEX = 125;

/**
 * The GIDS commands that carry a secret beyond the ISO ones (traces redact them, the channel wipes them):
 * PUT DATA on the application (a private key or the admin key), PSO DECIPHER (plaintext or an ECDH secret),
 * GENERAL AUTHENTICATE (the mutual-authentication randoms from which the card and host derive Z1 ‖ Z2).
 */
export const GIDS_SECRET_APDUS: readonly SecretApdu[] = Object.freeze([
  { ins: 0xdb, p1: 0x3f, p2: 0xff, data: true },
  { ins: 0x2a, p1: 0x80, p2: 0x86, response: true },
  { ins: 0x87, data: true, response: true },
]);

/** MSE algorithm reference high nibbles (docs/spec/gids.md §5.2). */
export const AlgorithmUse = {
  raw: 0x00,
  signHashOffCard: 0x10,
  decipherPkcs1: 0x40,
  signPkcs1: 0x50,
  decipherOaep: 0x80,
} as const;

const apdu = (ins: number, p1: number, p2: number, data?: Uint8Array, le?: number): CommandApdu => ({
  cla: 0x00,
  ins,
  p1,
  p2,
  ...(data === undefined ? {} : { data }),
  ...(le === undefined ? {} : { le }),
});

/** SELECT the GIDS application by AID, asking for its FCI. */
export const selectApplication = (): CommandApdu => apdu(0xa4, 0x04, 0x00, GIDS_AID_PREFIX, 256);

/** SELECT a file of the application by FID, no answer (P2 0C). */
export const selectFile = (fid: number): CommandApdu => apdu(0xa4, 0x00, 0x0c, Uint8Array.of(fid >> 8, fid & 0xff));

/** GET DATA of data object `tag` in DO file `ef`. */
export const getDataObject = (ef: number, tag: number): CommandApdu =>
  apdu(0xcb, ef >> 8, ef & 0xff, Uint8Array.of(0x5c, 0x02, tag >> 8, tag & 0xff), 256);

/** PUT DATA of data object `tag` in DO file `ef` (empty `value`: the object is emptied). */
export const putDataObject = (ef: number, tag: number, value: Uint8Array): CommandApdu =>
  apdu(0xdb, ef >> 8, ef & 0xff, encodeTlv(tag, value));

/** GET DATA of the PIN status object (7F71 user PIN). */
export const getPinStatus = (): CommandApdu => getDataObject(APPLICATION_EF, 0x7f71);

/** VERIFY the user PIN (raw bytes, no padding). PIN builders copy the PIN: the sender wipes the command. */
export const verifyPin = (pin: Uint8Array): CommandApdu => apdu(0x20, 0x00, USER_PIN_REFERENCE, Uint8Array.from(pin));

/** VERIFY 82: deauthenticate the PIN and the admin key. */
export const deauthenticateAll = (): CommandApdu => apdu(0x20, 0x00, 0x82);

/** CHANGE REFERENCE DATA: old PIN ‖ new PIN. */
export const changePin = (oldAndNew: Uint8Array): CommandApdu =>
  apdu(0x24, 0x00, USER_PIN_REFERENCE, Uint8Array.from(oldAndNew));

/** RESET RETRY COUNTER 02 80 (after admin authentication): the new PIN. */
export const resetPin = (pin: Uint8Array): CommandApdu => apdu(0x2c, 0x02, USER_PIN_REFERENCE, Uint8Array.from(pin));

/** MSE SET for authentication with the admin key (P1 C1, AT A4). */
export const selectAdminKey = (): CommandApdu => apdu(0x22, 0xc1, 0xa4, Uint8Array.of(0x83, 0x01, ADMIN_KEY_REFERENCE));

/** GENERAL AUTHENTICATE step 1: `7C { 81 challenge }` (16 bytes: mutual; empty: external). */
export const authenticationChallenge = (hostChallenge: Uint8Array): CommandApdu =>
  apdu(0x87, 0x00, 0x00, encodeTlv(0x7c, encodeTlv(0x81, hostChallenge)), 256);

/** GENERAL AUTHENTICATE step 2: `7C { 82 response }`. */
export const authenticationResponse = (response: Uint8Array): CommandApdu =>
  apdu(0x87, 0x00, 0x00, encodeTlv(0x7c, encodeTlv(0x82, response)), 256);

/** MSE SET for a signature (B6) or a decipherment (B8) with key `keyReference` and algorithm reference `algorithm`. */
export const setSecurityEnvironment = (
  template: 'sign' | 'decipher',
  algorithm: number,
  keyReference: number,
): CommandApdu =>
  apdu(0x22, 0x41, template === 'sign' ? 0xb6 : 0xb8, Uint8Array.of(0x80, 0x01, algorithm, 0x84, 0x01, keyReference));

/** PSO COMPUTE DIGITAL SIGNATURE. */
export const computeSignature = (data: Uint8Array): CommandApdu => apdu(0x2a, 0x9e, 0x9a, data, 256);

/** PSO DECIPHER (no padding-indicator byte, as Microsoft's driver sends it). */
export const decipher = (data: Uint8Array): CommandApdu => apdu(0x2a, 0x80, 0x86, data, 256);

/** GENERATE ASYMMETRIC KEY PAIR for mechanism `mechanism` in key file B0xx. */
export const generateKeyPair = (mechanism: number, keyReference: number): CommandApdu =>
  apdu(0x47, 0x00, 0x00, Uint8Array.of(0xac, 0x06, 0x80, 0x01, mechanism, 0x83, 0x01, keyReference));

/** GET DATA of the public key of key `keyReference` (`70 { 84 ref, A5 { 7F49 } }`). */
export const readPublicKey = (keyReference: number): CommandApdu =>
  apdu(0xcb, 0x3f, 0xff, Uint8Array.of(0x70, 0x08, 0x84, 0x01, keyReference, 0xa5, 0x03, 0x7f, 0x49, 0x80), 256);

/**
 * PUT DATA of a private key into key file B0xx: `70 { 84 ref, A5 { [83 01 type, 84 01 00,] 87 keyValue } }`.
 * RSA keys carry key type 2 and no encrypting key, as OpenSC sends them.
 */
export function importKey(keyReference: number, keyValue: Uint8Array, rsa: boolean): CommandApdu {
  const template = rsa
    ? [encodeTlv(0x83, Uint8Array.of(0x02)), encodeTlv(0x84, Uint8Array.of(0x00)), encodeTlv(0x87, keyValue)]
    : [encodeTlv(0x87, keyValue)];
  const body = Buffer.concat([encodeTlv(0x84, Uint8Array.of(keyReference)), encodeTlv(0xa5, Buffer.concat(template))]);
  return apdu(0xdb, 0x3f, 0xff, encodeTlv(0x70, body));
}

/** PUT KEY of the 3DES admin key (key file B080), as gids-tool sends it. */
export function putAdminKey(key: Uint8Array): CommandApdu {
  const body = Uint8Array.of(
    0x84,
    0x01,
    ADMIN_KEY_REFERENCE,
    0xa5,
    0x1f,
    0x87,
    0x18,
    ...key,
    0x88,
    0x03,
    0xb0,
    0x73,
    0xdc,
  );
  return apdu(0xdb, 0x3f, 0xff, encodeTlv(0x70, body));
}

/** CREATE FILE with `fcp`. */
export const createFile = (fcp: Uint8Array): CommandApdu => apdu(0xe0, 0x00, 0x00, fcp);

/** ACTIVATE FILE (the current file). */
export const activateFile = (): CommandApdu => apdu(0x44, 0x00, 0x00);

/** DELETE FILE (the current file). */
export const deleteCurrentFile = (): CommandApdu => apdu(0xe4, 0x00, 0x00);
