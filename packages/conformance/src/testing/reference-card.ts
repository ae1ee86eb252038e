/**
 * Test support (not exported): a small reference card and its plugin, written to the spec, so the
 * suite can be run against something that passes it before any real card package does. The card has its
 * own APDU set over a logical file system, a user PIN (3 tries) with a PUK, a 3DES challenge/response
 * admin key, and RSA / ECDH key containers.
 *
 * APDUs: CLA 00, data as `00 LL LL data` (extended length). 20 VERIFY, 24 CHANGE (oldLen old new),
 * 2C RESET RETRY COUNTER (pukLen puk new), 84 GET CHALLENGE, 82 EXTERNAL AUTHENTICATE, 2E LOG OUT
 * (P1: 1 user, 2 admin), CA GET FILE, CC FILE INFO (→ AC, size u32), DA PUT FILE (pathLen path data),
 * E0 CREATE FILE (P1 AC), E4 DELETE FILE / P1 01 DELETE KEY, E2 LIST, 46 GENERATE (P1 key spec,
 * P2 index, data u16 bits), 48 IMPORT (PKCS #8), CB GET PUBLIC KEY (→ key spec, SPKI), 2A RAW RSA,
 * 86 ECDH (peer SPKI → Z).
 */
import {
  constants,
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  randomBytes,
} from 'node:crypto';
import {
  DhAgreements,
  keyObjectToPublicKeyBlob,
  privateKeyBlobToKeyObject,
  publicKeyBlobToKeyObject,
  requireNoRetryCountChange,
} from '@minidriver/card-kit';
import type { SimulatedCard } from '@minidriver/sim';
import {
  type CardContext,
  type CardPropertyName,
  type CardPropertyTypes,
  type ContainerInfo,
  concatBytes,
  type DirectoryName,
  isEcdhKeySpec,
  isRsaKeySpec,
  KeySpec,
  type Minidriver,
  type MinidriverPlugin,
  reverseBytes,
  ScardError,
  wipe,
} from '@minidriver/spec';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The reference card's admin key: 3DES 0102030405060708 × 3 (the spec's sample admin key, docs/spec/minidriver.md §6.6). */
export const REFERENCE_ADMIN_KEY = Uint8Array.from([
  1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
]);
export const REFERENCE_PIN = encoder.encode('123456');
export const REFERENCE_PUK = encoder.encode('12345678');

/** 3DES-ECB of `challenge` under `key`: the admin response of docs/spec/minidriver.md §6.6. */
export function tripleDesResponse(key: Uint8Array, challenge: Uint8Array): Uint8Array {
  const cipher = createCipheriv('des-ede3', key, null);
  cipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(challenge), cipher.final()]));
}

function statusOnly(statusWord: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concatBytes(data, Uint8Array.of(statusWord >> 8, statusWord & 0xff));
}

