/**
 * Loader behaviour against fixture applications built in a temp directory (see fixture-packages.ts), the
 * PIV simulator (@minidriver/card-piv/sim) and a simulated unknown card (@minidriver/sim UnknownCard).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PivSimulator, YUBIKEY5_ATR } from '@minidriver/card-piv/sim';
import { SimTransport, UnknownCard } from '@minidriver/sim';
import type { Disposition, Transport } from '@minidriver/spec';
import { fromHex, ScardError, toHex } from '@minidriver/spec';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { computePluginIntegrity, Loader, type LoaderWarning } from '../src/index.js';
import {
  acquiredPlugins,
  type FixturePlugin,
  importedPlugins,
  makeTempDir,
  manifestOf,
  removeDir,
  writeApplication,
  writePluginPackage,
} from './fixture-packages.js';

const PIV_AID = 'a0 00 00 03 08 00 00 10 00 01 00'; // docs/spec/piv.md §1
const GIDS_AID = 'a0 00 00 03 97 42 54 46 59 02 01'; // docs/spec/minidriver.md §12.3
const OTHER_AID = 'd2 76 00 00 01 01';
const ATR_X = '3b 02 14 50';
const ATR_TIE = '3b 05 00 11 22 33 44';

const alpha: FixturePlugin = {
  name: '@fixture/card-alpha',
  manifest: manifestOf('Alpha', [{ atr: ATR_X }], [OTHER_AID]),
};
const beta: FixturePlugin = {
  name: '@fixture/card-beta',
  manifest: manifestOf('Beta', [{ atr: '3b 02 14 00', mask: 'ff ff ff 00' }]),
};
const gamma: FixturePlugin = {
  name: '@fixture/card-gamma',
  manifest: manifestOf('Gamma', [{ atr: '3b 02 10 00', mask: 'ff ff f0 00' }]),
};
const yubikey: FixturePlugin = {
  name: '@fixture/card-yk',
  manifest: manifestOf('YK', [{ atr: toHex(YUBIKEY5_ATR, ' '), name: 'YubiKey 5 (fixture)' }], [PIV_AID], {
    min: 4,
    current: 7,
  }),
};
const pivLike: FixturePlugin = { name: 'fixture-piv-like', manifest: manifestOf('PIV-like', [], [PIV_AID]) };
const gidsLike: FixturePlugin = { name: 'fixture-gids-like', manifest: manifestOf('GIDS-like', [], [GIDS_AID]) };
const tieA: FixturePlugin = { name: '@fixture/tie-a', manifest: manifestOf('TieA', [{ atr: ATR_TIE }]) };
const tieB: FixturePlugin = { name: '@fixture/tie-b', manifest: manifestOf('TieB', [{ atr: ATR_TIE }]) };
const broken: FixturePlugin = {
  name: '@fixture/card-broken',
  manifest: manifestOf('Broken', [{ atr: '3b 00 00', mask: 'ff ff' }]),
};
const undeclared: FixturePlugin = {
  name: '@fixture/undeclared',
  manifest: manifestOf('Undeclared', [{ atr: '3b 03 00 00 01' }]),
};
const delta: FixturePlugin = { name: 'dir-delta', manifest: manifestOf('Delta', [{ atr: '3b 04 00 00 00 02' }]) };
const override: FixturePlugin = { name: 'override-alpha', manifest: manifestOf('Override', [{ atr: ATR_X }]) };

let temp: string;
let appRoot: string;
let pluginDir: string;

beforeAll(() => {
  temp = makeTempDir();
  appRoot = join(temp, 'app');
  pluginDir = join(temp, 'plugins');
  writeApplication(appRoot, [alpha, beta, gamma, yubikey, pivLike, gidsLike, tieA, tieB, broken], {
    plain: ['plain-dependency'],
    missing: ['not-installed'],
    undeclared: [undeclared],
  });
  writePluginPackage(join(pluginDir, delta.name), delta);
  writePluginPackage(join(temp, 'explicit', override.name), override);
  writePluginPackage(join(temp, 'explicit', 'tie-b-copy'), { ...tieB, name: '@fixture/tie-b' });
  writePluginPackage(join(temp, 'explicit', 'tie-a-copy'), { ...tieA, name: '@fixture/tie-a' });
});

afterAll(() => removeDir(temp));

beforeEach(() => Loader.forgetProbeResults());

function makeLoader(options: ConstructorParameters<typeof Loader>[0] = {}): {
  loader: Loader;
  warnings: LoaderWarning[];
} {
  const warnings: LoaderWarning[] = [];
  const loader = new Loader({
    applicationRoot: appRoot,
    pluginDirectories: [pluginDir],
    onWarning: (warning) => warnings.push(warning),
    ...options,
  });
  return { loader, warnings };
}

/** Observes a transport: the commands sent and how transactions ended. */
function observe(transport: Transport): {
  transport: Transport;
  commands: string[];
  ends: (Disposition | undefined)[];
  begins: () => number;
} {
  const commands: string[] = [];
  const ends: (Disposition | undefined)[] = [];
  let begins = 0;
  const observed: Transport = {
    get atr() {
      return transport.atr;
    },
    get protocol() {
      return transport.protocol;
    },
    get readerName() {
      return transport.readerName;
    },
    transmit: (command) => {
      commands.push(toHex(command, ' '));
      return transport.transmit(command);
    },
    beginTransaction: () => {
      begins++;
      return transport.beginTransaction();
    },
    endTransaction: (disposition) => {
      ends.push(disposition);
      return transport.endTransaction(disposition);
    },
    reconnect: (initialization) => transport.reconnect(initialization),
    close: (disposition) => transport.close(disposition),
  };
  return { transport: observed, commands, ends, begins: () => begins };
}

