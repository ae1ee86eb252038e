import { constants, createHash, createPublicKey, publicEncrypt, verify } from 'node:crypto';
import { decodeCardCacheFile, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import {
  CARD_BUFFER_SIZE_ONLY,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_OAEP,
  CARD_PADDING_PKCS1,
  CARD_PADDING_PSS,
  CARD_SECURE_KEY_INJECTION_NO_CARD_MODE,
  CacheMode,
  CalgHash,
  KeySpec,
  PIN_CHANGE_FLAG_CHANGEPIN,
  PIN_CHANGE_FLAG_UNBLOCK,
  reverseBytes,
  ScardError,
} from '@minidriver/spec';
import { beforeEach, describe, expect, it } from 'vitest';
import { CardSession, type InsufficientBufferError } from './card-session.js';
import { DataCacheStore } from './data-cache.js';
import {
  createTestPlugin,
  generateTestRsaKey,
  MemoryCard,
  MemoryTransport,
  type TestPluginOptions,
} from './testing/memory-card.js';

const encoder = new TextEncoder();
const PIN = encoder.encode('123456');

async function expectCode(promise: Promise<unknown>, code: string): Promise<ScardError> {
  try {
    await promise;
  } catch (error) {
    expect(ScardError.isInstance(error)).toBe(true);
    expect((error as ScardError).name).toBe(code);
    return error as ScardError;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

interface Rig {
  card: MemoryCard;
  transport: MemoryTransport;
  plugin: ReturnType<typeof createTestPlugin>;
  session: CardSession;
}

async function openRig(
  pluginOptions: TestPluginOptions = {},
  sessionOptions: Parameters<typeof CardSession.open>[2] = {},
  card = new MemoryCard(),
): Promise<Rig> {
  const transport = new MemoryTransport(card);
  const plugin = createTestPlugin(pluginOptions);
  // Each rig gets its own store unless told otherwise, so tests do not share cached data.
  const session = await CardSession.open(plugin, transport, { cache: new DataCacheStore(), ...sessionOptions });
  return { card, transport, plugin, session };
}

describe('CardSession.open (CardAcquireContext)', () => {
  it('refuses unknown flags before the plugin is asked', async () => {
    const plugin = createTestPlugin();
    await expectCode(
      CardSession.open(plugin, new MemoryTransport(new MemoryCard()), { flags: 2 }),
      'SCARD_E_INVALID_PARAMETER',
    );
    expect(plugin.calls).toEqual([]);
  });

  it('a missing transport outside no-card mode is SCARD_E_INVALID_HANDLE', async () => {
    await expectCode(CardSession.open(createTestPlugin(), null), 'SCARD_E_INVALID_HANDLE');
  });

  it('no-card mode on a plugin without secure key injection is SCARD_E_UNSUPPORTED_FEATURE', async () => {
    await expectCode(
      CardSession.open(createTestPlugin(), null, { flags: CARD_SECURE_KEY_INJECTION_NO_CARD_MODE }),
      'SCARD_E_UNSUPPORTED_FEATURE',
    );
  });

  it('runs acquireContext inside one transaction and reads the cache mode at version 6+', async () => {
    const { transport, plugin, session } = await openRig({ cacheMode: CacheMode.SESSION_ONLY });
    expect(transport.beginCount).toBe(1);
    expect(transport.endCount).toBe(1);
    expect(plugin.calls).toEqual([
      'acquireContext',
      'getProperty Cache Mode',
      'getProperty minidriver:Cache Mode Reason',
    ]);
    expect(session.cacheMode).toBe(CacheMode.SESSION_ONLY);
    expect(session.cacheModeDecision).toEqual({
      mode: CacheMode.SESSION_ONLY,
      reason: 'plugin-choice',
      detail: 'the plugin answers CP_CARD_CACHE_MODE SESSION_ONLY',
    });
    expect(session.version).toBe(7);
    expect(session.pluginName).toBe('TestCard');
  });

  it('in GLOBAL mode reads cardid and cardcf once at open; below version 6 GLOBAL is assumed', async () => {
    const { plugin, session } = await openRig({ current: 5 });
    expect(session.version).toBe(5);
    expect(session.cacheMode).toBe(CacheMode.GLOBAL_CACHE);
    expect(plugin.calls).toEqual(['acquireContext', 'readFile /cardid', 'readFile /cardcf']);
    expect(session.cacheModeDecision).toMatchObject({ mode: CacheMode.GLOBAL_CACHE, reason: 'card-data-before-v6' });
  });

  it('GLOBAL degrades to SESSION_ONLY on a card without cardcf', async () => {
    const card = new MemoryCard();
    card.files.delete('/cardcf');
    const { session } = await openRig({}, {}, card);
    expect(session.cacheMode).toBe(CacheMode.SESSION_ONLY);
    expect(session.cacheModeDecision.reason).toBe('no-cardcf');
    expect(session.cacheModeDecision.detail).toMatch(/^GLOBAL_CACHE needs cardid and cardcf, which cannot be read/);
  });

  it('an unknown card is SCARD_E_UNKNOWN_CARD', async () => {
    const card = new MemoryCard();
    (card as { atr: Uint8Array }).atr = Uint8Array.of(0x00, 0x11);
    await expectCode(openRig({}, {}, card), 'SCARD_E_UNKNOWN_CARD');
  });
});

describe('versions and entry points', () => {
  it('refuses a call above the negotiated version without reaching the plugin', async () => {
    const { plugin, session, transport } = await openRig({ current: 5 });
    const before = plugin.calls.length;
    const beginsBefore = transport.beginCount;
    const error = await expectCode(session.getProperty('Cache Mode'), 'SCARD_E_UNSUPPORTED_FEATURE');
    expect(error.message).toContain('CardGetProperty needs CARD_DATA version 6; this context negotiated 5');
    await expectCode(session.authenticateEx(1, 0, PIN), 'SCARD_E_UNSUPPORTED_FEATURE');
    await expectCode(session.createContainerEx(0, 1, 1, 1024, undefined, 1), 'SCARD_E_UNSUPPORTED_FEATURE');
    expect(plugin.calls.length).toBe(before);
    expect(transport.beginCount).toBe(beginsBefore);
  });

  it('an optional entry point the plugin lacks is SCARD_E_UNSUPPORTED_FEATURE naming it', async () => {
    const { session } = await openRig();
    const error = await expectCode(session.getChallenge(), 'SCARD_E_UNSUPPORTED_FEATURE');
    expect(error.message).toContain('CardGetChallenge');
    await expectCode(session.mdImportSessionKey('KeyDataBlob', 'AES', Uint8Array.of(1)), 'SCARD_E_UNSUPPORTED_FEATURE');
  });

  it('structure versions 0 and 1 are accepted, 2 is ERROR_REVISION_MISMATCH', async () => {
    const { session, plugin } = await openRig();
    expect(await session.queryCapabilities(0)).toEqual({
      certificateCompression: false,
      keyGeneration: true,
      version: 1,
    });
    expect((await session.queryCapabilities(1)).version).toBe(1);
    const before = plugin.calls.length;
    await expectCode(session.queryCapabilities(2), 'ERROR_REVISION_MISMATCH');
    await expectCode(session.queryFreeSpace(0, 2), 'ERROR_REVISION_MISMATCH');
    await expectCode(session.queryKeySizes(KeySpec.AT_KEYEXCHANGE, 0, 2), 'ERROR_REVISION_MISMATCH');
    await expectCode(session.getContainerInfo(0, 0, 2), 'ERROR_REVISION_MISMATCH');
    await expectCode(session.getFileInfo(null, 'cardid', 2), 'ERROR_REVISION_MISMATCH');
    expect(plugin.calls.length).toBe(before);
  });
});

describe('parameter checks (docs/spec/minidriver.md §1.5, §5): exact code, plugin not called', () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await openRig();
  });

  const cases: Array<[string, string, (session: CardSession) => Promise<unknown>]> = [
    ['readFile with a null name', 'SCARD_E_INVALID_PARAMETER', (s) => s.readFile(null, null as never)],
    ['readFile with an empty name', 'SCARD_E_INVALID_PARAMETER', (s) => s.readFile(null, '')],
    ['readFile with a 9-character name', 'SCARD_E_INVALID_PARAMETER', (s) => s.readFile(null, 'abcdefghi')],
    ['readFile with a 9-character directory', 'SCARD_E_INVALID_PARAMETER', (s) => s.readFile('abcdefghi', 'x')],
    ['readFile with flags', 'SCARD_E_INVALID_PARAMETER', (s) => s.readFile(null, 'cardid', 1)],
    ['writeFile without data', 'SCARD_E_INVALID_PARAMETER', (s) => s.writeFile('mscp', 'x', null as never)],
    ['enumFiles with flags', 'SCARD_E_INVALID_PARAMETER', (s) => s.enumFiles(null, 4)],
    ['createFile with InvalidAc', 'SCARD_E_INVALID_PARAMETER', (s) => s.createFile('mscp', 'a', 0, 0)],
    ['createFile with UnknownAc', 'SCARD_E_INVALID_PARAMETER', (s) => s.createFile('mscp', 'a', 0, 4)],
    ['createDirectory with InvalidDirAc', 'SCARD_E_UNSUPPORTED_FEATURE', (s) => s.createDirectory('d', 0)],
    ['getContainerInfo with flags', 'SCARD_E_INVALID_PARAMETER', (s) => s.getContainerInfo(0, 1)],
    ['getContainerInfo index 256', 'SCARD_E_INVALID_PARAMETER', (s) => s.getContainerInfo(256)],
    ['queryKeySizes 0xFFFF', 'SCARD_E_INVALID_PARAMETER', (s) => s.queryKeySizes(0xffff)],
    ['queryKeySizes with flags', 'SCARD_E_INVALID_PARAMETER', (s) => s.queryKeySizes(1, 1)],
    ['authenticatePin anonymous', 'SCARD_E_INVALID_PARAMETER', (s) => s.authenticatePin('anonymous' as never, PIN)],
    ['authenticatePin foo', 'SCARD_E_INVALID_PARAMETER', (s) => s.authenticatePin('foo' as never, PIN)],
    ['authenticatePin without PIN', 'SCARD_E_INVALID_PARAMETER', (s) => s.authenticatePin('user', null as never)],
    ['authenticateEx PIN id 8', 'SCARD_E_INVALID_PARAMETER', (s) => s.authenticateEx(8 as never, 0, PIN)],
    ['authenticateEx ROLE_EVERYONE', 'SCARD_E_INVALID_PARAMETER', (s) => s.authenticateEx(0, 0, PIN)],
    ['authenticateEx unknown flag', 'SCARD_E_INVALID_PARAMETER', (s) => s.authenticateEx(1, 0x1, PIN)],
    ['deauthenticateEx bits above 0xFF', 'SCARD_E_INVALID_PARAMETER', (s) => s.deauthenticateEx(0x100)],
    ['deauthenticateEx flags', 'SCARD_E_INVALID_PARAMETER', (s) => s.deauthenticateEx(0xff, 1)],
    [
      'changeAuthenticatorEx with both flags',
      'SCARD_E_INVALID_PARAMETER',
      (s) => s.changeAuthenticatorEx(PIN_CHANGE_FLAG_CHANGEPIN | PIN_CHANGE_FLAG_UNBLOCK, 1, PIN, 1, PIN),
    ],
    [
      'changeAuthenticatorEx with neither flag',
      'SCARD_E_INVALID_PARAMETER',
      (s) => s.changeAuthenticatorEx(0, 1, PIN, 1, PIN),
    ],
    [
      'changeAuthenticatorEx unblocking a PIN with itself',
      'SCARD_E_INVALID_PARAMETER',
      (s) => s.changeAuthenticatorEx(PIN_CHANGE_FLAG_UNBLOCK, 1, PIN, 1, PIN),
    ],
    ['createContainer with flags 3', 'SCARD_E_INVALID_PARAMETER', (s) => s.createContainer(0, 3, 1, 1024)],
    ['createContainer with key spec 9', 'SCARD_E_INVALID_PARAMETER', (s) => s.createContainer(0, 1, 9, 1024)],
    ['createContainer ECC with a key size', 'SCARD_E_INVALID_PARAMETER', (s) => s.createContainer(0, 1, 3, 256)],
    ['createContainer import without a BLOB', 'SCARD_E_INVALID_PARAMETER', (s) => s.createContainer(0, 2, 1, 0)],
    ['deleteContainer with reserved', 'SCARD_E_INVALID_PARAMETER', (s) => s.deleteContainer(0, 1)],
    ['getProperty unknown', 'SCARD_E_INVALID_PARAMETER', (s) => s.getProperty('Nope' as never)],
    ['getProperty flags on a flag-less property', 'SCARD_E_INVALID_PARAMETER', (s) => s.getProperty('Cache Mode', 1)],
    ['getProperty PIN Information PIN id 8', 'SCARD_E_INVALID_PARAMETER', (s) => s.getProperty('PIN Information', 8)],
    ['getProperty of write-only Parent Window', 'SCARD_E_INVALID_PARAMETER', (s) => s.getProperty('Parent Window')],
    ['setProperty Free Space', 'SCARD_E_UNSUPPORTED_FEATURE', (s) => s.setProperty('Free Space', {} as never)],
    [
      'setProperty of the read-only vendor PIN Retries Left',
      'SCARD_E_UNSUPPORTED_FEATURE',
      (s) => s.setProperty('minidriver:PIN Retries Left', 3, 1),
    ],
    [
      'getProperty PIN Retries Left PIN id 8',
      'SCARD_E_INVALID_PARAMETER',
      (s) => s.getProperty('minidriver:PIN Retries Left', 8),
    ],
    ['setProperty with flags', 'SCARD_E_INVALID_PARAMETER', (s) => s.setProperty('Parent Window', 0n, 1)],
    ['getContainerProperty unknown', 'SCARD_E_INVALID_PARAMETER', (s) => s.getContainerProperty(0, 'Nope' as never)],
    ['getContainerProperty flags', 'SCARD_E_INVALID_PARAMETER', (s) => s.getContainerProperty(0, 'PIN Identifier', 1)],
    // CardSignData (docs/spec/minidriver.md §5.6.1 table)
    ['signData without info', 'SCARD_E_INVALID_PARAMETER', (s) => s.signData(null as never)],
    ['signData version 3', 'ERROR_REVISION_MISMATCH', (s) => s.signData(signing({ version: 3 }))],
    ['signData empty data', 'SCARD_E_INVALID_PARAMETER', (s) => s.signData(signing({ data: new Uint8Array(0) }))],
    ['signData key spec 0', 'SCARD_E_INVALID_PARAMETER', (s) => s.signData(signing({ keySpec: 0 }))],
    ['signData unknown flag', 'SCARD_E_INVALID_PARAMETER', (s) => s.signData(signing({ signingFlags: 0x100 }))],
    [
      'signData padding info with version 1',
      'ERROR_REVISION_MISMATCH',
      (s) => s.signData(signing({ version: 1, signingFlags: CARD_PADDING_INFO_PRESENT })),
    ],
    [
      'signData with an ECDH key',
      'SCARD_E_INVALID_PARAMETER',
      (s) => s.signData(signing({ keySpec: KeySpec.AT_ECDHE_P256 })),
    ],
    [
      'signData unsupported aiHashAlg',
      'SCARD_E_UNSUPPORTED_FEATURE',
      (s) => s.signData(signing({ hashAlgorithmId: 0x8005 })),
    ],
    [
      'signData SHA-256 with 20 bytes',
      'SCARD_E_INVALID_PARAMETER',
      (s) => s.signData(signing({ hashAlgorithmId: CalgHash.CALG_SHA_256 })),
    ],
    [
      'signData padding type 8',
      'SCARD_E_INVALID_PARAMETER',
      (s) =>
        s.signData(
          signing({ signingFlags: CARD_PADDING_INFO_PRESENT, paddingType: 8, paddingInfo: { algorithm: 'SHA1' } }),
        ),
    ],
    [
      'signData unknown CNG hash',
      'SCARD_E_UNSUPPORTED_FEATURE',
      (s) =>
        s.signData(
          signing({
            signingFlags: CARD_PADDING_INFO_PRESENT,
            paddingType: CARD_PADDING_PKCS1,
            paddingInfo: { algorithm: 'MD4' },
          }),
        ),
    ],
    // CardRSADecrypt (docs/spec/minidriver.md §5.6.2 table)
    ['rsaDecrypt version 3', 'ERROR_REVISION_MISMATCH', (s) => s.rsaDecrypt(decrypting({ version: 3 }))],
    [
      'rsaDecrypt version 1 with CARD_DATA 7',
      'ERROR_REVISION_MISMATCH',
      (s) => s.rsaDecrypt(decrypting({ version: 1 })),
    ],
    [
      'rsaDecrypt version 0 with CARD_DATA 7',
      'ERROR_REVISION_MISMATCH',
      (s) => s.rsaDecrypt(decrypting({ version: 0 })),
    ],
    [
      'rsaDecrypt AT_SIGNATURE',
      'SCARD_E_INVALID_PARAMETER',
      (s) => s.rsaDecrypt(decrypting({ keySpec: KeySpec.AT_SIGNATURE })),
    ],
    [
      'rsaDecrypt without data',
      'SCARD_E_INVALID_PARAMETER',
      (s) => s.rsaDecrypt(decrypting({ data: undefined as never })),
    ],
    // An unknown padding type is the caller's bad parameter, as in CardSignData.
    ['rsaDecrypt padding type 4', 'SCARD_E_INVALID_PARAMETER', (s) => s.rsaDecrypt(decrypting({ paddingType: 4 }))],
  ];

  for (const [title, code, call] of cases) {
    it(`${title} → ${code}`, async () => {
      const before = [...rig.plugin.calls];
      const beginsBefore = rig.transport.beginCount;
      await expectCode(call(rig.session), code);
      expect(rig.plugin.calls).toEqual(before);
      expect(rig.transport.beginCount).toBe(beginsBefore);
    });
  }
});

