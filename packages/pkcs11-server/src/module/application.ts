/**
 * @packageDocumentation
 * One client's PKCS #11 view: its sessions, its login state per token, the handles of the objects it has
 * seen, and the sign/decrypt/find operations in progress. Each connection has its own application, so
 * one client never sees or disturbs another's sessions; they share only the cards.
 */
import { createPublicKey } from 'node:crypto';
import type { EcCurve, KeyAlgorithm, KeyUsage } from '@minidriver/keystore';
import {
  CK_EFFECTIVELY_INFINITE,
  CK_UNAVAILABLE_INFORMATION,
  CKA,
  CKD_NULL,
  CKF_DONT_BLOCK,
  CKF_MECHANISM,
  CKF_SESSION,
  CKF_SLOT,
  CKF_TOKEN,
  CKK,
  CKM,
  CKO,
  CKR,
  CKS,
  CKU,
} from '../pkcs11/constants.js';
import { check, Pkcs11Error } from '../pkcs11/errors.js';
import type { Attribute, AttributeValue } from '../rpc/attributes.js';
import type { Mechanism } from '../rpc/mechanism.js';
import {
  checkMechanism,
  decryptWith,
  mechanismInfo,
  mechanismsOfKey,
  signatureLength,
  signWith,
} from './mechanisms.js';
import {
  CURVE_OIDS,
  keyObjectId,
  matchesTemplate,
  objectsOfKey,
  type Pkcs11Object,
  secretKeyObject,
} from './objects.js';
import { changePin, SO_ROLE, type SoSecret, setUserPin, soLogin, staticPins, USER_ROLE, verifyPin } from './pins.js';
import { SlotEventQueue } from './slot-events.js';
import type { Slot, SlotTable } from './slots.js';
import type { Token, TokenKey, TokenPin } from './token-source.js';

/** Bounds on what one client may hold. */
export interface ApplicationLimits {
  readonly maxSessions: number;
  /** Largest data accumulated by C_SignUpdate / C_DecryptUpdate (bytes). */
  readonly maxOperationData: number;
  /** Most derived (session) keys one session holds at once. */
  readonly maxSessionObjects: number;
  /** Most C_WaitForSlotEvent calls of one client blocked at once (its threads). */
  readonly maxSlotEventWaiters: number;
}

export const DEFAULT_APPLICATION_LIMITS: ApplicationLimits = {
  maxSessions: 64,
  maxOperationData: 1 << 20,
  maxSessionObjects: 64,
  maxSlotEventWaiters: 8,
};

interface Operation {
  readonly kind: 'sign' | 'decrypt';
  readonly key: TokenKey;
  readonly mechanism: Mechanism;
  readonly chunks: Uint8Array[];
  size: number;
  /** A result computed for a length query or a too-small buffer, handed out by the next call. */
  result?: Uint8Array;
}

interface Session {
  readonly handle: number;
  readonly slotId: number;
  readonly token: Token;
  readonly readWrite: boolean;
  found: number[] | undefined;
  operation: Operation | undefined;
  readonly secrets: Map<number, Pkcs11Object>;
}

interface ObjectEntry {
  readonly slotId: number;
  readonly token: Token;
  readonly identity: string;
}

/** Token info as C_GetTokenInfo returns it. */
export interface TokenInfo {
  readonly label: string;
  readonly manufacturer: string;
  readonly model: string;
  readonly serial: string;
  readonly flags: number;
  readonly maxSessions: number;
  readonly sessions: number;
  readonly rwSessions: number;
  readonly minPin: number;
  readonly maxPin: number;
}

/** One client's PKCS #11 state (see the module comment). */
export class Pkcs11Application {
  private initialized = false;
  private readonly sessions = new Map<number, Session>();
  private nextSession = 1;
  private readonly loggedIn = new Map<Token, 'user' | 'so'>();
  private readonly soSecrets = new Map<Token, SoSecret>();
  private slotEvents: SlotEventQueue | undefined;
  private unwatchSlots: (() => void) | undefined;
  private readonly handles = new Map<string, number>();
  private readonly entries = new Map<number, ObjectEntry>();
  private nextObject = 1;
  /** The most retries seen per token and PIN role: fewer now means a wrong PIN was entered. */
  private static readonly maxRetries = new WeakMap<Token, Map<string, number>>();

