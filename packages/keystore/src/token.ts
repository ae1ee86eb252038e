/**
 * @packageDocumentation
 * A token: one card in one reader, opened through the loader with the plugin its ATR (or AID) chose. It
 * tells what the card is (label, serial, plugin, read-only), its PINs, its keys, and does the token-level
 * operations: login/logout under the PIN cache policy, key generation and certificate import.
 */
import { X509Certificate } from 'node:crypto';
import { certificateFileName } from '@minidriver/card-kit';
import type { CardSession } from '@minidriver/core';
import type { Resolution } from '@minidriver/loader';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CardProperty,
  FileAccessCondition,
  LogicalName,
  type PinId,
  ScardError,
  toHex,
} from '@minidriver/spec';
import { readOptional } from './absent.js';
import {
  type KeyAlgorithm,
  type KeyAlgorithmName,
  type KeyUsage,
  keySpecFor,
  parseKeyAlgorithm,
} from './algorithms.js';
import type { Key } from './key.js';
import { certificateKindOf, listKeys } from './key-listing.js';
import { checkBytes, checkChoice, checkOptions, describeValue } from './options.js';
import {
  type PinDescription,
  type PinPrompt,
  type PinRole,
  type PinSource,
  readAuthenticatedState,
  readPinFacts,
  readRetriesLeft,
} from './pins.js';
import { isRemoval, needsAuthentication, TokenCore } from './token-core.js';

/** The plugin serving a token, as the loader chose it. */
export interface TokenPlugin {
  /** The npm package of the plugin (`@minidriver/card-piv`). */
  readonly packageName: string;
  /** The plugin's manifest name (`PIV`). */
  readonly name: string;
  /** The card's name from the matching ATR pattern (`YubiKey 5`), else the manifest name. */
  readonly cardName: string;
  /** How it was chosen: by ATR, or by AID probing. */
  readonly method: Resolution['method'];
}

/** Options of {@link openToken}. */
export interface OpenTokenOptions {
  /** How the loader chose the plugin (default: the session's plugin name, method `atr`). */
  readonly resolution?: Pick<Resolution, 'packageName' | 'pluginName' | 'cardName' | 'method'>;
  /** The reader's name (default empty). */
  readonly readerName?: string;
  /** The card's ATR (default empty). */
  readonly atr?: Uint8Array;
  /** Asked for a PIN when an operation needs one (see {@link Token.login}). */
  readonly prompt?: PinPrompt;
}

/**
 * A token over a CardSession the caller opened and keeps owning (it is not closed with the token), for
 * programs that manage their own connection (a command-line tool, a server). A removal is seen only through
 * the session's errors (there is no store to emit `token-removed`).
 */
export function openToken(session: CardSession, options?: OpenTokenOptions): Promise<Token> {
  let checked: Partial<OpenTokenOptions>;
  try {
    checked = checkOptions<OpenTokenOptions>(options, ['resolution', 'readerName', 'atr', 'prompt'], 'openToken');
    if (session === null || typeof session !== 'object' || typeof session.signData !== 'function') {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'openToken needs a CardSession');
    }
  } catch (error) {
    return Promise.reject(ScardError.from(error));
  }
  return Token.open({
    session,
    resolution: checked.resolution ?? {
      packageName: session.pluginName,
      pluginName: session.pluginName,
      cardName: session.pluginName,
      method: 'atr',
    },
    readerName: checked.readerName ?? '',
    atr: checked.atr ?? new Uint8Array(0),
    prompt: checked.prompt,
    onRemoved: () => undefined,
  });
}

