/**
 * What `info` (and the demo) shows about a card: plugin, negotiated version, GUID, serial,
 * capabilities, key sizes, free space, cache mode and PINs. Each property the card does not support is
 * reported as such rather than failing the whole summary.
 */

import type { CacheModeReason, CardSession } from '@minidriver/core';
import {
  CacheMode,
  CardProperty,
  KeySpec,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
  toHex,
} from '@minidriver/spec';
import { isPinVerified, readRetriesLeft } from './pin-retries.js';

/** One PIN of the card. */
export interface PinSummary {
  readonly id: number;
  readonly role: string;
  readonly type: string;
  readonly purpose: string;
  /** Tries left (null when the card cannot say), from the plugin's CP_PIN_RETRIES_LEFT. */
  readonly retriesLeft: number | null;
  /** The session holds this PIN verified (CP_CARD_AUTHENTICATED_STATE). */
  readonly verified: boolean;
}

/** The card summary, as `--json` prints it. */
export interface CardSummary {
  readonly version: number;
  readonly guid: string | null;
  readonly serial: string | null;
  readonly capabilities: { readonly keyGeneration: boolean; readonly certificateCompression: boolean } | null;
  readonly keySizes: Readonly<Record<string, { min: number; default: number; max: number; increment: number } | null>>;
  readonly freeSpace: {
    readonly bytesAvailable: number | null;
    readonly containersAvailable: number | null;
    readonly maxContainers: number | null;
  } | null;
  readonly cacheMode: string;
  /** Why the session runs in {@link cacheMode} (e.g. a card whose cardcf the user cannot write). */
  readonly cacheModeReason: { readonly reason: CacheModeReason; readonly detail: string };
  readonly pins: readonly PinSummary[];
}

const UNKNOWN_VALUE = 0xffffffff;

function nameOf(table: Readonly<Record<string, number>>, value: number): string {
  return Object.entries(table).find(([, candidate]) => candidate === value)?.[0] ?? String(value);
}

async function optional<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (
      ScardError.isInstance(error) &&
      (error.name === 'SCARD_E_UNSUPPORTED_FEATURE' ||
        error.name === 'SCARD_E_INVALID_PARAMETER' ||
        error.name === 'SCARD_E_FILE_NOT_FOUND')
    )
      return null;
    throw error;
  }
}

function printableSerial(bytes: Uint8Array): string {
  const text = new TextDecoder('latin1').decode(bytes);
  return /^[\x20-\x7e]+$/.test(text) ? text : toHex(bytes);
}

/** A short role name from the PIN id and its purpose. */
function roleName(id: number, purpose: number | undefined): string {
  if (id === ROLE_USER) return 'user';
  if (id === ROLE_ADMIN) return 'admin';
  if (purpose === SecretPurpose.UnblockOnlyPin) return 'unblock';
  if (purpose === SecretPurpose.DigitalSignaturePin) return 'signature';
  return `pin ${id}`;
}

/**
 * Reads the summary through the session (every value through CardGetProperty and friends), in one card
 * transaction: the properties share card objects, read once there (CardSession.transaction).
 */
export function summariseCard(session: CardSession): Promise<CardSummary> {
  return session.transaction(() => readSummary(session));
}

async function readSummary(session: CardSession): Promise<CardSummary> {
  const guid = await optional(() => session.getProperty(CardProperty.CP_CARD_GUID));
  const serial = await optional(() => session.getProperty(CardProperty.CP_CARD_SERIAL_NO));
  const capabilities = await optional(() => session.queryCapabilities());
  const keySizes: Record<string, { min: number; default: number; max: number; increment: number } | null> = {};
  for (const [label, spec] of [
    ['rsa-signature', KeySpec.AT_SIGNATURE],
    ['rsa-exchange', KeySpec.AT_KEYEXCHANGE],
    ['ecdsa-p256', KeySpec.AT_ECDSA_P256],
    ['ecdsa-p384', KeySpec.AT_ECDSA_P384],
  ] as const) {
    const sizes = await optional(() => session.queryKeySizes(spec));
    keySizes[label] = sizes
      ? {
          min: sizes.minimumBitLength,
          default: sizes.defaultBitLength,
          max: sizes.maximumBitLength,
          increment: sizes.incrementalBitLength,
        }
      : null;
  }
  const space = await optional(() => session.queryFreeSpace());
  const known = (value: number): number | null => (value === UNKNOWN_VALUE ? null : value);
  const pinList =
    (await optional(() => session.getProperty(CardProperty.CP_CARD_LIST_PINS))) ?? (1 << ROLE_USER) | (1 << ROLE_ADMIN);
  const pins: PinSummary[] = [];
  for (let id = 0; id < 8; id++) {
    if ((pinList & (1 << id)) === 0) continue;
    const info = await optional(() => session.getProperty(CardProperty.CP_CARD_PIN_INFO, id));
    pins.push({
      id,
      role: roleName(id, info?.purpose),
      type: info ? nameOf(SecretType, info.pinType) : 'unknown',
      purpose: info ? nameOf(SecretPurpose, info.purpose) : 'unknown',
      retriesLeft: await readRetriesLeft(session, id),
      verified: await isPinVerified(session, id),
    });
  }
  return {
    version: session.version,
    guid: guid ? toHex(guid) : null,
    serial: serial ? printableSerial(serial) : null,
    capabilities: capabilities
      ? { keyGeneration: capabilities.keyGeneration, certificateCompression: capabilities.certificateCompression }
      : null,
    keySizes,
    freeSpace: space
      ? {
          bytesAvailable: known(space.bytesAvailable),
          containersAvailable: known(space.keyContainersAvailable),
          maxContainers: known(space.maxKeyContainers),
        }
      : null,
    cacheMode: nameOf(CacheMode, session.cacheMode),
    cacheModeReason: { reason: session.cacheModeDecision.reason, detail: session.cacheModeDecision.detail },
    pins,
  };
}
