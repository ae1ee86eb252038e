/**
 * The application root found from the entry point (not the working directory), and "no plugin for this
 * card" errors that say why: nothing installed, plugins installed but not declared, trust refusals.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimTransport, UnknownCard } from '@minidriver/sim';
import { ScardError } from '@minidriver/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findApplicationRoot, Loader } from '../src/index.js';
import { makeTempDir, manifestOf, removeDir, writeApplication, writePluginPackage } from './fixture-packages.js';

let temp: string;

beforeAll(() => {
  temp = makeTempDir('minidriver-root-');
});

afterAll(() => removeDir(temp));

async function unknownCardError(loader: Loader): Promise<ScardError> {
  const error = await loader.choosePlugin(new SimTransport(new UnknownCard())).catch((caught: unknown) => caught);
  if (!ScardError.hasCode(error, 'SCARD_E_UNKNOWN_CARD'))
    throw new Error(`expected SCARD_E_UNKNOWN_CARD, got ${String(error)}`);
  return error;
}

describe('application root', () => {
  it('is the nearest package.json above the entry point, passing over module-type markers', () => {
    const app = join(temp, 'app');
    writeApplication(app, []);
    mkdirSync(join(app, 'src', 'tools', 'dist'), { recursive: true });
    writeFileSync(join(app, 'src', 'tools', 'dist', 'package.json'), '{ "type": "module" }');
    writeFileSync(join(app, 'src', 'tools', 'dist', 'main.mjs'), '');
    expect(findApplicationRoot(join(app, 'src', 'tools', 'dist', 'main.mjs'))).toBe(app);
    expect(findApplicationRoot(join(app, 'src'))).toBe(app);
    // No entry point (REPL, node -e) or nothing above it: the working directory.
    expect(findApplicationRoot('')).toBe(process.cwd());
    expect(findApplicationRoot(join(temp, 'does-not-exist', 'main.js'))).toBe(process.cwd());
  });

  it('is what a Loader uses by default: the entry point of this process, whatever the working directory', () => {
    expect(new Loader().root).toBe(findApplicationRoot(process.argv[1]));
    expect(new Loader({ applicationRoot: temp }).root).toBe(temp);
  });
});

describe('"no plugin for this card" explains itself', () => {
  it('says when no plugin is installed at all', async () => {
    const app = join(temp, 'empty-app');
    writeApplication(app, []);
    const error = await unknownCardError(new Loader({ applicationRoot: app, onWarning: () => undefined }));
    expect(error.message).toContain(
      `0 plugins installed: the application root ${app} has no package.json dependencies`,
    );
  });

  it('names plugin packages installed but not declared as dependencies', async () => {
    const app = join(temp, 'undeclared-app');
    const hidden = { name: '@vendor/card-hidden', manifest: manifestOf('Hidden', [{ atr: '3b 02 14 50' }]) };
    writeApplication(app, [], { plain: ['left-pad'], undeclared: [hidden] });
    const error = await unknownCardError(new Loader({ applicationRoot: app, onWarning: () => undefined }));
    expect(error.message).toContain('declares 1 dependency, none a minidriver card plugin');
    expect(error.message).toContain(
      `installed but not declared in ${app}/package.json (so not used): @vendor/card-hidden`,
    );
  });

  it('names the plugins the trust policy would refuse', async () => {
    const app = join(temp, 'trust-app');
    writeApplication(app, []);
    const directory = join(temp, 'plugin-dir');
    writePluginPackage(join(directory, 'dir-plugin'), {
      name: 'dir-plugin',
      manifest: manifestOf('Dir', [{ atr: '3b 02 14 50' }]),
    });
    const loader = new Loader({ applicationRoot: app, pluginDirectories: [directory], onWarning: () => undefined });
    const error = await unknownCardError(loader);
    expect(error.message).toContain(`1 plugin(s) known from ${app}: dir-plugin`);
    expect(error.message).toContain("refused by trust policy 'installed' (not dependencies): dir-plugin");
  });
});
