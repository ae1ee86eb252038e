/**
 * Byte forms of the fixed-size structures with a `dwVersion` (docs/spec/minidriver.md §3.2–§3.5, §3.9), as a C caller
 * passes them (all members little-endian DWORDs; BOOL = 4-byte 0/1). These are caller-supplied buffers,
 * so every decoder throws SCARD_E_INVALID_PARAMETER for a wrong length or an out-of-range member, and
 * ERROR_REVISION_MISMATCH for a `dwVersion` above the current one (docs/spec/minidriver.md §14 #16). A `dwVersion` at or below
 * the current one (including 0, "treat as current") is accepted; encoders always write the current one.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */

import type {
  CardCapabilities,
  CardFileInfo,
  CardFreeSpaceInfo,
  CardKeySizes,
  PinCachePolicy,
  PinInfo,
} from '@minidriver/spec';
import {
  FileAccessCondition,
  PinCachePolicyType,
  ScardError,
  SecretPurpose,
  SecretType,
  StructureVersion,
} from '@minidriver/spec';
import { encodeUint32s, invalidInput, readUint32, requireBytes, requireUint } from './binary.js';

export const CARD_CAPABILITIES_SIZE = 12;
export const CARD_FILE_INFO_SIZE = 12;
export const CARD_FREE_SPACE_INFO_SIZE = 16;
export const CARD_KEY_SIZES_SIZE = 20;
export const PIN_CACHE_POLICY_SIZE = 12;
export const PIN_INFO_SIZE = 36;

const DWORD_MAX = 0xffffffff;

/** Reads the DWORDs of a structure after checking its length and `dwVersion`. */
function readStructure(bytes: Uint8Array, size: number, currentVersion: number, what: string): number[] {
  requireBytes(bytes, what);
  if (bytes.length !== size) invalidInput(`${what} is ${size} bytes, got ${bytes.length}`);
  const words: number[] = [];
  for (let offset = 0; offset < size; offset += 4) words.push(readUint32(bytes, offset));
  if ((words[0] as number) > currentVersion) {
    throw new ScardError('ERROR_REVISION_MISMATCH', `${what} dwVersion ${words[0]} is above ${currentVersion}`);
  }
  return words;
}

function readBool(value: number): boolean {
  return value !== 0;
}

function requireEnum<T extends number>(value: number, values: Record<string, T>, what: string): T {
  if (!(Object.values(values) as number[]).includes(value)) invalidInput(`${what} ${value} is not defined`);
  return value as T;
}

function requireObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) invalidInput(`${what} must be an object`);
}

/** `CARD_CAPABILITIES` (12 bytes): dwVersion 1, fCertificateCompression, fKeyGen. */
export function encodeCardCapabilities(capabilities: CardCapabilities): Uint8Array {
  requireObject(capabilities, 'CARD_CAPABILITIES');
  return encodeUint32s([
    StructureVersion.CARD_CAPABILITIES,
    capabilities.certificateCompression ? 1 : 0,
    capabilities.keyGeneration ? 1 : 0,
  ]);
}

/** Decodes `CARD_CAPABILITIES`; any non-zero BOOL is TRUE, as in C. */
export function decodeCardCapabilities(bytes: Uint8Array): CardCapabilities {
  const [, compression, keyGeneration] = readStructure(
    bytes,
    CARD_CAPABILITIES_SIZE,
    StructureVersion.CARD_CAPABILITIES,
    'CARD_CAPABILITIES',
  );
  return { certificateCompression: readBool(compression as number), keyGeneration: readBool(keyGeneration as number) };
}

/** `CARD_FILE_INFO` (12 bytes): dwVersion 1, cbFileSize, AccessCondition. */
export function encodeCardFileInfo(info: CardFileInfo): Uint8Array {
  requireObject(info, 'CARD_FILE_INFO');
  requireUint(info.size, DWORD_MAX, 'file size');
  requireEnum(info.accessCondition, FileAccessCondition, 'file access condition');
  return encodeUint32s([StructureVersion.CARD_FILE_INFO, info.size, info.accessCondition]);
}

/** Decodes `CARD_FILE_INFO`. */
export function decodeCardFileInfo(bytes: Uint8Array): CardFileInfo {
  const [, size, accessCondition] = readStructure(
    bytes,
    CARD_FILE_INFO_SIZE,
    StructureVersion.CARD_FILE_INFO,
    'CARD_FILE_INFO',
  );
  return {
    size: size as number,
    accessCondition: requireEnum(accessCondition as number, FileAccessCondition, 'file access condition'),
  };
}

/** `CARD_FREE_SPACE_INFO` (16 bytes): dwVersion 1, bytes, containers available, max containers. */
export function encodeCardFreeSpaceInfo(info: CardFreeSpaceInfo): Uint8Array {
  requireObject(info, 'CARD_FREE_SPACE_INFO');
  requireUint(info.bytesAvailable, DWORD_MAX, 'bytes available');
  requireUint(info.keyContainersAvailable, DWORD_MAX, 'key containers available');
  requireUint(info.maxKeyContainers, DWORD_MAX, 'max key containers');
  return encodeUint32s([
    StructureVersion.CARD_FREE_SPACE_INFO,
    info.bytesAvailable,
    info.keyContainersAvailable,
    info.maxKeyContainers,
  ]);
}

