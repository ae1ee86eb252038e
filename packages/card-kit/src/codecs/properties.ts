/**
 * `pbData` byte forms of card properties (docs/spec/minidriver.md §7.1) and container properties (docs/spec/minidriver.md §7.2). Property
 * values come from a C caller (Set) or go back to one (Get), so decoders throw SCARD_E_INVALID_PARAMETER
 * for a wrong size or value (ERROR_REVISION_MISMATCH for a structure's dwVersion above current).
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */

import type {
  CardPropertyName,
  CardPropertyTypes,
  ContainerPropertyName,
  ContainerPropertyTypes,
} from '@minidriver/spec';
import { CacheMode, isPinId, ScardError } from '@minidriver/spec';
import { encodeUint32s, invalidInput, readUint32, requireBytes, requireUint } from './binary.js';
import { decodeCardId, encodeCardId } from './cardid.js';
import {
  decodeCardCapabilities,
  decodeCardFreeSpaceInfo,
  decodeCardKeySizes,
  decodePinInfo,
  encodeCardCapabilities,
  encodeCardFreeSpaceInfo,
  encodeCardKeySizes,
  encodePinInfo,
} from './structures.js';
import { decodeMultiString, decodeWideString, encodeMultiString, encodeWideString } from './wide-string.js';

const DWORD_MAX = 0xffffffff;

function encodeDword(value: number, what: string): Uint8Array {
  requireUint(value, DWORD_MAX, what);
  return encodeUint32s([value]);
}

function decodeDword(bytes: Uint8Array, what: string): number {
  requireBytes(bytes, what);
  if (bytes.length !== 4) invalidInput(`${what} is a 4-byte DWORD, got ${bytes.length} bytes`);
  return readUint32(bytes, 0);
}

function encodeBool(value: boolean, what: string): Uint8Array {
  if (typeof value !== 'boolean') invalidInput(`${what} must be a boolean`);
  return encodeUint32s([value ? 1 : 0]);
}

function encodeCacheMode(value: number): Uint8Array {
  if (!(Object.values(CacheMode) as number[]).includes(value)) invalidInput(`cache mode ${value} is not defined`);
  return encodeUint32s([value]);
}

function decodeCacheMode(bytes: Uint8Array): CacheMode {
  const value = decodeDword(bytes, 'Cache Mode');
  if (!(Object.values(CacheMode) as number[]).includes(value)) invalidInput(`cache mode ${value} is not defined`);
  return value as CacheMode;
}