function signing(overrides: Partial<Parameters<CardSession['signData']>[0]> = {}) {
  return {
    version: 2,
    containerIndex: 0,
    keySpec: KeySpec.AT_SIGNATURE,
    signingFlags: 0,
    hashAlgorithmId: CalgHash.CALG_SHA1,
    data: new Uint8Array(20).fill(7),
    ...overrides,
  };
}

function decrypting(overrides: Partial<Parameters<CardSession['rsaDecrypt']>[0]> = {}) {
  return {
    version: 2,
    containerIndex: 1,
    keySpec: KeySpec.AT_KEYEXCHANGE,
    data: new Uint8Array(128),
    paddingType: CARD_PADDING_PKCS1,
    ...overrides,
  };
}

describe('transactions (docs/spec/minidriver.md §1.2)', () => {
  it('holds one transaction around every call and none around close', async () => {
    const { transport, session, card } = await openRig();
    const begins = transport.beginCount;
    await session.readFile(null, 'cardid');
    await session.enumFiles(null);
    await session.queryFreeSpace();
    await expectCode(session.readFile('mscp', 'nothere'), 'SCARD_E_FILE_NOT_FOUND');
    expect(transport.beginCount).toBe(begins + 4);
    expect(transport.endCount).toBe(transport.beginCount);
    expect(transport.dispositions.every((disposition) => disposition === 'leave')).toBe(true);
    expect(session.stats().transactions).toBe(5); // with CardAcquireContext's
    const beforeClose = transport.beginCount;
    await session.close();
    expect(transport.beginCount).toBe(beforeClose);
    expect(card.commandsOutsideTransaction).toEqual([]);
  });

  it('serialises concurrent calls on one session', async () => {
    const { transport, session, card } = await openRig();
    const begins = transport.beginCount;
    const results = await Promise.all([
      session.readFile(null, 'cardapps'),
      session.enumFiles('mscp'),
      session.queryCapabilities(),
    ]);
    expect(results[1]).toEqual(['cmapfile']);
    expect(transport.beginCount).toBe(begins + 3);
    expect(card.commandsOutsideTransaction).toEqual([]);
  });

  it('after close every call is SCARD_E_INVALID_HANDLE and close again is harmless', async () => {
    const { session, plugin } = await openRig();
    await session.close();
    expect(plugin.calls.at(-1)).toBe('deleteContext');
    await expectCode(session.readFile(null, 'cardid'), 'SCARD_E_INVALID_HANDLE');
    await expectCode(session.queryCapabilities(), 'SCARD_E_INVALID_HANDLE');
    await session.close();
    expect(session.closed).toBe(true);
  });

  it('a plugin that cannot deauthenticate makes the transaction end with a reset', async () => {
    const card = new MemoryCard();
    card.installKey(0, KeySpec.AT_SIGNATURE, generateTestRsaKey());
    const { session, transport } = await openRig({ cannotDeauthenticate: true }, {}, card);
    await session.authenticatePin('user', PIN);
    expect(session.authenticatedPins).toBe(0x02);
    await session.deauthenticateEx(0xff);
    expect(transport.dispositions.at(-1)).toBe('reset');
    expect(session.authenticatedPins).toBe(0);
    // The card really is logged out: signing now needs the PIN again.
    await expectCode(session.signData(signing()), 'SCARD_W_SECURITY_VIOLATION');
  });
});

