import {
  CARD_KEY_IMPORT_PLAIN_TEXT,
  CARD_PIN_STRENGTH_PLAINTEXT,
  CacheMode,
  type CardPropertyName,
  ROLE_USER,
  type ScardError,
  SecretPurpose,
  SecretType,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { PinRoleTable } from '../pins/pin-roles.js';
import { getStandardProperty, type StandardPropertySource, setStandardProperty } from './standard-properties.js';

const pins = new PinRoleTable([
  {
    id: ROLE_USER,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.PrimaryCardPin,
    changedBy: [ROLE_USER],
    unblockedBy: [],
  },
]);

const source: StandardPropertySource = {
  freeSpace: async () => ({ bytesAvailable: 100, keyContainersAvailable: 2, maxKeyContainers: 3 }),
  capabilities: async () => ({ certificateCompression: true, keyGeneration: false }),
  keySizes: async (spec) => ({
    minimumBitLength: spec,
    defaultBitLength: spec,
    maximumBitLength: spec,
    incrementalBitLength: 0,
  }),
  cardId: async () => new Uint8Array(16).fill(1),
  serialNumber: async () => Uint8Array.of(1, 2),
  pins,
  pinInfoOverride: async () => ({ type: SecretType.ExternalPinType }),
  authenticatedState: () => 0b10,
  cacheMode: CacheMode.NO_CACHE,
  keyImportSupport: CARD_KEY_IMPORT_PLAIN_TEXT,
  pinRetriesLeft: async () => 3,
};

async function failure(name: CardPropertyName, flags = 0, from = source): Promise<string | undefined> {
  try {
    await getStandardProperty(from, name, flags);
    return undefined;
  } catch (error) {
    return (error as ScardError).name;
  }
}

describe('standard card properties', () => {
  it('answers every standard property from the source', async () => {
    expect(await getStandardProperty(source, 'Free Space', 0)).toEqual({
      bytesAvailable: 100,
      keyContainersAvailable: 2,
      maxKeyContainers: 3,
    });
    expect(await getStandardProperty(source, 'Key Sizes', 256)).toMatchObject({ minimumBitLength: 256 });
    expect(await getStandardProperty(source, 'Read Only Mode', 0)).toBe(false);
    expect(await getStandardProperty(source, 'Cache Mode', 0)).toBe(CacheMode.NO_CACHE);
    expect(await getStandardProperty(source, 'Supports Windows x.509 Enrollment', 0)).toBe(false);
    expect(await getStandardProperty(source, 'Card Serial Number', 0)).toEqual(Uint8Array.of(1, 2));
    expect(await getStandardProperty(source, 'PIN List', 0)).toBe(0b10);
    expect((await getStandardProperty(source, 'PIN Information', ROLE_USER)).pinType).toBe(SecretType.ExternalPinType);
    expect(await getStandardProperty(source, 'PIN Strength Unblock', ROLE_USER)).toBe(CARD_PIN_STRENGTH_PLAINTEXT);
    expect(await getStandardProperty(source, 'Authenticated State', 0)).toBe(0b10);
    expect(await getStandardProperty(source, 'Key Import Support', 0)).toBe(CARD_KEY_IMPORT_PLAIN_TEXT);
    expect(await getStandardProperty(source, 'minidriver:PIN Retries Left', ROLE_USER)).toBe(3);
    expect(
      await getStandardProperty({ ...source, cacheModeReason: 'no cardcf' }, 'minidriver:Cache Mode Reason', 0),
    ).toBe('no cardcf');
  });

  it('write-only properties and unknown PINs are INVALID_PARAMETER; properties the card lacks UNSUPPORTED_FEATURE', async () => {
    expect(await failure('Parent Window')).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await failure('PIN Context String')).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await failure('PIN Information', 5)).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await failure('minidriver:PIN Retries Left', 6)).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await failure('Algorithms')).toBe('SCARD_E_UNSUPPORTED_FEATURE');
    const { pinRetriesLeft: _, ...withoutRetries } = source;
    expect(await failure('minidriver:PIN Retries Left', ROLE_USER, withoutRetries)).toBe('SCARD_E_UNSUPPORTED_FEATURE');
    expect(await failure('minidriver:Cache Mode Reason')).toBe('SCARD_E_UNSUPPORTED_FEATURE');
  });

  it('setProperty accepts the UI properties and refuses the rest with UNSUPPORTED_FEATURE', () => {
    expect(() => setStandardProperty('Parent Window')).not.toThrow();
    expect(() => setStandardProperty('PIN Context String')).not.toThrow();
    expect(() => setStandardProperty('Cache Mode')).toThrow('SCARD_E_UNSUPPORTED_FEATURE');
  });
});
