/**
 * Plugins an application vouches for (register with `trusted`) and the dependencies of another project
 * (registerDependencies): how the trust policy treats them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimTransport, UnknownCard } from '@minidriver/sim';
import { fromHex, ScardError } from '@minidriver/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computePluginIntegrity, Loader, type LoaderWarning } from '../src/index.js';
import {
  type FixturePlugin,
  makeTempDir,
  manifestOf,
  removeDir,
  writeApplication,
  writePluginPackage,
} from './fixture-packages.js';

const VOUCHED_ATR = '3b 04 00 00 70 01';
const PROJECT_ATR = '3b 04 00 00 70 02';
const vouched: FixturePlugin = { name: '@vouch/card-named', manifest: manifestOf('Named', [{ atr: VOUCHED_ATR }]) };
const projectPlugin: FixturePlugin = {
  name: '@vouch/card-project',
  manifest: manifestOf('Project', [{ atr: PROJECT_ATR }]),
};

let temp: string;
let appRoot: string;
let projectRoot: string;
let vouchedDir: string;

beforeAll(() => {
  temp = makeTempDir('minidriver-vouch-');
  appRoot = join(temp, 'app');
  projectRoot = join(temp, 'project');
  vouchedDir = join(temp, 'elsewhere', 'card-named');
  writeApplication(appRoot, []);
  writeApplication(projectRoot, [projectPlugin]);
  writePluginPackage(vouchedDir, vouched);
  // The vouched package also ships a simulator, exported as "./sim".
  const pkg = JSON.parse(readFileSync(join(vouchedDir, 'package.json'), 'utf8'));
  pkg.minidriver.simulator = { name: 'named-card', module: './sim' };
  pkg.exports = { '.': './index.mjs', './sim': { import: './sim.mjs' } };
  writeFileSync(join(vouchedDir, 'package.json'), JSON.stringify(pkg));
  writeFileSync(
    join(vouchedDir, 'sim.mjs'),
    "export function createSimulator(options = {}) { return { name: 'Named', seed: options.seed ?? null }; }\n",
  );
});

afterAll(() => removeDir(temp));

function makeLoader(options: ConstructorParameters<typeof Loader>[0] = {}) {
  const warnings: LoaderWarning[] = [];
  const loader = new Loader({ applicationRoot: appRoot, onWarning: (warning) => warnings.push(warning), ...options });
  return { loader, warnings };
}

const card = (atr: string) => new SimTransport(new UnknownCard({ atr: fromHex(atr) }));

describe('vouching', () => {
  it("'installed' admits a package registered by path with trusted: true", async () => {
    const { loader } = makeLoader();
    await loader.register(vouchedDir, { trusted: true });
    const session = await loader.openCard(card(VOUCHED_ATR));
    expect(session.pluginName).toBe('@vouch/card-named');
    await session.close();
  });

  it("'installed' still refuses the same package registered without trusted, naming how to allow it", async () => {
    const { loader } = makeLoader();
    await loader.register(vouchedDir);
    const failure = await loader.openCard(card(VOUCHED_ATR)).catch((error: unknown) => error);
    expect(ScardError.hasCode(failure, 'SCARD_W_SECURITY_VIOLATION')).toBe(true);
    expect((failure as Error).message).toContain(
      "plugin @vouch/card-named refused by trust policy 'installed': it is not a dependency of the application",
    );
  });

  it('an allowlist is not bypassed by vouching, and admits the package once listed with its integrity', async () => {
    const refusing = makeLoader({ trust: { allow: [] } }).loader;
    await refusing.register(vouchedDir, { trusted: true });
    await expect(refusing.openCard(card(VOUCHED_ATR))).rejects.toThrow(/not in trust\.allow/);
    const integrity = await computePluginIntegrity(vouchedDir);
    const admitting = makeLoader({ trust: { allow: [{ name: '@vouch/card-named', integrity }] } }).loader;
    await admitting.register(vouchedDir);
    const session = await admitting.openCard(card(VOUCHED_ATR));
    await session.close();
  });

  it("registerDependencies finds another project's plugins, trusted as that project's dependencies", async () => {
    const { loader } = makeLoader();
    const found = await loader.registerDependencies(projectRoot);
    expect(found.map((plugin) => [plugin.packageName, plugin.source])).toEqual([['@vouch/card-project', 'installed']]);
    const session = await loader.openCard(card(PROJECT_ATR));
    expect(session.pluginName).toBe('@vouch/card-project');
    await session.close();
  });
});

describe('simulators named by manifests', () => {
  it('lists them and imports the one asked for, once its package is trusted', async () => {
    const { loader } = makeLoader();
    await loader.register(vouchedDir, { trusted: true });
    expect(await loader.listSimulators()).toEqual([
      { name: 'named-card', packageName: '@vouch/card-named', source: 'explicit' },
    ]);
    const loaded = await loader.loadSimulator('named-card');
    expect(loaded?.packageName).toBe('@vouch/card-named');
    expect(loaded?.createSimulator({ seed: 's' })).toEqual({ name: 'Named', seed: 's' });
    expect(await loader.loadSimulator('no-such-card')).toBeUndefined();
  });

  it('refuses to import the simulator of a package the trust policy refuses', async () => {
    const { loader } = makeLoader();
    await loader.register(vouchedDir);
    await expect(loader.loadSimulator('named-card')).rejects.toThrow(
      /plugin @vouch\/card-named refused by trust policy 'installed'/,
    );
  });
});
