/**
 * Test support: a small in-memory card with its own APDU set (a file system, one user PIN with a
 * retry counter and a PUK, RSA key containers), a Transport to it that counts transactions, and a real
 * little minidriver plugin that drives it through APDUs. Used by the session's tests only; @minidriver/sim
 * is the full simulator, which core must not depend on.
 *
 * APDUs (CLA 00, short only): 20 VERIFY (P2 80 user PIN), 24 CHANGE REFERENCE DATA (oldLen old new),
 * 2C RESET RETRY COUNTER (pukLen puk new), CA GET FILE (path), DA PUT FILE (pathLen path data),
 * E0 CREATE FILE (path), E4 DELETE FILE (path) / P1 01 DELETE KEY (P2 index), E2 LIST (dir),
 * 46 GENERATE RSA KEY (P1 keySpec, P2 index), CB GET PUBLIC KEY (P2 index → SPKI DER),
 * 2A RAW RSA PRIVATE OPERATION (P2 index).
 *
 * @packageDocumentation
 */
import { constants, createPublicKey, generateKeyPairSync, type KeyObject, privateDecrypt } from 'node:crypto';
import { keyObjectToPublicKeyBlob } from '@minidriver/card-kit';
import type {
  CardContext,
  CardPropertyName,
  CardPropertyTypes,
  ContainerInfo,
  DirectoryName,
  Disposition,
  Minidriver,
  MinidriverPlugin,
  Transport,
  TransportEvent,
} from '@minidriver/spec';
import {
  type CacheMode,
  type CardDataVersion,
  concatBytes,
  FileAccessCondition,
  KeySpec,
  type PinId,
  reverseBytes,
  ScardError,
} from '@minidriver/spec';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function sw(statusWord: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concatBytes(data, Uint8Array.of(statusWord >> 8, statusWord & 0xff));
}

/** The card: state that survives sessions (as a real card's EEPROM does). */
export class MemoryCard {
  readonly atr = Uint8Array.of(0x3b, 0x80, 0x80, 0x01, 0x01);
  readonly files = new Map<string, Uint8Array>();
  readonly directories = new Set<string>(['mscp']);
  private pin = encoder.encode('123456');
  private readonly puk = encoder.encode('12345678');
  private retries = 3;
  private verified = false;
  private readonly keys = new Map<number, { keySpec: number; key: KeyObject }>();
  /** Every command APDU received, as sent. */
  readonly commands: Uint8Array[] = [];
  /** Commands that arrived while no transaction was held (must stay empty). */
  readonly commandsOutsideTransaction: Uint8Array[] = [];
  transactionHeld = false;
  private lock: Promise<void> = Promise.resolve();

  constructor() {
    this.files.set(
      '/cardid',
      Uint8Array.from({ length: 16 }, (_, index) => index + 1),
    );
    this.files.set('/cardcf', new Uint8Array(6));
    this.files.set('/cardapps', encoder.encode('mscp\0\0\0\0'));
    this.files.set('mscp/cmapfile', new Uint8Array(0));
  }

