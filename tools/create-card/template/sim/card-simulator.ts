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
 * | PUT DATA                    | 00 DA P1 P2 [Lc data]             | P1 00 write, 01 create, 02 delete; 6A88 |
 * |                             |                                   | absent, 6A89 exists; certificates need  |
 * |                             |                                   | the user PIN                             |
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
import { encodeResponseApdu, parseCommandApdu } from '@minidriver/iso7816';
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
  OK: 0x9000,
  WRONG_LENGTH: 0x6700,
  SECURITY: 0x6982,
  BLOCKED: 0x6983,
  CONDITIONS: 0x6985,
  WRONG_DATA: 0x6a80,
  NOT_FOUND: 0x6a82,
  FULL: 0x6a84,
  WRONG_P1P2: 0x6a86,
  NO_DATA: 0x6a88,
  EXISTS: 0x6a89,
  INS: 0x6d00,
  CLA: 0x6e00,
} as const;

/** P-256 group order (FIPS 186-4 D.1.2.3). */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** What the card keeps across power cycles; what saveState/loadState carry. */
interface CardState {
  serial: string;
  pin: string;
  pinTries: number;
  puk: string;
  pukTries: number;
  /** Private keys as JWK `d` (base64url) by container. */
  keys: Record<string, string>;
  /** Data objects as hex by P2. */
  objects: Record<string, string>;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytesOf = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s/g, ''), 'hex'));
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);
const toBigInt = (bytes: Uint8Array) => BigInt(`0x${hex(bytes) || '0'}`);
const toBytes32 = (value: bigint) => bytesOf(value.toString(16).padStart(64, '0'));

function modInverse(value: bigint, modulus: bigint): bigint {
  let [a, b, x, y] = [((value % modulus) + modulus) % modulus, modulus, 1n, 0n];
  while (b !== 0n) {
    const q = a / b;
    [a, b] = [b, a - q * b];
    [x, y] = [y, x - q * y];
  }
  return ((x % modulus) + modulus) % modulus;
}

/** The simulated __CARD_NAME__ card. */
export class CardSimulator implements SimulatedCard {
  readonly name = CARD_NAME;
  readonly atr = bytesOf(CARD_ATR);
  #state: CardState;
  #selected = false;
  #userVerified = false;
  #chained: Uint8Array[] = [];
  #pending = new Uint8Array(0);

