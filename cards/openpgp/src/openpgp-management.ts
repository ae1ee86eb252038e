/**
 * @packageDocumentation
 * Management of an OpenPGP card beyond the minidriver contract, run through `CardSession.manage` (one
 * session transaction): factory reset (TERMINATE DF + ACTIVATE FILE), the cardholder data (name 5B,
 * language 5F2D, sex 5F35, URL 5F50, login 5E) and the key slots' attributes (C1-C3, fingerprints C5,
 * generation dates CD, key status DE) — docs/spec/openpgp.md §3, https://gnupg.org/ftp/specs/. What the
 * contract can do (PW1/PW3 change, the Resetting Code through changeAuthenticatorEx, key generation and
 * import) is done through the contract by the caller.
 */
import type { CardManagementAccess } from '@minidriver/core';
import { type CardChannel, createCardChannel, decodeTlv, type TlvNode } from '@minidriver/iso7816';
import { ScardError } from '@minidriver/spec';
import { getDataCommand, putDataCommand } from './openpgp-commands.js';
import { decodeApplicationData, KeyStatus } from './openpgp-objects.js';

/** The plugin name (manifest `name`) this management applies to. */
export const OPENPGP_PLUGIN_NAME = 'OpenPGP';

/** The OpenPGP containers by name: `sig` 0, `dec` 1, `aut` 2 (the plugin's container indexes). */
export const CONTAINER_NAMES: ReadonlyMap<string, number> = new Map([
  ['sig', 0],
  ['dec', 1],
  ['aut', 2],
]);

/** The cardholder data objects, as text. */
export interface CardholderData {
  /** 5B, "Surname<<Given names" as the card stores it (ISO/IEC 7501-1 style). */
  readonly name: string;
  /** 5F2D, e.g. "en" or "deen" (2-8 characters, ISO 639-1 pairs). */
  readonly language: string;
  /** 5F35 (ISO/IEC 5218): "male", "female" or "unspecified". */
  readonly sex: 'male' | 'female' | 'unspecified';
  /** 5F50, the URL of the public key. */
  readonly url: string;
  /** 5E, login data. */
  readonly login: string;
}

/** One key slot as the card describes it. */
export interface KeySlotInfo {
  readonly slot: 'sig' | 'dec' | 'aut';
  /** The algorithm the slot holds or will generate: `rsa2048`, `nistp256 ECDSA`, `ed25519`, or the raw hex. */
  readonly algorithm: string;
  /** C5: 40 hex digits, null when the slot is empty. */
  readonly fingerprint: string | null;
  /** CD: ISO 8601 date of generation, null when unset. */
  readonly created: string | null;
  /** DE (v3.3+): generated, imported, absent; `unknown` on cards without DE. */
  readonly status: 'absent' | 'generated' | 'imported' | 'unknown';
}

/** What the card answered is malformed: its data is lost, not the caller's parameter. */
const CARD_DATA = { malformedError: 'SCARD_E_COMM_DATA_LOST' } as const;
const SW_SUCCESS = 0x9000;
const SW_BLOCKED = 0x6983;
/** Upper bound on the wrong VERIFYs spent blocking a PIN before a reset. */
const MAX_BLOCKING_TRIES = 16;
const SLOT_NAMES = ['sig', 'dec', 'aut'] as const;
const SEX = { male: '1', female: '2', unspecified: '9' } as const;
/** Curve OIDs (content bytes, hex) the key listing names. */
const CURVES: Readonly<Record<string, string>> = {
  '2a8648ce3d030107': 'nistp256',
  '2b81040022': 'nistp384',
  '2b81040023': 'nistp521',
  '2b2403030208010107': 'brainpoolP256r1',
  '2b240303020801010b': 'brainpoolP384r1',
  '2b240303020801010d': 'brainpoolP512r1',
  '2b06010401da470f01': 'ed25519',
  '2b060104019755010501': 'cv25519',
};
const ALGORITHM_NAMES: Readonly<Record<number, string>> = { 18: 'ECDH', 19: 'ECDSA', 22: 'EdDSA' };

/** A readable name for the algorithm attributes C1/C2/C3. */
export function describeAlgorithmAttributes(attributes: Uint8Array): string {
  const id = attributes[0];
  if (id === 0x01 && attributes.length >= 3) return `rsa${((attributes[1] ?? 0) << 8) | (attributes[2] ?? 0)}`;
  if (id !== undefined && ALGORITHM_NAMES[id] !== undefined) {
    let oid = Buffer.from(attributes.subarray(1)).toString('hex');
    if (CURVES[oid] === undefined && (oid.endsWith('ff') || oid.endsWith('00'))) oid = oid.slice(0, -2);
    const curve = CURVES[oid];
    if (curve !== undefined) return id === 0x16 || curve === 'cv25519' ? curve : `${curve} ${ALGORITHM_NAMES[id]}`;
  }
  return Buffer.from(attributes).toString('hex');
}