/** Options of {@link Token.generateKey}. */
export interface GenerateKeyOptions {
  /**
   * What the key is for. RSA: `sign` → a signature-only key (AT_SIGNATURE), otherwise a key exchange key that
   * signs and decrypts. EC: `derive` → an ECDH key, otherwise ECDSA. Without it, the algorithm's default, and
   * the other kind when the card's container takes only that (an OpenPGP signature slot, a PIV 9C slot).
   */
  readonly usage?: KeyUsage;
  /**
   * The PIN that will protect the key (a role name or PIN id; CardCreateContainerEx). Default: the user PIN
   * (CardCreateContainer). On PIV, `signature` makes a PIN-always key (always-prompt).
   */
  readonly pin?: PinRole | number;
}

/** What a token is opened with (internal). */
export interface TokenOpenInit {
  readonly session: CardSession;
  readonly resolution: Pick<Resolution, 'packageName' | 'pluginName' | 'cardName' | 'method'>;
  readonly readerName: string;
  readonly atr: Uint8Array;
  readonly prompt: PinPrompt | undefined;
  readonly onRemoved: (token: Token) => void;
  /** Whether the card is still in its reader, when the store can tell. */
  readonly cardPresent?: () => Promise<boolean>;
}

function printableSerial(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('latin1');
  return /^[\x20-\x7e]+$/.test(text) ? text : toHex(bytes);
}

function checkContainer(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `container ${describeValue(value, 16)} is not 0..255`);
  }
  return value;
}

/**
 * One card in one reader. Independent of every other token: removing another card never disturbs it.
 * After its card is removed every call fails with SCARD_W_REMOVED_CARD (the store emits `token-removed`).
 */
export class Token {
  /** The reader's name (or the simulated reader's). */
  readonly readerName: string;
  /** A name for people: the card's name as the loader matched it (`YubiKey 5`, `OpenPGP card 3.4`). */
  readonly label: string;
  /** The card's serial number (CP_CARD_SERIAL_NO, printable or hex; else the card GUID in hex). */
  readonly serial: string;
  readonly plugin: TokenPlugin;
  /** The card is read-only (CP_CARD_READ_ONLY): no key generation or certificate writes. */
  readonly readOnly: boolean;
  /**
   * The open CardSession: the minidriver contract itself, for what a key store does not cover (files,
   * properties). Do not close it; the store does.
   */
  readonly session: CardSession;
  private readonly core: TokenCore;
  private readonly atrBytes: Uint8Array;
  private keyCache: Promise<Key[]> | undefined;

  private constructor(core: TokenCore, init: TokenOpenInit, serial: string, readOnly: boolean) {
    this.core = core;
    this.session = init.session;
    this.readerName = init.readerName;
    this.label = core.label;
    this.serial = serial;
    this.readOnly = readOnly;
    this.atrBytes = new Uint8Array(init.atr);
    this.plugin = Object.freeze({
      packageName: init.resolution.packageName,
      name: init.resolution.pluginName,
      cardName: init.resolution.cardName,
      method: init.resolution.method,
    });
  }

  /** @internal The store opens tokens; reads the card's serial, read-only mode and PINs (in one card transaction). */
  static async open(init: TokenOpenInit): Promise<Token> {
    const session = init.session;
    const { serialBytes, readOnly, pins } = await session.transaction(async () => ({
      serialBytes:
        (await readOptional(() => session.getProperty(CardProperty.CP_CARD_SERIAL_NO))) ??
        (await readOptional(() => session.getProperty(CardProperty.CP_CARD_GUID))),
      readOnly: (await readOptional(() => session.getProperty(CardProperty.CP_CARD_READ_ONLY))) ?? false,
      pins: await readPinFacts(session),
    }));
    let token: Token | undefined;
    const core = new TokenCore({
      session,
      readerName: init.readerName,
      label: init.resolution.cardName,
      pins,
      prompt: init.prompt,
      onRemoved: () => {
        if (token) init.onRemoved(token);
      },
      ...(init.cardPresent ? { cardPresent: init.cardPresent } : {}),
    });
    token = new Token(core, init, serialBytes ? printableSerial(serialBytes) : '', readOnly);
    return token;
  }

