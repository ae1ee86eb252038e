/**
 * The real card packages of this repository, found the way an application finds them: this package's
 * own package.json declares @minidriver/card-piv and @minidriver/card-openpgp (devDependencies), so a
 * loader rooted here discovers their `minidriver` manifests.
 */
import { fileURLToPath } from 'node:url';
import { PivSimulator, YUBIKEY5_ATR } from '@minidriver/card-piv/sim';
import { fromHex } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { describe, expect, it } from 'vitest';
import { Loader, type LoaderWarning } from '../src/index.js';

const pivModule = (await import('@minidriver/card-piv')) as { plugin?: unknown };
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

function workspaceLoader(): { loader: Loader; warnings: LoaderWarning[] } {
  const warnings: LoaderWarning[] = [];
  // "source": resolve the workspace packages to their TypeScript sources, as the repo's tests do.
  const loader = new Loader({
    applicationRoot: packageRoot,
    conditions: ['source'],
    onWarning: (warning) => warnings.push(warning),
  });
  return { loader, warnings };
}

describe('the repository card packages', () => {
  it('have manifests the loader accepts, without ATR conflicts', async () => {
    const { loader, warnings } = workspaceLoader();
    const plugins = await loader.listPlugins();
    expect(plugins.map((plugin) => [plugin.packageName, plugin.manifest.name])).toEqual(
      expect.arrayContaining([
        ['@minidriver/card-openpgp', 'OpenPGP'],
        ['@minidriver/card-piv', 'PIV'],
      ]),
    );
    expect(
      warnings.filter((warning) => warning.code === 'malformed-manifest' || warning.code === 'atr-conflict'),
    ).toEqual([]);
  });

  it('send a YubiKey to PIV and an OpenPGP card 3 to OpenPGP', async () => {
    const { loader } = workspaceLoader();
    const yubikey = await loader.resolve(YUBIKEY5_ATR);
    expect(yubikey?.packageName).toBe('@minidriver/card-piv');
    expect(yubikey?.cardName).toBe('YubiKey 5');
    expect(yubikey?.conflict).toBeUndefined();
    // OpenPGP card 3 ATR (OpenSC pgp_atrs; cards/openpgp/sim OPENPGP_V3_ATR).
    const openpgp = await loader.resolve(fromHex('3b da 18 ff 81 b1 fe 75 1f 03 00 31 f5 73 c0 01 60 00 90 00 1c'));
    expect(openpgp?.packageName).toBe('@minidriver/card-openpgp');
  });

  it.skipIf(pivModule.plugin === undefined)(
    'open the PIV simulator through openCard with the real PIV plugin (skipped: @minidriver/card-piv does not export `plugin` yet)',
    async () => {
      const { loader } = workspaceLoader();
      const session = await loader.openCard(new SimTransport(new PivSimulator({ seed: 'loader-real-piv' })));
      expect(session.pluginName).toBe('PIV');
      expect(session.version).toBe(7);
      await session.close();
    },
  );
});
