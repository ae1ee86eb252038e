/**
 * A faithful simulator of the __CARD_NAME__ card: what the plugin talks to in tests, in `minidriver --sim`
 * and, through vpcd, in pcscd. It is the card's specification in code; when you have the real card,
 * record its APDUs (see the README) and make this answer the same.
 *
 * The card's commands (CLA 00; CLA 10 chains long data, 61xx + GET RESPONSE return long answers):
 *
 * | command                     | APDU                              | answer                                  |
 * |-----------------------------|-----------------------------------|-----------------------------------------|
 * | SELECT the application      | 00 A4 04 00 Lc AID                | 9000; 6A82 for another AID               |
 * | GET DATA                    | 00 CA 00 P2 Le                    | the object; 6A88 when absent             |
 * | PUT DATA                    | 00 DA P1 P2 [Lc data]             | P1 00 write, 02 delete (6A88 absent);   |
 * |                             |                                   | certificates need the user PIN           |
 * | VERIFY                      | 00 20 00 81 Lc PIN                | 9000; 63Cx wrong (x tries left); 6983    |
 * | VERIFY (status)             | 00 20 00 81                       | 9000 if verified, else 63Cx              |
 * | VERIFY (log out)            | 00 20 FF 81                       | 9000 (ISO/IEC 7816-4: P1 = FF)           |
 * | CHANGE REFERENCE DATA       | 00 24 00 81 Lc n old new          | as VERIFY with the old PIN               |
 * | RESET RETRY COUNTER         | 00 2C 00 81 Lc n PUK newPIN       | 9000; 63Cx wrong PUK; 6983 PUK blocked   |
 * | GENERATE KEY PAIR           | 00 47 00 P2(container) Le         | 04 X Y (P-256); needs the user PIN       |
 * | READ PUBLIC KEY             | 00 47 81 P2(container) Le         | 04 X Y; 6A88 when empty                  |
 * | DELETE KEY                  | 00 E4 00 P2(container)            | 9000; needs the user PIN                 |
 * | COMPUTE DIGITAL SIGNATURE   | 00 2A 9E P2(container) Lc hash Le | r s (64 bytes); needs the user PIN       |
 *
 * @packageDocumentation
 */
import { createECDH, createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import {
  ApduDispatcher,
  ecdsaSignDigest,
  failWith,
  PinTryCounter,
  type SimAnswer,
  type SimCommand,
} from '@minidriver/card-kit/sim';
import type { SimulatedCard } from '@minidriver/sim';
import {
  CARD_AID,
  CARD_ATR,
  CARD_NAME,
  CONTAINER_COUNT,
  DataObject,
  MAX_OBJECT_SIZE,
  PIN_TRIES,
  USER_PIN_REFERENCE,
} from '../src/card-profile.js';

/** The factory secrets of a fresh simulated card (published test values, never a real card's). */
export const FACTORY_PIN = '123456';
export const FACTORY_PUK = '12345678';

const SW = {
  SECURITY: 0x6982,
  BLOCKED: 0x6983,
  CONDITIONS: 0x6985,
  WRONG_DATA: 0x6a80,
  NOT_FOUND: 0x6a82,
  FULL: 0x6a84,
  WRONG_P1P2: 0x6a86,
  NO_DATA: 0x6a88,
  INS: 0x6d00,
} as const;

/** What the card keeps across power cycles; what saveState/loadState carry. */
interface CardState {
  serial: string;
  pin: string;
  pinTries: number;
  puk: string;
  pukTries: number;
  /** Private keys as JWK `d` (base64url) by container. */
  keys: Record<string, string>;
  /** Certificates as hex by data object (P2). */
  objects: Record<string, string>;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytesOf = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s/g, ''), 'hex'));
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);

