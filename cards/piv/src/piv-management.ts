/**
 * @packageDocumentation
 * Management of a YubiKey-class PIV card beyond the minidriver contract, run through
 * `CardSession.manage` (one session transaction): reset of the PIV application, the PIN and PUK retry
 * limits, the management key with its algorithm (3DES, AES-128/192/256) and touch requirement,
 * attestation of a generated key (slot F9), key generation with a touch policy, and a slot's policies.
 * The instructions are Yubico's PIV extensions (docs/spec/piv.md §6; https://developers.yubico.com/PIV/):
 * SET PIN RETRIES FA, RESET FB, ATTEST F9, SET MANAGEMENT KEY FF, GET METADATA F7, GENERATE 47 with the
 * AA/AB policy tags. A card without them answers SCARD_E_UNSUPPORTED_FEATURE. What the contract can do
 * (PUK change, PIN policy at key generation, key import, changing the management key within its
 * algorithm) is done through the contract by the caller, not here.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { CardManagementAccess } from '@minidriver/core';
import { type CardChannel, type CommandApdu, createCardChannel, decodeTlv, encodeTlv } from '@minidriver/iso7816';
import { ScardError } from '@minidriver/spec';
import { managementKeyLength, PivApplication } from './piv-application.js';
import { MANAGEMENT_KEY_REFERENCE, PIN_REFERENCE, PivAlgorithmId, PUK_REFERENCE } from './piv-commands.js';
import { decodeGeneratedKey, type PivPublicKey } from './piv-objects.js';
import { CONTAINER_SLOTS, containerOfSlot, slotName, slotOfContainer } from './piv-slots.js';
import { pivStatusError } from './piv-status.js';

/** The plugin name (manifest `name`) this management applies to. */
export const PIV_PLUGIN_NAME = 'PIV';

/** Management key algorithms by name. */
export const MANAGEMENT_KEY_ALGORITHMS = {
  '3des': PivAlgorithmId.TDES,
  aes128: PivAlgorithmId.AES128,
  aes192: PivAlgorithmId.AES192,
  aes256: PivAlgorithmId.AES256,
} as const;
export type ManagementKeyAlgorithmName = keyof typeof MANAGEMENT_KEY_ALGORITHMS;

/** YubiKey PIN policies (tag AA) by name; `default` leaves the slot's default. */
export const PIN_POLICIES = { default: 0x00, never: 0x01, once: 0x02, always: 0x03 } as const;
export type PinPolicyName = keyof typeof PIN_POLICIES;
/** YubiKey touch policies (tag AB) by name. */
export const TOUCH_POLICIES = { default: 0x00, never: 0x01, always: 0x02, cached: 0x03 } as const;
export type TouchPolicyName = keyof typeof TOUCH_POLICIES;

/** Key algorithms GENERATE takes, by name. */
export const KEY_ALGORITHMS = {
  rsa1024: PivAlgorithmId.RSA1024,
  rsa2048: PivAlgorithmId.RSA2048,
  rsa3072: PivAlgorithmId.RSA3072,
  rsa4096: PivAlgorithmId.RSA4096,
  p256: PivAlgorithmId.ECC_P256,
  p384: PivAlgorithmId.ECC_P384,
} as const;
export type KeyAlgorithmName = keyof typeof KEY_ALGORITHMS;

/**
 * The names of the PIV containers: the slot in hex (`9a`, `9c`, `9d`, `9e`, `82`..`95`) → container index
 * (the plugin's fixed table, docs/spec/piv.md §10.5).
 */
export const CONTAINER_NAMES: ReadonlyMap<string, number> = new Map(
  CONTAINER_SLOTS.map((slot, index) => [slotName(slot), index]),
);

/** What the card says about its management key (GET METADATA 9B). */
export interface ManagementKeyInfo {
  readonly algorithm: ManagementKeyAlgorithmName;
  /** Touch needed to authenticate it; undefined when the card cannot tell (no metadata). */
  readonly touchRequired?: boolean;
  /** Still the factory default key; undefined when the card cannot tell. */
  readonly isDefault?: boolean;
}

/** What the card says about a slot's key (GET METADATA of the slot). */
export interface SlotKeyInfo {
  readonly slot: string;
  readonly algorithm: KeyAlgorithmName | 'unknown';
  readonly pinPolicy: PinPolicyName;
  readonly touchPolicy: TouchPolicyName;
  readonly origin: 'generated' | 'imported' | 'unknown';
}