describe('manage: card-specific management in a session transaction', () => {
  it('runs the operation inside one transaction with the plugin, then forgets authentication and cached data', async () => {
    const card = new MemoryCard();
    card.installKey(0, KeySpec.AT_SIGNATURE, generateTestRsaKey());
    const { session, transport } = await openRig({}, {}, card);
    await session.authenticatePin('user', PIN);
    await session.readFile(null, 'cardid');
    const begins = transport.beginCount;
    const seen = await session.manage(async (access) => {
      expect(transport.beginCount).toBe(begins + 1);
      expect(access.transport).toBeDefined();
      return { plugin: access.pluginName, hasMinidriver: typeof access.minidriver.readFile === 'function' };
    });
    expect(seen).toEqual({ plugin: session.pluginName, hasMinidriver: true });
    expect(transport.endCount).toBe(transport.beginCount);
    expect(session.authenticatedPins).toBe(0);
    expect(card.commandsOutsideTransaction).toEqual([]);
  });

  it('turns a failure into a ScardError, refuses a missing operation and a closed session', async () => {
    const { session } = await openRig();
    await expectCode(
      session.manage(async () => {
        throw new Error('boom');
      }),
      'SCARD_E_UNEXPECTED',
    );
    await expectCode(
      session.manage(async () => {
        throw new ScardError('SCARD_W_WRONG_CHV', 'wrong');
      }),
      'SCARD_W_WRONG_CHV',
    );
    await expectCode(session.manage(undefined as never), 'SCARD_E_INVALID_PARAMETER');
    await session.close();
    await expectCode(
      session.manage(async () => 1),
      'SCARD_E_INVALID_HANDLE',
    );
  });
});