describe('discovery', () => {
  it('reads manifests of declared dependencies and plugin directories, importing nothing', async () => {
    const before = importedPlugins().length;
    const { loader, warnings } = makeLoader();
    const plugins = await loader.listPlugins();
    expect(plugins.map((plugin) => `${plugin.packageName}:${plugin.source}`)).toEqual([
      '@fixture/card-alpha:installed',
      '@fixture/card-beta:installed',
      '@fixture/card-gamma:installed',
      '@fixture/card-yk:installed',
      '@fixture/tie-a:installed',
      '@fixture/tie-b:installed',
      'dir-delta:directory',
      'fixture-gids-like:installed',
      'fixture-piv-like:installed',
    ]);
    expect(plugins[0]?.manifest.name).toBe('Alpha');
    expect(warnings.find((warning) => warning.code === 'missing-dependency')?.packageName).toBe('not-installed');
    expect(importedPlugins().length).toBe(before);
  });

  it('skips a malformed manifest with a warning naming the package and the problem', async () => {
    const { loader, warnings } = makeLoader();
    await loader.ready();
    const malformed = warnings.filter((warning) => warning.code === 'malformed-manifest');
    expect(malformed).toHaveLength(1);
    expect(malformed[0]?.packageName).toBe('@fixture/card-broken');
    expect(malformed[0]?.message).toMatch(
      /@fixture\/card-broken.*"atrs\[0\]": mask "ff ff" has 2 bytes, its ATR "3b 00 00" has 3/,
    );
    // The loader still works for everyone else.
    expect((await loader.resolve(fromHex(ATR_X)))?.packageName).toBe('@fixture/card-alpha');
  });

  it('survives an application package.json that is not JSON', async () => {
    const root = join(temp, 'bad-app');
    writeApplication(root, []);
    writeFileSync(join(root, 'package.json'), '{ not json');
    const { loader, warnings } = makeLoader({ applicationRoot: root, pluginDirectories: [] });
    expect(await loader.listPlugins()).toEqual([]);
    expect(warnings[0]?.code).toBe('unreadable-package');
  });

  it('registers plugins explicitly by path, by name and as module objects', async () => {
    const { loader, warnings } = makeLoader({ discoverInstalled: false, pluginDirectories: [] });
    expect((await loader.register(join(temp, 'explicit', override.name)))?.source).toBe('explicit');
    expect((await loader.register('@fixture/card-beta'))?.packageName).toBe('@fixture/card-beta');
    const plugin = {
      name: 'InMemory',
      cardDataVersions: { min: 4, current: 7 } as const,
      acquireContext: () => Promise.reject(new Error('unused')),
    };
    const info = await loader.register(
      { plugin },
      { manifest: { name: 'InMemory', atrs: [{ atr: '3b 01 01' }], cardDataVersions: { min: 4, current: 7 } } },
    );
    expect(info?.packageName).toBe('module:InMemory');
    expect((await loader.resolve(fromHex('3b 01 01')))?.packageName).toBe('module:InMemory');
    expect(
      await loader.register({ plugin }, { manifest: { name: '', atrs: [], cardDataVersions: { min: 4, current: 7 } } }),
    ).toBeUndefined();
    expect(warnings.at(-1)?.message).toMatch(
      /module:InMemory: malformed manifest skipped: "name" must be a non-empty name of the card family/,
    );
    await expect(loader.register('no-such-package')).rejects.toThrow(
      /SCARD_E_INVALID_PARAMETER: plugin package no-such-package is not installed/,
    );
  });
});

