/**
 * A release proven end to end, as a vendor and an application would live it:
 *
 * 1. a real npm registry (verdaccio) on 127.0.0.1, its storage in a temp directory;
 * 2. every public package of this repository published to it with changesets' publish flow
 *    (`changeset publish`, which runs `pnpm publish` per package, so `workspace:` ranges become versions);
 * 3. `npm create minidriver-card@latest` from that registry, outside any workspace, then `npm install &&
 *    npm test` in the new card package (typecheck, conformance on its simulator, publint, attw);
 * 4. `minidriver identify --plugin <that directory> --atr <its ATR>` names the new plugin;
 * 5. the card package published with its own release flow (`npm run release` = `changeset publish`);
 * 6. a fresh application installs @minidriver/loader and the vendor's package from the registry, opens
 *    the vendor's simulated card by its ATR, and runs the published `minidriver` with `--plugin`.
 *
 * Third-party dependencies (vitest, tsup, typescript ...) come from the public npm registry through npm's
 * cache; only @minidriver/*, the vendor's scope and create-minidriver-card are served by verdaccio.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRegistry, npmRegistryReachable, run, startRegistry } from './support.js';

const repository = fileURLToPath(new URL('../../../', import.meta.url));
const VENDOR_SCOPE = '@e2e-vendor';
const VENDOR_PACKAGE = `${VENDOR_SCOPE}/card-e2e`;
const VENDOR_ATR = '3b 8a 80 01 45 32 45 43 41 52 44 30 30 31 0b';
const SIMULATOR = 'e2e-card';

/** The repository's public packages: name -> version. */
function publicPackages(): Map<string, string> {
  const found = new Map<string, string>();
  for (const group of ['packages', 'cards', 'tools']) {
    for (const entry of readdirSync(join(repository, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      let json: { name?: string; version?: string; private?: boolean };
      try {
        json = JSON.parse(readFileSync(join(repository, group, entry.name, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      if (json.private !== true && json.name && json.version) found.set(json.name, json.version);
    }
  }
  return found;
}

/** Output without colour codes. */
function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

const reachable = await npmRegistryReachable();
const skipReason = reachable
  ? undefined
  : 'the public npm registry is unreachable (third-party dependencies come from it)';
if (skipReason && process.env.CI === 'true') throw new Error(`release e2e cannot run on CI: ${skipReason}`);

describe.skipIf(skipReason !== undefined)(
  `release end to end${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  { timeout: 600_000 },
  () => {
    let temp: string;
    let registry: LocalRegistry;
    let env: NodeJS.ProcessEnv;
    const cardDir = () => join(temp, 'vendor', 'card-e2e');
    const appDir = () => join(temp, 'app');

    beforeAll(async () => {
      temp = await mkdtemp(join(tmpdir(), 'minidriver-release-e2e-'));
      await run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: repository });
      registry = await startRegistry(join(temp, 'registry'), ['@minidriver', VENDOR_SCOPE], ['create-minidriver-card']);
      env = {
        npm_config_userconfig: registry.npmrc,
        // Our unscoped package is served by verdaccio only; everything else comes from npm's cache or npm.
        npm_config_prefer_offline: 'true',
        // A child of vitest must not think it is a vitest worker, nor inherit this process's test settings.
        VITEST: undefined,
        VITEST_WORKER_ID: undefined,
        VITEST_POOL_ID: undefined,
        NODE_ENV: undefined,
        NODE_OPTIONS: undefined,
        INIT_CWD: undefined,
      };
    }, 300_000);

    afterAll(async () => {
      await registry?.close();
      if (temp) await rm(temp, { recursive: true, force: true });
    });

    it('publishes every public package with changesets’ publish flow', async () => {
      await run('pnpm', ['exec', 'changeset', 'publish', '--no-git-tag'], {
        cwd: repository,
        env: { ...env, npm_config_userconfig: registry.npmrcAll, npm_config_registry: registry.url },
      });
      const published: Record<string, string | undefined> = {};
      const expected: Record<string, string> = {};
      for (const [name, version] of publicPackages()) {
        expected[name] = version;
        const response = await fetch(`${registry.url}${name.replace('/', '%2f')}`);
        const packument = response.ok ? ((await response.json()) as { 'dist-tags'?: { latest?: string } }) : {};
        published[name] = packument['dist-tags']?.latest;
      }
      expect(published).toEqual(expected);
      // pnpm publish turned workspace: ranges into versions.
      const loader = (await (await fetch(`${registry.url}@minidriver%2floader`)).json()) as {
        versions: Record<string, { dependencies: Record<string, string> }>;
      };
      const dependencies = Object.values(loader.versions)[0]?.dependencies ?? {};
      expect(Object.values(dependencies).some((range) => range.startsWith('workspace:'))).toBe(false);
    });

    it('npm create minidriver-card@latest writes a card package whose npm install && npm test pass', async () => {
      const vendor = join(temp, 'vendor');
      await run('mkdir', ['-p', vendor], { cwd: temp });
      await run(
        'npm',
        [
          'create',
          'minidriver-card@latest',
          'card-e2e',
          '--',
          '--name',
          'E2E Card',
          '--atr',
          VENDOR_ATR,
          '--package',
          VENDOR_PACKAGE,
        ],
        // A private npm cache for this one command: npm exec must fetch the scaffolder just published.
        {
          cwd: vendor,
          env: {
            ...env,
            npm_config_userconfig: registry.npmrcAll,
            npm_config_cache: join(temp, 'npx-cache'),
            npm_config_yes: 'true',
          },
        },
      );
      const pkg = JSON.parse(readFileSync(join(cardDir(), 'package.json'), 'utf8'));
      expect(pkg.name).toBe(VENDOR_PACKAGE);
      expect(pkg.minidriver.simulator).toEqual({ name: SIMULATOR, module: './sim' });
      await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: cardDir(), env });
      // It takes about 20 s. A run past 3 minutes is a hung test worker of the package's own vitest (seen
      // on Node 20), not a failure of the package: it is killed and run once more, and says so.
      const npmTest = () =>
        run('npm', ['test'], {
          cwd: cardDir(),
          env: { ...env, NO_COLOR: '1', FORCE_COLOR: undefined },
          timeoutMs: 180_000,
        });
      const test = await npmTest().catch((error: unknown) => {
        if (!(error instanceof Error) || !error.message.includes('did not finish')) throw error;
        console.warn(`npm test in the card package hung; running it once more\n${error.message}`);
        return npmTest();
      });
      const output = stripAnsi(test.stdout);
      expect(output).toMatch(/Tests\s+\d+ passed \(\d+\)/); // the conformance suite
      expect(output).not.toMatch(/\d+ failed/);
      expect(output).toContain('All good!'); // publint
      // attw prints a list or a table depending on the terminal width: check what both say, not the layout.
      const attw = output.slice(output.indexOf('attw --pack'));
      expect(attw).toContain('@e2e-vendor/card-e2e/sim');
      expect(attw).toContain('node16 (from CJS)');
      expect(attw).toContain('node16 (from ESM)');
      const problems = attw
        .split('\n')
        .filter(
          (line) => !line.includes('node10') && !line.includes('(ignored') && /💀|❌|🎭|🥴|⚠️|🐛|❗|🤨|🚯/u.test(line),
        );
      expect(problems, problems.join('\n')).toEqual([]);
    });

    it('minidriver identify --plugin <card directory> --atr <its ATR> names the scaffolded plugin', async () => {
      const cli = join(repository, 'tools', 'cli', 'dist', 'bin.js');
      const identified = await run(
        process.execPath,
        [cli, 'identify', '--plugin', cardDir(), '--atr', VENDOR_ATR, '--json'],
        { cwd: temp, env },
      );
      const json = JSON.parse(identified.stdout);
      expect(json.plugin).toMatchObject({ package: VENDOR_PACKAGE, name: 'E2E Card', method: 'atr' });
    });

    it('publishes the card package with its own release flow', async () => {
      await run('npm', ['run', 'release', '--', '--no-git-tag'], {
        cwd: cardDir(),
        env: { ...env, npm_config_userconfig: registry.npmrcAll, npm_config_registry: registry.url },
      });
      const response = await fetch(`${registry.url}${VENDOR_PACKAGE.replace('/', '%2f')}`);
      expect(response.ok).toBe(true);
      expect(((await response.json()) as { 'dist-tags': { latest: string } })['dist-tags'].latest).toBe('0.1.0');
    });

    it('a fresh app installs the loader and the vendor package, opens the simulated card by ATR, and runs the CLI with --plugin', async () => {
      await run('mkdir', ['-p', appDir()], { cwd: temp });
      writeFileSync(
        join(appDir(), 'package.json'),
        JSON.stringify({ name: 'e2e-app', version: '1.0.0', private: true, type: 'module' }, null, 2),
      );
      await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '@minidriver/loader',
          '@minidriver/sim',
          '@minidriver/cli',
          VENDOR_PACKAGE,
        ],
        { cwd: appDir(), env },
      );
      writeFileSync(
        join(appDir(), 'open-card.mjs'),
        `import { Loader } from '@minidriver/loader';
import { SimTransport } from '@minidriver/sim';
import { createSimulator } from '${VENDOR_PACKAGE}/sim';

const loader = new Loader();
const transport = new SimTransport(createSimulator());
const resolution = await loader.resolve(transport.atr);
const session = await loader.openCard(transport);
const pinList = await session.getProperty('PIN List');
console.log(JSON.stringify({ package: resolution.packageName, method: resolution.method, plugin: session.pluginName, version: session.version, pinList }));
await session.close();
`,
      );
      const opened = JSON.parse((await run(process.execPath, ['open-card.mjs'], { cwd: appDir(), env })).stdout);
      expect(opened).toEqual({
        package: VENDOR_PACKAGE,
        method: 'atr',
        plugin: 'E2E Card',
        version: 7,
        pinList: 0b1010,
      });

      const info = await run(
        join(appDir(), 'node_modules', '.bin', 'minidriver'),
        ['info', '--plugin', VENDOR_PACKAGE, '--sim', SIMULATOR, '--json'],
        { cwd: appDir(), env: { ...env, MINIDRIVER_STATE_DIR: join(temp, 'state') } },
      );
      const json = JSON.parse(info.stdout);
      expect(json.plugin).toMatchObject({ package: VENDOR_PACKAGE });
      expect(json.version).toBe(7);
    });
  },
);
