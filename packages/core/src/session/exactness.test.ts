/**
 * Exactness fixes of CardSession, each against the reference it follows: the prototypes and constants of
 * cardmod.h (Windows SDK, "Smart Card Minidriver" header) and the error conventions of the Smart Card
 * Minidriver Specification, summarised in docs/spec/minidriver.md (§1.5 errors, docs/spec/minidriver.md §1.6 versions, docs/spec/minidriver.md §5 entry
 * points). The unified plugin policies are asserted by the conformance suite (group 9).
 */
import { CardProperty, createPinSet, KeySpec, ROLE_EVERYONE, ROLE_USER, ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { CardSession } from './card-session.js';
import { DataCacheStore } from './data-cache.js';
import { createTestPlugin, generateTestRsaKey, MemoryCard, MemoryTransport } from './testing/memory-card.js';

const PIN = new TextEncoder().encode('123456');

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'success';
  } catch (error) {
    return ScardError.isInstance(error) ? error.name : String(error);
  }
}

async function open(plugin = createTestPlugin(), card = new MemoryCard()) {
  return CardSession.open(plugin, new MemoryTransport(card), { cache: new DataCacheStore() });
}

describe('exactness (cardmod.h, docs/spec/minidriver.md)', () => {
  it('cardmod.h CardSetProperty: an unknown property is SCARD_E_UNSUPPORTED_FEATURE (was INVALID_PARAMETER)', async () => {
    const session = await open();
    expect(await codeOf(session.setProperty('No Such Property' as never, 1 as never))).toBe(
      'SCARD_E_UNSUPPORTED_FEATURE',
    );
    expect(await codeOf(session.setProperty(undefined as never, 1 as never))).toBe('SCARD_E_INVALID_PARAMETER');
  });

  it('cardmod.h CardGetAlgorithmProperty: non-zero dwFlags is SCARD_E_INVALID_PARAMETER (was accepted)', async () => {
    const base = createTestPlugin();
    const seen: number[] = [];
    const plugin = {
      ...base,
      async acquireContext(context: Parameters<typeof base.acquireContext>[0], flags: number) {
        const minidriver = await base.acquireContext(context, flags);
        return {
          ...minidriver,
          async getAlgorithmProperty(_algorithm: string, _property: string, propertyFlags: number) {
            seen.push(propertyFlags);
            return Uint8Array.of(1);
          },
        };
      },
    };
    const session = await open(plugin);
    expect(await codeOf(session.getAlgorithmProperty('AES', 'ChainingMode', 1))).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await session.getAlgorithmProperty('AES', 'ChainingMode', 0)).toEqual(Uint8Array.of(1));
    expect(seen).toEqual([0]);
  });

  it('cardmod.h CardQueryKeySizes: dwKeySpec 0 or an undefined AT_* value is SCARD_E_INVALID_PARAMETER (was RSA)', async () => {
    const session = await open();
    for (const keySpec of [0, 9, 0x100]) {
      expect(await codeOf(session.queryKeySizes(keySpec))).toBe('SCARD_E_INVALID_PARAMETER');
      expect(await codeOf(session.getProperty(CardProperty.CP_CARD_KEYSIZES, keySpec))).toBe(
        'SCARD_E_INVALID_PARAMETER',
      );
    }
    expect((await session.queryKeySizes(KeySpec.AT_KEYEXCHANGE)).version).toBe(1);
  });

  it('Minidriver Specification docs/spec/minidriver.md §1.5: a malformed key BLOB returned by the plugin is SCARD_E_UNEXPECTED, never INVALID_PARAMETER', async () => {
    const base = createTestPlugin();
    const card = new MemoryCard();
    card.installKey(0, KeySpec.AT_KEYEXCHANGE, generateTestRsaKey());
    const plugin = {
      ...base,
      async acquireContext(context: Parameters<typeof base.acquireContext>[0], flags: number) {
        const minidriver = await base.acquireContext(context, flags);
        return { ...minidriver, getContainerInfo: async () => ({ keyExchangePublicKey: Uint8Array.of(6, 2, 0) }) };
      },
    };
    const session = await open(plugin, card);
    await session.authenticatePin('user', new Uint8Array(PIN));
    const decrypt = session.rsaDecrypt({
      version: 2,
      containerIndex: 0,
      keySpec: KeySpec.AT_KEYEXCHANGE,
      paddingType: 1,
      data: new Uint8Array(128),
    });
    expect(await codeOf(decrypt)).toBe('SCARD_E_UNEXPECTED');
  });

  it('cardmod.h PIN_SET / CardDeauthenticateEx: the ROLE_EVERYONE bit is ignored, not passed on', async () => {
    const base = createTestPlugin();
    const passed: number[] = [];
    const plugin = {
      ...base,
      async acquireContext(context: Parameters<typeof base.acquireContext>[0], flags: number) {
        const minidriver = await base.acquireContext(context, flags);
        return {
          ...minidriver,
          async deauthenticateEx(pinSet: number) {
            passed.push(pinSet);
            await minidriver.deauthenticateEx(pinSet);
          },
        };
      },
    };
    const session = await open(plugin);
    await session.authenticatePin('user', new Uint8Array(PIN));
    await session.deauthenticateEx(createPinSet(ROLE_EVERYONE));
    expect(passed).toEqual([]);
    expect(session.authenticatedPins).toBe(createPinSet(ROLE_USER));
    await session.deauthenticateEx(createPinSet(ROLE_EVERYONE, ROLE_USER));
    expect(passed).toEqual([createPinSet(ROLE_USER)]);
    expect(session.authenticatedPins).toBe(0);
  });

  it('cardmod.h CARD_RSA_DECRYPT_INFO / CARD_SIGNING_INFO: an unknown dwPaddingType is SCARD_E_INVALID_PARAMETER in both', async () => {
    const session = await open();
    const decrypt = session.rsaDecrypt({
      version: 2,
      containerIndex: 0,
      keySpec: KeySpec.AT_KEYEXCHANGE,
      paddingType: 0x10,
      data: new Uint8Array(128),
    });
    const sign = session.signData({
      version: 2,
      containerIndex: 0,
      keySpec: KeySpec.AT_SIGNATURE,
      signingFlags: 0x40000000,
      hashAlgorithmId: 0,
      paddingType: 0x10,
      data: new Uint8Array(32),
    });
    expect([await codeOf(decrypt), await codeOf(sign)]).toEqual([
      'SCARD_E_INVALID_PARAMETER',
      'SCARD_E_INVALID_PARAMETER',
    ]);
  });

  it('Minidriver Specification docs/spec/minidriver.md §1.6: CARD_DERIVE_KEY dwVersion 0 counts as 1 (the missing agreement is the error)', async () => {
    const session = await open();
    const derive = session.deriveKey({ version: 0, agreementIndex: 7, kdf: 'HASH', flags: 0, parameters: [] });
    expect(await codeOf(derive)).not.toBe('ERROR_REVISION_MISMATCH');
  });
});