describe('data cache (docs/spec/minidriver.md §4.8, §10)', () => {
  it('a second readFile is served from the cache with only the cardcf read', async () => {
    const { session, plugin } = await openRig();
    const first = await session.readFile('mscp', 'cmapfile');
    const calls = plugin.calls.length;
    const second = await session.readFile('mscp', 'cmapfile');
    expect(second).toEqual(first);
    expect(plugin.calls.slice(calls)).toEqual(['readFile /cardcf']);
    expect(session.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 1 });
  });

  it('returns copies: mutating a result does not alter the cache', async () => {
    const { session } = await openRig();
    const first = await session.readFile(null, 'cardapps');
    first.fill(0xee);
    expect(await session.readFile(null, 'cardapps')).toEqual(encoder.encode('mscp\0\0\0\0'));
  });

  it('drops stale entries when another process writes and bumps cardcf', async () => {
    const card = new MemoryCard();
    // Two stores = two processes, each with its own cache of the same card.
    const a = await openRig({}, { cache: new DataCacheStore() }, card);
    const b = await openRig({}, { cache: new DataCacheStore() }, card);
    expect(await a.session.readFile('mscp', 'cmapfile')).toEqual(new Uint8Array(0));
    await b.session.authenticatePin('user', PIN);
    await b.session.writeFile('mscp', 'cmapfile', Uint8Array.of(1, 2, 3));
    // b bumped the files counter and wrote cardcf back.
    expect(decodeCardCacheFile(card.files.get('/cardcf')!)).toMatchObject({
      filesFreshness: 1,
      containersFreshness: 0,
    });
    const calls = a.plugin.calls.length;
    expect(await a.session.readFile('mscp', 'cmapfile')).toEqual(Uint8Array.of(1, 2, 3));
    expect(a.plugin.calls.slice(calls)).toEqual(['readFile /cardcf', 'readFile mscp/cmapfile']);
  });

  it('container changes bump the containers counter and drop cached container info and cmapfile', async () => {
    const card = new MemoryCard();
    const { session, plugin } = await openRig({}, {}, card);
    await session.authenticatePin('user', PIN);
    await session.readFile('mscp', 'cmapfile');
    await session.createContainer(2, 1, KeySpec.AT_KEYEXCHANGE, 1024);
    // The minidriver keeps cmapfile itself: the copy cached before the change is read again.
    const beforeRead = plugin.calls.length;
    await session.readFile('mscp', 'cmapfile');
    expect(plugin.calls.slice(beforeRead)).toContain('readFile mscp/cmapfile');
    const info = await session.getContainerInfo(2);
    expect(info.keyExchangePublicKey).toBeInstanceOf(Uint8Array);
    const calls = plugin.calls.length;
    await session.getContainerInfo(2);
    expect(plugin.calls.slice(calls)).toEqual(['readFile /cardcf']);
    await session.deleteContainer(2);
    expect(decodeCardCacheFile(card.files.get('/cardcf')!)).toMatchObject({
      containersFreshness: 2,
      filesFreshness: 0,
    });
    await expectCode(session.getContainerInfo(2), 'SCARD_E_NO_KEY_CONTAINER');
  });

  it('PIN changes bump the pins counter', async () => {
    const card = new MemoryCard();
    const { session } = await openRig({}, {}, card);
    await session.changeAuthenticatorEx(PIN_CHANGE_FLAG_CHANGEPIN, 1, PIN, 1, encoder.encode('654321'));
    expect(decodeCardCacheFile(card.files.get('/cardcf')!)).toMatchObject({ pinsFreshness: 1 });
    await expectCode(session.authenticatePin('user', PIN), 'SCARD_W_WRONG_CHV');
    await session.authenticatePin('user', encoder.encode('654321'));
  });

  it('NO_CACHE mode caches nothing and never writes cardcf', async () => {
    const card = new MemoryCard();
    const { session, plugin } = await openRig({ cacheMode: CacheMode.NO_CACHE }, {}, card);
    await session.readFile(null, 'cardapps');
    const calls = plugin.calls.length;
    await session.readFile(null, 'cardapps');
    expect(plugin.calls.slice(calls)).toEqual(['readFile /cardapps']);
    await session.authenticatePin('user', PIN);
    await session.writeFile('mscp', 'cmapfile', Uint8Array.of(9));
    expect(card.files.get('/cardcf')).toEqual(new Uint8Array(6));
  });

  it('SESSION_ONLY mode does not read cardcf per call and flushes on reset', async () => {
    const { session, plugin, transport } = await openRig({ cacheMode: CacheMode.SESSION_ONLY });
    await session.readFile(null, 'cardapps');
    const calls = plugin.calls.length;
    await session.readFile(null, 'cardapps');
    expect(plugin.calls.slice(calls)).toEqual([]);
    await transport.beginTransaction();
    await transport.endTransaction('reset');
    await session.readFile(null, 'cardapps');
    expect(plugin.calls.slice(calls)).toEqual(['readFile /cardapps']);
  });

  it('GLOBAL mode shares one cache between sessions of a store, keyed by cardid', async () => {
    const card = new MemoryCard();
    const store = new DataCacheStore();
    const a = await openRig({}, { cache: store }, card);
    const b = await openRig({}, { cache: store }, card);
    await a.session.readFile(null, 'cardapps');
    const calls = b.plugin.calls.length;
    await b.session.readFile(null, 'cardapps');
    expect(b.plugin.calls.slice(calls)).toEqual(['readFile /cardcf']);
  });

  it('the plugin cache functions keep entries across calls and drop them after deauthentication', async () => {
    const card = new MemoryCard();
    card.installKey(0, KeySpec.AT_SIGNATURE, generateTestRsaKey());
    const { session } = await openRig({}, {}, card);
    const getPublicKeyCount = () => card.commands.filter((command) => command[1] === 0xcb).length;
    await session.authenticatePin('user', PIN);
    await session.signData(signing());
    expect(getPublicKeyCount()).toBe(1);
    await session.signData(signing());
    expect(getPublicKeyCount()).toBe(1); // the plugin's 'pub:0' entry answered
    await session.deauthenticateEx(0xff);
    await session.authenticatePin('user', PIN);
    await session.signData(signing());
    expect(getPublicKeyCount()).toBe(2); // flushed with the authenticated session (docs/spec/minidriver.md §4.8)
  });
});

