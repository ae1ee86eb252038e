/**
 * The __CARD_NAME__ card's commands, host side: one method per APDU of the card (see sim/card-simulator.ts
 * for the table). Status words become ScardErrors through @minidriver/iso7816 (63Cx = wrong PIN with the
 * tries left, 6983 = blocked, 6982 = security status not satisfied, 6A88 = no such object).
 *
 * @packageDocumentation
 */

import { type CardChannel, createCardChannel } from '@minidriver/iso7816';
import { fromHex, ScardError, type Transport } from '@minidriver/spec';
import { CARD_AID, USER_PIN_REFERENCE } from './card-profile.js';

/** PUT DATA's P1: write (create or replace) an object, or delete it. */
export const PutMode = { WRITE: 0x00, DELETE: 0x02 } as const;

/** The card application, over a channel that chains long commands and fetches long answers (61xx). */
export class CardApplication {
  readonly #channel: CardChannel;

  constructor(transport: Transport) {
    this.#channel = createCardChannel(transport);
  }

  /** SELECT the application by AID; SCARD_E_UNKNOWN_CARD when the card does not have it. */
  async select(): Promise<void> {
    const aid = fromHex(CARD_AID);
    const response = await this.#channel.send({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: aid });
    if (response.statusWord !== 0x9000) {
      throw new ScardError('SCARD_E_UNKNOWN_CARD', `the card has no application ${CARD_AID}`);
    }
  }

  /** GET DATA of object `tag`; undefined when the card has none (6A88). */
  async getData(tag: number): Promise<Uint8Array | undefined> {
    const response = await this.#channel.send({ cla: 0x00, ins: 0xca, p1: 0x00, p2: tag, le: 256 });
    if (response.statusWord === 0x6a88) return undefined;
    if (response.statusWord !== 0x9000) {
      return this.#channel.transmitOk({ cla: 0x00, ins: 0xca, p1: 0x00, p2: tag, le: 256 }, 'GET DATA');
    }
    return response.data;
  }

  /** PUT DATA: write or delete object `tag`. */
  async putData(tag: number, mode: number, data: Uint8Array = new Uint8Array(0)): Promise<void> {
    const apdu = { cla: 0x00, ins: 0xda, p1: mode, p2: tag, ...(data.length > 0 ? { data } : {}) };
    const response = await this.#channel.send(apdu);
    if (response.statusWord === 0x6a88) throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no object ${tag}`);
    if (response.statusWord !== 0x9000) await this.#channel.transmitOk(apdu, 'PUT DATA');
  }

  /** VERIFY the user PIN. */
  async verify(pin: Uint8Array): Promise<void> {
    await this.#channel.transmitOk({ cla: 0x00, ins: 0x20, p1: 0x00, p2: USER_PIN_REFERENCE, data: pin }, 'VERIFY');
  }

  /** Tries left of the user PIN without spending one (an empty VERIFY); undefined once verified. */
  async pinTriesLeft(): Promise<number | undefined> {
    const response = await this.#channel.send({ cla: 0x00, ins: 0x20, p1: 0x00, p2: USER_PIN_REFERENCE });
    if (response.statusWord === 0x9000) return undefined;
    if ((response.statusWord & 0xfff0) === 0x63c0) return response.statusWord & 0x0f;
    if (response.statusWord === 0x6983) return 0;
    throw new ScardError('SCARD_E_UNEXPECTED', `VERIFY status: SW ${response.statusWord.toString(16)}`);
  }

  /** Resets the user PIN's verification (VERIFY with P1 = FF, ISO/IEC 7816-4). */
  async logOut(): Promise<void> {
    await this.#channel.transmitOk({ cla: 0x00, ins: 0x20, p1: 0xff, p2: USER_PIN_REFERENCE }, 'LOG OUT');
  }

  /** CHANGE REFERENCE DATA of the user PIN. */
  async changePin(current: Uint8Array, next: Uint8Array): Promise<void> {
    const data = joinSecrets(current, next);
    try {
      await this.#channel.transmitOk(
        { cla: 0x00, ins: 0x24, p1: 0x00, p2: USER_PIN_REFERENCE, data },
        'CHANGE REFERENCE DATA',
      );
    } finally {
      data.fill(0);
    }
  }

  /** RESET RETRY COUNTER: unblocks the user PIN with the PUK and sets a new PIN. */
  async unblockPin(puk: Uint8Array, next: Uint8Array): Promise<void> {
    const data = joinSecrets(puk, next);
    try {
      await this.#channel.transmitOk(
        { cla: 0x00, ins: 0x2c, p1: 0x00, p2: USER_PIN_REFERENCE, data },
        'RESET RETRY COUNTER',
      );
    } finally {
      data.fill(0);
    }
  }

  /** GENERATE a P-256 key pair in `container`; answers the public point 04 || X || Y. */
  async generateKey(container: number): Promise<Uint8Array> {
    return this.#channel.transmitOk({ cla: 0x00, ins: 0x47, p1: 0x00, p2: container, le: 256 }, 'GENERATE');
  }

  /** The public point of `container`'s key; undefined when the container is empty. */
  async readPublicKey(container: number): Promise<Uint8Array | undefined> {
    const apdu = { cla: 0x00, ins: 0x47, p1: 0x81, p2: container, le: 256 };
    const response = await this.#channel.send(apdu);
    if (response.statusWord === 0x6a88) return undefined;
    if (response.statusWord !== 0x9000) return this.#channel.transmitOk(apdu, 'READ PUBLIC KEY');
    return response.data;
  }

  /** Deletes `container`'s key. */
  async deleteKey(container: number): Promise<void> {
    await this.#channel.transmitOk({ cla: 0x00, ins: 0xe4, p1: 0x00, p2: container }, 'DELETE KEY');
  }

  /** ECDSA P-256 over `hash` with `container`'s key: r || s, 64 bytes. */
  async sign(container: number, hash: Uint8Array): Promise<Uint8Array> {
    return this.#channel.transmitOk(
      { cla: 0x00, ins: 0x2a, p1: 0x9e, p2: container, data: hash, le: 256 },
      'COMPUTE DIGITAL SIGNATURE',
    );
  }
}

/** `n first second`, the card's encoding of two secrets in one command. */
function joinSecrets(first: Uint8Array, second: Uint8Array): Uint8Array {
  if (first.length === 0 || first.length > 32 || second.length === 0 || second.length > 32) {
    throw new ScardError('SCARD_E_INVALID_CHV', 'a PIN or PUK has 1 to 32 bytes');
  }
  return Uint8Array.of(first.length, ...first, ...second);
}