  constructor(
    private readonly slots: SlotTable,
    private readonly limits: ApplicationLimits = DEFAULT_APPLICATION_LIMITS,
  ) {}

  // ---- general ----------------------------------------------------------------------------------------

  initialize(): void {
    check(!this.initialized, CKR.CRYPTOKI_ALREADY_INITIALIZED);
    this.initialized = true;
    const events = new SlotEventQueue(this.limits.maxSlotEventWaiters);
    this.slotEvents = events;
    this.unwatchSlots = this.slots.onSlotEvent((slotId) => events.push(slotId));
  }

  /**
   * C_Finalize, and the end of a connection: closes every session, logs out what this client logged in, and
   * ends its C_WaitForSlotEvent calls (CKR_CRYPTOKI_NOT_INITIALIZED).
   */
  async finalize(): Promise<void> {
    this.initialized = false;
    this.unwatchSlots?.();
    this.unwatchSlots = undefined;
    this.slotEvents?.end();
    this.slotEvents = undefined;
    for (const session of [...this.sessions.values()]) await this.closeSession(session.handle);
  }

  // ---- slot events ------------------------------------------------------------------------------------

  /**
   * C_WaitForSlotEvent: the slot of an event (a token came or left) not reported yet; with CKF_DONT_BLOCK
   * CKR_NO_EVENT when there is none, else waits for the next one. Only this client's call waits (the
   * connection serves it apart from its other calls); C_Finalize ends it.
   */
  waitForSlotEvent(flags: number): Promise<number> {
    const events = this.slotEvents;
    if (!this.initialized || events === undefined) return Promise.reject(new Pkcs11Error(CKR.CRYPTOKI_NOT_INITIALIZED));
    return events.next((flags & CKF_DONT_BLOCK) !== 0);
  }

  private requireInitialized(): void {
    check(this.initialized, CKR.CRYPTOKI_NOT_INITIALIZED);
  }

  // ---- slots and tokens -------------------------------------------------------------------------------

  slotList(tokenPresent: boolean): number[] {
    this.requireInitialized();
    return this.slots
      .list()
      .filter((slot) => !tokenPresent || presentToken(slot) !== undefined)
      .map((slot) => slot.id);
  }

  private slot(id: number): Slot {
    this.requireInitialized();
    const slot = this.slots.get(id);
    check(slot !== undefined, CKR.SLOT_ID_INVALID);
    return slot;
  }

  slotInfo(id: number): { description: string; flags: number } {
    const slot = this.slot(id);
    let flags = CKF_SLOT.REMOVABLE_DEVICE | CKF_SLOT.HW_SLOT;
    if (presentToken(slot) !== undefined) flags |= CKF_SLOT.TOKEN_PRESENT;
    return { description: slot.reader.name, flags };
  }

  private token(slotId: number): Token {
    const token = presentToken(this.slot(slotId));
    check(token !== undefined, CKR.TOKEN_NOT_PRESENT);
    return token;
  }

  async tokenInfo(slotId: number): Promise<TokenInfo> {
    const token = this.token(slotId);
    const pins = await token.pins();
    const user = pins.find((pin) => pin.role === USER_ROLE);
    const so = pins.find((pin) => pin.role === SO_ROLE);
    let flags = CKF_TOKEN.TOKEN_INITIALIZED;
    if (token.readOnly) flags |= CKF_TOKEN.WRITE_PROTECTED;
    if (user !== undefined) {
      flags |= CKF_TOKEN.LOGIN_REQUIRED | CKF_TOKEN.USER_PIN_INITIALIZED;
      // The PIN is typed on the reader's PIN pad: the application sends none (C_Login with a NULL PIN).
      if (user.type === 'external') flags |= CKF_TOKEN.PROTECTED_AUTHENTICATION_PATH;
      flags |= this.retryFlags(
        token,
        user,
        CKF_TOKEN.USER_PIN_COUNT_LOW,
        CKF_TOKEN.USER_PIN_FINAL_TRY,
        CKF_TOKEN.USER_PIN_LOCKED,
      );
    }
    if (so !== undefined) {
      flags |= this.retryFlags(
        token,
        so,
        CKF_TOKEN.SO_PIN_COUNT_LOW,
        CKF_TOKEN.SO_PIN_FINAL_TRY,
        CKF_TOKEN.SO_PIN_LOCKED,
      );
    }
    const mine = [...this.sessions.values()].filter((session) => session.token === token);
    return {
      label: token.label,
      manufacturer: 'minidriver',
      model: token.plugin.name,
      serial: token.serial,
      flags,
      maxSessions: CK_EFFECTIVELY_INFINITE,
      sessions: mine.length,
      rwSessions: mine.filter((session) => session.readWrite).length,
      minPin: 4,
      maxPin: 127,
    };
  }