describe('independent sessions (docs/spec/minidriver.md §1.2)', () => {
  it('closing one session leaves the other working', async () => {
    const card = new MemoryCard();
    const a = await openRig({}, {}, card);
    const b = await openRig({}, {}, card);
    await a.session.close();
    expect(await b.session.readFile(null, 'cardapps')).toEqual(encoder.encode('mscp\0\0\0\0'));
    await expectCode(a.session.readFile(null, 'cardapps'), 'SCARD_E_INVALID_HANDLE');
  });
});

describe('PINs', () => {
  it('a wrong PIN surfaces the retries left, and a blocked PIN is SCARD_W_CHV_BLOCKED', async () => {
    const { session } = await openRig();
    const wrong = encoder.encode('000000');
    expect((await expectCode(session.authenticatePin('user', wrong), 'SCARD_W_WRONG_CHV')).retriesLeft).toBe(2);
    expect((await expectCode(session.authenticatePin('user', wrong), 'SCARD_W_WRONG_CHV')).retriesLeft).toBe(1);
    await expectCode(session.authenticatePin('user', wrong), 'SCARD_W_CHV_BLOCKED');
    const error = await expectCode(session.authenticatePin('user', PIN), 'SCARD_W_CHV_BLOCKED');
    expect(error.message).not.toContain('123456');
    expect(session.authenticatedPins).toBe(0);
  });

  it('wipes its copy of the PIN and leaves the caller’s alone', async () => {
    const { session } = await openRig();
    const pin = encoder.encode('123456');
    await session.authenticateEx(1, 0, pin);
    expect(pin).toEqual(encoder.encode('123456'));
    expect(session.authenticatedPins).toBe(0x02);
  });
});

