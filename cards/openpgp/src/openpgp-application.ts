/**
 * OpenPgpApplication: the OpenPGP card application as verb-object methods, one card operation each.
 * It caches nothing: the minidriver decides what to read when. Every method throws only ScardError; PINs
 * are never part of an error message.
 */

import {
  type CardChannel,
  type CommandApdu,
  createCardChannel,
  decodeTlv,
  encodeTlv,
  findTlvValue,
  statusWordToScardError,
} from '@minidriver/iso7816';
import { concatBytes, ScardError, type Transport, wipe } from '@minidriver/spec';
import {
  changeReferenceDataCommand,
  computeDigitalSignatureCommand,
  decipherCommand,
  generateKeyPairCommand,
  getDataCommand,
  importKeyCommand,
  internalAuthenticateCommand,
  type KeySlot,
  OPENPGP_SECRET_APDUS,
  PasswordReference,
  putDataCommand,
  resetRetryCounterAsAdminCommand,
  resetRetryCounterWithCodeCommand,
  resetVerificationCommand,
  selectCertificateCommand,
  selectCommand,
  verifyCommand,
  verifyStatusCommand,
} from './openpgp-commands.js';
import {
  type ApplicationData,
  type CardPublicKey,
  decodeApplicationData,
  decodePasswordStatus,
  decodePublicKeyTemplate,
  type PasswordStatus,
} from './openpgp-objects.js';

const SW_SUCCESS = 0x9000;
const SW_SECURITY_STATUS_NOT_SATISFIED = 0x6982;
const SW_AUTH_METHOD_BLOCKED = 0x6983;

/** Tags of the data objects the minidriver writes (docs/spec/openpgp.md §3, §4.7). */
const TAG = {
  applicationData: 0x6e,
  cardholderCertificate: 0x7f21,
  passwordStatus: 0xc4,
  kdf: 0xf9,
  resettingCode: 0xd3,
  algorithmAttributes: [0xc1, 0xc2, 0xc3],
  fingerprint: [0xc7, 0xc8, 0xc9],
  generationTime: [0xce, 0xcf, 0xd0],
} as const;

/** Which counter of C4 a PIN command spends. */
type PinCounter = 'pw1' | 'pw3' | 'resetCode';

/** The OpenPGP application on one card connection. */
export class OpenPgpApplication {
  private readonly channel: CardChannel;

  constructor(transport: Transport) {
    // OpenPGP v3 cards announce extended length; the channel falls back to chaining over T=0.
    this.channel = createCardChannel(transport, { extendedLength: true, secretApdus: OPENPGP_SECRET_APDUS });
  }

  /** SELECT the application; SCARD_E_UNKNOWN_CARD when the card has none, SCARD_E_CARD_UNSUPPORTED when terminated. */
  async selectApplication(): Promise<void> {
    const response = await this.channel.send(selectCommand());
    wipe(response.data);
    if (response.statusWord === SW_SUCCESS) return;
    if (response.statusWord === 0x6285 || response.statusWord === 0x6985) {
      throw new ScardError(
        'SCARD_E_CARD_UNSUPPORTED',
        'the OpenPGP application is terminated (needs a factory reset)',
        {
          statusWord: response.statusWord,
        },
      );
    }
    throw new ScardError('SCARD_E_UNKNOWN_CARD', 'the card has no OpenPGP application', {
      statusWord: response.statusWord,
    });
  }

  /** GET DATA 6E: AID, algorithm attributes, PW status, fingerprints, key status. */
  async readApplicationData(): Promise<ApplicationData> {
    return decodeApplicationData(await this.readApplicationDataBytes());
  }

  /** GET DATA 6E as the card answers it (with its own 6E tag). */
  async readApplicationDataBytes(): Promise<Uint8Array> {
    return this.channel.transmitOk(getDataCommand(TAG.applicationData), 'GET DATA 6E');
  }

  /**
   * True when the KDF-DO (F9, v3.3+) makes the card expect a salted hash instead of the PIN
   * (docs/spec/openpgp.md §3.6). Only asked when C0 announces KDF support.
   */
  async isPinKdfActive(extendedCapabilities: Uint8Array): Promise<boolean> {
    if (((extendedCapabilities[0] ?? 0) & 0x01) === 0) return false;
    const response = await this.channel.send(getDataCommand(TAG.kdf));
    if (response.statusWord !== SW_SUCCESS) return false;
    const algorithm = findTlvValue(decodeTlv(response.data, { malformedError: 'SCARD_E_COMM_DATA_LOST' }), 0x81);
    return algorithm !== undefined && algorithm[0] === 0x03;
  }