  /** Waits for the card to be free, then holds it (SCardBeginTransaction across every transport). */
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const previous = this.lock;
    this.lock = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.transactionHeld = true;
    return () => {
      this.transactionHeld = false;
      release();
    };
  }

  reset(): void {
    this.verified = false;
  }

  /** Puts an RSA key in a container directly (card personalisation). */
  installKey(index: number, keySpec: number, key: KeyObject): void {
    this.keys.set(index, { keySpec, key });
  }

  process(command: Uint8Array): Uint8Array {
    this.commands.push(new Uint8Array(command));
    if (!this.transactionHeld) this.commandsOutsideTransaction.push(new Uint8Array(command));
    const ins = command[1] as number;
    const p1 = command[2] as number;
    const p2 = command[3] as number;
    const data = command.length > 5 ? command.subarray(5, 5 + (command[4] as number)) : new Uint8Array(0);
    switch (ins) {
      case 0x20:
        return this.verify(data);
      case 0x24: {
        const oldLength = data[0] as number;
        const status = this.verify(data.subarray(1, 1 + oldLength));
        if (status[0] !== 0x90) return status;
        this.pin = data.slice(1 + oldLength);
        return sw(0x9000);
      }
      case 0x2c: {
        const pukLength = data[0] as number;
        const puk = data.subarray(1, 1 + pukLength);
        if (decoder.decode(puk) !== decoder.decode(this.puk)) return sw(0x63c0);
        this.pin = data.slice(1 + pukLength);
        this.retries = 3;
        return sw(0x9000);
      }
      case 0xca: {
        const path = decoder.decode(data);
        const directory = path.split('/')[0] as string;
        if (directory !== '' && !this.directories.has(directory)) return sw(0x6a83);
        const file = this.files.get(path);
        return file === undefined ? sw(0x6a82) : sw(0x9000, file);
      }
      case 0xda: {
        const pathLength = data[0] as number;
        const path = decoder.decode(data.subarray(1, 1 + pathLength));
        if (!this.files.has(path)) return sw(0x6a82);
        if (path !== '/cardcf' && !this.verified) return sw(0x6982);
        this.files.set(path, data.slice(1 + pathLength));
        return sw(0x9000);
      }
      case 0xe0: {
        const path = decoder.decode(data);
        if (this.files.has(path)) return sw(0x6a89);
        this.files.set(path, new Uint8Array(0));
        return sw(0x9000);
      }
      case 0xe4: {
        if (p1 === 0x01) {
          if (!this.verified) return sw(0x6982);
          this.keys.delete(p2);
          return sw(0x9000);
        }
        const path = decoder.decode(data);
        return this.files.delete(path) ? sw(0x9000) : sw(0x6a82);
      }
      case 0xe2: {
        const directory = decoder.decode(data);
        if (directory !== '' && !this.directories.has(directory)) return sw(0x6a83);
        const names = [...this.files.keys()]
          .filter((path) => path.startsWith(`${directory}/`))
          .map((path) => path.slice(directory.length + 1));
        return sw(0x9000, encoder.encode(names.join('\0')));
      }
      case 0x46: {
        if (!this.verified) return sw(0x6982);
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
        this.keys.set(p2, { keySpec: p1, key: privateKey });
        return sw(0x9000, createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
      }
      case 0xcb: {
        const entry = this.keys.get(p2);
        if (entry === undefined) return sw(0x6a82);
        const der = createPublicKey(entry.key).export({ format: 'der', type: 'spki' });
        return sw(0x9000, concatBytes(Uint8Array.of(entry.keySpec), der));
      }
      case 0x2a: {
        const entry = this.keys.get(p2);
        if (entry === undefined) return sw(0x6a82);
        if (!this.verified) return sw(0x6982);
        const result = privateDecrypt({ key: entry.key, padding: constants.RSA_NO_PADDING }, data);
        return sw(0x9000, result);
      }
      default:
        return sw(0x6d00);
    }
  }

  private verify(pin: Uint8Array): Uint8Array {
    if (this.retries === 0) return sw(0x6983);
    if (decoder.decode(pin) === decoder.decode(this.pin)) {
      this.retries = 3;
      this.verified = true;
      return sw(0x9000);
    }
    this.retries--;
    this.verified = false;
    return this.retries === 0 ? sw(0x6983) : sw(0x63c0 | this.retries);
  }
}

/** A Transport to a {@link MemoryCard} that counts what the session does with transactions. */
export class MemoryTransport implements Transport {
  readonly protocol = 'T1' as const;
  readonly readerName = 'Memory Reader 0';
  beginCount = 0;
  endCount = 0;
  readonly dispositions: Disposition[] = [];
  private release: (() => void) | undefined;
  private readonly listeners = new Set<(event: TransportEvent) => void>();

  constructor(readonly card: MemoryCard) {}

  get atr(): Uint8Array {
    return this.card.atr;
  }

  get inTransaction(): boolean {
    return this.release !== undefined;
  }