function same(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

interface StoredFile {
  data: Uint8Array;
  accessCondition: number;
}

/** The reference card. Files, keys and counters persist; verification states and the challenge do not. */
export class ReferenceCard implements SimulatedCard {
  readonly name = 'Reference';
  readonly atr = Uint8Array.of(0x3b, 0x88, 0x80, 0x01, 0x52, 0x45, 0x46, 0x43, 0x41, 0x52, 0x44, 0x31, 0x00);
  private readonly files = new Map<string, StoredFile>();
  private readonly directories = new Set<string>(['mscp']);
  private readonly keys = new Map<number, { keySpec: number; key: KeyObject }>();
  private pin = new Uint8Array(REFERENCE_PIN);
  private retries = 3;
  private userVerified = false;
  private adminVerified = false;
  private challenge: Uint8Array | undefined;

  constructor() {
    this.files.set('/cardid', { data: new Uint8Array(randomBytes(16)), accessCondition: 3 });
    this.files.set('/cardcf', { data: new Uint8Array(6), accessCondition: 1 });
    this.files.set('/cardapps', { data: encoder.encode('mscp\0\0\0\0'), accessCondition: 3 });
    this.files.set('mscp/cmapfile', { data: new Uint8Array(0), accessCondition: 1 });
  }

  powerOn(): void {
    this.userVerified = false;
    this.adminVerified = false;
    this.challenge = undefined;
  }
  powerOff(): void {
    this.powerOn();
  }
  reset(): void {
    this.powerOn();
  }

  process(command: Uint8Array): Uint8Array {
    const ins = command[1] as number;
    const p1 = command[2] as number;
    const p2 = command[3] as number;
    const data =
      command.length > 7
        ? command.subarray(7, 7 + (((command[5] as number) << 8) | (command[6] as number)))
        : new Uint8Array(0);
    switch (ins) {
      case 0x20:
        return this.verify(data);
      case 0x24: {
        const oldLength = data[0] as number;
        const status = this.verify(data.subarray(1, 1 + oldLength));
        if (status[0] !== 0x90) return status;
        this.pin = data.slice(1 + oldLength);
        return statusOnly(0x9000);
      }
      case 0x2c: {
        const pukLength = data[0] as number;
        if (!same(data.subarray(1, 1 + pukLength), REFERENCE_PUK)) return statusOnly(0x6300);
        this.pin = data.slice(1 + pukLength);
        this.retries = 3;
        return statusOnly(0x9000);
      }
      case 0x84:
        this.challenge = new Uint8Array(randomBytes(8));
        return statusOnly(0x9000, this.challenge);
      case 0x82: {
        const expected = this.challenge;
        this.challenge = undefined;
        if (expected === undefined || !same(data, tripleDesResponse(REFERENCE_ADMIN_KEY, expected)))
          return statusOnly(0x6300);
        this.adminVerified = true;
        return statusOnly(0x9000);
      }
      case 0x2e:
        if (p1 & 1) this.userVerified = false;
        if (p1 & 2) this.adminVerified = false;
        return statusOnly(0x9000);
      case 0xca:
      case 0xcc: {
        const path = decoder.decode(data);
        const directory = path.split('/')[0] as string;
        if (directory !== '' && !this.directories.has(directory)) return statusOnly(0x6a83);
        const file = this.files.get(path);
        if (file === undefined) return statusOnly(0x6a82);
        if (ins === 0xca) return statusOnly(0x9000, file.data);
        const size = file.data.length;
        return statusOnly(
          0x9000,
          Uint8Array.of(file.accessCondition, size >>> 24, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff),
        );
      }
      case 0xda: {
        const pathLength = data[0] as number;
        const path = decoder.decode(data.subarray(1, 1 + pathLength));
        const file = this.files.get(path);
        if (file === undefined) return statusOnly(0x6a82);
        if (path !== '/cardcf' && !this.mayWrite(file.accessCondition)) return statusOnly(0x6982);
        file.data = data.slice(1 + pathLength);
        return statusOnly(0x9000);
      }
      case 0xe0: {
        const path = decoder.decode(data);
        const directory = path.split('/')[0] as string;
        if (directory !== '' && !this.directories.has(directory)) return statusOnly(0x6a83);
        if (!this.userVerified) return statusOnly(0x6982);
        if (this.files.has(path)) return statusOnly(0x6a89);
        this.files.set(path, { data: new Uint8Array(0), accessCondition: p1 });
        return statusOnly(0x9000);
      }
      case 0xe4: {
        if (!this.userVerified) return statusOnly(0x6982);
        if (p1 === 0x01) {
          this.keys.delete(p2);
          return statusOnly(0x9000);
        }
        return this.files.delete(decoder.decode(data)) ? statusOnly(0x9000) : statusOnly(0x6a82);
      }
      case 0xe2: {
        const directory = decoder.decode(data);
        if (directory !== '' && !this.directories.has(directory)) return statusOnly(0x6a83);
        const names = [...this.files.keys()]
          .filter((path) => path.startsWith(`${directory}/`))
          .map((path) => path.slice(directory.length + 1));
        return statusOnly(0x9000, encoder.encode(names.join('\0')));
      }
      case 0x46: {
        if (!this.adminVerified || !this.userVerified) return statusOnly(0x6982);
        const bits = ((data[0] as number) << 8) | (data[1] as number);
        const { privateKey } = isRsaKeySpec(p1)
          ? generateKeyPairSync('rsa', { modulusLength: bits })
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
        this.keys.set(p2, { keySpec: p1, key: privateKey });
        return statusOnly(0x9000);
      }
      case 0x48: {
        if (!this.adminVerified || !this.userVerified) return statusOnly(0x6982);
        this.keys.set(p2, {
          keySpec: p1,
          key: createPrivateKey({ key: Buffer.from(data), format: 'der', type: 'pkcs8' }),
        });
        return statusOnly(0x9000);
      }
      case 0xcb: {
        const entry = this.keys.get(p2);
        if (entry === undefined) return statusOnly(0x6a88);
        const der = createPublicKey(entry.key).export({ format: 'der', type: 'spki' });
        return statusOnly(0x9000, concatBytes(Uint8Array.of(entry.keySpec), der));
      }
      case 0x2a: {
        const entry = this.keys.get(p2);
        if (entry === undefined) return statusOnly(0x6a88);
        if (!this.userVerified) return statusOnly(0x6982);
        return statusOnly(0x9000, privateDecrypt({ key: entry.key, padding: constants.RSA_NO_PADDING }, data));
      }
      case 0x86: {
        const entry = this.keys.get(p2);
        if (entry === undefined || !isEcdhKeySpec(entry.keySpec)) return statusOnly(0x6a88);
        if (!this.userVerified) return statusOnly(0x6982);
        const peer = createPublicKey({ key: Buffer.from(data), format: 'der', type: 'spki' });
        return statusOnly(0x9000, diffieHellman({ privateKey: entry.key, publicKey: peer }));
      }
      default:
        return statusOnly(0x6d00);
    }
  }

  private mayWrite(accessCondition: number): boolean {
    // EveryoneReadAdminWriteAc (3) and AdminReadWriteAc (6) need the admin, the others the user.
    return accessCondition === 3 || accessCondition === 6
      ? this.adminVerified
      : this.userVerified || this.adminVerified;
  }

  private verify(pin: Uint8Array): Uint8Array {
    if (this.retries === 0) return statusOnly(0x6983);
    if (same(pin, this.pin)) {
      this.retries = 3;
      this.userVerified = true;
      return statusOnly(0x9000);
    }
    this.retries--;
    this.userVerified = false;
    return statusOnly(0x63c0 | this.retries);
  }
}

/** Builds `00 INS P1 P2 [00 LL LL data]`. */
function command(ins: number, p1: number, p2: number, data?: Uint8Array): Uint8Array {
  const header = Uint8Array.of(0x00, ins, p1, p2);
  if (data === undefined) return header;
  return concatBytes(header, Uint8Array.of(0, data.length >> 8, data.length & 0xff), data);
}

function failure(statusWord: number, what: string): ScardError {
  if ((statusWord & 0xfff0) === 0x63c0) {
    return new ScardError('SCARD_W_WRONG_CHV', what, { retriesLeft: statusWord & 0x0f, statusWord });
  }
  const byStatus: Record<number, Parameters<typeof ScardError.hasCode>[1]> = {
    25344: 'SCARD_W_WRONG_CHV',
    27011: 'SCARD_W_CHV_BLOCKED',
    27010: 'SCARD_W_SECURITY_VIOLATION',
    27266: 'SCARD_E_FILE_NOT_FOUND',
    27267: 'SCARD_E_DIR_NOT_FOUND',
    27272: 'SCARD_E_NO_KEY_CONTAINER',
    27273: 'ERROR_FILE_EXISTS',
  };
  return new ScardError(byStatus[statusWord] ?? 'SCARD_E_UNEXPECTED', what, { statusWord });
}

/** The reference plugin: a real minidriver for {@link ReferenceCard}. */
export const referencePlugin: MinidriverPlugin = {
  name: 'Reference',
  cardDataVersions: { min: 4, current: 7 },
  async acquireContext(context: CardContext, flags: number): Promise<Minidriver> {
    if (flags !== 0) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'secure key injection');
    if (context.atr[4] !== 0x52) throw new ScardError('SCARD_E_UNKNOWN_CARD', 'not a reference card');
    return createReferenceMinidriver(context);
  },
};