  /** GET DATA of a private use DO (0101-0104); empty bytes when it holds nothing. */
  async readPrivateUse(tag: 0x0101 | 0x0102 | 0x0103 | 0x0104): Promise<Uint8Array> {
    const response = await this.channel.send(getDataCommand(tag));
    if (response.statusWord === 0x6a88 || response.statusWord === 0x6a82) return new Uint8Array(0);
    if (response.statusWord !== SW_SUCCESS)
      throw statusWordToScardError(response.statusWord, 'GET DATA private use DO');
    return response.data;
  }

  /** PUT DATA of a private use DO (0102 and 0104 need PW3, 0101 and 0103 PW1 in mode 82). */
  async writePrivateUse(tag: 0x0101 | 0x0102 | 0x0103 | 0x0104, value: Uint8Array): Promise<void> {
    await this.channel.transmitOk(putDataCommand(tag, value), 'PUT DATA private use DO');
  }

  /** GET DATA C4: the PW status bytes (retry counters). */
  async readPasswordStatus(): Promise<PasswordStatus> {
    return decodePasswordStatus(await this.channel.transmitOk(getDataCommand(TAG.passwordStatus), 'GET DATA C4'));
  }

  /**
   * The cardholder certificate of `occurrence` (v3: 0 AUT, 1 DEC, 2 SIG; undefined = the single 7F21 of a
   * v2 card). Empty bytes when none is stored. `maxResponseLength`: the card's 7F66 limit, when it has one.
   */
  async readCertificate(occurrence: number | undefined, maxResponseLength?: number): Promise<Uint8Array> {
    if (occurrence !== undefined) await this.channel.transmitOk(selectCertificateCommand(occurrence), 'SELECT DATA');
    // A card announcing extended length (7F66) answers in one APDU instead of a GET RESPONSE per 256 bytes.
    const command = getDataCommand(TAG.cardholderCertificate);
    const response = await this.channel.send(
      maxResponseLength === undefined ? command : { ...command, le: Math.min(maxResponseLength, 65536) },
    );
    if (response.statusWord === 0x6a88 || response.statusWord === 0x6a82) return new Uint8Array(0);
    if (response.statusWord !== SW_SUCCESS) throw statusWordToScardError(response.statusWord, 'GET DATA 7F21');
    return response.data;
  }

  /**
   * GET NEXT DATA 7F21 (v3): the occurrence after the current one, without a SELECT DATA. Undefined when
   * the card does not know the command (6D00, 6E00, 6A81): the caller selects the occurrence instead.
   */
  async readNextCertificate(maxResponseLength?: number): Promise<Uint8Array | undefined> {
    const command: CommandApdu = {
      cla: 0x00,
      ins: 0xcc,
      p1: 0x7f,
      p2: 0x21,
      le: Math.min(maxResponseLength ?? 256, 65536),
    };
    const response = await this.channel.send(command);
    if (response.statusWord === 0x6d00 || response.statusWord === 0x6e00 || response.statusWord === 0x6a81)
      return undefined;
    if (response.statusWord === 0x6a88 || response.statusWord === 0x6a82) return new Uint8Array(0);
    if (response.statusWord !== SW_SUCCESS) throw statusWordToScardError(response.statusWord, 'GET NEXT DATA 7F21');
    return response.data;
  }

  /** Writes (or, with empty bytes, deletes) a cardholder certificate occurrence. Needs PW3. */
  async writeCertificate(occurrence: number | undefined, certificate: Uint8Array): Promise<void> {
    if (occurrence !== undefined) await this.channel.transmitOk(selectCertificateCommand(occurrence), 'SELECT DATA');
    await this.channel.transmitOk(putDataCommand(TAG.cardholderCertificate, certificate), 'PUT DATA 7F21');
  }