  /** Set by {@link powerCycle}: the next exchange reports SCARD_W_RESET_CARD, as PC/SC does once. */
  private resetPending = false;

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.resetPending) {
      this.resetPending = false;
      for (const listener of this.listeners) listener({ type: 'reset' });
      throw new ScardError('SCARD_W_RESET_CARD', 'the card was reset');
    }
    return this.card.process(command);
  }

  /** The card loses power and comes back (a glitch, another reader driver): its volatile state is gone. */
  powerCycle(): void {
    this.card.reset();
    this.resetPending = true;
  }

  async beginTransaction(): Promise<void> {
    const release = await this.card.acquire();
    this.beginCount++;
    this.release = release;
  }

  async endTransaction(disposition: Disposition = 'leave'): Promise<void> {
    this.endCount++;
    this.dispositions.push(disposition);
    const release = this.release;
    this.release = undefined;
    if (disposition === 'reset') {
      this.card.reset();
      for (const listener of this.listeners) listener({ type: 'reset' });
    }
    release?.();
  }

  async reconnect(): Promise<Uint8Array> {
    return this.card.atr;
  }

  onEvent(listener: (event: TransportEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {}
}

/** How the test plugin behaves. */
export interface TestPluginOptions {
  readonly min?: CardDataVersion;
  readonly current?: CardDataVersion;
  readonly cacheMode?: CacheMode;
  /** deauthenticateEx answers SCARD_E_UNSUPPORTED_FEATURE (the card cannot log out without a reset). */
  readonly cannotDeauthenticate?: boolean;
}

/** The names of the plugin entry points called, in order (shared by every context of a plugin). */
export type CallLog = string[];

function pathOf(directory: DirectoryName, name: string): string {
  return `${directory ?? ''}/${name}`;
}

async function exchange(transport: Transport, ins: number, p1: number, p2: number, data?: Uint8Array) {
  const header = Uint8Array.of(0x00, ins, p1, p2);
  const command = data === undefined ? header : concatBytes(header, Uint8Array.of(data.length), data);
  const response = await transport.transmit(command);
  const statusWord = ((response[response.length - 2] as number) << 8) | (response[response.length - 1] as number);
  return { data: response.subarray(0, response.length - 2), statusWord };
}

function check(statusWord: number, what: string): void {
  if (statusWord === 0x9000) return;
  if ((statusWord & 0xfff0) === 0x63c0) {
    throw new ScardError('SCARD_W_WRONG_CHV', what, { retriesLeft: statusWord & 0x0f, statusWord });
  }
  const code =
    statusWord === 0x6983
      ? 'SCARD_W_CHV_BLOCKED'
      : statusWord === 0x6982
        ? 'SCARD_W_SECURITY_VIOLATION'
        : statusWord === 0x6a82
          ? 'SCARD_E_FILE_NOT_FOUND'
          : statusWord === 0x6a83
            ? 'SCARD_E_DIR_NOT_FOUND'
            : statusWord === 0x6a89
              ? 'ERROR_FILE_EXISTS'
              : 'SCARD_E_UNEXPECTED';
  throw new ScardError(code, what, { statusWord });
}

/** A real little minidriver for {@link MemoryCard}; `calls` records every entry point it runs. */
export function createTestPlugin(options: TestPluginOptions = {}): MinidriverPlugin & { calls: CallLog } {
  const calls: CallLog = [];
  const plugin = {
    name: 'TestCard',
    calls,
    cardDataVersions: { min: options.min ?? 4, current: options.current ?? 7 },
    async acquireContext(context: CardContext, flags: number): Promise<Minidriver> {
      calls.push('acquireContext');
      if (flags !== 0) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'no-card mode');
      if (context.atr[0] !== 0x3b) throw new ScardError('SCARD_E_UNKNOWN_CARD', 'not a test card');
      return createMinidriver(context, options, calls);
    },
  };
  return plugin;
}

