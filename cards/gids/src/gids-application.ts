/**
 * @packageDocumentation
 * GidsApplication: the GIDS card application as verb-object methods, one card operation each (docs/spec/gids.md
 * docs/spec/gids.md §4). It keeps no card data — the minidriver decides what to cache — and throws only ScardError.
 */

import {
  type CardChannel,
  type CommandApdu,
  createCardChannel,
  decodeTlv,
  findTlvValue,
  statusWordToScardError,
} from '@minidriver/iso7816';
import { ScardError, type Transport, wipe } from '@minidriver/spec';
import { checkCardCryptogram, hostChallenge, mutualChallenge } from './gids-admin-challenge.js';
import * as command from './gids-commands.js';
import { GIDS_SECRET_APDUS } from './gids-commands.js';
import { decodePublicKeyTemplate, type GidsPublicKey } from './gids-public-key.js';

const SW_SUCCESS = 0x9000;
const SW_NOT_FOUND = 0x6a82;
const SW_PIN_BLOCKED = 0x6984;

/** The PIN's counter as the status DO reports it. */
export interface PinStatus {
  readonly triesLeft: number;
  readonly tryLimit: number;
}

/** The GIDS application on one card channel. */
export class GidsApplication {
  readonly #channel: CardChannel;
  #pendingMutual: Uint8Array | undefined;

  constructor(transport: Transport, trace?: (command: Uint8Array, response: Uint8Array) => void) {
    this.#channel = createCardChannel(transport, { secretApdus: GIDS_SECRET_APDUS, ...(trace ? { trace } : {}) });
  }

  /** SELECT the application; SCARD_E_UNKNOWN_CARD when the card has no GIDS application. Returns the FCI. */
  async select(): Promise<Uint8Array> {
    const response = await this.#channel.send(command.selectApplication());
    if (response.statusWord !== SW_SUCCESS) {
      throw new ScardError('SCARD_E_UNKNOWN_CARD', 'the card has no GIDS application');
    }
    return response.data;
  }

  /** The value of data object `tag` in DO file `ef`, or undefined when the object does not exist. */
  async readDataObject(ef: number, tag: number): Promise<Uint8Array | undefined> {
    const response = await this.#channel.send(command.getDataObject(ef, tag));
    if (response.statusWord === SW_NOT_FOUND) return undefined;
    if (response.statusWord !== SW_SUCCESS) throw this.#error(response.statusWord, 'reading a GIDS data object');
    const value = findTlvValue(decodeTlv(response.data, { malformedError: 'SCARD_E_COMM_DATA_LOST' }), tag);
    if (value === undefined)
      throw new ScardError('SCARD_E_COMM_DATA_LOST', 'the card answered with another data object');
    return value;
  }

  /** Writes data object `tag` in DO file `ef`. */
  async writeDataObject(ef: number, tag: number, value: Uint8Array): Promise<void> {
    await this.#ok(command.putDataObject(ef, tag, value), 'writing a GIDS data object');
  }

  /** The user PIN's counter (GET DATA 7F71). */
  async pinStatus(): Promise<PinStatus> {
    const data = await this.#ok(command.getPinStatus(), 'reading the PIN status');
    const nodes = decodeTlv(data, { malformedError: 'SCARD_E_COMM_DATA_LOST' });
    const tries = findTlvValue(nodes, 0x7f71, 0x97) ?? findTlvValue(nodes, 0x7f71, 0x9f17);
    const limit = findTlvValue(nodes, 0x7f71, 0x93);
    if (tries?.length !== 1 || limit?.length !== 1) {
      throw new ScardError('SCARD_E_COMM_DATA_LOST', 'the PIN status object has no try counter');
    }
    return { triesLeft: tries[0] as number, tryLimit: limit[0] as number };
  }

  /** VERIFY the user PIN: SCARD_W_WRONG_CHV with the retries left, SCARD_W_CHV_BLOCKED when blocked. */
  async verifyPin(pin: Uint8Array): Promise<void> {
    await this.#pinCommand(command.verifyPin(pin), 'verifying the PIN');
  }

  /** CHANGE REFERENCE DATA with the old and the new PIN. */
  async changePin(oldPin: Uint8Array, newPin: Uint8Array): Promise<void> {
    const data = new Uint8Array(oldPin.length + newPin.length);
    data.set(oldPin, 0);
    data.set(newPin, oldPin.length);
    try {
      await this.#pinCommand(command.changePin(data), 'changing the PIN');
    } finally {
      wipe(data);
    }
  }

  /** RESET RETRY COUNTER with a new PIN (the admin must be authenticated; the card then forgets the admin). */
  async resetPin(newPin: Uint8Array): Promise<void> {
    await this.#pinCommand(command.resetPin(newPin), 'unblocking the PIN');
  }

  /** VERIFY 82: the card forgets the PIN and the admin authentication. */
  async deauthenticateAll(): Promise<void> {
    await this.#ok(command.deauthenticateAll(), 'deauthenticating');
  }

  /** Starts a mutual authentication with the admin key; returns the 40-byte block the caller must encrypt. */
  async beginAdminAuthentication(): Promise<Uint8Array> {
    await this.#ok(command.selectAdminKey(), 'selecting the admin key');
    const r1 = hostChallenge();
    const answer = await this.#ok(command.authenticationChallenge(r1), 'asking the card for a challenge');
    const block = mutualChallenge(answer, r1);
    this.#pendingMutual = Uint8Array.from(block);
    return block;
  }

