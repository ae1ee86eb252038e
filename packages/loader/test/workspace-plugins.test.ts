/**
 * The real card packages of this repository, found the way an application finds them: this package's
 * own package.json declares @minidriver/card-piv, @minidriver/card-openpgp and @minidriver/card-gids
 * (devDependencies), so a
 * loader rooted here discovers their `minidriver` manifests.
 */
import { fileURLToPath } from 'node:url';
import { GIDS_ATR, GidsSimulator } from '@minidriver/card-gids/sim';
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import { PivSimulator, YUBIKEY5_ATR } from '@minidriver/card-piv/sim';
import { SimTransport } from '@minidriver/sim';
import { fromHex } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { Loader, type LoaderWarning } from '../src/index.js';

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
        ['@minidriver/card-gids', 'GIDS'],
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

  it('open the PIV simulator through openCard with the real PIV plugin, chosen by ATR', async () => {
    const { loader } = workspaceLoader();
    const session = await loader.openCard(new SimTransport(new PivSimulator({ seed: 'loader-real-piv' })));
    expect(session.pluginName).toBe('PIV');
    expect(session.version).toBe(7);
    expect(await session.readFile(null, 'cardapps')).toEqual(fromHex('6d 73 63 70 00 00 00 00'));
    await session.close();
  });

  it('open the OpenPGP simulator through openCard with the real OpenPGP plugin, chosen by ATR', async () => {
    const { loader } = workspaceLoader();
    const card = new OpenPgpSimulator();
    expect((await loader.resolve(card.atr))?.method).toBe('atr');
    const session = await loader.openCard(new SimTransport(card), { version: 6 });
    expect(session.pluginName).toBe('OpenPGP');
    expect(session.version).toBe(6);
    expect((await session.readFile(null, 'cardid')).length).toBe(16);
    await session.close();
  });

  // An ATR no manifest lists: the loader must find the application by SELECTing the plugins' AIDs.
  const UNLISTED_ATR = fromHex('3b 88 80 01 00 00 00 00 00 00 00 00 09');

  it('choose the OpenPGP plugin by AID when the ATR is unknown', async () => {
    const { loader } = workspaceLoader();
    Loader.forgetProbeResults();
    const session = await loader.openCard(new SimTransport(new OpenPgpSimulator({ atr: UNLISTED_ATR })));
    expect(session.pluginName).toBe('OpenPGP');
    expect((await session.getContainerInfo(0).catch((error) => error)).name).toBe('SCARD_E_NO_KEY_CONTAINER');
    await session.close();
  });

  it('choose the PIV plugin by AID when the ATR is unknown', async () => {
    const { loader } = workspaceLoader();
    Loader.forgetProbeResults();
    const transport = new SimTransport(new PivSimulator({ atr: UNLISTED_ATR }));
    const choice = await loader.choosePlugin(transport);
    expect(choice?.packageName).toBe('@minidriver/card-piv');
    expect(choice?.method).toBe('aid-probe');
    const session = await loader.openCard(transport);
    expect(session.pluginName).toBe('PIV');
    await session.close();
  });

  it('open the GIDS simulator with the real GIDS plugin, chosen by ATR, and by AID when the ATR is unknown', async () => {
    const { loader } = workspaceLoader();
    expect((await loader.resolve(GIDS_ATR))?.packageName).toBe('@minidriver/card-gids');
    const session = await loader.openCard(new SimTransport(new GidsSimulator()));
    expect(session.pluginName).toBe('GIDS');
    expect(await session.readFile(null, 'cardapps')).toEqual(fromHex('6d 73 63 70 00 00 00 00'));
    await session.close();
    Loader.forgetProbeResults();
    const transport = new SimTransport(new GidsSimulator({ atr: UNLISTED_ATR }));
    const choice = await loader.choosePlugin(transport);
    expect(choice?.packageName).toBe('@minidriver/card-gids');
    expect(choice?.method).toBe('aid-probe');
  });
});
