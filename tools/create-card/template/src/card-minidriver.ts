/**
 * The minidriver of the __CARD_NAME__ card: the logical file system of the minidriver specification
 * mapped onto the card's objects, its PINs, its key containers and its signatures.
 *
 * Logical file system (what CardEnumFiles / CardReadFile show):
 *
 * | file            | where it comes from                               | access condition          |
 * |-----------------|---------------------------------------------------|---------------------------|
 * | cardid          | GET DATA 01: the card's 16-byte serial             | EveryoneReadAdminWriteAc  |
 * | cardcf          | GET DATA / PUT DATA 02: kept on the card          | EveryoneReadUserWriteAc   |
 * | cardapps        | made here: the one application "mscp"             | EveryoneReadAdminWriteAc  |
 * | mscp/cmapfile   | made here from the containers that hold a key     | EveryoneReadAdminWriteAc  |
 * | mscp/kscNN      | GET DATA / PUT DATA 10+NN: container NN's cert    | EveryoneReadUserWriteAc   |
 *
 * Cache mode: NO_CACHE. cmapfile is made here from the keys, so it changes when a container changes, and
 * the session's file cache is dropped only when cardcf's files counter moves. A card that stores cmapfile
 * itself (written by the caller, minidriver specification §10 step 15) and keeps cardid and cardcf
 * could claim GLOBAL_CACHE instead (see docs/writing-a-plugin.md, "Cache modes").
 *
 * @packageDocumentation
 */

import { cardIdToGuidString, encodeCardApps, encodeContainerMap, encodeEccPublicKeyBlob } from '@minidriver/card-kit';
import {
  CacheMode,
  type CardPropertyName,
  type CardPropertyTypes,
  type ChangeAuthenticatorRequest,
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  type ContainerMapRecord,
  type CreateContainerRequest,
  createPinSet,
  type DirectoryName,
  FileAccessCondition,
  isPinInSet,
  KeySpec,
  type Minidriver,
  PinCachePolicyType,
  type PinId,
  type PinInfo,
  type PinSet,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
} from '@minidriver/spec';
import { type CardApplication, PutMode } from './card-commands.js';
import { CONTAINER_COUNT, DataObject } from './card-profile.js';

/** The PUK's PIN identifier: it only unblocks the user PIN. */
export const PUK_PIN_ID = 3;

const PIN_LIST: PinSet = createPinSet(ROLE_USER, PUK_PIN_ID);

const PIN_INFO: Readonly<Record<number, PinInfo>> = {
  [ROLE_USER]: {
    pinType: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.PrimaryCardPin,
    changePermission: createPinSet(ROLE_USER),
    unblockPermission: createPinSet(PUK_PIN_ID),
    cachePolicy: { type: PinCachePolicyType.PinCacheNormal, info: 0 },
    flags: 0,
  },
  [PUK_PIN_ID]: {
    pinType: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.UnblockOnlyPin,
    changePermission: 0,
    unblockPermission: 0,
    cachePolicy: { type: PinCachePolicyType.PinCacheNormal, info: 0 },
    flags: 0,
  },
};

const ROOT_FILES = ['cardid', 'cardcf', 'cardapps'] as const;
const P256 = { minimumBitLength: 256, defaultBitLength: 256, maximumBitLength: 256, incrementalBitLength: 0 };

const invalid = (message: string): never => {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
};
const unsupported = (feature: string): never => {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `${feature} is not supported by this card`);
};

/** `kscNN` -> NN when NN names one of the card's containers. */
function certificateContainer(name: string): number | undefined {
  const match = /^ksc([0-9a-f]{2})$/.exec(name);
  if (!match) return undefined;
  const index = Number.parseInt(match[1] as string, 16);
  return index < CONTAINER_COUNT ? index : undefined;
}

function pinInfo(pinId: number): PinInfo {
  return PIN_INFO[pinId] ?? invalid(`PIN ${pinId} does not exist on this card`);
}