describe('precedence', () => {
  it('prefers an exact ATR over masked ones', async () => {
    const { loader } = makeLoader();
    const resolution = await loader.resolve(fromHex(ATR_X));
    expect(resolution?.packageName).toBe('@fixture/card-alpha');
    expect(resolution?.method).toBe('atr');
    expect(resolution?.candidates.map((candidate) => candidate.packageName)).toEqual([
      '@fixture/card-alpha',
      '@fixture/card-beta',
      '@fixture/card-gamma',
    ]);
    expect(resolution?.reason).toMatch(/exact ATR match.*preferred over @fixture\/card-beta \(exact before masked\)/);
    expect(resolution?.conflict).toBeUndefined();
  });

  it('prefers a more specific mask over a less specific one', async () => {
    const { loader } = makeLoader();
    const resolution = await loader.resolve(fromHex('3b 02 14 51'));
    expect(resolution?.packageName).toBe('@fixture/card-beta');
    expect(
      resolution?.candidates.map((candidate) => [candidate.packageName, candidate.specificity, candidate.pattern]),
    ).toEqual([
      ['@fixture/card-beta', 24, '3b 02 14 ..'],
      ['@fixture/card-gamma', 20, '3b 02 1. ..'],
    ]);
    expect(resolution?.reason).toMatch(/more specific mask/);
    expect((await loader.resolve(fromHex('3b 02 1f 51')))?.packageName).toBe('@fixture/card-gamma');
    expect(await loader.resolve(fromHex('3b 02 24 51'))).toBeUndefined();
  });

  it('prefers explicit registration over discovery at equal strength', async () => {
    const { loader } = makeLoader();
    await loader.register(join(temp, 'explicit', override.name));
    const resolution = await loader.resolve(fromHex(ATR_X));
    expect(resolution?.packageName).toBe('override-alpha');
    expect(resolution?.reason).toMatch(/preferred over @fixture\/card-alpha \(explicit before installed\)/);
  });

  it('reports a tie between two packages once and resolves it by package name', async () => {
    const { loader, warnings } = makeLoader();
    const first = await loader.resolve(fromHex(ATR_TIE));
    await loader.resolve(fromHex(ATR_TIE));
    expect(first?.packageName).toBe('@fixture/tie-a');
    expect(first?.conflict?.packages).toEqual(['@fixture/tie-a', '@fixture/tie-b']);
    const conflicts = warnings.filter((warning) => warning.code === 'atr-conflict');
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]?.message).toMatch(
      /matches @fixture\/tie-a and @fixture\/tie-b equally well \(exact, installed\); chose @fixture\/tie-a/,
    );
  });

  it('resolves a tie the same way whatever the registration order', async () => {
    for (const order of [
      ['tie-b-copy', 'tie-a-copy'],
      ['tie-a-copy', 'tie-b-copy'],
    ]) {
      const { loader } = makeLoader({ discoverInstalled: false, pluginDirectories: [] });
      for (const dir of order) await loader.register(join(temp, 'explicit', dir));
      expect((await loader.resolve(fromHex(ATR_TIE)))?.packageName).toBe('@fixture/tie-a');
    }
  });
});

