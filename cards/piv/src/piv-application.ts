/**
 * PivApplication: the PIV card application as verb-object methods, one card operation each (like
 * yubikit's PivSession). It selects nothing on its own after `select()` and keeps no card data: callers
 * (the minidriver) decide what to cache. Every method throws only ScardError.
 */
import { createCipheriv } from 'node:crypto';
import {
  announcesExtendedLength,
  type CardChannel,
  type CommandApdu,
  createCardChannel,
  decodeTlv,
} from '@minidriver/iso7816';
import { ScardError, type Transport, wipe } from '@minidriver/spec';
import {
  changeReferenceCommand,
  deleteKeyCommand,
  generalAuthenticateCommand,
  generateKeyCommand,
  getDataCommand,
  getMetadataCommand,
  getSerialCommand,
  getVersionCommand,
  importKeyCommand,
  logoutCommand,
  MANAGEMENT_KEY_REFERENCE,
  PIN_REFERENCE,
  PIV_SECRET_APDUS,
  PivAlgorithmId,
  PUK_REFERENCE,
  putDataCommand,
  resetRetryCounterCommand,
  selectCommand,
  setManagementKeyCommand,
  TAG_AUTH_CHALLENGE,
  TAG_AUTH_EXPONENTIATION,
  TAG_AUTH_RESPONSE,
  verifyCommand,
} from './piv-commands.js';
import {
  type CertificateObject,
  type Chuid,
  decodeCertificateObject,
  decodeChuid,
  decodeDynamicAuthResponse,
  decodeGeneratedKey,
  decodeManagementKeyAlgorithm,
  decodeReferenceMetadata,
  decodeSlotMetadata,
  EMPTY_OBJECT,
  encodeCertificateObject,
  type PivPublicKey,
  padPin,
  type ReferenceMetadata,
  type SlotMetadata,
} from './piv-objects.js';
import { certificateTagOfSlot, slotName } from './piv-slots.js';
import { type PivOperation, pivStatusError } from './piv-status.js';

/** Object tag of the CHUID (docs/spec/piv.md §3). */
export const CHUID_TAG = 0x5fc102;

const SW_SUCCESS = 0x9000;
const SW_NOT_FOUND = 0x6a82;
const SW_REFERENCE_NOT_FOUND = 0x6a88;
const SW_INS_NOT_SUPPORTED = 0x6d00;

/** Block length of a management key algorithm (3DES 8, AES 16), or undefined for other ids. */
export function managementBlockLength(algorithmId: number): number | undefined {
  if (algorithmId === PivAlgorithmId.TDES) return 8;
  if (
    algorithmId === PivAlgorithmId.AES128 ||
    algorithmId === PivAlgorithmId.AES192 ||
    algorithmId === PivAlgorithmId.AES256
  ) {
    return 16;
  }
  return undefined;
}

/** Key length of a management key algorithm (3DES 24, AES-128 16, AES-192 24, AES-256 32). */
export function managementKeyLength(algorithmId: number): number | undefined {
  switch (algorithmId) {
    case PivAlgorithmId.TDES:
    case PivAlgorithmId.AES192:
      return 24;
    case PivAlgorithmId.AES128:
      return 16;
    case PivAlgorithmId.AES256:
      return 32;
    default:
      return undefined;
  }
}

/** E_K(block) in ECB without padding: what a host answers to a management key challenge (docs/spec/piv.md §6.6). */
export function encryptManagementChallenge(algorithmId: number, key: Uint8Array, challenge: Uint8Array): Uint8Array {
  const cipherName =
    algorithmId === PivAlgorithmId.TDES
      ? 'des-ede3-ecb'
      : algorithmId === PivAlgorithmId.AES128
        ? 'aes-128-ecb'
        : algorithmId === PivAlgorithmId.AES192
          ? 'aes-192-ecb'
          : algorithmId === PivAlgorithmId.AES256
            ? 'aes-256-ecb'
            : undefined;
  if (cipherName === undefined || key.length !== managementKeyLength(algorithmId)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'management key does not match its algorithm');
  }
  try {
    const cipher = createCipheriv(cipherName, key, null).setAutoPadding(false);
    return new Uint8Array(Buffer.concat([cipher.update(challenge), cipher.final()]));
  } catch (error) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'cannot encrypt the management key challenge', { cause: error });
  }
}