function pathOf(directory: DirectoryName, name: string): string {
  return `${directory ?? ''}/${name}`;
}

function createReferenceMinidriver(context: CardContext): Minidriver {
  const transport = context.transport;
  const agreements = new DhAgreements();
  let authenticated = 0;

  const exchange = async (ins: number, p1: number, p2: number, data?: Uint8Array, what = 'command') => {
    const response = await transport.transmit(command(ins, p1, p2, data));
    const statusWord = ((response[response.length - 2] as number) << 8) | (response[response.length - 1] as number);
    if (statusWord !== 0x9000) throw failure(statusWord, what);
    return response.slice(0, response.length - 2);
  };
  const verifyUser = async (pin: Uint8Array) => {
    try {
      await exchange(0x20, 0, 0x80, pin, 'VERIFY');
      authenticated |= 2;
    } catch (error) {
      authenticated &= ~2;
      throw error;
    }
  };
  const authenticateAdmin = async (response: Uint8Array) => {
    await exchange(0x82, 0, 0, response, 'EXTERNAL AUTHENTICATE');
    authenticated |= 4;
  };
  const publicKeyOf = async (index: number) => {
    const answer = await exchange(0xcb, 0, index, undefined, 'GET PUBLIC KEY');
    return {
      keySpec: answer[0] as number,
      key: createPublicKey({ key: Buffer.from(answer.subarray(1)), format: 'der', type: 'spki' }),
    };
  };
  const logOut = async (pinSet: number) => {
    await exchange(0x2e, ((pinSet >> 1) & 1) | ((pinSet >> 1) & 2), 0, undefined, 'LOG OUT');
    authenticated &= ~pinSet;
  };
  const properties = async <K extends CardPropertyName>(name: K, flags: number): Promise<CardPropertyTypes[K]> => {
    const values: Partial<CardPropertyTypes> = {
      'Cache Mode': 1,
      'Read Only Mode': false,
      'Supports Windows x.509 Enrollment': true,
      'PIN List': 0b1110,
      'Authenticated State': authenticated,
      'Key Import Support': 1,
      Capabilities: { certificateCompression: false, keyGeneration: true },
    };
    if (name === 'Card Identifier')
      return (await exchange(0xca, 0, 0, encoder.encode('/cardid'))) as CardPropertyTypes[K];
    if (name === 'PIN Information') {
      const cachePolicy = { type: 0, info: 0 } as const;
      const infos: Record<number, CardPropertyTypes['PIN Information']> = {
        1: {
          pinType: 0,
          purpose: 5,
          changePermission: 0b10,
          unblockPermission: 0b1000,
          cachePolicy,
          flags: 0,
        } as never,
        2: { pinType: 2, purpose: 4, changePermission: 0b100, unblockPermission: 0, cachePolicy, flags: 0 } as never,
        3: { pinType: 0, purpose: 6, changePermission: 0b1000, unblockPermission: 0, cachePolicy, flags: 0 } as never,
      };
      const info = infos[flags];
      if (info === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', `PIN ${flags} is not listed`);
      return info as CardPropertyTypes[K];
    }
    const value = values[name];
    if (value === undefined) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `property ${name}`);
    return value as CardPropertyTypes[K];
  };

  return {
    async deleteContext() {
      agreements.clear();
    },
    async queryCapabilities() {
      return { certificateCompression: false, keyGeneration: true };
    },
    async getContainerInfo(index) {
      const { keySpec, key } = await publicKeyOf(index);
      const signature = keySpec === KeySpec.AT_SIGNATURE;
      const blob = keyObjectToPublicKeyBlob(key, signature ? 'signature' : 'keyExchange');
      const info: ContainerInfo = signature ? { signaturePublicKey: blob } : { keyExchangePublicKey: blob };
      return info;
    },
    async createContainer(index, request) {
      if (request.mode === 'generate') {
        const bits = isRsaKeySpec(request.keySpec) ? request.keySize : 256;
        if (!isRsaKeySpec(request.keySpec) && request.keySpec !== KeySpec.AT_ECDHE_P256) {
          throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `key spec ${request.keySpec}`);
        }
        await exchange(0x46, request.keySpec, index, Uint8Array.of(bits >> 8, bits & 0xff), 'GENERATE');
        return;
      }
      const key = privateKeyBlobToKeyObject(request.keyData as Uint8Array);
      const pkcs8 = new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
      try {
        await exchange(0x48, request.keySpec, index, pkcs8, 'IMPORT');
      } finally {
        wipe(pkcs8);
      }
    },
    async deleteContainer(index) {
      await exchange(0xe4, 0x01, index, undefined, 'DELETE KEY');
    },
    async authenticatePin(userId, pin) {
      if (userId !== 'user')
        throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'the admin authenticates by challenge/response');
      await verifyUser(pin);
    },
    async getChallenge() {
      return exchange(0x84, 0, 0, undefined, 'GET CHALLENGE');
    },
    async authenticateChallenge(response) {
      await authenticateAdmin(response);
    },
    async unblockPin(_userId, authenticationData, newPin, retryCount, mode) {
      if (mode !== 'pin') throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'unblocking by challenge/response');
      if (retryCount !== 0) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'changing the retry count');
      await exchange(
        0x2c,
        0,
        0x80,
        concatBytes(Uint8Array.of(authenticationData.length), authenticationData, newPin),
        'RESET RETRY COUNTER',
      );
    },
    async deauthenticate(userId) {
      agreements.clear();
      await logOut(userId === 'user' ? 2 : 4);
    },
    async getChallengeEx(pinId) {
      if (pinId !== 2) throw new ScardError('SCARD_E_INVALID_PARAMETER', `PIN ${pinId} has no challenge`);
      return exchange(0x84, 0, 0, undefined, 'GET CHALLENGE');
    },
    async authenticateEx(pinId, _flags, pinData) {
      if (pinData === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'no PIN pad');
      if (pinId === 1) await verifyUser(pinData);
      else if (pinId === 2) await authenticateAdmin(pinData);
      else if (pinId === 3) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'the PUK only unblocks');
      else throw new ScardError('SCARD_E_INVALID_PARAMETER', `PIN ${pinId} is not listed`);
      return {};
    },
    async changeAuthenticatorEx(request) {
      requireNoRetryCountChange(request.retryCount);
      if (request.operation === 'change' && request.targetPinId === 1 && request.authenticatingPinId === 1) {
        const body = concatBytes(
          Uint8Array.of(request.authenticatingData.length),
          request.authenticatingData,
          request.targetData,
        );
        await exchange(0x24, 0, 0x80, body, 'CHANGE REFERENCE DATA');
        return;
      }
      if (request.operation === 'unblock' && request.authenticatingPinId === 3 && request.targetPinId === 1) {
        const body = concatBytes(
          Uint8Array.of(request.authenticatingData.length),
          request.authenticatingData,
          request.targetData,
        );
        await exchange(0x2c, 0, 0x80, body, 'RESET RETRY COUNTER');
        return;
      }
      if (request.operation === 'change' && request.authenticatingPinId === 3 && request.targetPinId === 3) {
        throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'changing the PUK');
      }
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'PIN pair not supported');
    },
    async deauthenticateEx(pinSet) {
      agreements.clear();
      await logOut(pinSet & 0b110);
    },
    async createFile(directory, name, _initialSize, accessCondition) {
      await exchange(0xe0, accessCondition, 0, encoder.encode(pathOf(directory, name)), 'CREATE FILE');
    },
    async readFile(directory, name) {
      return exchange(0xca, 0, 0, encoder.encode(pathOf(directory, name)), 'GET FILE');
    },
    async writeFile(directory, name, data) {
      const path = encoder.encode(pathOf(directory, name));
      await exchange(0xda, 0, 0, concatBytes(Uint8Array.of(path.length), path, data), 'PUT FILE');
    },
    async deleteFile(directory, name) {
      await exchange(0xe4, 0, 0, encoder.encode(pathOf(directory, name)), 'DELETE FILE');
    },
    async enumFiles(directory) {
      const answer = await exchange(0xe2, 0, 0, encoder.encode(directory ?? ''), 'LIST');
      const names = decoder
        .decode(answer)
        .split('\0')
        .filter((name) => name.length > 0);
      if (names.length === 0) throw new ScardError('SCARD_E_FILE_NOT_FOUND', 'the directory is empty');
      return names;
    },
    async getFileInfo(directory, name) {
      const answer = await exchange(0xcc, 0, 0, encoder.encode(pathOf(directory, name)), 'FILE INFO');
      const size =
        (((answer[1] as number) << 24) |
          ((answer[2] as number) << 16) |
          ((answer[3] as number) << 8) |
          (answer[4] as number)) >>>
        0;
      return { size, accessCondition: answer[0] as never };
    },
    async queryFreeSpace() {
      return { bytesAvailable: 65536, keyContainersAvailable: 8, maxKeyContainers: 16 };
    },
    async queryKeySizes(keySpec) {
      if (isRsaKeySpec(keySpec))
        return { minimumBitLength: 1024, defaultBitLength: 2048, maximumBitLength: 2048, incrementalBitLength: 1024 };
      if (keySpec === KeySpec.AT_ECDHE_P256)
        return { minimumBitLength: 256, defaultBitLength: 256, maximumBitLength: 256, incrementalBitLength: 0 };
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `key spec ${keySpec}`);
    },
    async signData(request) {
      const { keySpec, key } = await publicKeyOf(request.containerIndex);
      if (!isRsaKeySpec(keySpec)) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'ECDSA');
      const modulusBytes = (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
      const block = context.padData(request, modulusBytes);
      return reverseBytes(await exchange(0x2a, 0, request.containerIndex, block, 'PRIVATE OPERATION'));
    },
    async rsaDecrypt(request) {
      const raw = await exchange(0x2a, 0, request.containerIndex, reverseBytes(request.data), 'PRIVATE OPERATION');
      return reverseBytes(request.padding.type === 'none' ? raw : context.unpadData(raw, request.padding));
    },
    async constructDHAgreement(request) {
      const peer = publicKeyBlobToKeyObject(request.publicKey).export({ format: 'der', type: 'spki' });
      return agreements.add(await exchange(0x86, 0, request.containerIndex, new Uint8Array(peer), 'ECDH'));
    },
    async deriveKey(request) {
      return agreements.derive(request);
    },
    async destroyDHAgreement(index) {
      agreements.destroy(index);
    },
    async getContainerProperty(index, name) {
      if (name === 'PIN Identifier') {
        await publicKeyOf(index);
        return 1 as never;
      }
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `container property ${name}`);
    },
    getProperty: properties,
    async setProperty(name) {
      if (name !== 'Parent Window' && name !== 'PIN Context String')
        throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', name);
    },
  };
}