describe('AID probing', () => {
  it('SELECTs every probing AID in the documented order in one transaction and leaves an unknown card as found', async () => {
    const { loader } = makeLoader();
    const card = new UnknownCard();
    const observed = observe(new SimTransport(card));
    const before = importedPlugins().length;
    const failure = await loader.openCard(observed.transport).catch((error: unknown) => error);
    expect(ScardError.hasCode(failure, 'SCARD_E_UNKNOWN_CARD')).toBe(true);
    // PIV family first (source, then package name), then GIDS, then the rest (docs/spec/minidriver.md §12.3 (c)).
    expect(observed.commands).toEqual([
      `00 a4 04 00 0b ${PIV_AID} 00`, // @fixture/card-yk
      `00 a4 04 00 0b ${PIV_AID} 00`, // fixture-piv-like
      `00 a4 04 00 0b ${GIDS_AID} 00`,
      `00 a4 04 00 06 ${OTHER_AID} 00`,
    ]);
    expect(observed.begins()).toBe(1);
    expect(observed.ends).toEqual(['leave']);
    expect(importedPlugins().length).toBe(before);
  });

  it('finds the PIV application on the PIV simulator, resets the card after, and caches the answer per ATR', async () => {
    const { loader } = makeLoader();
    const atr = fromHex('3b 88 80 01 00 00 00 00 00 00 00 00 09');
    const observed = observe(new SimTransport(new PivSimulator({ atr, seed: 'loader-probe' })));
    const resolution = await loader.choosePlugin(observed.transport);
    expect(resolution.method).toBe('aid-probe');
    expect(resolution.packageName).toBe('@fixture/card-yk');
    expect(resolution.aid).toBe(PIV_AID.replace(/ /g, ''));
    expect(observed.commands).toEqual([`00 a4 04 00 0b ${PIV_AID} 00`]);
    expect(observed.ends).toEqual(['reset']);
    // Cached for the process: a second loader with the same plugins sends nothing.
    const again = observe(new SimTransport(new PivSimulator({ atr, seed: 'loader-probe' })));
    const { loader: second } = makeLoader();
    expect((await second.choosePlugin(again.transport)).method).toBe('aid-probe-cache');
    expect(again.commands).toEqual([]);
    expect((await second.identify(atr)).resolution?.packageName).toBe('@fixture/card-yk');
  });
});

describe('openCard', () => {
  it('imports only the chosen plugin, lazily, and returns a session at the negotiated version', async () => {
    const { loader } = makeLoader();
    await loader.ready();
    const before = importedPlugins();
    expect(before).not.toContain('@fixture/card-yk');
    const session = await loader.openCard(new SimTransport(new PivSimulator({ seed: 'loader-open' })), { version: 5 });
    expect(session.version).toBe(5);
    expect(session.pluginName).toBe('@fixture/card-yk');
    expect(importedPlugins().slice(before.length)).toEqual(['@fixture/card-yk']);
    expect(acquiredPlugins().at(-1)).toEqual({ name: '@fixture/card-yk', version: 5, cardName: 'YubiKey 5 (fixture)' });
    await session.close();
  });

  it('negotiates down to the plugin current version', async () => {
    const root = join(temp, 'app-v6');
    writeApplication(root, [
      {
        ...yubikey,
        name: 'fixture-yk-v6',
        manifest: manifestOf('YK6', [{ atr: toHex(YUBIKEY5_ATR) }], [PIV_AID], { min: 4, current: 6 }),
      },
    ]);
    const { loader } = makeLoader({ applicationRoot: root, pluginDirectories: [] });
    const session = await loader.openCard(new SimTransport(new PivSimulator({ seed: 'loader-v6' })));
    expect(session.version).toBe(6);
    await session.close();
  });

  it('refuses a reader it cannot open with a ScardError', async () => {
    const { loader } = makeLoader();
    const failure = await loader.openCard('Minidriver loader test: no such reader').catch((error: unknown) => error);
    expect(ScardError.isInstance(failure)).toBe(true);
  });
});