  /** CKF_*_PIN_COUNT_LOW / FINAL_TRY / LOCKED from the retries left the card tells. */
  private retryFlags(token: Token, pin: TokenPin, low: number, finalTry: number, locked: number): number {
    const retries = pin.retriesLeft;
    if (retries === undefined) return 0;
    let seen = Pkcs11Application.maxRetries.get(token);
    if (seen === undefined) {
      seen = new Map();
      Pkcs11Application.maxRetries.set(token, seen);
    }
    const most = Math.max(seen.get(pin.role) ?? 0, retries);
    seen.set(pin.role, most);
    if (retries === 0) return locked;
    if (retries === 1) return finalTry | low;
    return retries < most ? low : 0;
  }

  /** The mechanisms of the token's keys, and key pair generation when the card is writable. */
  async mechanismList(slotId: number): Promise<number[]> {
    const token = this.token(slotId);
    const keys = await token.keys();
    const generation = token.readOnly ? [] : Object.keys(KEY_PAIR_GENERATION).map(Number);
    return [...new Set([...generation, ...keys.flatMap((key) => mechanismsOfKey(key))])].sort((a, b) => a - b);
  }

  async mechanismInfo(slotId: number, mechanism: number): Promise<{ min: number; max: number; flags: number }> {
    const token = this.token(slotId);
    const generation = KEY_PAIR_GENERATION[mechanism];
    if (generation !== undefined && !token.readOnly) return generation;
    return mechanismInfo(mechanism, await token.keys());
  }

  // ---- sessions ---------------------------------------------------------------------------------------

  openSession(slotId: number, flags: number): number {
    const token = this.token(slotId);
    check(flags & CKF_SESSION.SERIAL_SESSION, CKR.SESSION_PARALLEL_NOT_SUPPORTED);
    check(this.sessions.size < this.limits.maxSessions, CKR.SESSION_COUNT);
    const readWrite = (flags & CKF_SESSION.RW_SESSION) !== 0;
    check(readWrite || this.loggedIn.get(token) !== 'so', CKR.SESSION_READ_WRITE_SO_EXISTS);
    const handle = this.nextSession++;
    this.sessions.set(handle, {
      handle,
      slotId,
      token,
      readWrite,
      found: undefined,
      operation: undefined,
      secrets: new Map(),
    });
    return handle;
  }

  private session(handle: number): Session {
    this.requireInitialized();
    const session = this.sessions.get(handle);
    check(session !== undefined, CKR.SESSION_HANDLE_INVALID);
    if (session.token.removed || presentToken(this.slots.get(session.slotId)) !== session.token) {
      throw new Pkcs11Error(CKR.DEVICE_REMOVED);
    }
    return session;
  }

  async closeSession(handle: number): Promise<void> {
    const session = this.sessions.get(handle);
    check(session !== undefined, CKR.SESSION_HANDLE_INVALID);
    this.sessions.delete(handle);
    for (const secret of session.secrets.values()) wipeObject(secret);
    for (const objectHandle of session.secrets.keys()) this.entries.delete(objectHandle);
    // The last session of a token closed: this client is logged out of it (PKCS #11 base docs/spec/minidriver.md §5.6).
    if ([...this.sessions.values()].every((other) => other.token !== session.token))
      await this.forgetLogin(session.token);
  }

