/**
 * @packageDocumentation
 * Key containers on a GIDS card (docs/spec/gids.md §3.4-3.5, docs/spec/gids.md §4.5), kept as OpenSC and Microsoft's minidriver
 * keep them: container n is key file B0(81+n), a record in `mscp/cmapfile` and a record in the key map (A000/DF20)
 * with as many records as the cmapfile. Creating a container creates the key file, then writes the key map and
 * the cmapfile; deleting one deletes the key file and clears both records.
 */
import { randomUUID } from 'node:crypto';
import {
  decodeContainerMap,
  decodeEccPrivateKeyBlob,
  type EccCurve,
  encodeContainerMap,
  encodeEccPublicKeyBlob,
  encodeRsaPublicKeyBlob,
  type KitContainerEntryPoints,
  privateKeyBlobToKeyObject,
} from '@minidriver/card-kit';
import {
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  type ContainerInfo,
  type ContainerMapRecord,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  type CreateContainerRequest,
  eccKeySpecBits,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  isRsaKeySpec,
  KeySpec,
  ROLE_USER,
  ScardError,
  wipe,
} from '@minidriver/spec';
import type { GidsApplication } from './gids-application.js';
import { FIRST_KEY_REFERENCE, MAX_CONTAINER_INDEX } from './gids-commands.js';
import type { GidsFileSystem } from './gids-file-system.js';
import { type KeyRole, keyFileFcp, mechanismFor, mechanismSize } from './gids-key-files.js';
import { DELETED_KEY_MAP_RECORD, decodeKeyMap, encodeKeyMap, type KeyMapRecord } from './gids-key-map.js';
import type { GidsPublicKey } from './gids-public-key.js';

/** The EF and DO of the key map. */
const KEY_MAP_EF = 0xa000;
const KEY_MAP_DO = 0xdf20;
const KEY_TYPE_EXCHANGE = 0x9a;
const KEY_TYPE_SIGNATURE = 0x9c;
const EMPTY_RECORD: ContainerMapRecord = { guid: '', flags: 0, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 0 };
const CURVES: Readonly<Record<number, EccCurve>> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };

/** What a container holds, from its cmapfile and key map records. */
export interface ContainerKey {
  readonly keyReference: number;
  readonly mechanism: number;
  readonly rsa: boolean;
  readonly bits: number;
  readonly role: KeyRole;
}

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/** The role a key of `keySpec` plays in its container. */
function roleOfKeySpec(keySpec: number): KeyRole {
  if (keySpec === KeySpec.AT_KEYEXCHANGE) return 'keyExchange';
  if (keySpec === KeySpec.AT_SIGNATURE) return 'signature';
  return isEcdsaKeySpec(keySpec) ? 'ecdsa' : 'ecdh';
}

/** The container records of one card context, and the container entry points of the contract. */
export class GidsContainers implements KitContainerEntryPoints {
  readonly #app: GidsApplication;
  readonly #files: GidsFileSystem;

  constructor(app: GidsApplication, files: GidsFileSystem) {
    this.#app = app;
    this.#files = files;
  }

  async #records(): Promise<ContainerMapRecord[]> {
    return decodeContainerMap(await this.#files.readFile('mscp', 'cmapfile'));
  }

