import {
  CacheMode,
  type DeriveKeyRequest,
  KdfBufferType,
  type PinSet,
  ROLE_USER,
  SecretPurpose,
  SecretType,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { DhAgreements } from '../agreements/dh-agreements.js';
import { encodeWideString } from '../codecs/wide-string.js';
import { VirtualFileSystem } from '../files/virtual-file-system.js';
import { PinRoleTable } from '../pins/pin-roles.js';
import type { StandardPropertySource } from '../properties/standard-properties.js';
import { KitMinidriver } from './kit-minidriver.js';

const derive = (agreementIndex: number): DeriveKeyRequest => ({
  agreementIndex,
  kdf: 'HASH',
  parameters: [{ type: KdfBufferType.KDF_HASH_ALGORITHM, value: encodeWideString('SHA256') }],
  flags: 0,
});

class TinyMinidriver extends KitMinidriver {
  readonly deauthenticated: PinSet[] = [];
  released = 0;
  forgotten = 0;
  protected readonly files = new VirtualFileSystem({
    cardId: async () => new Uint8Array(16).fill(7),
    containerCount: 1,
    containerKeys: async () => [null],
    certificates: { read: async () => undefined, write: async () => {}, delete: async () => {}, list: async () => [] },
  });
  protected readonly containers = {
    getContainerInfo: async () => ({}),
    createContainerEx: async () => {},
    deleteContainer: async () => {},
    getContainerProperty: async () => {
      throw new Error('no containers');
    },
  };
  readonly crypto = {
    agreements: new DhAgreements(),
    signData: async () => new Uint8Array(0),
    rsaDecrypt: async () => new Uint8Array(0),
    constructDHAgreement: async () => 0,
  };
  protected readonly pins = {
    authenticateEx: async () => ({}),
    changeAuthenticatorEx: async () => {},
    deauthenticateEx: async (pinSet: PinSet) => {
      this.deauthenticated.push(pinSet);
    },
    forgetPending: () => {
      this.forgotten++;
    },
  };
  protected propertySource(): StandardPropertySource {
    return {
      freeSpace: async () => ({ bytesAvailable: 0, keyContainersAvailable: 1, maxKeyContainers: 1 }),
      capabilities: async () => ({ certificateCompression: true, keyGeneration: false }),
      keySizes: async () => ({
        minimumBitLength: 0,
        defaultBitLength: 0,
        maximumBitLength: 0,
        incrementalBitLength: 0,
      }),
      cardId: async () => new Uint8Array(16).fill(7),
      serialNumber: async () => Uint8Array.of(1),
      pins: new PinRoleTable([
        {
          id: ROLE_USER,
          type: SecretType.AlphaNumericPinType,
          purpose: SecretPurpose.PrimaryCardPin,
          changedBy: [ROLE_USER],
          unblockedBy: [],
        },
      ]),
      authenticatedState: () => 0,
      cacheMode: CacheMode.NO_CACHE,
    };
  }
  protected override async releaseContext(): Promise<void> {
    this.released++;
  }
}

describe('KitMinidriver', () => {
  it('wipes the agreements on every deauthentication and on deleteContext (the one wipe policy)', async () => {
    const minidriver = new TinyMinidriver();
    const secret = Uint8Array.of(1, 2, 3);
    const index = minidriver.crypto.agreements.add(secret);
    expect((await minidriver.deriveKey(derive(index))).length).toBe(32);
    await minidriver.deauthenticateEx(0b10);
    expect(secret).toEqual(new Uint8Array(3));
    expect(minidriver.deauthenticated).toEqual([0b10]);
    await expect(minidriver.deriveKey(derive(index))).rejects.toThrow('SCARD_E_INVALID_PARAMETER');
    minidriver.crypto.agreements.add(Uint8Array.of(9));
    await minidriver.deleteContext();
    expect([minidriver.crypto.agreements.size, minidriver.forgotten, minidriver.released]).toEqual([0, 1, 1]);
  });

  it('answers files from the virtual file system and properties from the standard table', async () => {
    const minidriver = new TinyMinidriver();
    expect(await minidriver.readFile(null, 'cardid')).toEqual(new Uint8Array(16).fill(7));
    expect(await minidriver.enumFiles('mscp')).toEqual(['cmapfile']);
    expect(await minidriver.getProperty('PIN List', 0)).toBe(0b10);
    await expect(minidriver.getProperty('Algorithms', 1)).rejects.toThrow('SCARD_E_UNSUPPORTED_FEATURE');
    await minidriver.setProperty('Parent Window');
    await expect(minidriver.destroyDHAgreement(5)).rejects.toThrow('SCARD_E_INVALID_PARAMETER');
  });
});