  async closeAllSessions(slotId: number): Promise<void> {
    this.slot(slotId);
    for (const session of [...this.sessions.values()]) {
      if (session.slotId === slotId) await this.closeSession(session.handle);
    }
  }

  sessionInfo(handle: number): { slotId: number; state: number; flags: number } {
    const session = this.session(handle);
    const login = this.loggedIn.get(session.token);
    const state =
      login === 'so'
        ? CKS.RW_SO_FUNCTIONS
        : login === 'user'
          ? session.readWrite
            ? CKS.RW_USER_FUNCTIONS
            : CKS.RO_USER_FUNCTIONS
          : session.readWrite
            ? CKS.RW_PUBLIC_SESSION
            : CKS.RO_PUBLIC_SESSION;
    return {
      slotId: session.slotId,
      state,
      flags: CKF_SESSION.SERIAL_SESSION | (session.readWrite ? CKF_SESSION.RW_SESSION : 0),
    };
  }

  // ---- login ------------------------------------------------------------------------------------------

  async login(handle: number, userType: number, pin: Uint8Array | null): Promise<void> {
    const session = this.session(handle);
    const token = session.token;
    const current = this.loggedIn.get(token);
    try {
      if (userType === CKU.CONTEXT_SPECIFIC) {
        // CKA_ALWAYS_AUTHENTICATE: the PIN of the operation's key, verified right before its use.
        check(current === 'user', CKR.USER_NOT_LOGGED_IN);
        const operation = session.operation;
        check(operation !== undefined, CKR.OPERATION_NOT_INITIALIZED);
        await verifyPin(token, operation.key.pinId, pin);
        return;
      }
      check(userType === CKU.USER || userType === CKU.SO, CKR.USER_TYPE_INVALID);
      const wanted = userType === CKU.SO ? 'so' : 'user';
      if (current !== undefined)
        throw new Pkcs11Error(current === wanted ? CKR.USER_ALREADY_LOGGED_IN : CKR.USER_ANOTHER_ALREADY_LOGGED_IN);
      if (wanted === 'so') {
        const readOnly = [...this.sessions.values()].some((other) => other.token === token && !other.readWrite);
        check(!readOnly, CKR.SESSION_READ_ONLY_EXISTS);
        const kept = await soLogin(token, pin);
        if (kept !== undefined) this.soSecrets.set(token, kept);
      } else {
        await verifyPin(token, USER_ROLE, pin);
      }
      this.loggedIn.set(token, wanted);
      this.slots.addLogin(token, this);
    } finally {
      pin?.fill(0);
    }
  }

  /**
   * C_SetPIN: changes the PIN of whoever is logged in (the user PIN when nobody is): see {@link changePin}.
   * Both PINs are wiped after use.
   */
  async setPin(handle: number, oldPin: Uint8Array | null, newPin: Uint8Array | null): Promise<void> {
    try {
      const session = this.session(handle);
      check(session.readWrite, CKR.SESSION_READ_ONLY);
      const so = this.loggedIn.get(session.token) === 'so';
      await changePin(session.token, so, so ? this.soSecrets.get(session.token) : undefined, oldPin, newPin);
    } finally {
      oldPin?.fill(0);
      newPin?.fill(0);
    }
  }

  /**
   * C_InitPIN: the SO sets a new user PIN (see {@link setUserPin}); CKR_USER_NOT_LOGGED_IN unless the SO is
   * logged in. The new PIN is wiped after use.
   */
  async initPin(handle: number, newPin: Uint8Array | null): Promise<void> {
    try {
      const session = this.session(handle);
      check(this.loggedIn.get(session.token) === 'so', CKR.USER_NOT_LOGGED_IN);
      check(session.readWrite, CKR.SESSION_READ_ONLY);
      await setUserPin(session.token, this.soSecrets.get(session.token), newPin);
    } finally {
      newPin?.fill(0);
    }
  }

  async logout(handle: number): Promise<void> {
    const session = this.session(handle);
    check(this.loggedIn.has(session.token), CKR.USER_NOT_LOGGED_IN);
    await this.forgetLogin(session.token);
  }