  /** The card's ATR (a copy). */
  get atr(): Uint8Array {
    return new Uint8Array(this.atrBytes);
  }

  /** True once the card was removed (or the store closed): every call then fails with SCARD_W_REMOVED_CARD. */
  get removed(): boolean {
    return this.core.removed;
  }

  /** The card's PINs with their type, purpose, cache policy, tries left (where the card tells) and verified state. */
  pins(): Promise<PinDescription[]> {
    return this.core.guard(() =>
      this.session.transaction(async () => {
        const verified = await readAuthenticatedState(this.session);
        const out: PinDescription[] = [];
        for (const facts of this.core.pins.values()) {
          out.push({
            ...facts,
            retriesLeft: await readRetriesLeft(this.session, facts.id),
            verified: (verified & (1 << facts.id)) !== 0,
          });
        }
        return out;
      }),
    );
  }

  /**
   * The keys on the card, with their certificates. Read once and kept until this token changes them
   * (generateKey, importCertificate); `{ refresh: true }` reads the card again.
   */
  keys(options?: { readonly refresh?: boolean }): Promise<Key[]> {
    let checked: Partial<{ refresh: boolean }>;
    try {
      checked = checkOptions<{ refresh: boolean }>(options, ['refresh'], 'keys');
      this.core.requirePresent();
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
    if (checked.refresh === true) this.keyCache = undefined;
    const cached = this.keyCache ?? this.core.guard(() => listKeys(this.core));
    this.keyCache = cached;
    cached.catch(() => {
      if (this.keyCache === cached) this.keyCache = undefined;
    });
    return cached.then((keys) => [...keys]);
  }

  /**
   * Verifies a PIN. `role` is a role name (`user`, `admin`, `signature`, ... see `pins()`) or a PIN id. `pin`:
   * - a string (sent as UTF-8) or bytes; for a challenge/response role (PIV management key) the admin key,
   *   bytes or hex, answered to the card's challenge here;
   * - a prompt, called now and again whenever an operation needs this PIN (always-prompt cache policy, or the
   *   card refusing after a reset or an expired timed cache) — once per need, never again after a wrong PIN;
   * - nothing, for a PIN typed on the reader's PIN pad.
   * A wrong PIN is SCARD_W_WRONG_CHV with `retriesLeft`; a blocked one SCARD_W_CHV_BLOCKED.
   * With the always-prompt policy a PIN value authorises the next operation only.
   */
  login(role: PinRole | number, pin?: PinSource): Promise<void> {
    try {
      this.core.requirePresent();
      const facts = this.core.pinOfRole(role);
      if (pin !== undefined && typeof pin !== 'function' && typeof pin !== 'string' && !(pin instanceof Uint8Array)) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the PIN must be a string, a Uint8Array or a prompt');
      }
      return this.core.login(facts, pin);
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
  }

  /** Ends the verification of `role` (every PIN when omitted) and forgets its prompt. */
  logout(role?: PinRole | number): Promise<void> {
    try {
      const facts = role === undefined ? undefined : this.core.pinOfRole(role);
      return this.core.logout(facts);
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
  }

  /**
   * Generates a key pair in `container` (replacing what it held) and returns the new key. Needs the admin
   * (log in as `admin` first, or have a store prompt). Unknown algorithms or options → SCARD_E_INVALID_PARAMETER;
   * an algorithm the card cannot generate → the card's SCARD_E_UNSUPPORTED_FEATURE / INVALID_PARAMETER.
   */
  async generateKey(
    container: number,
    algorithm: KeyAlgorithmName | KeyAlgorithm,
    options?: GenerateKeyOptions,
  ): Promise<Key> {
    const index = checkContainer(container);
    const parsed = parseKeyAlgorithm(algorithm);
    const checked = checkOptions<GenerateKeyOptions>(options, ['usage', 'pin'], 'generateKey');
    const pinId = checked.pin === undefined ? undefined : this.core.pinOfRole(checked.pin).id;
    const usage =
      checked.usage === undefined
        ? undefined
        : checkChoice(checked.usage, ['sign', 'decrypt', 'derive'] as const, 'usage');
    const first = keySpecFor(parsed, usage ?? (parsed.type === 'rsa' ? 'decrypt' : 'sign'));
    this.requireWritable();
    this.keyCache = undefined;
    const create = (spec: { keySpec: number; keySize: number }) =>
      pinId === undefined
        ? this.session.createContainer(index, CARD_CREATE_CONTAINER_KEY_GEN, spec.keySpec, spec.keySize)
        : this.session.createContainerEx(
            index,
            CARD_CREATE_CONTAINER_KEY_GEN,
            spec.keySpec,
            spec.keySize,
            undefined,
            pinId as PinId,
          );
    const keySpec = await this.core.withAdmin(async () => {
      try {
        await create(first);
        return first.keySpec;
      } catch (error) {
        const refused =
          ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER') ||
          ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE');
        if (usage !== undefined || !refused) throw error;
        // The container takes only the other kind of key: try that once, else report the first refusal.
        const other = keySpecFor(parsed, parsed.type === 'rsa' ? 'sign' : 'derive');
        try {
          await create(other);
        } catch (otherError) {
          // The card checked the key spec first and the admin second: the admin is what is missing.
          if (needsAuthentication(otherError) || isRemoval(otherError)) throw otherError;
          throw error;
        }
        return other.keySpec;
      }
    });
    const key = (await this.keys()).find((candidate) => candidate.container === index && candidate.keySpec === keySpec);
    if (!key) throw new ScardError('SCARD_E_UNEXPECTED', `container ${index} shows no key after generation`);
    return key;
  }

  /**
   * Stores an X.509 certificate (DER) with the key of `container` whose public key it certifies, and returns
   * that key. Needs the admin. Not a certificate, or no key of the container matches → SCARD_E_INVALID_PARAMETER.
   */
  async importCertificate(container: number, der: Uint8Array): Promise<Key> {
    const index = checkContainer(container);
    const bytes = new Uint8Array(checkBytes(der, 'certificate'));
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(bytes);
    } catch {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the certificate is not DER X.509');
    }
    this.requireWritable();
    const key = (await this.keys()).find(
      (candidate) => candidate.container === index && candidate.publicKey.equals(certificate.publicKey),
    );
    if (!key) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `the certificate's public key is no key of container ${index}`);
    }
    const name = certificateFileName(certificateKindOf(key.keySpec), index);
    this.keyCache = undefined;
    await this.core.withAdmin(async () => {
      try {
        await this.session.writeFile(LogicalName.BASE_CSP_DIR, name, bytes);
      } catch (error) {
        if (!ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND')) throw error;
        await this.session.createFile(
          LogicalName.BASE_CSP_DIR,
          name,
          bytes.length,
          FileAccessCondition.EveryoneReadAdminWriteAc,
        );
        await this.session.writeFile(LogicalName.BASE_CSP_DIR, name, bytes);
      }
    });
    const stored = (await this.keys()).find(
      (candidate) => candidate.id === key.id && candidate.keySpec === key.keySpec,
    );
    return stored ?? key;
  }

  /** Deletes container `container` (its keys and certificates). Needs the admin. */
  async deleteContainer(container: number): Promise<void> {
    const index = checkContainer(container);
    this.requireWritable();
    this.keyCache = undefined;
    await this.core.withAdmin(() => this.session.deleteContainer(index));
  }

  /** @internal Marks the token removed (the store calls it when the reader reports the card gone). */
  markRemoved(): void {
    this.core.markRemoved();
  }

  private requireWritable(): void {
    this.core.requirePresent();
    if (this.readOnly) throw new ScardError('SCARD_E_READ_ONLY_CARD', 'the card is read-only (CP_CARD_READ_ONLY)');
  }
}