function encodeHwnd(value: bigint): Uint8Array {
  if (typeof value !== 'bigint' || value < 0n || value > 0xffffffffffffffffn)
    invalidInput('Parent Window must be a 64-bit unsigned bigint');
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

/** An HWND: 8 bytes (x64) or 4 bytes (x86), little-endian. */
function decodeHwnd(bytes: Uint8Array): bigint {
  requireBytes(bytes, 'Parent Window');
  if (bytes.length === 4) return BigInt(readUint32(bytes, 0));
  if (bytes.length !== 8) invalidInput(`Parent Window is an 8-byte (or 4-byte) HWND, got ${bytes.length} bytes`);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

function copyOf(bytes: Uint8Array, what: string): Uint8Array {
  requireBytes(bytes, what);
  return new Uint8Array(bytes);
}

type CardCodec<N extends CardPropertyName> = {
  encode(value: CardPropertyTypes[N]): Uint8Array;
  decode(bytes: Uint8Array): CardPropertyTypes[N];
};

const CARD_PROPERTY_CODECS: { [N in CardPropertyName]: CardCodec<N> } = {
  'Free Space': { encode: encodeCardFreeSpaceInfo, decode: decodeCardFreeSpaceInfo },
  Capabilities: { encode: encodeCardCapabilities, decode: decodeCardCapabilities },
  'Key Sizes': { encode: encodeCardKeySizes, decode: decodeCardKeySizes },
  'Read Only Mode': {
    encode: (value) => encodeBool(value, 'Read Only Mode'),
    decode: (bytes) => decodeDword(bytes, 'Read Only Mode') !== 0,
  },
  'Cache Mode': { encode: encodeCacheMode, decode: decodeCacheMode },
  'Supports Windows x.509 Enrollment': {
    encode: (value) => encodeBool(value, 'Supports Windows x.509 Enrollment'),
    decode: (bytes) => decodeDword(bytes, 'Supports Windows x.509 Enrollment') !== 0,
  },
  // Caller-supplied, so a wrong size is an invalid parameter even though cardid itself is a file.
  'Card Identifier': {
    encode: encodeCardId,
    decode: (bytes) => {
      requireBytes(bytes, 'Card Identifier');
      if (bytes.length !== 16) invalidInput(`Card Identifier is 16 bytes, got ${bytes.length}`);
      return decodeCardId(bytes);
    },
  },
  'Card Serial Number': {
    encode: (value) => copyOf(value, 'Card Serial Number'),
    decode: (bytes) => copyOf(bytes, 'Card Serial Number'),
  },
  'PIN Information': { encode: encodePinInfo, decode: decodePinInfo },
  'PIN List': { encode: (value) => encodeDword(value, 'PIN List'), decode: (bytes) => decodeDword(bytes, 'PIN List') },
  'Authenticated State': {
    encode: (value) => encodeDword(value, 'Authenticated State'),
    decode: (bytes) => decodeDword(bytes, 'Authenticated State'),
  },
  'PIN Strength Verify': {
    encode: (value) => encodeDword(value, 'PIN Strength Verify'),
    decode: (bytes) => decodeDword(bytes, 'PIN Strength Verify'),
  },
  'PIN Strength Change': {
    encode: (value) => encodeDword(value, 'PIN Strength Change'),
    decode: (bytes) => decodeDword(bytes, 'PIN Strength Change'),
  },
  'PIN Strength Unblock': {
    encode: (value) => encodeDword(value, 'PIN Strength Unblock'),
    decode: (bytes) => decodeDword(bytes, 'PIN Strength Unblock'),
  },
  'Parent Window': { encode: encodeHwnd, decode: decodeHwnd },
  'PIN Context String': { encode: encodeWideString, decode: decodeWideString },
  'Key Import Support': {
    encode: (value) => encodeDword(value, 'Key Import Support'),
    decode: (bytes) => decodeDword(bytes, 'Key Import Support'),
  },
  Algorithms: { encode: encodeMultiString, decode: decodeMultiString },
  'Padding Schemes': {
    encode: (value) => encodeDword(value, 'Padding Schemes'),
    decode: (bytes) => decodeDword(bytes, 'Padding Schemes'),
  },
  'Chaining Modes': { encode: encodeMultiString, decode: decodeMultiString },
  // Our vendor property: a DWORD like the PIN strengths (0xFFFFFFFF = CARD_DATA_VALUE_UNKNOWN).
  'minidriver:PIN Retries Left': {
    encode: (value) => encodeDword(value, 'PIN Retries Left'),
    decode: (bytes) => decodeDword(bytes, 'PIN Retries Left'),
  },
  // Our vendor property: a string like CP_PIN_CONTEXT_STRING.
  'minidriver:Cache Mode Reason': { encode: encodeWideString, decode: decodeWideString },
};

function cardCodec<N extends CardPropertyName>(name: N): CardCodec<N> {
  if (typeof name !== 'string' || !Object.hasOwn(CARD_PROPERTY_CODECS, name))
    invalidInput(`unknown card property "${String(name)}"`);
  return CARD_PROPERTY_CODECS[name];
}

/**
 * The `pbData` of a card property (docs/spec/minidriver.md §7.1): BOOL → 4 bytes 0/1; DWORD/PIN_SET → 4 bytes LE; structures →
 * their byte form (dwVersion current); our vendor `minidriver:PIN Retries Left` → DWORD LE and
 * `minidriver:Cache Mode Reason` → NUL-terminated UTF-16LE;
 * `Card Identifier` → 16 bytes; `Parent Window` → 8-byte HWND;
 * `PIN Context String` → NUL-terminated UTF-16LE; `Algorithms`/`Chaining Modes` → multi-sz.
 * Unknown name or bad value → SCARD_E_INVALID_PARAMETER.
 */
export function encodeCardProperty<N extends CardPropertyName>(name: N, value: CardPropertyTypes[N]): Uint8Array {
  return cardCodec(name).encode(value);
}

/**
 * The value of a card property from its `pbData` (docs/spec/minidriver.md §7.1). BOOLs: any non-zero is TRUE. `Parent Window`
 * also accepts a 4-byte (x86) HWND. Wrong size or value → SCARD_E_INVALID_PARAMETER.
 */
export function decodeCardProperty<N extends CardPropertyName>(name: N, bytes: Uint8Array): CardPropertyTypes[N] {
  return cardCodec(name).decode(bytes);
}

/**
 * The `pbData` of a container property (docs/spec/minidriver.md §7.2):
 * - `PIN Identifier`: DWORD LE, a PIN id 0–7.
 * - `Associated ECDH Key`: written as a DWORD LE holding a container index 0–255. The spec leaves BYTE or
 *   DWORD open (docs/spec/minidriver.md §14 #5); a little-endian DWORD starts with the BYTE form's byte, so a reader of either
 *   form that looks at offset 0 gets the index, and it matches the other DWORD properties.
 * - `Container Info`: not representable as one byte buffer (CONTAINER_INFO holds pointers to two key
 *   BLOBs) → SCARD_E_UNSUPPORTED_FEATURE.
 */
export function encodeContainerProperty<N extends ContainerPropertyName>(
  name: N,
  value: ContainerPropertyTypes[N],
): Uint8Array {
  switch (name) {
    case 'PIN Identifier':
      if (typeof value !== 'number' || !isPinId(value)) invalidInput('PIN Identifier must be a PIN id 0..7');
      return encodeUint32s([value]);
    case 'Associated ECDH Key':
      requireUint(value, 0xff, 'Associated ECDH Key container index');
      return encodeUint32s([value as number]);
    case 'Container Info':
      throw containerInfoUnsupported();
    default:
      return invalidInput(`unknown container property "${String(name)}"`);
  }
}

/**
 * The value of a container property from its `pbData`. `Associated ECDH Key` accepts a 1-byte or a
 * 4-byte form (docs/spec/minidriver.md §14 #5); a DWORD above 255 is invalid. `Container Info` → SCARD_E_UNSUPPORTED_FEATURE.
 */
export function decodeContainerProperty<N extends ContainerPropertyName>(
  name: N,
  bytes: Uint8Array,
): ContainerPropertyTypes[N] {
  switch (name) {
    case 'PIN Identifier': {
      const value = decodeDword(bytes, 'PIN Identifier');
      if (!isPinId(value)) invalidInput(`PIN Identifier ${value} is not a PIN id 0..7`);
      return value as ContainerPropertyTypes[N];
    }
    case 'Associated ECDH Key': {
      requireBytes(bytes, 'Associated ECDH Key');
      const value = bytes.length === 1 ? (bytes[0] as number) : decodeDword(bytes, 'Associated ECDH Key');
      if (value > 0xff) invalidInput(`Associated ECDH Key ${value} is not a container index`);
      return value as ContainerPropertyTypes[N];
    }
    case 'Container Info':
      throw containerInfoUnsupported();
    default:
      return invalidInput(`unknown container property "${String(name)}"`);
  }
}

function containerInfoUnsupported(): ScardError {
  return new ScardError(
    'SCARD_E_UNSUPPORTED_FEATURE',
    'the byte form of Container Info is not supported: CONTAINER_INFO points to two key BLOBs; use the ContainerInfo object and the key blob codecs',
  );
}