  private async forgetLogin(token: Token): Promise<void> {
    this.soSecrets.get(token)?.secret.fill(0);
    this.soSecrets.delete(token);
    if (!this.loggedIn.delete(token)) return;
    for (const session of this.sessions.values()) if (session.token === token) session.operation = undefined;
    // Only the last client logged in to the card logs it out: the others keep their login.
    if (this.slots.removeLogin(token, this) && !token.removed) await token.logout().catch(() => undefined);
  }

  // ---- objects ----------------------------------------------------------------------------------------

  private async tokenObjects(session: Session): Promise<Map<number, Pkcs11Object>> {
    const keys = await session.token.keys();
    // Private objects (the private keys) are seen only by a client logged in to the token (PKCS #11 base docs/spec/minidriver.md §4.4).
    const loggedIn = this.loggedIn.get(session.token) === 'user';
    const objects = new Map<number, Pkcs11Object>();
    for (const key of keys) {
      for (const object of await this.objectsOf(session.token, key)) {
        if (object.attributes.get(CKA.PRIVATE) === 1 && !loggedIn) continue;
        objects.set(this.handleOf(session, `${object.kind}:${key.id}`), object);
      }
    }
    return objects;
  }

  /** A key's objects, built once per key (keys are kept by the token until it changes them). */
  private async objectsOf(token: Token, key: TokenKey): Promise<readonly Pkcs11Object[]> {
    let objects = OBJECTS.get(key);
    if (objects === undefined) {
      const policy = (await staticPins(token)).find((pin) => pin.id === key.pinId)?.cachePolicy.type;
      objects = objectsOfKey(key, policy === 'always-prompt');
      OBJECTS.set(key, objects);
    }
    return objects;
  }

  private handleOf(session: Session, identity: string): number {
    const key = `${session.slotId}/${identity}`;
    let handle = this.handles.get(key);
    const entry = handle === undefined ? undefined : this.entries.get(handle);
    if (handle === undefined || entry === undefined || entry.token !== session.token) {
      handle = this.nextObject++;
      this.handles.set(key, handle);
      this.entries.set(handle, { slotId: session.slotId, token: session.token, identity });
    }
    return handle;
  }

  private async object(session: Session, handle: number): Promise<Pkcs11Object> {
    const secret = session.secrets.get(handle);
    if (secret !== undefined) return secret;
    const entry = this.entries.get(handle);
    check(entry !== undefined && entry.token === session.token, CKR.OBJECT_HANDLE_INVALID);
    const object = (await this.tokenObjects(session)).get(handle);
    check(object !== undefined, CKR.OBJECT_HANDLE_INVALID);
    return object;
  }

  async findObjectsInit(handle: number, template: readonly Attribute[]): Promise<void> {
    const session = this.session(handle);
    check(session.found === undefined, CKR.OPERATION_ACTIVE);
    const objects = [...(await this.tokenObjects(session)), ...session.secrets];
    session.found = objects
      .filter(([, object]) => matchesTemplate(object, template))
      .map(([objectHandle]) => objectHandle);
  }

  findObjects(handle: number, max: number): number[] {
    const session = this.session(handle);
    check(session.found !== undefined, CKR.OPERATION_NOT_INITIALIZED);
    return session.found.splice(0, max);
  }

  findObjectsFinal(handle: number): void {
    const session = this.session(handle);
    check(session.found !== undefined, CKR.OPERATION_NOT_INITIALIZED);
    session.found = undefined;
  }

  /** The object's attributes in the order asked: a value, `sensitive`, or undefined (type invalid). */
  async attributes(
    handle: number,
    objectHandle: number,
    types: readonly number[],
  ): Promise<(AttributeValue | 'sensitive' | undefined)[]> {
    const object = await this.object(this.session(handle), objectHandle);
    return types.map((type) => (object.sensitive.has(type) ? 'sensitive' : object.attributes.get(type)));
  }

  /** C_DestroyObject: a derived session key goes (wiped); the card's objects are not destroyed this way. */
  async destroyObject(handle: number, objectHandle: number): Promise<void> {
    const session = this.session(handle);
    const secret = session.secrets.get(objectHandle);
    if (secret !== undefined) {
      wipeObject(secret);
      session.secrets.delete(objectHandle);
      return;
    }
    await this.object(session, objectHandle);
    throw new Pkcs11Error(CKR.ACTION_PROHIBITED, 'card objects are not destroyed through PKCS #11');
  }