function createMinidriver(context: CardContext, options: TestPluginOptions, calls: CallLog): Minidriver {
  const transport = context.transport;
  const log = (name: string): void => {
    if (!transport && name !== 'deleteContext') throw new ScardError('SCARD_E_UNEXPECTED', 'no transport');
    calls.push(name);
  };
  const publicKeyOf = async (index: number) => {
    const tag = `pub:${index}`;
    let response = context.cache.lookupFile(tag);
    if (response === undefined) {
      const answer = await exchange(transport, 0xcb, 0, index);
      if (answer.statusWord === 0x6a82) throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} is empty`);
      check(answer.statusWord, 'GET PUBLIC KEY');
      response = new Uint8Array(answer.data);
      context.cache.addFile(tag, response);
    }
    return {
      keySpec: response[0] as number,
      key: createPublicKey({ key: Buffer.from(response.subarray(1)), format: 'der', type: 'spki' }),
    };
  };
  const properties: Partial<CardPropertyTypes> = {
    'Cache Mode': options.cacheMode ?? 1,
    'Read Only Mode': false,
    'PIN List': 0x06,
    'Key Import Support': 0,
  };
  return {
    async deleteContext() {
      calls.push('deleteContext');
    },
    async queryCapabilities() {
      log('queryCapabilities');
      return { certificateCompression: false, keyGeneration: true };
    },
    async getContainerInfo(index) {
      log('getContainerInfo');
      const { keySpec, key } = await publicKeyOf(index);
      const signature = keySpec === KeySpec.AT_SIGNATURE;
      const blob = keyObjectToPublicKeyBlob(key, signature ? 'signature' : 'keyExchange');
      const info: ContainerInfo = signature ? { signaturePublicKey: blob } : { keyExchangePublicKey: blob };
      return info;
    },
    async createContainer(index, request) {
      log('createContainer');
      if (request.mode !== 'generate') throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'key import');
      check((await exchange(transport, 0x46, request.keySpec, index)).statusWord, 'GENERATE');
    },
    async deleteContainer(index) {
      log('deleteContainer');
      check((await exchange(transport, 0xe4, 0x01, index)).statusWord, 'DELETE KEY');
    },
    async authenticatePin(userId, pin) {
      log('authenticatePin');
      if (userId !== 'user') throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'admin PIN');
      check((await exchange(transport, 0x20, 0x00, 0x80, pin)).statusWord, 'VERIFY');
    },
    async authenticateEx(pinId, _flags, pinData) {
      log('authenticateEx');
      if (pinId !== 1 || pinData === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'PIN 1 only');
      check((await exchange(transport, 0x20, 0x00, 0x80, pinData)).statusWord, 'VERIFY');
      return {};
    },
    async changeAuthenticatorEx(request) {
      log('changeAuthenticatorEx');
      const body = concatBytes(
        Uint8Array.of(request.authenticatingData.length),
        request.authenticatingData,
        request.targetData,
      );
      const ins = request.operation === 'change' ? 0x24 : 0x2c;
      check((await exchange(transport, ins, 0x00, 0x80, body)).statusWord, 'CHANGE');
    },
    async deauthenticateEx() {
      log('deauthenticateEx');
      if (options.cannotDeauthenticate) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'log out needs a reset');
    },
    async createFile(directory, name) {
      log('createFile');
      check((await exchange(transport, 0xe0, 0, 0, encoder.encode(pathOf(directory, name)))).statusWord, 'CREATE');
    },
    async readFile(directory, name) {
      log(`readFile ${pathOf(directory, name)}`);
      const answer = await exchange(transport, 0xca, 0, 0, encoder.encode(pathOf(directory, name)));
      check(answer.statusWord, 'GET FILE');
      return new Uint8Array(answer.data);
    },
    async writeFile(directory, name, data) {
      log(`writeFile ${pathOf(directory, name)}`);
      const path = encoder.encode(pathOf(directory, name));
      check(
        (await exchange(transport, 0xda, 0, 0, concatBytes(Uint8Array.of(path.length), path, data))).statusWord,
        'PUT',
      );
    },
    async deleteFile(directory, name) {
      log('deleteFile');
      check((await exchange(transport, 0xe4, 0, 0, encoder.encode(pathOf(directory, name)))).statusWord, 'DELETE');
    },
    async enumFiles(directory) {
      log('enumFiles');
      const answer = await exchange(transport, 0xe2, 0, 0, encoder.encode(directory ?? ''));
      check(answer.statusWord, 'LIST');
      const names = decoder
        .decode(answer.data)
        .split('\0')
        .filter((name) => name.length > 0);
      if (names.length === 0) throw new ScardError('SCARD_E_FILE_NOT_FOUND', 'empty directory');
      return names;
    },
    async getFileInfo(directory, name) {
      log('getFileInfo');
      const answer = await exchange(transport, 0xca, 0, 0, encoder.encode(pathOf(directory, name)));
      check(answer.statusWord, 'GET FILE');
      return { size: answer.data.length, accessCondition: FileAccessCondition.EveryoneReadUserWriteAc };
    },
    async queryFreeSpace() {
      log('queryFreeSpace');
      return { bytesAvailable: 4096, keyContainersAvailable: 4, maxKeyContainers: 8 };
    },
    async queryKeySizes(keySpec) {
      log('queryKeySizes');
      if (keySpec !== KeySpec.AT_KEYEXCHANGE && keySpec !== KeySpec.AT_SIGNATURE) {
        throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'RSA only');
      }
      return { minimumBitLength: 1024, defaultBitLength: 1024, maximumBitLength: 2048, incrementalBitLength: 1024 };
    },
    async signData(request) {
      log('signData');
      const { key } = await publicKeyOf(request.containerIndex);
      const modulusBytes = (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
      const block = context.padData(request, modulusBytes);
      const answer = await exchange(transport, 0x2a, 0x9e, request.containerIndex, block);
      check(answer.statusWord, 'SIGN');
      return reverseBytes(answer.data);
    },
    async rsaDecrypt(request) {
      log('rsaDecrypt');
      const answer = await exchange(transport, 0x2a, 0x80, request.containerIndex, reverseBytes(request.data));
      check(answer.statusWord, 'DECIPHER');
      const raw = new Uint8Array(answer.data);
      return reverseBytes(request.padding.type === 'none' ? raw : context.unpadData(raw, request.padding));
    },
    async getContainerProperty(index, name) {
      log('getContainerProperty');
      if (name === 'PIN Identifier') {
        await publicKeyOf(index);
        return 1 as PinId as never;
      }
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `container property ${name}`);
    },
    async getProperty<K extends CardPropertyName>(name: K): Promise<CardPropertyTypes[K]> {
      log(`getProperty ${name}`);
      if (name === 'Card Identifier') {
        return (await exchange(transport, 0xca, 0, 0, encoder.encode('/cardid'))).data.slice() as CardPropertyTypes[K];
      }
      const value = properties[name];
      if (value === undefined) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', name);
      return value as CardPropertyTypes[K];
    },
    async setProperty(name, value) {
      log(`setProperty ${name}`);
      if (name !== 'Parent Window' && name !== 'PIN Context String')
        throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', name);
      (properties as Record<string, unknown>)[name] = value;
    },
  };
}

/** A fresh RSA-1024 key pair (small, for fast tests). */
export function generateTestRsaKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
}