  constructor() {
    this.#state = {
      serial: hex(randomBytes(16)),
      pin: hex(new TextEncoder().encode(FACTORY_PIN)),
      pinTries: PIN_TRIES,
      puk: hex(new TextEncoder().encode(FACTORY_PUK)),
      pukTries: PIN_TRIES,
      keys: {},
      objects: {},
    };
  }

  powerOn(): void {
    this.#selected = false;
    this.#userVerified = false;
    this.#chained = [];
    this.#pending = new Uint8Array(0);
  }

  powerOff(): void {
    this.powerOn();
  }

  reset(): void {
    this.powerOn();
  }

  saveState(): unknown {
    return structuredClone(this.#state);
  }

  loadState(state: unknown): void {
    this.#state = structuredClone(state as CardState);
  }

  process(command: Uint8Array): Uint8Array {
    let apdu: ReturnType<typeof parseCommandApdu>;
    try {
      apdu = parseCommandApdu(command);
    } catch {
      return encodeResponseApdu(new Uint8Array(0), SW.WRONG_LENGTH);
    }
    if (apdu.ins === 0xc0) return this.#getResponse(apdu.le ?? 256);
    this.#pending = new Uint8Array(0);
    if ((apdu.cla & ~0x10) !== 0x00) return encodeResponseApdu(new Uint8Array(0), SW.CLA);
    const data = apdu.data ?? new Uint8Array(0);
    if (apdu.cla & 0x10) {
      this.#chained.push(data);
      return encodeResponseApdu(new Uint8Array(0), SW.OK);
    }
    const whole = this.#chained.length === 0 ? data : Buffer.concat([...this.#chained, data]);
    this.#chained = [];
    const [answer, statusWord] = this.#execute(apdu.ins, apdu.p1, apdu.p2, new Uint8Array(whole));
    return this.#respond(answer, statusWord, apdu.le ?? 0);
  }

  /** Answers at most `le` bytes; the rest waits for GET RESPONSE behind 61xx. */
  #respond(answer: Uint8Array, statusWord: number, le: number): Uint8Array {
    if (statusWord !== SW.OK || answer.length <= Math.max(le, 256)) return encodeResponseApdu(answer, statusWord);
    this.#pending = answer.slice(256);
    return encodeResponseApdu(answer.slice(0, 256), 0x6100 | Math.min(this.#pending.length, 255));
  }

  #getResponse(le: number): Uint8Array {
    const part = this.#pending.slice(0, le);
    this.#pending = this.#pending.slice(le);
    const statusWord = this.#pending.length === 0 ? SW.OK : 0x6100 | Math.min(this.#pending.length, 255);
    return encodeResponseApdu(part, statusWord);
  }

  #execute(ins: number, p1: number, p2: number, data: Uint8Array): [Uint8Array, number] {
    const none = new Uint8Array(0);
    if (ins === 0xa4) {
      if (p1 !== 0x04) return [none, SW.WRONG_P1P2];
      this.#selected = same(data, bytesOf(CARD_AID));
      this.#userVerified = false;
      return [none, this.#selected ? SW.OK : SW.NOT_FOUND];
    }
    if (!this.#selected) return [none, SW.CONDITIONS];
    switch (ins) {
      case 0xca:
        return this.#getData(p2);
      case 0xda:
        return [none, this.#putData(p1, p2, data)];
      case 0x20:
        return [none, this.#verify(p1, p2, data)];
      case 0x24:
        return [none, this.#changePin(p2, data)];
      case 0x2c:
        return [none, this.#resetRetryCounter(p2, data)];
      case 0x47:
        return this.#keyPair(p1, p2);
      case 0xe4:
        return [none, this.#deleteKey(p2)];
      case 0x2a:
        return this.#sign(p1, p2, data);
      default:
        return [none, SW.INS];
    }
  }

  #getData(p2: number): [Uint8Array, number] {
    if (p2 === DataObject.CARD_ID) return [bytesOf(this.#state.serial), SW.OK];
    const stored = this.#state.objects[p2];
    if (stored === undefined) {
      // A fresh card's cardcf: all counters zero (minidriver specification §3.8).
      return p2 === DataObject.CARDCF ? [new Uint8Array(6), SW.OK] : [new Uint8Array(0), SW.NO_DATA];
    }
    return [bytesOf(stored), SW.OK];
  }

  /** P1: 00 write an existing object (cardcf always exists), 01 create an empty one, 02 delete one. */
  #putData(p1: number, p2: number, data: Uint8Array): number {
    const isCertificate = p2 >= DataObject.CERTIFICATE_BASE && p2 < DataObject.CERTIFICATE_BASE + CONTAINER_COUNT;
    if (p2 !== DataObject.CARDCF && !isCertificate) return SW.WRONG_P1P2;
    if (isCertificate && !this.#userVerified) return SW.SECURITY;
    const exists = p2 === DataObject.CARDCF || this.#state.objects[p2] !== undefined;
    switch (p1) {
      case 0x00:
        if (!exists) return SW.NO_DATA;
        if (data.length > MAX_OBJECT_SIZE) return SW.FULL;
        this.#state.objects[p2] = hex(data);
        return SW.OK;
      case 0x01:
        if (exists) return SW.EXISTS;
        this.#state.objects[p2] = '';
        return SW.OK;
      case 0x02:
        if (!exists || p2 === DataObject.CARDCF) return SW.NO_DATA;
        delete this.#state.objects[p2];
        return SW.OK;
      default:
        return SW.WRONG_P1P2;
    }
  }

  #verify(p1: number, p2: number, pin: Uint8Array): number {
    if (p2 !== USER_PIN_REFERENCE) return SW.NOT_FOUND;
    if (p1 === 0xff) {
      this.#userVerified = false;
      return SW.OK;
    }
    if (p1 !== 0x00) return SW.WRONG_P1P2;
    if (pin.length === 0) return this.#userVerified ? SW.OK : 0x63c0 | this.#state.pinTries;
    return this.#checkPin(pin);
  }

  #checkPin(pin: Uint8Array): number {
    if (this.#state.pinTries === 0) return SW.BLOCKED;
    if (!same(pin, bytesOf(this.#state.pin))) {
      this.#state.pinTries--;
      this.#userVerified = false;
      return this.#state.pinTries === 0 ? SW.BLOCKED : 0x63c0 | this.#state.pinTries;
    }
    this.#state.pinTries = PIN_TRIES;
    this.#userVerified = true;
    return SW.OK;
  }

  #changePin(p2: number, data: Uint8Array): number {
    if (p2 !== USER_PIN_REFERENCE) return SW.NOT_FOUND;
    const split = splitSecrets(data);
    if (!split) return SW.WRONG_DATA;
    const status = this.#checkPin(split.first);
    if (status !== SW.OK) return status;
    this.#state.pin = hex(split.second);
    return SW.OK;
  }

  #resetRetryCounter(p2: number, data: Uint8Array): number {
    if (p2 !== USER_PIN_REFERENCE) return SW.NOT_FOUND;
    const split = splitSecrets(data);
    if (!split) return SW.WRONG_DATA;
    if (this.#state.pukTries === 0) return SW.BLOCKED;
    if (!same(split.first, bytesOf(this.#state.puk))) {
      this.#state.pukTries--;
      return this.#state.pukTries === 0 ? SW.BLOCKED : 0x63c0 | this.#state.pukTries;
    }
    this.#state.pukTries = PIN_TRIES;
    this.#state.pin = hex(split.second);
    this.#state.pinTries = PIN_TRIES;
    return SW.OK;
  }

  #keyPair(p1: number, container: number): [Uint8Array, number] {
    const none = new Uint8Array(0);
    if (container >= CONTAINER_COUNT) return [none, SW.WRONG_P1P2];
    if (p1 === 0x81) {
      const d = this.#state.keys[container];
      return d === undefined ? [none, SW.NO_DATA] : [publicPoint(d), SW.OK];
    }
    if (p1 !== 0x00) return [none, SW.WRONG_P1P2];
    if (!this.#userVerified) return [none, SW.SECURITY];
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const d = privateKey.export({ format: 'jwk' }).d as string;
    this.#state.keys[container] = d;
    return [publicPoint(d), SW.OK];
  }

  #deleteKey(container: number): number {
    if (container >= CONTAINER_COUNT) return SW.WRONG_P1P2;
    if (!this.#userVerified) return SW.SECURITY;
    delete this.#state.keys[container];
    return SW.OK;
  }

  /** ECDSA over the hash the host sent (left-most 256 bits), answered as r || s. */
  #sign(p1: number, container: number, hash: Uint8Array): [Uint8Array, number] {
    const none = new Uint8Array(0);
    if (p1 !== 0x9e || container >= CONTAINER_COUNT) return [none, SW.WRONG_P1P2];
    if (!this.#userVerified) return [none, SW.SECURITY];
    const d = this.#state.keys[container];
    if (d === undefined) return [none, SW.NO_DATA];
    if (hash.length < 20 || hash.length > 64) return [none, SW.WRONG_DATA];
    return [ecdsaSignHash(d, hash), SW.OK];
  }
}

/** `n first second` -> the two secrets; undefined when n does not fit. */
function splitSecrets(data: Uint8Array): { first: Uint8Array; second: Uint8Array } | undefined {
  const length = data[0];
  if (length === undefined || length === 0 || 1 + length >= data.length) return undefined;
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

/** The uncompressed point 04 || X || Y of a private key. */
function publicPoint(d: string): Uint8Array {
  const jwk = privateKeyOf(d).export({ format: 'jwk' });
  return Uint8Array.of(
    0x04,
    ...Buffer.from(jwk.x as string, 'base64url'),
    ...Buffer.from(jwk.y as string, 'base64url'),
  );
}

/**
 * ECDSA (FIPS 186-4 §6.4) over a hash computed by the host: node:crypto signs only messages it hashes
 * itself, so R = kG comes from an ECDH key with private key k and the rest is modular arithmetic.
 */
function ecdsaSignHash(d: string, hash: Uint8Array): Uint8Array {
  const privateScalar = toBigInt(Buffer.from(d, 'base64url'));
  const e = toBigInt(hash.slice(0, 32));
  for (;;) {
    const k = toBigInt(randomBytes(32));
    if (k === 0n || k >= P256_ORDER) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(toBytes32(k));
    const r = toBigInt(ecdh.getPublicKey().subarray(1, 33)) % P256_ORDER;
    if (r === 0n) continue;
    const s = (modInverse(k, P256_ORDER) * ((e + r * privateScalar) % P256_ORDER)) % P256_ORDER;
    if (s === 0n) continue;
    return Uint8Array.of(...toBytes32(r), ...toBytes32(s));
  }
}