  async #keyMap(): Promise<KeyMapRecord[]> {
    return decodeKeyMap((await this.#app.readDataObject(KEY_MAP_EF, KEY_MAP_DO)) ?? new Uint8Array(0));
  }

  /** The key of container `index`, or SCARD_E_NO_KEY_CONTAINER. */
  async key(index: number): Promise<ContainerKey> {
    const record = (await this.#records())[index];
    const valid = record !== undefined && (record.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0;
    const map = valid ? (await this.#keyMap())[index] : undefined;
    const size = map?.inUse ? mechanismSize(map.mechanism) : undefined;
    if (!valid || map === undefined || size === undefined) {
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} is empty`);
    }
    const exchange = map.keyType === KEY_TYPE_EXCHANGE;
    const role: KeyRole = size.rsa ? (exchange ? 'keyExchange' : 'signature') : exchange ? 'ecdh' : 'ecdsa';
    return {
      keyReference: FIRST_KEY_REFERENCE + index,
      mechanism: map.mechanism,
      rsa: size.rsa,
      bits: size.bits,
      role,
    };
  }

  /** CardGetContainerInfo: the public key of container `index` read from the card, as a key BLOB. */
  async getContainerInfo(index: number): Promise<ContainerInfo> {
    const key = await this.key(index);
    const publicKey = await this.#app.readPublicKey(key.keyReference);
    const blob = publicKeyBlob(publicKey, key);
    return key.role === 'signature' || key.role === 'ecdsa'
      ? { signaturePublicKey: blob }
      : { keyExchangePublicKey: blob };
  }

  /** The number of valid containers and the number of records. */
  async usage(): Promise<{ used: number; records: number }> {
    const records = await this.#records();
    return {
      used: records.filter((r) => (r.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0).length,
      records: records.length,
    };
  }

  /**
   * CardCreateContainerEx: a key generated on the card or imported from its BLOB, bound to the user PIN (the
   * key files GIDS creates say so; no other PIN can guard a key).
   */
  async createContainerEx(index: number, request: CreateContainerRequest): Promise<void> {
    if (request.pinId !== ROLE_USER) {
      throw new ScardError(
        'SCARD_E_UNSUPPORTED_FEATURE',
        'GIDS keys are guarded by the user PIN (their key files say so); no other PIN can be bound',
      );
    }
    const spec = request.keySpec;
    const role = roleOfKeySpec(spec);
    if (request.mode === 'generate') {
      const mechanism = isRsaKeySpec(spec)
        ? mechanismFor('rsa', request.keySize)
        : mechanismFor('ec', eccKeySpecBits(spec) ?? 0);
      if (mechanism === undefined) invalid(`a GIDS card cannot hold a ${request.keySize}-bit key of key spec ${spec}`);
      await this.create(index, role, mechanism, async (reference) => {
        await this.#app.generateKey(mechanism, reference);
      });
      return;
    }
    const blob = request.keyData;
    if (blob === undefined) invalid('key import needs the key BLOB');
    const key = privateKeyBlobToKeyObject(blob);
    const rsa = key.asymmetricKeyType === 'rsa';
    if (rsa !== isRsaKeySpec(spec)) invalid(`the key BLOB does not hold a key of key spec ${spec}`);
    let mechanism: number | undefined;
    if (rsa) {
      mechanism = mechanismFor('rsa', key.asymmetricKeyDetails?.modulusLength ?? 0);
    } else {
      const decoded = decodeEccPrivateKeyBlob(blob);
      const bits = Number(decoded.curve.slice(2));
      if ((decoded.use === 'ecdh') !== isEcdhKeySpec(spec) || eccKeySpecBits(spec) !== bits) {
        invalid(`the key BLOB does not hold a key of key spec ${spec}`);
      }
      mechanism = mechanismFor('ec', bits);
    }
    if (mechanism === undefined) invalid('a GIDS card cannot hold a key of that size');
    const der = new Uint8Array(key.export({ format: 'der', type: rsa ? 'pkcs1' : 'sec1' }));
    try {
      await this.create(index, role, mechanism, (reference) => this.#app.importKey(reference, der, rsa));
    } finally {
      wipe(der);
    }
  }

  /** CardDeleteContainer (an index beyond the card's containers is already empty). */
  async deleteContainer(index: number): Promise<void> {
    if (index > MAX_CONTAINER_INDEX) return;
    await this.delete(index);
  }

  /** CardGetContainerProperty: CONTAINER_INFO and the PIN (always the user's). */
  async getContainerProperty<K extends ContainerPropertyName>(
    index: number,
    name: K,
  ): Promise<ContainerPropertyTypes[K]> {
    if (name === 'Container Info') return (await this.getContainerInfo(index)) as ContainerPropertyTypes[K];
    if (name === 'PIN Identifier') {
      await this.key(index);
      return ROLE_USER as ContainerPropertyTypes[K];
    }
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `container property "${name}" is not available on GIDS`);
  }

  /** CardSetContainerProperty: a key file fixes its PIN, so nothing can be changed. */
  async setContainerProperty<K extends ContainerPropertyName>(index: number, name: K): Promise<void> {
    await this.key(index);
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `GIDS cannot change "${name}" of an existing key (its key file fixes the user PIN)`,
    );
  }

  /**
   * Creates container `index` for a key of `role` and `mechanism`: key file, key map, cmapfile. `fill` then
   * generates or imports the key; if it fails, the container is removed again.
   */
  async create(
    index: number,
    role: KeyRole,
    mechanism: number,
    fill: (keyReference: number) => Promise<void>,
  ): Promise<void> {
    if (!Number.isInteger(index) || index < 0 || index > MAX_CONTAINER_INDEX) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `container index ${index} is outside 0..${MAX_CONTAINER_INDEX}`,
      );
    }
    const size = mechanismSize(mechanism);
    if (size === undefined)
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `mechanism ${mechanism} is not a GIDS key`);
    // A container that already holds a key is emptied first: the cmapfile never lists a container whose key
    // file is being rebuilt.
    await this.delete(index);
    const records = await this.#records();
    const keyReference = FIRST_KEY_REFERENCE + index;
    await this.#app.createFile(keyFileFcp(keyReference, role, mechanism));
    const next = [...records];
    while (next.length <= index) next.push(EMPTY_RECORD);
    const hasDefault = next.some(
      (record, position) => position !== index && (record.flags & CONTAINER_MAP_DEFAULT_CONTAINER) !== 0,
    );
    const exchange = role === 'keyExchange' || role === 'ecdh';
    next[index] = {
      guid: `{${randomUUID()}}`,
      flags: CONTAINER_MAP_VALID_CONTAINER | (hasDefault ? 0 : CONTAINER_MAP_DEFAULT_CONTAINER),
      signatureKeySizeBits: exchange ? 0 : size.bits,
      keyExchangeKeySizeBits: exchange ? size.bits : 0,
    };
    try {
      await fill(keyReference);
    } catch (error) {
      await this.#app.deleteFile(0xb000 | keyReference).catch(() => undefined);
      throw error;
    }
    const map = await this.#keyMap();
    const alignedMap = alignKeyMap(map, next.length);
    alignedMap[index] = {
      inUse: true,
      mechanism,
      keyType: exchange ? KEY_TYPE_EXCHANGE : KEY_TYPE_SIGNATURE,
      keyFile: 0xb000 | keyReference,
    };
    await this.#app.writeDataObject(KEY_MAP_EF, KEY_MAP_DO, encodeKeyMap(alignedMap));
    await this.#files.writeFile('mscp', 'cmapfile', encodeContainerMap(next));
  }

  /**
   * Deletes container `index` (an empty index succeeds): the cmapfile record first (the container is gone for
   * every reader), then the key map record, then the key file (an interrupted deletion leaves at most an
   * orphan key file, which the next creation replaces).
   */
  async delete(index: number): Promise<void> {
    const keyReference = FIRST_KEY_REFERENCE + index;
    const records = await this.#records();
    if (index < records.length && ((records[index]?.flags ?? 0) & CONTAINER_MAP_VALID_CONTAINER) !== 0) {
      const next = [...records];
      next[index] = EMPTY_RECORD;
      await this.#files.writeFile('mscp', 'cmapfile', encodeContainerMap(next));
      const map = alignKeyMap(await this.#keyMap(), records.length);
      map[index] = DELETED_KEY_MAP_RECORD;
      await this.#app.writeDataObject(KEY_MAP_EF, KEY_MAP_DO, encodeKeyMap(map));
    }
    await this.#app.deleteFile(0xb000 | keyReference);
  }
}

/** The key map with exactly `length` records (OpenSC refuses to create keys when the counts differ). */
function alignKeyMap(map: readonly KeyMapRecord[], length: number): KeyMapRecord[] {
  const aligned = map.slice(0, length);
  while (aligned.length < length) aligned.push(DELETED_KEY_MAP_RECORD);
  return aligned;
}

/** A public key BLOB (BCRYPT ECC or CAPI RSA) for `key` read from the card. */
function publicKeyBlob(publicKey: GidsPublicKey, key: ContainerKey): Uint8Array {
  if (publicKey.kind === 'rsa') {
    if (!key.rsa)
      throw new ScardError('SCARD_E_COMM_DATA_LOST', 'the card holds an RSA key where an EC key is recorded');
    return encodeRsaPublicKeyBlob(
      { modulus: publicKey.modulus, publicExponent: publicKey.exponent },
      key.role === 'signature' ? 'signature' : 'keyExchange',
    );
  }
  const curve = CURVES[key.bits];
  const length = (publicKey.point.length - 1) / 2;
  if (key.rsa || curve === undefined || length !== Math.ceil(key.bits / 8)) {
    throw new ScardError('SCARD_E_COMM_DATA_LOST', 'the card holds an EC key of another size than recorded');
  }
  return encodeEccPublicKeyBlob(
    { curve, x: publicKey.point.slice(1, 1 + length), y: publicKey.point.slice(1 + length) },
    key.role === 'ecdh' ? 'ecdh' : 'ecdsa',
  );
}