/** Decodes `CARD_FREE_SPACE_INFO`. */
export function decodeCardFreeSpaceInfo(bytes: Uint8Array): CardFreeSpaceInfo {
  const [, bytesAvailable, keyContainersAvailable, maxKeyContainers] = readStructure(
    bytes,
    CARD_FREE_SPACE_INFO_SIZE,
    StructureVersion.CARD_FREE_SPACE_INFO,
    'CARD_FREE_SPACE_INFO',
  );
  return {
    bytesAvailable: bytesAvailable as number,
    keyContainersAvailable: keyContainersAvailable as number,
    maxKeyContainers: maxKeyContainers as number,
  };
}

/** `CARD_KEY_SIZES` (20 bytes): dwVersion 1, minimum, default, maximum, increment (bits). */
export function encodeCardKeySizes(sizes: CardKeySizes): Uint8Array {
  requireObject(sizes, 'CARD_KEY_SIZES');
  requireUint(sizes.minimumBitLength, DWORD_MAX, 'minimum bit length');
  requireUint(sizes.defaultBitLength, DWORD_MAX, 'default bit length');
  requireUint(sizes.maximumBitLength, DWORD_MAX, 'maximum bit length');
  requireUint(sizes.incrementalBitLength, DWORD_MAX, 'incremental bit length');
  return encodeUint32s([
    StructureVersion.CARD_KEY_SIZES,
    sizes.minimumBitLength,
    sizes.defaultBitLength,
    sizes.maximumBitLength,
    sizes.incrementalBitLength,
  ]);
}

/** Decodes `CARD_KEY_SIZES`. */
export function decodeCardKeySizes(bytes: Uint8Array): CardKeySizes {
  const [, minimumBitLength, defaultBitLength, maximumBitLength, incrementalBitLength] = readStructure(
    bytes,
    CARD_KEY_SIZES_SIZE,
    StructureVersion.CARD_KEY_SIZES,
    'CARD_KEY_SIZES',
  );
  return {
    minimumBitLength: minimumBitLength as number,
    defaultBitLength: defaultBitLength as number,
    maximumBitLength: maximumBitLength as number,
    incrementalBitLength: incrementalBitLength as number,
  };
}

/**
 * `PIN_INFO` (36 bytes): dwVersion 6, PinType, PinPurpose, dwChangePermission, dwUnblockPermission,
 * PIN_CACHE_POLICY { dwVersion 6, PinCachePolicyType, dwPinCachePolicyInfo }, dwFlags.
 */
export function encodePinInfo(info: PinInfo): Uint8Array {
  requireObject(info, 'PIN_INFO');
  requireObject(info.cachePolicy, 'PIN_CACHE_POLICY');
  requireEnum(info.pinType, SecretType, 'PIN type');
  requireEnum(info.purpose, SecretPurpose, 'PIN purpose');
  requireUint(info.changePermission, DWORD_MAX, 'change permission');
  requireUint(info.unblockPermission, DWORD_MAX, 'unblock permission');
  requireEnum(info.cachePolicy.type, PinCachePolicyType, 'PIN cache policy type');
  requireUint(info.cachePolicy.info, DWORD_MAX, 'PIN cache policy info');
  requireUint(info.flags, DWORD_MAX, 'PIN flags');
  return encodeUint32s([
    StructureVersion.PIN_INFO,
    info.pinType,
    info.purpose,
    info.changePermission,
    info.unblockPermission,
    StructureVersion.PIN_CACHE_POLICY,
    info.cachePolicy.type,
    info.cachePolicy.info,
    info.flags,
  ]);
}

/** Decodes `PIN_INFO`, including the nested `PIN_CACHE_POLICY` (whose dwVersion must also be ≤ 6). */
export function decodePinInfo(bytes: Uint8Array): PinInfo {
  const words = readStructure(bytes, PIN_INFO_SIZE, StructureVersion.PIN_INFO, 'PIN_INFO');
  const [, pinType, purpose, changePermission, unblockPermission, policyVersion, policyType, policyInfo, flags] =
    words as [number, number, number, number, number, number, number, number, number];
  if (policyVersion > StructureVersion.PIN_CACHE_POLICY) {
    throw new ScardError('ERROR_REVISION_MISMATCH', `PIN_CACHE_POLICY dwVersion ${policyVersion} is above 6`);
  }
  const cachePolicy: PinCachePolicy = {
    type: requireEnum(policyType, PinCachePolicyType, 'PIN cache policy type'),
    info: policyInfo,
  };
  return {
    pinType: requireEnum(pinType, SecretType, 'PIN type'),
    purpose: requireEnum(purpose, SecretPurpose, 'PIN purpose'),
    changePermission,
    unblockPermission,
    cachePolicy,
    flags,
  };
}