/** The simulated __CARD_NAME__ card. */
export class CardSimulator implements SimulatedCard {
  readonly name = CARD_NAME;
  readonly atr = bytesOf(CARD_ATR);
  readonly #dispatcher = new ApduDispatcher((command) => this.#execute(command));
  #serial = hex(randomBytes(16));
  #pin = new PinTryCounter(new TextEncoder().encode(FACTORY_PIN), PIN_TRIES);
  #puk = new PinTryCounter(new TextEncoder().encode(FACTORY_PUK), PIN_TRIES);
  #keys = new Map<number, KeyObject>();
  #objects = new Map<number, Uint8Array>();
  #selected = false;
  #userVerified = false;

  powerOn(): void {
    this.#selected = false;
    this.#userVerified = false;
    this.#dispatcher.reset();
  }

  powerOff(): void {
    this.powerOn();
  }

  reset(): void {
    this.powerOn();
  }

  process(command: Uint8Array): Promise<Uint8Array> {
    return this.#dispatcher.process(command);
  }

  saveState(): CardState {
    return {
      serial: this.#serial,
      pin: hex(this.#pin.exportValue()),
      pinTries: this.#pin.retriesLeft,
      puk: hex(this.#puk.exportValue()),
      pukTries: this.#puk.retriesLeft,
      keys: Object.fromEntries(
        [...this.#keys].map(([index, key]) => [index, key.export({ format: 'jwk' }).d as string]),
      ),
      objects: Object.fromEntries([...this.#objects].map(([tag, data]) => [tag, hex(data)])),
    };
  }

  loadState(state: unknown): void {
    const saved = state as CardState;
    this.#serial = saved.serial;
    this.#pin = new PinTryCounter(bytesOf(saved.pin), PIN_TRIES, saved.pinTries);
    this.#puk = new PinTryCounter(bytesOf(saved.puk), PIN_TRIES, saved.pukTries);
    this.#keys = new Map(Object.entries(saved.keys).map(([index, d]) => [Number(index), privateKeyOf(d)]));
    this.#objects = new Map(Object.entries(saved.objects).map(([tag, data]) => [Number(tag), bytesOf(data)]));
  }

  #execute(command: SimCommand): SimAnswer {
    const { ins, p1, p2, data } = command;
    if (ins === 0xa4) {
      if (p1 !== 0x04) failWith(SW.WRONG_P1P2);
      this.#selected = same(data, bytesOf(CARD_AID));
      this.#userVerified = false;
      return this.#selected ? {} : failWith(SW.NOT_FOUND);
    }
    if (!this.#selected) failWith(SW.CONDITIONS);
    switch (ins) {
      case 0xca:
        return this.#getData(p2);
      case 0xda:
        return this.#putData(p1, p2, data);
      case 0x20:
        return this.#verify(p1, p2, data);
      case 0x24:
        return this.#changePin(p2, data);
      case 0x2c:
        return this.#resetRetryCounter(p2, data);
      case 0x47:
        return this.#keyPair(p1, p2);
      case 0xe4:
        return this.#deleteKey(p2);
      case 0x2a:
        return this.#sign(p1, p2, data);
      default:
        return failWith(SW.INS);
    }
  }

  #getData(p2: number): SimAnswer {
    if (p2 === DataObject.CARD_ID) return { data: bytesOf(this.#serial) };
    return { data: this.#objects.get(p2) ?? failWith(SW.NO_DATA) };
  }

  /** P1: 00 write (create or replace), 02 delete. Certificates need the user PIN. */
  #putData(p1: number, p2: number, data: Uint8Array): SimAnswer {
    if (p2 < DataObject.CERTIFICATE_BASE || p2 >= DataObject.CERTIFICATE_BASE + CONTAINER_COUNT) {
      failWith(SW.WRONG_P1P2);
    }
    if (!this.#userVerified) failWith(SW.SECURITY);
    if (p1 === 0x00) {
      if (data.length > MAX_OBJECT_SIZE) failWith(SW.FULL);
      this.#objects.set(p2, Uint8Array.from(data));
      return {};
    }
    if (p1 !== 0x02) failWith(SW.WRONG_P1P2);
    if (!this.#objects.delete(p2)) failWith(SW.NO_DATA);
    return {};
  }

  #verify(p1: number, p2: number, pin: Uint8Array): SimAnswer {
    if (p2 !== USER_PIN_REFERENCE) failWith(SW.NOT_FOUND);
    if (p1 === 0xff) {
      this.#userVerified = false;
      return {};
    }
    if (p1 !== 0x00) failWith(SW.WRONG_P1P2);
    if (pin.length === 0) {
      if (this.#pin.blocked) failWith(SW.BLOCKED);
      return this.#userVerified ? {} : failWith(0x63c0 | this.#pin.retriesLeft);
    }
    this.#check(this.#pin, pin);
    this.#userVerified = true;
    return {};
  }

  /** Presents `value` to `counter`: 63Cx with the tries left, 6983 once blocked. */
  #check(counter: PinTryCounter, value: Uint8Array): void {
    const outcome = counter.check(value);
    if (outcome.kind === 'verified') return;
    if (counter === this.#pin) this.#userVerified = false;
    failWith(outcome.kind === 'blocked' ? SW.BLOCKED : 0x63c0 | outcome.retriesLeft);
  }

  #changePin(p2: number, data: Uint8Array): SimAnswer {
    if (p2 !== USER_PIN_REFERENCE) failWith(SW.NOT_FOUND);
    const { first, second } = splitSecrets(data);
    this.#check(this.#pin, first);
    this.#pin.change(second);
    return {};
  }

  #resetRetryCounter(p2: number, data: Uint8Array): SimAnswer {
    if (p2 !== USER_PIN_REFERENCE) failWith(SW.NOT_FOUND);
    const { first, second } = splitSecrets(data);
    this.#check(this.#puk, first);
    this.#pin.change(second);
    return {};
  }

  #keyPair(p1: number, container: number): SimAnswer {
    if (container >= CONTAINER_COUNT) failWith(SW.WRONG_P1P2);
    if (p1 === 0x81) return { data: publicPoint(this.#keys.get(container) ?? failWith(SW.NO_DATA)) };
    if (p1 !== 0x00) failWith(SW.WRONG_P1P2);
    if (!this.#userVerified) failWith(SW.SECURITY);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#keys.set(container, privateKey);
    return { data: publicPoint(privateKey) };
  }

  #deleteKey(container: number): SimAnswer {
    if (container >= CONTAINER_COUNT) failWith(SW.WRONG_P1P2);
    if (!this.#userVerified) failWith(SW.SECURITY);
    this.#keys.delete(container);
    return {};
  }

  /** ECDSA over the hash the host sent, answered as r || s. */
  #sign(p1: number, container: number, hash: Uint8Array): SimAnswer {
    if (p1 !== 0x9e || container >= CONTAINER_COUNT) failWith(SW.WRONG_P1P2);
    if (!this.#userVerified) failWith(SW.SECURITY);
    const key = this.#keys.get(container) ?? failWith(SW.NO_DATA);
    if (hash.length < 20 || hash.length > 64) failWith(SW.WRONG_DATA);
    return { data: ecdsaSignDigest(key, 'P-256', hash) };
  }
}

/** `n first second` -> the two secrets; 6A80 when n does not fit. */
function splitSecrets(data: Uint8Array): { first: Uint8Array; second: Uint8Array } {
  const length = data[0];
  if (length === undefined || length === 0 || 1 + length >= data.length) return failWith(SW.WRONG_DATA);
  return { first: data.slice(1, 1 + length), second: data.slice(1 + length) };
}

function privateKeyOf(d: string): KeyObject {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(d, 'base64url'));
  const point = ecdh.getPublicKey();
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d,
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** The uncompressed point 04 || X || Y of a key. */
function publicPoint(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return Uint8Array.of(
    0x04,
    ...Buffer.from(jwk.x as string, 'base64url'),
    ...Buffer.from(jwk.y as string, 'base64url'),
  );
}