function text(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function child(nodes: readonly TlvNode[], tag: number): Uint8Array | undefined {
  for (const node of nodes) {
    if (node.tag === tag) return node.value;
    const inner = node.children === undefined ? undefined : child(node.children, tag);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/**
 * The management operations of one OpenPGP card inside a `CardSession.manage` transaction. Writes of
 * cardholder data need PW3 verified through the contract in the same session (`authenticateEx(ROLE_ADMIN)`).
 */
export class OpenPgpManagement {
  readonly #channel: CardChannel;

  private constructor(access: CardManagementAccess) {
    this.#channel = createCardChannel(access.transport, { extendedLength: true });
  }

  /** The management of the card behind `access`; SCARD_E_UNSUPPORTED_FEATURE when it is not an OpenPGP card. */
  static of(access: CardManagementAccess): OpenPgpManagement {
    if (access.pluginName !== OPENPGP_PLUGIN_NAME) {
      throw new ScardError(
        'SCARD_E_UNSUPPORTED_FEATURE',
        `OpenPGP management does not apply to a ${access.pluginName} card`,
      );
    }
    return new OpenPgpManagement(access);
  }

  /**
   * Factory reset: PW1 and PW3 are blocked with wrong values (so no PIN is needed, as with GnuPG's
   * factory-reset), then TERMINATE DF and ACTIVATE FILE. Keys, certificates, cardholder data and the
   * Resetting Code are erased; PW1 is 123456 and PW3 12345678 again.
   */
  async reset(): Promise<void> {
    const wrong = new Uint8Array(8);
    for (const reference of [0x81, 0x83]) {
      for (let tries = 0; tries < MAX_BLOCKING_TRIES; tries++) {
        const answer = await this.#channel.send({ cla: 0, ins: 0x20, p1: 0, p2: reference, data: wrong });
        if (answer.statusWord === SW_BLOCKED) break;
      }
    }
    await this.#channel.transmitOk({ cla: 0, ins: 0xe6, p1: 0, p2: 0 }, 'TERMINATE DF');
    await this.#channel.transmitOk({ cla: 0, ins: 0x44, p1: 0, p2: 0 }, 'ACTIVATE FILE');
    const select = await this.#channel.send({
      cla: 0,
      ins: 0xa4,
      p1: 0x04,
      p2: 0x00,
      data: Uint8Array.of(0xd2, 0x76, 0x00, 0x01, 0x24, 0x01),
    });
    if (select.statusWord !== SW_SUCCESS) {
      throw new ScardError('SCARD_E_UNEXPECTED', 'the OpenPGP application did not come back after ACTIVATE FILE', {
        statusWord: select.statusWord,
      });
    }
  }

  /** The cardholder data (GET DATA 65, 5F50, 5E). */
  async cardholder(): Promise<CardholderData> {
    const related = decodeTlv(await this.#channel.transmitOk(getDataCommand(0x65), 'GET DATA 65'), CARD_DATA);
    const url = await this.#channel.transmitOk(getDataCommand(0x5f50), 'GET DATA 5F50');
    const login = await this.#channel.transmitOk(getDataCommand(0x5e), 'GET DATA 5E');
    const sexCode = text(child(related, 0x5f35));
    return {
      name: text(child(related, 0x5b)),
      language: text(child(related, 0x5f2d)),
      sex: sexCode === SEX.male ? 'male' : sexCode === SEX.female ? 'female' : 'unspecified',
      url: text(url),
      login: text(login),
    };
  }

  /** Writes the cardholder data given (PUT DATA each; PW3 needed). Lengths are checked by the card. */
  async setCardholder(data: Partial<CardholderData>): Promise<void> {
    const encoder = new TextEncoder();
    const writes: [number, Uint8Array, string][] = [];
    if (data.name !== undefined) writes.push([0x5b, encoder.encode(data.name), 'name']);
    if (data.language !== undefined) {
      if (!/^([a-z]{2}){0,4}$/.test(data.language)) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'language must be up to four two-letter ISO 639-1 codes');
      }
      writes.push([0x5f2d, encoder.encode(data.language), 'language']);
    }
    if (data.sex !== undefined) {
      const code = SEX[data.sex];
      if (code === undefined)
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'sex must be male, female or unspecified');
      writes.push([0x5f35, encoder.encode(code), 'sex']);
    }
    if (data.url !== undefined) writes.push([0x5f50, encoder.encode(data.url), 'URL']);
    if (data.login !== undefined) writes.push([0x5e, encoder.encode(data.login), 'login data']);
    for (const [tag, value, what] of writes) {
      await this.#channel.transmitOk(
        putDataCommand(tag, value),
        `PUT DATA ${tag.toString(16).toUpperCase()} (${what})`,
      );
    }
  }

  /** The three key slots: algorithm attributes, fingerprint, generation date, status. */
  async keys(): Promise<KeySlotInfo[]> {
    const raw = await this.#channel.transmitOk(getDataCommand(0x6e), 'GET DATA 6E');
    const data = decodeApplicationData(raw);
    const nodes = decodeTlv(raw, CARD_DATA);
    const dates = child(nodes, 0xcd);
    const attributes = [child(nodes, 0xc1), child(nodes, 0xc2), child(nodes, 0xc3)];
    return SLOT_NAMES.map((slot, index) => {
      const fingerprint = data.fingerprints[index] as Uint8Array;
      const empty = fingerprint.every((byte) => byte === 0);
      const seconds =
        dates === undefined || dates.length < 12
          ? 0
          : new DataView(dates.buffer, dates.byteOffset + index * 4, 4).getUint32(0);
      const status = data.keyStatus?.[index];
      return {
        slot,
        algorithm: describeAlgorithmAttributes(attributes[index] ?? new Uint8Array(0)),
        fingerprint: empty ? null : Buffer.from(fingerprint).toString('hex'),
        created: seconds === 0 ? null : new Date(seconds * 1000).toISOString(),
        status:
          status === undefined
            ? 'unknown'
            : status === KeyStatus.generated
              ? 'generated'
              : status === KeyStatus.imported
                ? 'imported'
                : 'absent',
      };
    });
  }
}