/** The PIV card application over one transport. */
export class PivApplication {
  readonly #channel: CardChannel;

  /** `transport` must be inside a transaction the caller holds for multi-command sequences. */
  constructor(transport: Transport) {
    // Extended Lc/Le where the ATR announces them (YubiKey 5): a certificate in one GET DATA instead of one
    // plus a GET RESPONSE per 256 bytes.
    this.#channel = createCardChannel(transport, {
      secretApdus: PIV_SECRET_APDUS,
      extendedLength: announcesExtendedLength(transport.atr),
    });
  }

  async #send(apdu: CommandApdu): Promise<{ data: Uint8Array; statusWord: number }> {
    return this.#channel.send(apdu);
  }

  async #sendOk(apdu: CommandApdu, operation: PivOperation, context: string): Promise<Uint8Array> {
    const response = await this.#send(apdu);
    if (response.statusWord === SW_SUCCESS) return response.data;
    wipe(response.data);
    throw pivStatusError(response.statusWord, operation, context);
  }

  /** SELECT PIV; SCARD_E_UNKNOWN_CARD when the card has no PIV application or answers no `61` template. */
  async select(): Promise<void> {
    const response = await this.#send(selectCommand());
    if (response.statusWord !== SW_SUCCESS) {
      throw new ScardError('SCARD_E_UNKNOWN_CARD', 'the card has no PIV application', {
        statusWord: response.statusWord,
      });
    }
    let template: ReturnType<typeof decodeTlv>[number] | undefined;
    try {
      template = decodeTlv(response.data)[0];
    } catch {
      template = undefined;
    }
    // Some cards answer an empty 9000; the APT is mandatory but its absence is not worth refusing the card.
    if (response.data.length > 0 && template?.tag !== 0x61) {
      throw new ScardError('SCARD_E_UNKNOWN_CARD', 'SELECT PIV did not answer an application property template');
    }
  }

  /** YubiKey GET VERSION, or undefined when the card does not know the command. */
  async getVersion(): Promise<readonly [number, number, number] | undefined> {
    const response = await this.#send(getVersionCommand());
    if (response.statusWord !== SW_SUCCESS || response.data.length !== 3) return undefined;
    return [response.data[0]!, response.data[1]!, response.data[2]!];
  }

  /** YubiKey GET SERIAL, or undefined when unsupported. */
  async getSerial(): Promise<number | undefined> {
    const response = await this.#send(getSerialCommand());
    if (response.statusWord !== SW_SUCCESS || response.data.length !== 4) return undefined;
    return new DataView(response.data.buffer, response.data.byteOffset, 4).getUint32(0);
  }

  /** GET DATA: the object's response (`53 …`), or undefined when the card does not hold it. */
  async readObject(tag: number): Promise<Uint8Array | undefined> {
    const response = await this.#send(getDataCommand(tag));
    if (response.statusWord === SW_NOT_FOUND) return undefined;
    if (response.statusWord !== SW_SUCCESS)
      throw pivStatusError(response.statusWord, 'data', `GET DATA ${tag.toString(16)}`);
    return response.data;
  }

  /** PUT DATA of a whole encoded object (management key needed). */
  async writeObject(tag: number, encodedObject: Uint8Array): Promise<void> {
    await this.#sendOk(putDataCommand(tag, encodedObject), 'data', `PUT DATA ${tag.toString(16)}`);
  }

  /** The CHUID, or undefined when the card has none. */
  async getChuid(): Promise<Chuid | undefined> {
    const response = await this.readObject(CHUID_TAG);
    return response === undefined ? undefined : decodeChuid(response);
  }

  /** The certificate of `slot` (inflated), with `certificate` undefined when the slot has none. */
  async getCertificate(slot: number): Promise<CertificateObject> {
    const response = await this.readObject(certificateTagOfSlot(slot));
    return response === undefined ? { certificate: undefined, compressed: false } : decodeCertificateObject(response);
  }

  /** Writes the certificate object of `slot`; `compress` stores it gzip-compressed (CertInfo 01). */
  async putCertificate(slot: number, der: Uint8Array, options: { compress?: boolean } = {}): Promise<void> {
    await this.writeObject(certificateTagOfSlot(slot), encodeCertificateObject(der, options.compress === true));
  }

  /** Deletes the certificate object of `slot` (PUT DATA `53 00`). */
  async deleteCertificate(slot: number): Promise<void> {
    await this.writeObject(certificateTagOfSlot(slot), EMPTY_OBJECT);
  }

  /**
   * YubiKey GET METADATA of a key slot (firmware 5.3+): undefined when the slot is empty; `'unsupported'`
   * when the card does not know the command.
   */
  async getSlotMetadata(slot: number): Promise<SlotMetadata | undefined | 'unsupported'> {
    const response = await this.#send(getMetadataCommand(slot));
    if (response.statusWord === SW_REFERENCE_NOT_FOUND) return undefined;
    if (response.statusWord === SW_INS_NOT_SUPPORTED) return 'unsupported';
    if (response.statusWord !== SW_SUCCESS) {
      throw pivStatusError(response.statusWord, 'data', `GET METADATA ${slotName(slot)}`);
    }
    return decodeSlotMetadata(response.data);
  }

  /** PIN (80) or PUK (81) retry counters from GET METADATA, or undefined without metadata support. */
  async getReferenceMetadata(reference: number): Promise<ReferenceMetadata | undefined> {
    const response = await this.#send(getMetadataCommand(reference));
    if (response.statusWord !== SW_SUCCESS) return undefined;
    return decodeReferenceMetadata(response.data);
  }

  /** VERIFY the PIN (card PIN 80). Wrong: SCARD_W_WRONG_CHV with retriesLeft; blocked: SCARD_W_CHV_BLOCKED. */
  async verifyPin(pin: Uint8Array): Promise<void> {
    const padded = padPin(pin);
    try {
      await this.#sendOk(verifyCommand(PIN_REFERENCE, padded), 'pin', 'VERIFY PIN');
    } finally {
      wipe(padded);
    }
  }

  /**
   * PIN tries left without spending one: GET METADATA when available, else the VERIFY status query
   * (which answers 9000 when already verified: then undefined, the count cannot be learnt).
   */
  async getPinRetries(reference: number = PIN_REFERENCE): Promise<number | undefined> {
    const metadata = await this.getReferenceMetadata(reference);
    if (metadata !== undefined) return metadata.retriesLeft;
    if (reference !== PIN_REFERENCE) return undefined;
    const response = await this.#send(verifyCommand(PIN_REFERENCE));
    if ((response.statusWord & 0xfff0) === 0x63c0) return response.statusWord & 0x0f;
    if (response.statusWord === 0x6983) return 0;
    return undefined;
  }

  /** Drops the PIN's security status (VERIFY P1 FF). */
  async logoutPin(): Promise<void> {
    await this.#sendOk(logoutCommand(PIN_REFERENCE), 'pin', 'PIN logout');
  }

  /** CHANGE REFERENCE DATA of the PIN (80) or PUK (81). */
  async changeReference(reference: number, current: Uint8Array, next: Uint8Array): Promise<void> {
    const paddedCurrent = padPin(current);
    const paddedNext = padPin(next);
    try {
      await this.#sendOk(
        changeReferenceCommand(reference, paddedCurrent, paddedNext),
        'pin',
        reference === PUK_REFERENCE ? 'CHANGE PUK' : 'CHANGE PIN',
      );
    } finally {
      wipe(paddedCurrent, paddedNext);
    }
  }

  /** RESET RETRY COUNTER: unblock the PIN with the PUK and set a new PIN. */
  async unblockPin(puk: Uint8Array, newPin: Uint8Array): Promise<void> {
    const paddedPuk = padPin(puk);
    const paddedPin = padPin(newPin);
    try {
      await this.#sendOk(resetRetryCounterCommand(paddedPuk, paddedPin), 'pin', 'RESET RETRY COUNTER');
    } finally {
      wipe(paddedPuk, paddedPin);
    }
  }

  /** The management key algorithm: GET METADATA 9B (5.3+), else 3DES as every older card (docs/spec/piv.md §6.6). */
  async getManagementKeyAlgorithm(): Promise<number> {
    const response = await this.#send(getMetadataCommand(MANAGEMENT_KEY_REFERENCE));
    if (response.statusWord !== SW_SUCCESS) return PivAlgorithmId.TDES;
    return decodeManagementKeyAlgorithm(response.data);
  }

  /** External authenticate step 1: the card's plain challenge (`7C 02 81 00` → `7C { 81 n <challenge> }`). */
  async requestManagementChallenge(algorithmId: number): Promise<Uint8Array> {
    const response = await this.#sendOk(
      generalAuthenticateCommand(algorithmId, MANAGEMENT_KEY_REFERENCE, [
        { tag: TAG_AUTH_CHALLENGE, value: new Uint8Array(0) },
      ]),
      'data',
      'management key challenge',
    );
    return decodeDynamicAuthResponse(response, TAG_AUTH_CHALLENGE);
  }

  /** External authenticate step 2: `7C { 82 n E_K(challenge) }`; a wrong response is SCARD_W_WRONG_CHV. */
  async answerManagementChallenge(algorithmId: number, response: Uint8Array): Promise<void> {
    await this.#sendOk(
      generalAuthenticateCommand(algorithmId, MANAGEMENT_KEY_REFERENCE, [{ tag: TAG_AUTH_RESPONSE, value: response }]),
      'management-key',
      'management key authentication',
    );
  }

  /** Authenticates the management key the host holds (both external-authenticate steps). */
  async authenticateManagementKey(key: Uint8Array): Promise<void> {
    const algorithmId = await this.getManagementKeyAlgorithm();
    const challenge = await this.requestManagementChallenge(algorithmId);
    const response = encryptManagementChallenge(algorithmId, key, challenge);
    await this.answerManagementChallenge(algorithmId, response);
  }

  /** YubiKey SET MANAGEMENT KEY (management key authenticated). */
  async setManagementKey(algorithmId: number, key: Uint8Array): Promise<void> {
    const command = setManagementKeyCommand(algorithmId, key);
    try {
      await this.#sendOk(command, 'data', 'SET MANAGEMENT KEY');
    } finally {
      if (command.data) wipe(command.data);
    }
  }

  /** The private key operation of `slot` on `input` (padded RSA block, or the hash for ECDSA): the `82` result. */
  async authenticateWithKey(slot: number, algorithmId: number, input: Uint8Array): Promise<Uint8Array> {
    const response = await this.#sendOk(
      generalAuthenticateCommand(algorithmId, slot, [
        { tag: TAG_AUTH_RESPONSE, value: new Uint8Array(0) },
        { tag: TAG_AUTH_CHALLENGE, value: input },
      ]),
      'private-key',
      `private key operation with slot ${slotName(slot)}`,
    );
    return decodeDynamicAuthResponse(response, TAG_AUTH_RESPONSE);
  }

  /** ECDH with the key of `slot` and the peer's uncompressed point: the shared secret Z. */
  async calculateSecret(slot: number, algorithmId: number, peerPoint: Uint8Array): Promise<Uint8Array> {
    const response = await this.#sendOk(
      generalAuthenticateCommand(algorithmId, slot, [
        { tag: TAG_AUTH_RESPONSE, value: new Uint8Array(0) },
        { tag: TAG_AUTH_EXPONENTIATION, value: peerPoint },
      ]),
      'private-key',
      `ECDH with slot ${slotName(slot)}`,
    );
    return decodeDynamicAuthResponse(response, TAG_AUTH_RESPONSE);
  }

  /** GENERATE ASYMMETRIC KEY PAIR in `slot` (management key authenticated): the new public key. */
  async generateKey(slot: number, algorithmId: number, pinPolicy?: number): Promise<PivPublicKey> {
    const response = await this.#sendOk(
      generateKeyCommand(slot, algorithmId, pinPolicy),
      'data',
      `GENERATE in slot ${slotName(slot)}`,
    );
    return decodeGeneratedKey(response, algorithmId);
  }

  /** YubiKey IMPORT KEY into `slot` (management key authenticated). */
  async importKey(
    slot: number,
    algorithmId: number,
    items: readonly { tag: number; value: Uint8Array }[],
  ): Promise<void> {
    const command = importKeyCommand(algorithmId, slot, items);
    try {
      await this.#sendOk(command, 'data', `IMPORT KEY into slot ${slotName(slot)}`);
    } finally {
      if (command.data) wipe(command.data);
    }
  }

  /** YubiKey 5.7 DELETE KEY (MOVE KEY to FF). SCARD_E_UNSUPPORTED_FEATURE when the card does not know it. */
  async deleteKey(slot: number): Promise<void> {
    await this.#sendOk(deleteKeyCommand(slot), 'data', `DELETE KEY in slot ${slotName(slot)}`);
  }
}