/** Makes the minidriver for one card context (CardAcquireContext has already selected the application). */
export function createCardMinidriver(card: CardApplication): Minidriver {
  let authenticated: PinSet = 0;

  const cardId = async () => (await card.getData(DataObject.CARD_ID)) ?? invalid('the card has no card id');

  const publicKeys = async () => {
    const keys: (Uint8Array | undefined)[] = [];
    for (let index = 0; index < CONTAINER_COUNT; index++) keys.push(await card.readPublicKey(index));
    return keys;
  };

  const containerMap = async (): Promise<Uint8Array> => {
    const guid = cardIdToGuidString(await cardId()).replace(/[{}-]/g, '');
    let defaultSet = false;
    const records: ContainerMapRecord[] = (await publicKeys()).map((key, index) => {
      if (key === undefined) return { guid: '', flags: 0, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 0 };
      const flags = CONTAINER_MAP_VALID_CONTAINER | (defaultSet ? 0 : CONTAINER_MAP_DEFAULT_CONTAINER);
      defaultSet = true;
      return {
        guid: `${index.toString(16).padStart(2, '0')}${guid.slice(2)}`,
        flags,
        signatureKeySizeBits: 256,
        keyExchangeKeySizeBits: 0,
      };
    });
    return encodeContainerMap(records);
  };

  const readFile = async (directory: DirectoryName, name: string): Promise<Uint8Array> => {
    if (directory === null) {
      if (name === 'cardid') return cardId();
      if (name === 'cardcf') return (await card.getData(DataObject.CARDCF)) ?? new Uint8Array(6);
      if (name === 'cardapps') return encodeCardApps(['mscp']);
    } else if (directory === 'mscp') {
      if (name === 'cmapfile') return containerMap();
      const index = certificateContainer(name);
      if (index !== undefined) {
        const data = await card.getData(DataObject.CERTIFICATE_BASE + index);
        if (data !== undefined) return data;
      }
    } else {
      throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory ${directory}`);
    }
    throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file ${directory ?? ''}/${name}`);
  };

  const verify = async (pin: Uint8Array) => {
    try {
      await card.verify(pin);
      authenticated |= createPinSet(ROLE_USER);
    } catch (error) {
      authenticated &= ~createPinSet(ROLE_USER);
      throw error;
    }
  };

  const createContainer = async (index: number, request: CreateContainerRequest) => {
    if (index >= CONTAINER_COUNT) invalid(`the card has containers 0 to ${CONTAINER_COUNT - 1}`);
    if (request.mode !== 'generate') unsupported('key import');
    if (request.keySpec !== KeySpec.AT_ECDSA_P256) unsupported(`key spec ${request.keySpec} (only ECDSA P-256)`);
    await card.generateKey(index);
  };

  const changeAuthenticator = async (request: ChangeAuthenticatorRequest) => {
    if (request.retryCount !== 0) unsupported('changing the retry limit');
    if (request.targetPinId !== ROLE_USER) unsupported(`changing PIN ${request.targetPinId}`);
    if (request.operation === 'change' && request.authenticatingPinId === ROLE_USER) {
      await card.changePin(request.authenticatingData, request.targetData);
    } else if (request.operation === 'unblock' && request.authenticatingPinId === PUK_PIN_ID) {
      await card.unblockPin(request.authenticatingData, request.targetData);
    } else {
      invalid(`PIN ${request.authenticatingPinId} cannot ${request.operation} PIN ${request.targetPinId}`);
    }
  };

  const deauthenticate = async (pinSet: PinSet) => {
    if (isPinInSet(pinSet, ROLE_USER)) await card.logOut();
    authenticated &= ~pinSet;
  };

  const minidriver: Minidriver = {
    async deleteContext() {
      authenticated = 0;
    },
    async queryCapabilities() {
      return { certificateCompression: false, keyGeneration: true };
    },
    async getContainerInfo(index) {
      const point = index < CONTAINER_COUNT ? await card.readPublicKey(index) : undefined;
      if (point === undefined) throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} is empty`);
      const key = { curve: 'P-256' as const, x: point.slice(1, 33), y: point.slice(33, 65) };
      return { signaturePublicKey: encodeEccPublicKeyBlob(key, 'ecdsa') };
    },
    createContainer,
    createContainerEx: createContainer,
    async deleteContainer(index) {
      // Deleting an empty container succeeds (§5.4.3).
      if (index < CONTAINER_COUNT) await card.deleteKey(index);
    },
    async authenticatePin(userId, pin) {
      if (userId !== 'user') unsupported('an administrator');
      await verify(pin);
    },
    async authenticateEx(pinId, _flags, pinData) {
      if (pinId === PUK_PIN_ID) unsupported('authenticating with the PUK (it only unblocks)');
      if (pinId !== ROLE_USER) invalid(`PIN ${pinId} does not exist on this card`);
      if (pinData === undefined) invalid('no PIN given');
      await verify(pinData as Uint8Array);
      return {};
    },
    async unblockPin(_userId, puk, newPin, retryCount, mode) {
      if (mode !== 'pin') unsupported('unblocking by challenge/response');
      await changeAuthenticator({
        operation: 'unblock',
        authenticatingPinId: PUK_PIN_ID as PinId,
        authenticatingData: puk,
        targetPinId: ROLE_USER,
        targetData: newPin,
        retryCount,
        silent: false,
      });
    },
    async changeAuthenticator(userId, current, next, retryCount, mode) {
      if (userId !== 'user' || mode !== 'pin') unsupported('changing an administrator key');
      await changeAuthenticator({
        operation: 'change',
        authenticatingPinId: ROLE_USER,
        authenticatingData: current,
        targetPinId: ROLE_USER,
        targetData: next,
        retryCount,
        silent: false,
      });
    },
    changeAuthenticatorEx: changeAuthenticator,
    async deauthenticate(userId) {
      if (userId !== 'user') unsupported('an administrator');
      await deauthenticate(createPinSet(ROLE_USER));
    },
    deauthenticateEx: deauthenticate,
    readFile,
    async writeFile(directory, name, data) {
      if (directory === null && name === 'cardcf') return card.putData(DataObject.CARDCF, PutMode.WRITE, data);
      const index = directory === 'mscp' ? certificateContainer(name) : undefined;
      if (index === undefined) {
        await readFile(directory, name);
        throw new ScardError('SCARD_W_SECURITY_VIOLATION', `${directory ?? ''}/${name} is read-only`);
      }
      await card.putData(DataObject.CERTIFICATE_BASE + index, PutMode.WRITE, data);
    },
    async createFile(directory, name) {
      const index = directory === 'mscp' ? certificateContainer(name) : undefined;
      if (index === undefined) return unsupported(`creating ${directory ?? ''}/${name} (only mscp/kscNN)`);
      await card.putData(DataObject.CERTIFICATE_BASE + index, PutMode.CREATE);
    },
    async deleteFile(directory, name) {
      const index = directory === 'mscp' ? certificateContainer(name) : undefined;
      if (index === undefined) return unsupported(`deleting ${directory ?? ''}/${name}`);
      await card.putData(DataObject.CERTIFICATE_BASE + index, PutMode.DELETE);
    },
    async enumFiles(directory) {
      if (directory === null) return [...ROOT_FILES];
      if (directory !== 'mscp') throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory ${directory}`);
      const names = ['cmapfile'];
      for (let index = 0; index < CONTAINER_COUNT; index++) {
        if ((await card.getData(DataObject.CERTIFICATE_BASE + index)) !== undefined) {
          names.push(`ksc${index.toString(16).padStart(2, '0')}`);
        }
      }
      return names;
    },
    async getFileInfo(directory, name) {
      const size = (await readFile(directory, name)).length;
      const userWritable = (directory === null && name === 'cardcf') || (directory === 'mscp' && name !== 'cmapfile');
      return {
        size,
        accessCondition: userWritable
          ? FileAccessCondition.EveryoneReadUserWriteAc
          : FileAccessCondition.EveryoneReadAdminWriteAc,
      };
    },
    async queryFreeSpace() {
      const free = (await publicKeys()).filter((key) => key === undefined).length;
      return { bytesAvailable: 0xffffffff, keyContainersAvailable: free, maxKeyContainers: CONTAINER_COUNT };
    },
    async queryKeySizes(keySpec) {
      if (keySpec !== KeySpec.AT_ECDSA_P256) unsupported(`key spec ${keySpec} (only ECDSA P-256)`);
      return P256;
    },
    async signData(request) {
      const index = request.containerIndex;
      if (index >= CONTAINER_COUNT || (await card.readPublicKey(index)) === undefined) {
        throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} is empty`);
      }
      if (request.keySpec !== KeySpec.AT_ECDSA_P256 && request.keySpec !== KeySpec.AT_SIGNATURE) {
        unsupported(`signing with key spec ${request.keySpec}`);
      }
      return card.sign(index, request.data);
    },
    async getContainerProperty(index, name) {
      if (name !== 'PIN Identifier') return unsupported(`container property "${name}"`);
      await minidriver.getContainerInfo(index);
      return ROLE_USER as never;
    },
    async getProperty<K extends CardPropertyName>(name: K, flags: number): Promise<CardPropertyTypes[K]> {
      const value = async (): Promise<unknown> => {
        switch (name) {
          case 'Free Space':
            return minidriver.queryFreeSpace();
          case 'Capabilities':
            return minidriver.queryCapabilities();
          case 'Key Sizes':
            return minidriver.queryKeySizes(flags as KeySpec);
          case 'Read Only Mode':
            return false;
          case 'Cache Mode':
            return CacheMode.NO_CACHE;
          case 'Supports Windows x.509 Enrollment':
            return true;
          case 'Card Identifier':
          case 'Card Serial Number':
            return cardId();
          case 'PIN Information':
            return pinInfo(flags);
          case 'PIN List':
            return PIN_LIST;
          case 'Authenticated State':
            return authenticated;
          case 'PIN Strength Verify':
          case 'PIN Strength Change':
          case 'PIN Strength Unblock':
            pinInfo(flags);
            return 1; // CARD_PIN_STRENGTH_PLAINTEXT
          case 'Key Import Support':
            return 0;
          case 'minidriver:PIN Retries Left':
            if (flags !== ROLE_USER) pinInfo(flags);
            return flags === ROLE_USER ? ((await card.pinTriesLeft()) ?? 0xffffffff) : 0xffffffff;
          case 'Parent Window':
          case 'PIN Context String':
            return invalid(`"${name}" can only be set`);
          default:
            return unsupported(`card property "${name}"`);
        }
      };
      return (await value()) as CardPropertyTypes[K];
    },
    async setProperty(name) {
      // PINs are typed on the host: nothing needs the parent window or the context string.
      if (name !== 'Parent Window' && name !== 'PIN Context String') unsupported(`setting "${name}"`);
    },
  };
  return minidriver;
}
