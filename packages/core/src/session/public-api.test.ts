/**
 * Hostile arguments at the public API (issue #11 item 13): every one ends in SCARD_E_INVALID_PARAMETER,
 * never in a TypeError or SCARD_E_UNEXPECTED, and nothing out of range is silently truncated.
 */
import { encodeContainerMap } from '@minidriver/card-kit';
import {
  bytesEqual,
  type CardContext,
  CardProperty,
  concatBytes,
  copyBytes,
  fromHex,
  KeySpec,
  type MinidriverPlugin,
  reverseBytes,
  ScardError,
  toHex,
  wipe,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { CardSession } from './card-session.js';
import { DataCacheStore } from './data-cache.js';
import { createTestPlugin, MemoryCard, MemoryTransport } from './testing/memory-card.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'success';
  } catch (error) {
    return ScardError.isInstance(error) ? error.name : `${(error as Error).constructor.name}`;
  }
}

function syncCodeOf(action: () => unknown): string {
  try {
    action();
    return 'success';
  } catch (error) {
    return ScardError.isInstance(error) ? error.name : `${(error as Error).constructor.name}`;
  }
}

/** The test plugin with a deriveKey entry point, so the session's checks of CARD_DERIVE_KEY are reached. */
function pluginWithDerive(): MinidriverPlugin {
  const plugin = createTestPlugin();
  return {
    ...plugin,
    acquireContext: async (context: CardContext, flags: number) => ({
      ...(await plugin.acquireContext(context, flags)),
      deriveKey: async () => ({ key: new Uint8Array(0) }),
    }),
  } as unknown as MinidriverPlugin;
}

async function open(plugin: MinidriverPlugin = createTestPlugin()) {
  return CardSession.open(plugin, new MemoryTransport(new MemoryCard()), { cache: new DataCacheStore() });
}

describe('public API arguments (issue #11 item 13)', () => {
  it('CardSession.open with null options opens like no options; non-object options are refused', async () => {
    const session = await CardSession.open(createTestPlugin(), new MemoryTransport(new MemoryCard()), null as never);
    await session.close();
    expect(await codeOf(CardSession.open(createTestPlugin(), new MemoryTransport(new MemoryCard()), 7 as never))).toBe(
      'SCARD_E_INVALID_PARAMETER',
    );
  });

  it('deriveKey: a non-array parameter list, Proxy and null-prototype arguments, Symbol versions', async () => {
    const session = await open(pluginWithDerive());
    const base = { version: 2, agreementIndex: 0, kdf: 'HASH', flags: 0 };
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const hostile: unknown[] = [
      { ...base, parameters: 'not a list' },
      { ...base, parameters: { length: 1 } },
      revoked.proxy,
      new Proxy(base, {
        get() {
          throw new TypeError('trap');
        },
      }),
      Object.assign(Object.create(null), { ...base, version: Object.create(null) }),
      { ...base, version: Symbol('2') },
      { ...base, flags: Symbol('0') },
      { ...base, parameters: [Object.create(null)] },
    ];
    for (const info of hostile) {
      expect(await codeOf(session.deriveKey(info as never))).toMatch(
        /SCARD_E_INVALID_PARAMETER|ERROR_REVISION_MISMATCH/,
      );
      expect(await codeOf(session.deriveKey(info as never))).not.toBe('SCARD_E_UNEXPECTED');
    }
    await session.close();
  });

  it('signingFlags = 2^32 is refused, not truncated to 0', async () => {
    const session = await open();
    const sign = session.signData({
      version: 1,
      containerIndex: 0,
      keySpec: KeySpec.AT_SIGNATURE,
      signingFlags: 2 ** 32,
      hashAlgorithmId: 0,
      data: new Uint8Array(32),
    });
    expect(await codeOf(sign)).toBe('SCARD_E_INVALID_PARAMETER');
    await session.close();
  });

  it("setProperty('Parent Window', 2^64) is refused, 2^64-1 is an HWND", async () => {
    const session = await open();
    expect(await codeOf(session.setProperty(CardProperty.CP_PARENT_WINDOW, 2n ** 64n))).toBe(
      'SCARD_E_INVALID_PARAMETER',
    );
    expect(await codeOf(session.setProperty(CardProperty.CP_PARENT_WINDOW, 2n ** 64n - 1n))).toBe('success');
    await session.close();
  });

  it('exported helpers answer SCARD_E_INVALID_PARAMETER, not TypeError', () => {
    const calls: (() => unknown)[] = [
      () => encodeContainerMap([null] as never),
      () => toHex(undefined as never),
      () => toHex(new Uint8Array(1), Symbol('x') as never),
      () => fromHex(undefined as never),
      () => concatBytes(new Uint8Array(1), null as never),
      () => bytesEqual(undefined as never, new Uint8Array(0)),
      () => copyBytes({} as never),
      () => reverseBytes(undefined as never),
      () => wipe({} as never),
    ];
    for (const call of calls) expect(syncCodeOf(call), String(call)).toBe('SCARD_E_INVALID_PARAMETER');
    expect(() => wipe(undefined, new Uint8Array(2))).not.toThrow();
  });
});