  /**
   * VERIFY a PIN. A wrong PIN answers 6982 on OpenPGP cards (no counter): the counter is then read from C4
   * and the error is SCARD_W_WRONG_CHV with `retriesLeft` (SCARD_W_CHV_BLOCKED at 0).
   */
  async verifyPin(reference: PasswordReference, pin: Uint8Array): Promise<void> {
    // An empty VERIFY only asks whether the password is verified: it must never stand for a verification.
    if (pin.length === 0) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'OpenPGP: an empty PIN');
    const counter: PinCounter = reference === PasswordReference.pw3 ? 'pw3' : 'pw1';
    await this.sendPinCommand(verifyCommand(reference, pin), counter, 'VERIFY');
  }

  /** Empty VERIFY: true when the access state of `reference` is granted. */
  async isVerified(reference: PasswordReference): Promise<boolean> {
    const response = await this.channel.send(verifyStatusCommand(reference));
    return response.statusWord === SW_SUCCESS;
  }

  /** Drops the access state of `reference` (VERIFY P1 FF); SCARD_E_UNSUPPORTED_FEATURE on pre-3.1 cards. */
  async resetVerification(reference: PasswordReference): Promise<void> {
    const response = await this.channel.send(resetVerificationCommand(reference));
    if (response.statusWord !== SW_SUCCESS) {
      throw new ScardError(
        'SCARD_E_UNSUPPORTED_FEATURE',
        'OpenPGP logout (VERIFY P1 FF) is not supported by this card',
        {
          statusWord: response.statusWord,
        },
      );
    }
  }

  /** CHANGE REFERENCE DATA of PW1 (81) or PW3 (83). */
  async changePin(reference: 0x81 | 0x83, oldPin: Uint8Array, newPin: Uint8Array): Promise<void> {
    const data = concatBytes(oldPin, newPin);
    try {
      await this.sendPinCommand(
        changeReferenceDataCommand(reference, data),
        reference === 0x83 ? 'pw3' : 'pw1',
        'CHANGE REFERENCE DATA',
      );
    } finally {
      wipe(data);
    }
  }

  /** RESET RETRY COUNTER with the Resetting Code: unblocks PW1 and sets it to `newPin`. */
  async resetPinWithResettingCode(resettingCode: Uint8Array, newPin: Uint8Array): Promise<void> {
    const data = concatBytes(resettingCode, newPin);
    try {
      await this.sendPinCommand(resetRetryCounterWithCodeCommand(data), 'resetCode', 'RESET RETRY COUNTER');
    } finally {
      wipe(data);
    }
  }

  /** RESET RETRY COUNTER P1 02 after VERIFY PW3: sets PW1 to `newPin`. */
  async resetPinAsAdmin(newPin: Uint8Array): Promise<void> {
    await this.channel.transmitOk(resetRetryCounterAsAdminCommand(newPin), 'RESET RETRY COUNTER');
  }

  /** PUT DATA D3: sets the Resetting Code (empty deletes it). Needs PW3. */
  async writeResettingCode(resettingCode: Uint8Array): Promise<void> {
    await this.channel.transmitOk(putDataCommand(TAG.resettingCode, resettingCode), 'PUT DATA D3');
  }

  /** PUT DATA C1/C2/C3: the algorithm of a key slot (deletes the key there on most cards). Needs PW3. */
  async writeAlgorithmAttributes(slot: KeySlot, attributes: Uint8Array): Promise<void> {
    await this.channel.transmitOk(
      putDataCommand(TAG.algorithmAttributes[slot], attributes),
      'PUT DATA algorithm attributes',
    );
  }

  /** GENERATE ASYMMETRIC KEY PAIR (47 80): a new key in `slot`, its public key returned. Needs PW3. */
  async generateKeyPair(slot: KeySlot): Promise<CardPublicKey> {
    return decodePublicKeyTemplate(
      await this.channel.transmitOk(generateKeyPairCommand(slot, 'generate'), 'GENERATE KEY'),
    );
  }

  /** GENERATE ASYMMETRIC KEY PAIR (47 81): the public key of the key in `slot`. */
  async readPublicKey(slot: KeySlot): Promise<CardPublicKey> {
    return decodePublicKeyTemplate(
      await this.channel.transmitOk(generateKeyPairCommand(slot, 'read'), 'READ PUBLIC KEY'),
    );
  }

  /** PUT DATA (odd) 4D: imports a private key into `slot`. Needs PW3. The template is wiped afterwards. */
  async importKey(extendedHeaderList: Uint8Array): Promise<void> {
    try {
      await this.channel.transmitOk(importKeyCommand(extendedHeaderList), 'PUT DATA (key import)');
    } finally {
      wipe(extendedHeaderList);
    }
  }

  /** PUT DATA C7/C8/C9: the 20-byte fingerprint of `slot`. Needs PW3. */
  async writeFingerprint(slot: KeySlot, fingerprint: Uint8Array): Promise<void> {
    await this.channel.transmitOk(putDataCommand(TAG.fingerprint[slot], fingerprint), 'PUT DATA fingerprint');
  }

  /** PUT DATA CE/CF/D0: the key generation time of `slot` (Unix seconds, 4 bytes big-endian). Needs PW3. */
  async writeGenerationTime(slot: KeySlot, unixSeconds: number): Promise<void> {
    const time = Uint8Array.of(
      (unixSeconds >>> 24) & 0xff,
      (unixSeconds >>> 16) & 0xff,
      (unixSeconds >>> 8) & 0xff,
      unixSeconds & 0xff,
    );
    await this.channel.transmitOk(putDataCommand(TAG.generationTime[slot], time), 'PUT DATA generation time');
  }

  /** PSO: COMPUTE DIGITAL SIGNATURE with the signature key (needs PW1 81). Big-endian result. */
  async computeSignature(input: Uint8Array): Promise<Uint8Array> {
    return this.channel.transmitOk(computeDigitalSignatureCommand(input), 'PSO: COMPUTE DIGITAL SIGNATURE');
  }

  /** INTERNAL AUTHENTICATE with the authentication key (needs PW1 82). Big-endian result. */
  async internalAuthenticate(input: Uint8Array): Promise<Uint8Array> {
    return this.channel.transmitOk(internalAuthenticateCommand(input), 'INTERNAL AUTHENTICATE');
  }

  /** PSO: DECIPHER of an RSA cryptogram (big-endian, modulus length): the card removes PKCS #1 padding. */
  async decipherRsa(ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.channel.transmitOk(decipherCommand(concatBytes(Uint8Array.of(0x00), ciphertext)), 'PSO: DECIPHER');
  }

  /** PSO: DECIPHER as ECDH: `A6 { 7F49 { 86 point } }` → the shared secret (x coordinate). */
  async agreeEcdh(peerPoint: Uint8Array): Promise<Uint8Array> {
    const template = encodeTlv(0xa6, encodeTlv(0x7f49, encodeTlv(0x86, peerPoint)));
    return this.channel.transmitOk(decipherCommand(template), 'PSO: DECIPHER (ECDH)');
  }

  /** Sends a PIN command; 6982/6983 become SCARD_W_WRONG_CHV / SCARD_W_CHV_BLOCKED with the C4 counter. */
  private async sendPinCommand(command: CommandApdu, counter: PinCounter, context: string): Promise<void> {
    const response = await this.channel.send(command);
    if (response.statusWord === SW_SUCCESS) return;
    if (response.statusWord === SW_SECURITY_STATUS_NOT_SATISFIED || response.statusWord === SW_AUTH_METHOD_BLOCKED) {
      const status = await this.readPasswordStatus();
      const retriesLeft =
        counter === 'pw3' ? status.retriesPw3 : counter === 'resetCode' ? status.retriesResetCode : status.retriesPw1;
      const blocked = retriesLeft === 0 || response.statusWord === SW_AUTH_METHOD_BLOCKED;
      if (counter === 'resetCode' && status.retriesResetCode === 0 && response.statusWord !== SW_AUTH_METHOD_BLOCKED) {
        // C4 byte 6 = 0 also means "no Resetting Code set".
        throw new ScardError('SCARD_W_CHV_BLOCKED', `${context}: the Resetting Code is not set or blocked`, {
          statusWord: response.statusWord,
          retriesLeft: 0,
        });
      }
      throw new ScardError(
        blocked ? 'SCARD_W_CHV_BLOCKED' : 'SCARD_W_WRONG_CHV',
        `${context}: ${blocked ? 'PIN blocked' : 'wrong PIN'}`,
        { statusWord: response.statusWord, retriesLeft: blocked ? 0 : retriesLeft },
      );
    }
    throw statusWordToScardError(response.statusWord, context, { pinCommand: true });
  }
}