describe('trust policy', () => {
  it("'installed' refuses a plugin found only in a plugin directory, before importing it", async () => {
    const { loader } = makeLoader();
    const resolution = await loader.resolve(fromHex('3b 04 00 00 00 02'));
    expect(resolution?.packageName).toBe('dir-delta');
    const failure = await loader.loadPlugin({ packageName: 'dir-delta' }).catch((error: unknown) => error);
    expect(ScardError.hasCode(failure, 'SCARD_W_SECURITY_VIOLATION')).toBe(true);
    expect((failure as Error).message).toMatch(
      /plugin dir-delta refused by trust policy 'installed': it is not a dependency of the application \(found in a plugin directory\)/,
    );
    expect(importedPlugins()).not.toContain('dir-delta');
  });

  it("'installed' refuses a package registered by name that the application does not declare", async () => {
    const { loader } = makeLoader();
    await loader.register('@fixture/undeclared');
    await expect(
      loader.openCard(new SimTransport(new UnknownCard({ atr: fromHex('3b 03 00 00 01') }))),
    ).rejects.toThrow(/SCARD_W_SECURITY_VIOLATION: plugin @fixture\/undeclared refused by trust policy 'installed'/);
    expect(importedPlugins()).not.toContain('@fixture/undeclared');
  });

  it('an allowlist admits a listed package whose code hashes to the listed integrity, and nothing else', async () => {
    const deltaDir = join(pluginDir, delta.name);
    const integrity = await computePluginIntegrity(deltaDir);
    expect(integrity).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);

    const notListed = makeLoader({ trust: { allow: [{ name: '@fixture/card-alpha', integrity }] } }).loader;
    await expect(notListed.loadPlugin({ packageName: 'dir-delta' })).rejects.toThrow(
      /SCARD_W_SECURITY_VIOLATION: plugin dir-delta refused by trust policy allowlist: the package is not in trust.allow/,
    );
    const wrongHash = makeLoader({
      trust: { allow: [{ name: 'dir-delta', integrity: `sha256-${'A'.repeat(43)}=` }] },
    }).loader;
    await expect(wrongHash.loadPlugin({ packageName: 'dir-delta' })).rejects.toThrow(
      /refused by trust policy allowlist: integrity mismatch/,
    );
    expect(importedPlugins()).not.toContain('dir-delta');

    const listed = makeLoader({ trust: { allow: [{ name: 'dir-delta', integrity }] } }).loader;
    const plugin = await listed.loadPlugin({ packageName: 'dir-delta' });
    expect(plugin.name).toBe('dir-delta');
    expect(importedPlugins()).toContain('dir-delta');
  });

  it('an allowlist entry no longer matches once the package code changes', async () => {
    const dir = join(temp, 'tampered', 'tampered-plugin');
    writePluginPackage(dir, {
      name: 'tampered-plugin',
      manifest: manifestOf('Tampered', [{ atr: '3b 04 00 00 00 09' }]),
    });
    const integrity = await computePluginIntegrity(dir);
    writeFileSync(
      join(dir, 'index.mjs'),
      'globalThis.__minidriverImported = [...(globalThis.__minidriverImported ?? []), "tampered-plugin"];\nexport const plugin = {};\n',
    );
    const { loader } = makeLoader({
      pluginDirectories: [join(temp, 'tampered')],
      trust: { allow: [{ name: 'tampered-plugin', integrity }] },
    });
    await expect(loader.loadPlugin({ packageName: 'tampered-plugin' })).rejects.toThrow(/integrity mismatch/);
    expect(importedPlugins()).not.toContain('tampered-plugin');
  });
});

describe('identify', () => {
  it('parses the ATR, names the plugin and why, and reads card names from a database file', async () => {
    const database = join(temp, 'smartcard_list.txt');
    writeFileSync(
      database,
      `3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40\n\tFixture database name\n`,
    );
    const { loader } = makeLoader({ cardDatabase: database });
    const identification = await loader.identify(YUBIKEY5_ATR);
    expect(identification.atr.protocols).toContain(1);
    expect(toHex(identification.atr.historicalBytes)).toBe('8073c021c057597562694b6579');
    expect(identification.resolution?.packageName).toBe('@fixture/card-yk');
    expect(identification.resolution?.reason).toMatch(/^exact ATR match in @fixture\/card-yk \(installed\)/);
    expect(identification.names).toEqual(['Fixture database name']);
  });

  it('says AID probing is needed when no ATR matches, and reports a missing database', async () => {
    const { loader } = makeLoader({ cardDatabase: join(temp, 'missing.txt') });
    const identification = await loader.identify(fromHex('3b 80 80 01 01'));
    expect(identification.resolution).toBeUndefined();
    expect(identification.unresolvedReason).toMatch(/openCard would probe 4 AID\(s\)/);
    expect(identification.databaseProblem).toMatch(/not found/);
  });

  const present = existsSync('/usr/share/pcsc/smartcard_list.txt');
  if (!present && process.env.CI === 'true')
    throw new Error('/usr/share/pcsc/smartcard_list.txt is required on CI (install pcsc-tools)');
  it.skipIf(!present)(
    'uses pcsc-tools’ database by default (skipped: /usr/share/pcsc/smartcard_list.txt missing)',
    async () => {
      const { loader } = makeLoader();
      expect((await loader.identify(YUBIKEY5_ATR)).names).toContain('Yubico YubiKey 5 NFC (PKI)');
    },
  );
});