  async objectSize(handle: number, objectHandle: number): Promise<number> {
    await this.object(this.session(handle), objectHandle);
    return CK_UNAVAILABLE_INFORMATION;
  }

  // ---- sign and decrypt -------------------------------------------------------------------------------

  async operationInit(
    kind: 'sign' | 'decrypt',
    handle: number,
    mechanism: Mechanism,
    keyHandle: number,
  ): Promise<void> {
    const session = this.session(handle);
    if (mechanism.type === null) {
      session.operation = undefined;
      return;
    }
    check(session.operation === undefined, CKR.OPERATION_ACTIVE);
    const object = await this.object(session, keyHandle).catch(() => {
      throw new Pkcs11Error(CKR.KEY_HANDLE_INVALID);
    });
    check(object.kind === 'private' && object.key !== undefined, CKR.KEY_TYPE_INCONSISTENT);
    checkMechanism(object.key, mechanism, kind);
    check(this.loggedIn.get(session.token) === 'user', CKR.USER_NOT_LOGGED_IN);
    session.operation = { kind, key: object.key, mechanism, chunks: [], size: 0 };
  }

  private operation(handle: number, kind: 'sign' | 'decrypt'): { session: Session; operation: Operation } {
    const session = this.session(handle);
    const operation = session.operation;
    check(operation !== undefined && operation.kind === kind, CKR.OPERATION_NOT_INITIALIZED);
    return { session, operation };
  }

  update(kind: 'sign' | 'decrypt', handle: number, data: Uint8Array): void {
    const { session, operation } = this.operation(handle, kind);
    if (operation.size + data.length > this.limits.maxOperationData) {
      session.operation = undefined;
      throw new Pkcs11Error(CKR.DATA_LEN_RANGE);
    }
    operation.chunks.push(data);
    operation.size += data.length;
  }

  /**
   * C_Sign / C_Decrypt (data given) and C_SignFinal / C_DecryptFinal (data accumulated). With a capacity
   * of 0 (length query) or too small, returns `{ length }` and keeps the operation; else the output.
   */
  async finish(
    kind: 'sign' | 'decrypt',
    handle: number,
    data: Uint8Array | undefined,
    capacity: number,
  ): Promise<{ output?: Uint8Array; length: number }> {
    const { session, operation } = this.operation(handle, kind);
    if (operation.result === undefined && capacity === 0 && kind === 'sign') {
      return { length: signatureLength(operation.key) };
    }
    if (operation.result === undefined) {
      const input = data ?? Buffer.concat(operation.chunks);
      try {
        operation.result =
          kind === 'sign'
            ? await signWith(operation.key, operation.mechanism, input)
            : await decryptWith(operation.key, operation.mechanism, input);
      } catch (error) {
        session.operation = undefined;
        throw error;
      }
    }
    const result = operation.result;
    if (capacity < result.length) return { length: result.length };
    session.operation = undefined;
    return { output: result, length: result.length };
  }

  // ---- derive, generate, create -----------------------------------------------------------------------

  async deriveKey(
    handle: number,
    mechanism: Mechanism,
    baseKey: number,
    template: readonly Attribute[],
  ): Promise<number> {
    const session = this.session(handle);
    const object = await this.object(session, baseKey).catch(() => {
      throw new Pkcs11Error(CKR.KEY_HANDLE_INVALID);
    });
    check(object.kind === 'private' && object.key !== undefined, CKR.KEY_TYPE_INCONSISTENT);
    const key = object.key;
    checkMechanism(key, mechanism, 'derive');
    const parameters = mechanism.parameters;
    check(parameters.kind === 'ecdh1' && parameters.publicData !== null, CKR.MECHANISM_PARAM_INVALID);
    check(parameters.kdf === CKD_NULL, CKR.MECHANISM_PARAM_INVALID, 'only the null KDF is offered');
    check(this.loggedIn.get(session.token) === 'user', CKR.USER_NOT_LOGGED_IN);
    check(session.secrets.size < this.limits.maxSessionObjects, CKR.HOST_MEMORY, 'too many derived keys: destroy some');
    const peer = peerPublicKey(key.algorithm.bits, parameters.publicData);
    let secret = await key.deriveSharedSecret(peer);
    const length = template.find((attribute) => attribute.type === CKA.VALUE_LEN)?.value;
    if (typeof length === 'number' && length > 0 && length < secret.length)
      secret = secret.slice(secret.length - length);
    const label = template.find((attribute) => attribute.type === CKA.LABEL)?.value;
    const id = template.find((attribute) => attribute.type === CKA.ID)?.value;
    const derived = secretKeyObject(
      secret,
      label instanceof Uint8Array ? label : new Uint8Array(0),
      id instanceof Uint8Array ? id : new Uint8Array(0),
    );
    const objectHandle = this.nextObject++;
    session.secrets.set(objectHandle, derived);
    return objectHandle;
  }