/** What the card answered is malformed: its data is lost, not the caller's parameter. */
const CARD_DATA = { malformedError: 'SCARD_E_COMM_DATA_LOST' } as const;
const SW_SUCCESS = 0x9000;
const SW_INS_NOT_SUPPORTED = 0x6d00;
const SW_BLOCKED = 0x6983;
/** Bound on the wrong tries spent blocking the PIN or PUK before a reset (a YubiKey allows at most 255). */
const MAX_BLOCKING_TRIES = 256;

function nameOf<T extends Record<string, number>>(table: T, value: number): keyof T | undefined {
  return (Object.keys(table) as (keyof T)[]).find((key) => table[key] === value);
}

function publicKeyObject(key: PivPublicKey): KeyObject {
  if (key.kind === 'rsa') {
    return createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(key.modulus).toString('base64url'),
        e: Buffer.from(key.publicExponent).toString('base64url'),
      },
      format: 'jwk',
    });
  }
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: key.curve,
      x: Buffer.from(key.x).toString('base64url'),
      y: Buffer.from(key.y).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** The slot of a container index (0..23), or SCARD_E_INVALID_PARAMETER. */
export function slotOfContainerIndex(index: number): number {
  const slot = slotOfContainer(index);
  if (slot === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', `container ${index} is not a PIV slot`);
  return slot;
}

/**
 * The management operations of one PIV card inside a `CardSession.manage` transaction. Operations that
 * need the management key (or the PIN) expect the caller to have authenticated it through the contract in
 * the same session (`authenticateEx(ROLE_ADMIN)`, `authenticatePin`).
 */
export class PivManagement {
  readonly #channel: CardChannel;
  readonly #application: PivApplication;

  private constructor(access: CardManagementAccess) {
    this.#channel = createCardChannel(access.transport);
    this.#application = new PivApplication(access.transport);
  }

  /** The management of the card behind `access`; SCARD_E_UNSUPPORTED_FEATURE when it is not a PIV card. */
  static of(access: CardManagementAccess): PivManagement {
    if (access.pluginName !== PIV_PLUGIN_NAME) {
      throw new ScardError(
        'SCARD_E_UNSUPPORTED_FEATURE',
        `PIV management does not apply to a ${access.pluginName} card`,
      );
    }
    return new PivManagement(access);
  }

  async #send(apdu: CommandApdu, context: string, operation: 'pin' | 'data' = 'data'): Promise<Uint8Array> {
    const response = await this.#channel.send(apdu);
    if (response.statusWord === SW_SUCCESS) return response.data;
    if (response.statusWord === SW_INS_NOT_SUPPORTED) {
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `${context}: this PIV card has no such instruction`, {
        statusWord: response.statusWord,
      });
    }
    throw pivStatusError(response.statusWord, operation, context);
  }

  /**
   * Resets the PIV application to its factory state (YubiKey RESET, FB): every key and certificate is
   * deleted, PIN 123456, PUK 12345678, the default 3DES management key. The card allows it only with PIN
   * and PUK blocked, so both are blocked first with wrong values (as ykman does).
   */
  async reset(): Promise<void> {
    const wrong = new Uint8Array(8).fill(0xff);
    for (let tries = 0; tries < MAX_BLOCKING_TRIES; tries++) {
      const answer = await this.#channel.send({ cla: 0, ins: 0x20, p1: 0, p2: PIN_REFERENCE, data: wrong });
      if (answer.statusWord === SW_BLOCKED) break;
      // A wrong PIN that happened to be right still counts as a try spent: log out and go on.
      if (answer.statusWord === SW_SUCCESS) await this.#application.logoutPin();
    }
    // RESET RETRY COUNTER with a wrong PUK and a well-formed new PIN until the PUK is blocked.
    const data = Uint8Array.of(...wrong, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0xff, 0xff);
    for (let tries = 0; tries < MAX_BLOCKING_TRIES; tries++) {
      const answer = await this.#channel.send({ cla: 0, ins: 0x2c, p1: 0, p2: PIN_REFERENCE, data });
      if (answer.statusWord === SW_BLOCKED) break;
    }
    await this.#send({ cla: 0, ins: 0xfb, p1: 0, p2: 0 }, 'RESET');
  }

  /**
   * Sets how many wrong tries the PIN and the PUK allow (1..255, YubiKey SET PIN RETRIES, FA). Needs the
   * management key and the PIN verified; the card then resets PIN and PUK to their defaults (123456 and
   * 12345678), as a YubiKey does.
   */
  async setPinRetries(pinRetries: number, pukRetries: number): Promise<void> {
    for (const [name, value] of [
      ['PIN', pinRetries],
      ['PUK', pukRetries],
    ] as const) {
      if (!Number.isInteger(value) || value < 1 || value > 255) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', `${name} retries must be 1..255`);
      }
    }
    await this.#send({ cla: 0, ins: 0xfa, p1: pinRetries, p2: pukRetries }, 'SET PIN RETRIES');
  }

  /** The management key's algorithm, touch requirement and whether it is the default (GET METADATA 9B). */
  async managementKeyInfo(): Promise<ManagementKeyInfo> {
    const response = await this.#channel.send({ cla: 0, ins: 0xf7, p1: 0, p2: MANAGEMENT_KEY_REFERENCE });
    if (response.statusWord !== SW_SUCCESS) return { algorithm: '3des' };
    const items = decodeTlv(response.data, CARD_DATA);
    const algorithmId = items.find((item) => item.tag === 0x01)?.value[0] ?? PivAlgorithmId.TDES;
    const policy = items.find((item) => item.tag === 0x02)?.value;
    const isDefault = items.find((item) => item.tag === 0x05)?.value[0];
    return {
      algorithm: nameOf(MANAGEMENT_KEY_ALGORITHMS, algorithmId) ?? '3des',
      ...(policy?.length === 2 ? { touchRequired: policy[1] !== TOUCH_POLICIES.never } : {}),
      ...(isDefault === undefined ? {} : { isDefault: isDefault === 1 }),
    };
  }

  /**
   * Sets a new management key of `algorithm` (YubiKey SET MANAGEMENT KEY, FF; AES needs firmware 5.4+),
   * optionally requiring touch. Needs the current management key authenticated.
   */
  async setManagementKey(
    algorithm: ManagementKeyAlgorithmName,
    key: Uint8Array,
    options: { readonly requireTouch?: boolean } = {},
  ): Promise<void> {
    const algorithmId = MANAGEMENT_KEY_ALGORITHMS[algorithm];
    if (algorithmId === undefined)
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'unknown management key algorithm');
    if (!(key instanceof Uint8Array) || key.length !== managementKeyLength(algorithmId)) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `a ${algorithm} management key is ${managementKeyLength(algorithmId)} bytes`,
      );
    }
    const data = Uint8Array.of(algorithmId, MANAGEMENT_KEY_REFERENCE, key.length, ...key);
    try {
      await this.#send(
        { cla: 0, ins: 0xff, p1: 0xff, p2: options.requireTouch ? 0xfe : 0xff, data },
        'SET MANAGEMENT KEY',
      );
    } finally {
      data.fill(0);
    }
  }

  /** The PIN or PUK retry counters (GET METADATA 80/81), undefined when the card cannot tell. */
  async retries(which: 'pin' | 'puk'): Promise<{ total: number; left: number } | undefined> {
    const metadata = await this.#application.getReferenceMetadata(which === 'pin' ? PIN_REFERENCE : PUK_REFERENCE);
    return metadata === undefined ? undefined : { total: metadata.totalRetries, left: metadata.retriesLeft };
  }

  /**
   * The attestation certificate (DER) of the key in container `index` (YubiKey ATTEST, F9): an X.509
   * certificate for the slot's public key signed by the attestation key of slot F9, stating firmware,
   * serial number and the key's PIN and touch policies. Only keys generated on the card can be attested.
   */
  async attest(index: number): Promise<Uint8Array> {
    const slot = slotOfContainerIndex(index);
    const response = await this.#channel.send({ cla: 0, ins: 0xf9, p1: slot, p2: 0, le: 256 });
    if (response.statusWord === SW_SUCCESS) return response.data;
    const context = `ATTEST ${slotName(slot)}`;
    if (response.statusWord === SW_INS_NOT_SUPPORTED) {
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `${context}: this PIV card cannot attest keys`);
    }
    if (response.statusWord === 0x6a88) {
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `${context}: the slot holds no key`);
    }
    if (response.statusWord === 0x6a80) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `${context}: only a key generated on the card can be attested (this one was imported)`,
      );
    }
    throw pivStatusError(response.statusWord, 'data', context);
  }

  /** The attestation key's certificate (object 5FFF01), undefined when the card holds none. */
  async attestationCertificate(): Promise<Uint8Array | undefined> {
    const response = await this.#application.readObject(0x5fff01);
    if (response === undefined) return undefined;
    const object = decodeTlv(response, CARD_DATA).find((item) => item.tag === 0x53);
    const certificate =
      object === undefined ? undefined : decodeTlv(object.value, CARD_DATA).find((item) => item.tag === 0x70);
    return certificate?.value;
  }

  /**
   * Generates a key in container `index` with a PIN and touch policy (GENERATE with tags AA and AB) and
   * deletes the slot's certificate, which certified the replaced key. Needs the management key. Returns
   * the new public key.
   */
  async generateKey(
    index: number,
    algorithm: KeyAlgorithmName,
    policies: { readonly pinPolicy?: PinPolicyName; readonly touchPolicy?: TouchPolicyName },
  ): Promise<KeyObject> {
    const slot = slotOfContainerIndex(index);
    const algorithmId = KEY_ALGORITHMS[algorithm];
    if (algorithmId === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'unknown key algorithm');
    const pinPolicy = PIN_POLICIES[policies.pinPolicy ?? 'default'];
    const touchPolicy = TOUCH_POLICIES[policies.touchPolicy ?? 'default'];
    if (pinPolicy === undefined || touchPolicy === undefined) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'unknown PIN or touch policy');
    }
    const template = Uint8Array.of(
      ...encodeTlv(0x80, Uint8Array.of(algorithmId)),
      ...(pinPolicy === PIN_POLICIES.default ? [] : encodeTlv(0xaa, Uint8Array.of(pinPolicy))),
      ...(touchPolicy === TOUCH_POLICIES.default ? [] : encodeTlv(0xab, Uint8Array.of(touchPolicy))),
    );
    const response = await this.#send(
      { cla: 0, ins: 0x47, p1: 0, p2: slot, data: encodeTlv(0xac, template), le: 256 },
      `GENERATE in slot ${slotName(slot)}`,
    );
    const publicKey = decodeGeneratedKey(response, algorithmId);
    await this.#application.deleteCertificate(slot);
    return publicKeyObject(publicKey);
  }

  /** The key in container `index`: algorithm, policies and origin (GET METADATA, firmware 5.3+). */
  async slotKey(index: number): Promise<SlotKeyInfo | undefined> {
    const slot = slotOfContainerIndex(index);
    const response = await this.#channel.send({ cla: 0, ins: 0xf7, p1: 0, p2: slot });
    if (response.statusWord === 0x6a88) return undefined;
    if (response.statusWord === SW_INS_NOT_SUPPORTED) {
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'this PIV card has no key metadata (firmware 5.3+)');
    }
    if (response.statusWord !== SW_SUCCESS)
      throw pivStatusError(response.statusWord, 'data', `GET METADATA ${slotName(slot)}`);
    const items = decodeTlv(response.data, CARD_DATA);
    const algorithmId = items.find((item) => item.tag === 0x01)?.value[0];
    const policy = items.find((item) => item.tag === 0x02)?.value;
    const origin = items.find((item) => item.tag === 0x03)?.value[0];
    return {
      slot: slotName(slot),
      algorithm: (algorithmId === undefined ? undefined : nameOf(KEY_ALGORITHMS, algorithmId)) ?? 'unknown',
      pinPolicy: nameOf(PIN_POLICIES, policy?.[0] ?? 0) ?? 'default',
      touchPolicy: nameOf(TOUCH_POLICIES, policy?.[1] ?? 0) ?? 'default',
      origin: origin === 1 ? 'generated' : origin === 2 ? 'imported' : 'unknown',
    };
  }
}

/** The container index of a slot name (`9a`), or undefined. */
export function containerOfSlotName(name: string): number | undefined {
  const slot = /^[0-9a-f]{2}$/i.test(name) ? Number.parseInt(name, 16) : Number.NaN;
  return Number.isNaN(slot) ? undefined : containerOfSlot(slot);
}
