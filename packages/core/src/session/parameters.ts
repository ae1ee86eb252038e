/**
 * Parameter checks CardSession runs before a plugin sees a call, in the order of docs/spec/minidriver.md §1.5:
 * missing values, name syntax, reserved flags, structure versions; then (in the plugin) existence and
 * card I/O. Every failure here is SCARD_E_INVALID_PARAMETER unless the spec names another code.
 *
 * @packageDocumentation
 */
import { normalizeFileName } from '@minidriver/card-kit';
import type { DirectoryName } from '@minidriver/spec';
import {
  CARD_USER_ADMIN,
  CARD_USER_USER,
  DirectoryAccessCondition,
  FileAccessCondition,
  isKeySpec,
  isPinId,
  type KeySpec,
  type PinId,
  ROLE_EVERYONE,
  ScardError,
  type UserId,
} from '@minidriver/spec';

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/** A file name: 1..8 single-byte characters, folded to lower case (docs/spec/minidriver.md §4.1). */
export function checkFileName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) invalid('file name is missing or empty');
  return normalizeFileName(name);
}

/**
 * A directory argument: null (or undefined) is the root; otherwise a name as for files. `allowEmptyAsRoot`
 * accepts "" as the root, as implementations of CardEnumFiles do (docs/spec/minidriver.md §4.1).
 */
export function checkDirectoryName(directory: unknown, allowEmptyAsRoot = false): DirectoryName {
  if (directory === null || directory === undefined) return null;
  if (allowEmptyAsRoot && directory === '') return null;
  if (typeof directory !== 'string' || directory.length === 0) invalid('directory name is empty');
  return normalizeFileName(directory);
}

/** A reserved `dwFlags` / `dwReserved`: must be 0. */
export function checkZeroFlags(flags: unknown, what = 'dwFlags'): void {
  if (flags !== 0) invalid(`${what} must be 0, got ${String(flags)}`);
}

/** Flags that may only contain the bits of `allowed`. */
export function checkFlagBits(flags: unknown, allowed: number, what = 'dwFlags'): number {
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    invalid(`${what} is not a DWORD`);
  }
  if ((flags & ~allowed) >>> 0 !== 0) {
    invalid(`${what} 0x${flags.toString(16)} has bits outside 0x${allowed.toString(16)}`);
  }
  return flags;
}

/** A container index: a BYTE (0..255). */
export function checkContainerIndex(index: unknown): number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 255) {
    invalid(`container index ${String(index)} is not 0..255`);
  }
  return index;
}

/** One of the eight AT_* key specs. */
export function checkKeySpec(keySpec: unknown): KeySpec {
  if (typeof keySpec !== 'number' || !isKeySpec(keySpec)) invalid(`key spec ${String(keySpec)} is not an AT_* value`);
  return keySpec;
}

/** A PIN id that can be authenticated, changed or protect a key: 1..7 (ROLE_EVERYONE has no secret). */
export function checkSecretPinId(pinId: unknown, what = 'PIN id'): PinId {
  if (typeof pinId !== 'number' || !isPinId(pinId) || pinId === ROLE_EVERYONE) {
    invalid(`${what} ${String(pinId)} is not a PIN id 1..7`);
  }
  return pinId;
}

/** Any PIN id 0..7. */
export function checkPinId(pinId: unknown, what = 'PIN id'): PinId {
  if (typeof pinId !== 'number' || !isPinId(pinId)) invalid(`${what} ${String(pinId)} is not 0..7`);
  return pinId;
}

/** A v4 principal: `user` or `admin` (never `anonymous`). */
export function checkUserId(userId: unknown): UserId {
  if (userId !== CARD_USER_USER && userId !== CARD_USER_ADMIN) {
    invalid(`user id must be "user" or "admin"`);
  }
  return userId;
}

/** Bytes that must be present (a PIN, a response, data to sign ...). `allowEmpty` admits length 0. */
export function checkBytes(value: unknown, what: string, allowEmpty = false): Uint8Array {
  if (!(value instanceof Uint8Array)) invalid(`${what} is missing`);
  if (!allowEmpty && value.length === 0) invalid(`${what} is empty`);
  return value;
}

/** A DWORD count (sizes, retry counts). */
export function checkDword(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    invalid(`${what} ${String(value)} is not a DWORD`);
  }
  return value;
}

/** CardCreateDirectory's access condition: user or admin create/delete. */
export function checkDirectoryAccessCondition(value: unknown): DirectoryAccessCondition {
  if (
    value !== DirectoryAccessCondition.UserCreateDeleteDirAc &&
    value !== DirectoryAccessCondition.AdminCreateDeleteDirAc
  ) {
    invalid(`directory access condition ${String(value)} is not UserCreateDeleteDirAc or AdminCreateDeleteDirAc`);
  }
  return value;
}

/** CardCreateFile's access condition: a defined value other than InvalidAc and UnknownAc. */
export function checkFileAccessCondition(value: unknown): FileAccessCondition {
  const allowed: readonly unknown[] = [
    FileAccessCondition.EveryoneReadUserWriteAc,
    FileAccessCondition.UserWriteExecuteAc,
    FileAccessCondition.EveryoneReadAdminWriteAc,
    FileAccessCondition.UserReadWriteAc,
    FileAccessCondition.AdminReadWriteAc,
  ];
  if (!allowed.includes(value)) invalid(`file access condition ${String(value)} is not allowed`);
  return value as FileAccessCondition;
}