  async generateKeyPair(
    handle: number,
    mechanism: Mechanism,
    publicTemplate: readonly Attribute[],
    privateTemplate: readonly Attribute[],
  ): Promise<[number, number]> {
    const session = this.session(handle);
    check(session.readWrite, CKR.SESSION_READ_ONLY);
    check(!session.token.readOnly, CKR.TOKEN_WRITE_PROTECTED);
    const all = [...publicTemplate, ...privateTemplate];
    const value = (type: number) => all.find((attribute) => attribute.type === type)?.value;
    let algorithm: KeyAlgorithm;
    if (mechanism.type === CKM.RSA_PKCS_KEY_PAIR_GEN) {
      const bits = value(CKA.MODULUS_BITS);
      check(typeof bits === 'number', CKR.TEMPLATE_INCOMPLETE, 'CKA_MODULUS_BITS is needed');
      check([1024, 2048, 3072, 4096].includes(bits), CKR.KEY_SIZE_RANGE);
      algorithm = { type: 'rsa', bits };
    } else if (mechanism.type === CKM.EC_KEY_PAIR_GEN) {
      const parameters = value(CKA.EC_PARAMS);
      check(parameters instanceof Uint8Array, CKR.TEMPLATE_INCOMPLETE, 'CKA_EC_PARAMS is needed');
      const bits = Object.entries(CURVE_OIDS).find(([, oid]) => Buffer.from(oid).equals(parameters))?.[0];
      check(bits !== undefined, CKR.CURVE_NOT_SUPPORTED);
      algorithm = { type: 'ec', curve: `P-${bits}` as EcCurve, bits: Number(bits) };
    } else {
      throw new Pkcs11Error(CKR.MECHANISM_INVALID);
    }
    // One usage asked for: that kind of key; several or none: the card's default kind for the container.
    const asked = (
      [
        [CKA.SIGN, 'sign'],
        [CKA.DECRYPT, 'decrypt'],
        [CKA.DERIVE, 'derive'],
      ] as const
    ).filter(([type]) => privateTemplate.some((attribute) => attribute.type === type && attribute.value === 1));
    const usage: KeyUsage | undefined = asked.length === 1 ? asked[0]?.[1] : undefined;
    const container = containerOf(value(CKA.ID));
    // CKA_ALWAYS_AUTHENTICATE asks for a key behind a PIN verified before every use (PIV's PIN-always keys).
    let pin: number | undefined;
    if (value(CKA.ALWAYS_AUTHENTICATE) === 1) {
      pin = (await staticPins(session.token)).find((candidate) => candidate.cachePolicy.type === 'always-prompt')?.id;
      check(pin !== undefined, CKR.ATTRIBUTE_VALUE_INVALID, 'the card has no PIN verified before every use');
    }
    const key = await session.token.generateKey(container, algorithm, {
      ...(usage === undefined ? {} : { usage }),
      ...(pin === undefined ? {} : { pin }),
    });
    return [this.handleOf(session, `public:${key.id}`), this.handleOf(session, `private:${key.id}`)];
  }