describe('properties (docs/spec/minidriver.md §5.7)', () => {
  it('getPropertyBytes answers byte-exact and reports the required size for a small buffer', async () => {
    const { session } = await openRig({ cacheMode: CacheMode.SESSION_ONLY });
    // CP_CARD_CACHE_MODE is a DWORD, little-endian (docs/spec/minidriver.md §7.1).
    expect(await session.getPropertyBytes('Cache Mode')).toEqual(Uint8Array.of(2, 0, 0, 0));
    const error = await expectCode(session.getPropertyBytes('Cache Mode', 0, 0), 'ERROR_INSUFFICIENT_BUFFER');
    expect((error as InsufficientBufferError).requiredSize).toBe(4);
    expect(error.message).toContain('4 bytes');
    expect(await session.getPropertyBytes('Cache Mode', 0, 4)).toHaveLength(4);
  });

  it('sets the write-only properties', async () => {
    const { session } = await openRig();
    await session.setProperty('Parent Window', 0n);
    await session.setProperty('PIN Context String', 'Sign in');
  });
});

describe('signing and decryption (docs/spec/minidriver.md §5.6, §9)', () => {
  async function keyedRig() {
    const card = new MemoryCard();
    const signatureKey = generateTestRsaKey();
    const exchangeKey = generateTestRsaKey();
    card.installKey(0, KeySpec.AT_SIGNATURE, signatureKey);
    card.installKey(1, KeySpec.AT_KEYEXCHANGE, exchangeKey);
    const rig = await openRig({}, {}, card);
    return { ...rig, signatureKey, exchangeKey };
  }

  it('CARD_BUFFER_SIZE_ONLY is answered from the key size without signing', async () => {
    const { session, plugin } = await keyedRig();
    const result = await session.signData(signing({ signingFlags: CARD_BUFFER_SIZE_ONLY }));
    expect(result).toEqual({ size: 128 });
    expect(plugin.calls).not.toContain('signData');
  });

  it('a PKCS #1 SHA-1 signature, reversed, verifies with the container public key', async () => {
    const { session } = await keyedRig();
    await session.authenticatePin('user', PIN);
    const message = encoder.encode('hello');
    const hash = new Uint8Array(createHash('sha1').update(message).digest());
    const { signature, size } = await session.signData(signing({ version: 1, data: hash }));
    expect(size).toBe(128);
    const info = await session.getContainerInfo(0);
    const publicKey = publicKeyBlobToKeyObject(info.signaturePublicKey!);
    expect(verify('sha1', message, publicKey, reverseBytes(signature!))).toBe(true);
  });

  it('a PSS signature through padding info verifies', async () => {
    const { session, signatureKey } = await keyedRig();
    await session.authenticatePin('user', PIN);
    const message = encoder.encode('pss');
    const hash = new Uint8Array(createHash('sha256').update(message).digest());
    const { signature } = await session.signData(
      signing({
        signingFlags: CARD_PADDING_INFO_PRESENT,
        paddingType: CARD_PADDING_PSS,
        paddingInfo: { algorithm: 'SHA256', saltLength: 32 },
        data: hash,
      }),
    );
    const ok = verify(
      'sha256',
      message,
      { key: createPublicKey(signatureKey), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      reverseBytes(signature!),
    );
    expect(ok).toBe(true);
  });

  it('rsaDecrypt v2 PKCS1 and OAEP round trips; short input is SCARD_E_INSUFFICIENT_BUFFER', async () => {
    const { session, exchangeKey } = await keyedRig();
    await session.authenticatePin('user', PIN);
    const publicKey = createPublicKey(exchangeKey);
    const message = encoder.encode('secret message');
    const pkcs1 = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, message);
    expect(await session.rsaDecrypt(decrypting({ data: reverseBytes(pkcs1) }))).toEqual(reverseBytes(message));
    const oaep = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      message,
    );
    const decrypted = await session.rsaDecrypt(
      decrypting({ data: reverseBytes(oaep), paddingType: CARD_PADDING_OAEP, paddingInfo: { algorithm: 'SHA256' } }),
    );
    expect(reverseBytes(decrypted)).toEqual(message);
    await expectCode(session.rsaDecrypt(decrypting({ data: new Uint8Array(127) })), 'SCARD_E_INSUFFICIENT_BUFFER');
    await expectCode(session.rsaDecrypt(decrypting({ data: new Uint8Array(129) })), 'SCARD_E_INVALID_PARAMETER');
  });

  it('rsaDecrypt version 1 is accepted below CARD_DATA 7 and returns the raw block', async () => {
    const card = new MemoryCard();
    const exchangeKey = generateTestRsaKey();
    card.installKey(1, KeySpec.AT_KEYEXCHANGE, exchangeKey);
    const { session } = await openRig({}, { version: 6 }, card);
    await session.authenticatePin('user', PIN);
    const encrypted = publicEncrypt(
      { key: createPublicKey(exchangeKey), padding: constants.RSA_PKCS1_PADDING },
      Uint8Array.of(0x42),
    );
    const raw = reverseBytes(await session.rsaDecrypt(decrypting({ version: 1, data: reverseBytes(encrypted) })));
    expect(raw).toHaveLength(128);
    expect([raw[0], raw[1], raw[127]]).toEqual([0x00, 0x02, 0x42]);
  });
});

