/**
 * Third-party card plugins in the `minidriver` command, through the built binary: `--plugin <package|dir>`
 * (repeatable), MINIDRIVER_PLUGINS, the configuration file's `plugins`, the current project's
 * dependencies; a plugin's simulator by the name its manifest gives; the trust policy and how its
 * refusals say to allow a package; bad plugins named, never a crash.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPOSITORY_ROOT, runCli, temporaryStateDirectory } from './run-cli.js';

const ALPHA_ATR = '3b 04 a1 a2 a3 a4';
const BETA_ATR = '3b 04 b1 b2 b3 b4';

let temp: string;
let state: string;
let configFile: string;

/** A plugin package in `directory`: its plugin answers nothing useful; its simulator answers 6D00. */
function writePlugin(
  directory: string,
  name: string,
  atr: string,
  options: { simulator?: string; simulatorSource?: string; manifest?: unknown } = {},
): void {
  mkdirSync(directory, { recursive: true });
  const manifest = options.manifest ?? {
    name: `${name} card`,
    atrs: [{ atr }],
    cardDataVersions: { min: 4, current: 7 },
    ...(options.simulator ? { simulator: { name: options.simulator, module: './sim' } } : {}),
  };
  writeFileSync(
    join(directory, 'package.json'),
    JSON.stringify({
      name,
      version: '1.0.0',
      type: 'module',
      exports: { '.': './index.mjs', './sim': './sim.mjs' },
      minidriver: manifest,
    }),
  );
  writeFileSync(
    join(directory, 'index.mjs'),
    `export const plugin = { name: ${JSON.stringify(`${name} card`)}, cardDataVersions: { min: 4, current: 7 }, async acquireContext() { throw new Error('no card logic in this fixture'); } };\n`,
  );
  const atrBytes = JSON.stringify(atr.split(' ').map((byte) => Number.parseInt(byte, 16)));
  writeFileSync(
    join(directory, 'sim.mjs'),
    options.simulatorSource ??
      `export function createSimulator() {
  return { name: ${JSON.stringify(name)}, atr: Uint8Array.from(${atrBytes}), powerOn() {}, powerOff() {}, reset() {}, process() { return Uint8Array.of(0x6d, 0x00); } };
}
`,
  );
}

beforeAll(() => {
  ensureBuilt();
  temp = mkdtempSync(join(tmpdir(), 'minidriver-cli-plugins-'));
  state = temporaryStateDirectory();
  configFile = join(temp, 'config.json');
  writePlugin(join(temp, 'plugins', 'alpha'), '@vendor/card-alpha', ALPHA_ATR, { simulator: 'alpha-sim' });
  writePlugin(join(temp, 'plugins', 'beta'), 'vendor-card-beta', BETA_ATR);
  writePlugin(join(temp, 'plugins', 'broken'), '@vendor/card-broken', '3b 00', {
    manifest: { name: 'Broken', atrs: [{ atr: '3b 00' }], cardDataVersion: { min: 4, current: 7 } },
  });
  writePlugin(join(temp, 'plugins', 'throwing-sim'), '@vendor/card-throwing', '3b 04 c1 c2 c3 c4', {
    simulator: 'throwing-sim',
    simulatorSource: "export function createSimulator() { throw new TypeError('sim is not ready'); }\n",
  });
  // A project that depends on beta (installed in its node_modules), worked on in a subdirectory.
  const project = join(temp, 'project');
  mkdirSync(join(project, 'src', 'deep'), { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'my-app', private: true, dependencies: { 'vendor-card-beta': '^1.0.0' } }),
  );
  writePlugin(join(project, 'node_modules', 'vendor-card-beta'), 'vendor-card-beta', BETA_ATR);
});

afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
});

const cli = (args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) =>
  runCli(args, {
    stateDirectory: state,
    cwd: options.cwd ?? temp,
    env: { MINIDRIVER_CONFIG: configFile, MINIDRIVER_PLUGINS: '', ...options.env },
  });

const identified = async (args: string[], atr: string, options: Parameters<typeof cli>[1] = {}) => {
  const result = await cli(['identify', '--atr', atr, '--json', ...args], options);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout).plugin as { package: string; name: string } | null;
};