  async createObject(handle: number, template: readonly Attribute[]): Promise<number> {
    const session = this.session(handle);
    const value = (type: number) => template.find((attribute) => attribute.type === type)?.value;
    check(value(CKA.CLASS) === CKO.CERTIFICATE, CKR.TEMPLATE_INCONSISTENT, 'only certificates can be created');
    check(session.readWrite, CKR.SESSION_READ_ONLY);
    check(!session.token.readOnly, CKR.TOKEN_WRITE_PROTECTED);
    const der = value(CKA.VALUE);
    check(der instanceof Uint8Array && der.length > 0, CKR.TEMPLATE_INCOMPLETE, 'CKA_VALUE is needed');
    const id = value(CKA.ID);
    const keys = await session.token.keys();
    let container: number | undefined;
    if (id instanceof Uint8Array) {
      container = keys.find((key) => Buffer.from(keyObjectId(key)).equals(id))?.container ?? containerOf(id);
    }
    check(container !== undefined, CKR.TEMPLATE_INCOMPLETE, 'CKA_ID must name a key');
    await session.token.importCertificate(container, der);
    const key = (await session.token.keys()).find(
      (candidate) => candidate.container === container && candidate.certificate !== undefined,
    );
    check(key !== undefined, CKR.FUNCTION_FAILED);
    return this.handleOf(session, `certificate:${key.id}`);
  }
}

/** C_GenerateKeyPair mechanisms: the key sizes the keystore generates (the card may refuse some). */
const KEY_PAIR_GENERATION: Readonly<Record<number, { min: number; max: number; flags: number }>> = {
  [CKM.RSA_PKCS_KEY_PAIR_GEN]: { min: 1024, max: 4096, flags: CKF_MECHANISM.HW | CKF_MECHANISM.GENERATE_KEY_PAIR },
  [CKM.EC_KEY_PAIR_GEN]: {
    min: 256,
    max: 521,
    flags:
      CKF_MECHANISM.HW |
      CKF_MECHANISM.GENERATE_KEY_PAIR |
      CKF_MECHANISM.EC_F_P |
      CKF_MECHANISM.EC_NAMEDCURVE |
      CKF_MECHANISM.EC_UNCOMPRESSED,
  },
};

/** The objects of each key (shared by every client: they describe the card, not a session). */
const OBJECTS = new WeakMap<TokenKey, readonly Pkcs11Object[]>();
/** The token in a slot, unless it is absent or removed. */
function presentToken(slot: Slot | undefined): Token | undefined {
  const token = slot?.reader.token;
  return token !== undefined && !token.removed ? token : undefined;
}

/** A container index from a CKA_ID of one or two bytes (pkcs11-tool --id 01). */
function containerOf(id: AttributeValue | undefined): number {
  check(
    id instanceof Uint8Array && id.length >= 1 && id.length <= 2,
    CKR.TEMPLATE_INCOMPLETE,
    'CKA_ID (the container index) is needed',
  );
  return id.length === 1 ? (id[0] as number) : ((id[0] as number) << 8) | (id[1] as number);
}

/** The peer public key of an ECDH derivation: a raw uncompressed point, or one in a DER OCTET STRING. */
function peerPublicKey(bits: number, publicData: Uint8Array) {
  const size = Math.ceil(bits / 8);
  let point = publicData;
  if (point.length !== 1 + 2 * size && point[0] === 0x04 && point.length > 2)
    point = point.subarray(point[1] === 0x81 ? 3 : 2);
  check(
    point.length === 1 + 2 * size && point[0] === 0x04,
    CKR.MECHANISM_PARAM_INVALID,
    'the peer point must be uncompressed',
  );
  const b64 = (part: Uint8Array) => Buffer.from(part).toString('base64url');
  try {
    return createPublicKey({
      key: { kty: 'EC', crv: `P-${bits}`, x: b64(point.subarray(1, 1 + size)), y: b64(point.subarray(1 + size)) },
      format: 'jwk',
    });
  } catch {
    throw new Pkcs11Error(CKR.MECHANISM_PARAM_INVALID, 'the peer point is not on the curve');
  }
}

function wipeObject(object: Pkcs11Object): void {
  const value = object.attributes.get(CKA.VALUE);
  if (value instanceof Uint8Array && object.attributes.get(CKA.KEY_TYPE) === CKK.GENERIC_SECRET) value.fill(0);
}