describe('per-call memo (CardContext.memo)', () => {
  it('is empty at the start of every entry point, whatever the previous call left or threw', async () => {
    const base = createTestPlugin();
    const seen: (number | undefined)[] = [];
    const plugin = {
      ...base,
      async acquireContext(context: Parameters<typeof base.acquireContext>[0], flags: number) {
        const minidriver = await base.acquireContext(context, flags);
        context.memo.set('left-by-acquire', 1);
        return {
          ...minidriver,
          async queryFreeSpace() {
            seen.push(context.memo.peek<number>('left-by-acquire') ?? context.memo.peek<number>('count'));
            context.memo.set('count', (context.memo.peek<number>('count') ?? 0) + 1);
            if (seen.length === 2) throw new ScardError('SCARD_E_UNEXPECTED', 'fails mid-call');
            return minidriver.queryFreeSpace();
          },
        };
      },
    };
    const session = await CardSession.open(plugin, new MemoryTransport(new MemoryCard()), {
      cache: new DataCacheStore(),
    });
    await session.queryFreeSpace();
    await expectCode(session.queryFreeSpace(), 'SCARD_E_UNEXPECTED');
    await session.queryFreeSpace();
    expect(seen).toEqual([undefined, undefined, undefined]);
    await session.close();
  });
});