describe('finding third-party plugins', () => {
  it('identify --plugin <scaffolded dir> --atr <its ATR> --json names the scaffolded plugin', async () => {
    const card = join(temp, 'scaffolded');
    const scaffold = spawnSync(
      process.execPath,
      [
        join(REPOSITORY_ROOT, 'tools', 'create-card', 'dist', 'bin.js'),
        card,
        '--name',
        'Scaffolded Card',
        '--atr',
        '3b 8a 80 01 53 43 41 46 46 4f 4c 44 30 31 5f',
      ],
      { encoding: 'utf8' },
    );
    expect(scaffold.status, scaffold.stderr).toBe(0);
    const plugin = await identified(['--plugin', card], '3b 8a 80 01 53 43 41 46 46 4f 4c 44 30 31 5f');
    expect(plugin).toMatchObject({ package: 'minidriver-card-scaffolded-card', name: 'Scaffolded Card' });
  });

  it('--plugin is repeatable and takes directories (relative or absolute) and installed package names', async () => {
    const args = ['--plugin', './plugins/alpha', '--plugin', join(temp, 'plugins', 'beta')];
    expect((await identified(args, ALPHA_ATR))?.package).toBe('@vendor/card-alpha');
    expect((await identified(args, BETA_ATR))?.package).toBe('vendor-card-beta');
    const byName = await identified(['--plugin', 'vendor-card-beta'], BETA_ATR, { cwd: join(temp, 'project') });
    expect(byName?.package).toBe('vendor-card-beta');
  });

  it('without --plugin, a third-party ATR has no plugin', async () => {
    expect(await identified([], ALPHA_ATR)).toBeNull();
  });

  it('reads MINIDRIVER_PLUGINS (separated like PATH) and the configuration file’s plugins', async () => {
    const env = { MINIDRIVER_PLUGINS: `${join(temp, 'plugins', 'alpha')}:${join(temp, 'plugins', 'beta')}` };
    expect((await identified([], ALPHA_ATR, { env }))?.package).toBe('@vendor/card-alpha');
    expect((await identified([], BETA_ATR, { env }))?.package).toBe('vendor-card-beta');
    const config = join(temp, 'with-plugins.json');
    writeFileSync(config, JSON.stringify({ plugins: [join(temp, 'plugins', 'alpha')] }));
    expect((await identified([], ALPHA_ATR, { env: { MINIDRIVER_CONFIG: config } }))?.package).toBe(
      '@vendor/card-alpha',
    );
  });

  it("finds the current project's dependencies from any directory below its package.json", async () => {
    const plugin = await identified([], BETA_ATR, { cwd: join(temp, 'project', 'src', 'deep') });
    expect(plugin?.package).toBe('vendor-card-beta');
  });
});

describe('simulators that plugins ship', () => {
  it('--sim <name> uses the simulator a plugin manifest names', async () => {
    const result = await cli(['readers', '--sim', 'alpha-sim', '--plugin', './plugins/alpha', '--json']);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).readers).toMatchObject([{ cardPresent: true, atr: ALPHA_ATR }]);
  });

  it('an unknown simulator name is a usage error listing the names there are', async () => {
    const result = await cli(['readers', '--sim', 'nope', '--plugin', './plugins/alpha']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/choose piv, openpgp, (.*, )?alpha-sim;/);
  });

  it('a simulator that throws a TypeError is SCARD_E_UNEXPECTED naming its package', async () => {
    const result = await cli(['readers', '--sim', 'throwing-sim', '--plugin', './plugins/throwing-sim']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'SCARD_E_UNEXPECTED (0x8010001f): @vendor/card-throwing: createSimulator: TypeError: sim is not ready',
    );
  });
});

describe('trust policy', () => {
  it('an allowlist refuses an unlisted plugin and says exactly what to add; once added, it is used', async () => {
    const config = join(temp, 'allowlist.json');
    writeFileSync(config, JSON.stringify({ trust: { allow: [] } }));
    const env = { MINIDRIVER_CONFIG: config };
    const refused = await cli(['readers', '--sim', 'alpha-sim', '--plugin', './plugins/alpha'], { env });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('SCARD_W_SECURITY_VIOLATION');
    expect(refused.stderr).toContain('plugin @vendor/card-alpha refused by trust policy allowlist');
    const entry = /add (\{"name":"@vendor\/card-alpha","integrity":"sha256-[^"]+"\}) to "trust\.allow" in (.+)$/m.exec(
      refused.stderr,
    );
    expect(entry?.[2]).toBe(config);
    writeFileSync(config, JSON.stringify({ trust: { allow: [JSON.parse(entry?.[1] ?? '{}')] } }));
    const allowed = await cli(['readers', '--sim', 'alpha-sim', '--plugin', './plugins/alpha', '--json'], { env });
    expect(allowed.status, allowed.stderr).toBe(0);
    // The built-in plugins stay usable under an allowlist.
    const builtIn = await cli(['identify', '--sim', 'piv', '--json'], { env });
    expect(JSON.parse(builtIn.stdout).plugin.package).toBe('@minidriver/card-piv');
    expect(readFileSync(config, 'utf8')).toContain('sha256-');
  });
});

describe('bad plugins', () => {
  it('a malformed manifest is a warning naming the package and the field, and --plugin of it a usage error', async () => {
    const result = await cli(['identify', '--atr', ALPHA_ATR, '--plugin', './plugins/broken']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      'minidriver: warning: @vendor/card-broken: malformed "minidriver" manifest skipped: the "minidriver" field has an unknown property "cardDataVersion"',
    );
    expect(result.stderr).toContain('is not a card plugin');
  });

  it('a --plugin that is neither a directory nor an installed package is a usage error', async () => {
    const result = await cli(['identify', '--atr', ALPHA_ATR, '--plugin', '@vendor/not-installed']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--plugin @vendor/not-installed: no such package installed');
  });
});