  /** True while a challenge from beginAdminAuthentication waits for its response. */
  get adminAuthenticationPending(): boolean {
    return this.#pendingMutual !== undefined;
  }

  /**
   * Completes the mutual authentication with the caller's cryptogram. A wrong one is SCARD_W_WRONG_CHV (the
   * admin key has no counter on GIDS cards); the challenge is used once.
   */
  async completeAdminAuthentication(cryptogram: Uint8Array): Promise<void> {
    const pending = this.#pendingMutual;
    this.#pendingMutual = undefined;
    if (pending === undefined) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'no admin challenge is pending (call CardGetChallenge first)');
    }
    wipe(pending);
    const response = await this.#channel.send(command.authenticationResponse(cryptogram));
    if (response.statusWord === 0x6982 || response.statusWord === 0x6985) {
      throw new ScardError('SCARD_W_WRONG_CHV', 'the card rejected the admin response');
    }
    if (response.statusWord !== SW_SUCCESS) throw this.#error(response.statusWord, 'authenticating the admin');
    checkCardCryptogram(response.data);
  }

  /** PUT KEY: replaces the 3DES admin key (the admin must be authenticated). */
  async setAdminKey(key: Uint8Array): Promise<void> {
    const apdu = command.putAdminKey(key);
    try {
      await this.#ok(apdu, 'changing the admin key');
    } finally {
      if (apdu.data) wipe(apdu.data);
    }
  }

  /** Forgets a pending admin challenge. */
  forgetAdminChallenge(): void {
    if (this.#pendingMutual) wipe(this.#pendingMutual);
    this.#pendingMutual = undefined;
  }

  /** MSE + PSO COMPUTE DIGITAL SIGNATURE. */
  async sign(keyReference: number, algorithm: number, data: Uint8Array): Promise<Uint8Array> {
    await this.#ok(command.setSecurityEnvironment('sign', algorithm, keyReference), 'selecting the signature key');
    return this.#ok(command.computeSignature(data), 'signing');
  }

  /** MSE + PSO DECIPHER (RSA decipherment or ECDH with a peer point). */
  async decipher(keyReference: number, algorithm: number, data: Uint8Array): Promise<Uint8Array> {
    await this.#ok(command.setSecurityEnvironment('decipher', algorithm, keyReference), 'selecting the decryption key');
    return this.#ok(command.decipher(data), 'deciphering');
  }

  /** CREATE FILE + ACTIVATE FILE. */
  async createFile(fcp: Uint8Array): Promise<void> {
    await this.#ok(command.createFile(fcp), 'creating a key file');
    await this.#ok(command.activateFile(), 'activating a key file');
  }

  /** The FCP of file `fid` (SELECT with P2 04), or undefined when the card has no such file. */
  async fileControlParameters(fid: number): Promise<Uint8Array | undefined> {
    const response = await this.#channel.send({ ...command.selectFile(fid), p2: 0x04, le: 256 });
    if (response.statusWord === SW_NOT_FOUND) return undefined;
    if (response.statusWord !== SW_SUCCESS) throw this.#error(response.statusWord, 'selecting a DO file');
    return response.data;
  }

  /** SELECT + DELETE FILE of file `fid`; true when it existed. */
  async deleteFile(fid: number): Promise<boolean> {
    const selected = await this.#channel.send(command.selectFile(fid));
    if (selected.statusWord === SW_NOT_FOUND) return false;
    if (selected.statusWord !== SW_SUCCESS) throw this.#error(selected.statusWord, 'selecting a key file');
    await this.#ok(command.deleteCurrentFile(), 'deleting a key file');
    return true;
  }

  /** GENERATE a key of `mechanism` in key file B0xx and read its public key. */
  async generateKey(mechanism: number, keyReference: number): Promise<GidsPublicKey> {
    await this.#ok(command.generateKeyPair(mechanism, keyReference), 'generating a key');
    return this.readPublicKey(keyReference);
  }

  /** The public key of key file B0xx. */
  async readPublicKey(keyReference: number): Promise<GidsPublicKey> {
    return decodePublicKeyTemplate(await this.#ok(command.readPublicKey(keyReference), 'reading a public key'));
  }

  /** PUT DATA of a private key (PKCS #1 RSAPrivateKey or RFC 5915 ECPrivateKey DER). */
  async importKey(keyReference: number, keyValue: Uint8Array, rsa: boolean): Promise<void> {
    const apdu = command.importKey(keyReference, keyValue, rsa);
    try {
      await this.#ok(apdu, 'importing a key');
    } finally {
      if (apdu.data) wipe(apdu.data);
    }
  }

  async #ok(apdu: CommandApdu, context: string): Promise<Uint8Array> {
    const response = await this.#channel.send(apdu);
    if (response.statusWord !== SW_SUCCESS) throw this.#error(response.statusWord, context);
    return response.data;
  }

  async #pinCommand(apdu: CommandApdu, context: string): Promise<void> {
    try {
      const response = await this.#channel.send(apdu);
      if (response.statusWord === SW_SUCCESS) return;
      if (response.statusWord === SW_PIN_BLOCKED) {
        throw new ScardError('SCARD_W_CHV_BLOCKED', `${context}: the PIN is blocked`, { retriesLeft: 0 });
      }
      throw this.#error(response.statusWord, context, true);
    } finally {
      if (apdu.data) wipe(apdu.data);
    }
  }

  #error(statusWord: number, context: string, pinCommand = false): ScardError {
    return statusWordToScardError(statusWord, context, { pinCommand });
  }
}
