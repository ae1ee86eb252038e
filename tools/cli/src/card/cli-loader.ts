/**
 * @packageDocumentation
 * The loader the CLI uses. Its plugins: the card packages the CLI depends on; the current project's
 * dependencies (the nearest package.json above the working directory), and the project itself when it is
 * a plugin; and the plugins the user names with `--plugin <package|dir>` (repeatable), in
 * MINIDRIVER_PLUGINS (separated like PATH) and in the configuration file's `plugins`. The loader's trust
 * policy applies to all of them; a refusal says how to allow the package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computePluginIntegrity,
  findPackageDir,
  Loader,
  type LoaderWarning,
  type TrustedPackage,
  type TrustPolicy,
} from '@minidriver/loader';
import { ScardError } from '@minidriver/spec';
import { UsageError } from '../parse/usage-error.js';

/** The directory of the @minidriver/cli package (found by walking up from this file). */
export function cliPackageDirectory(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@minidriver/cli')
          return directory;
      } catch {
        // Not ours; keep walking.
      }
    }
    const parent = dirname(directory);
    if (parent === directory) return process.cwd();
    directory = parent;
  }
}

/** The card plugins a command may use besides the CLI's own, and the trust policy for them. */
export interface PluginChoices {
  /** `--plugin` values, in order: installed package names or directories. */
  readonly named?: readonly string[];
  /** The `plugins` of the configuration file. */
  readonly configured?: readonly string[];
  /** The configuration file's `trust.allow`: when given, only these third-party packages are imported. */
  readonly allow?: readonly TrustedPackage[];
  /** Where the configuration file is (for the hints of a trust refusal). */
  readonly configPath?: string;
  /** The directory the command runs in: its nearest package.json is "the current project". Default cwd. */
  readonly cwd?: string;
  /** Where MINIDRIVER_PLUGINS is read. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** One plugin the user asked for, and where they asked. */
interface PluginRequest {
  readonly spec: string;
  readonly origin: string;
}

function requestedPlugins(choices: PluginChoices): PluginRequest[] {
  const fromEnv = (choices.env ?? process.env)['MINIDRIVER_PLUGINS'] ?? '';
  return [
    ...(choices.named ?? []).map((spec) => ({ spec, origin: '--plugin' })),
    ...fromEnv
      .split(delimiter)
      .filter((spec) => spec.trim() !== '')
      .map((spec) => ({ spec: spec.trim(), origin: 'MINIDRIVER_PLUGINS' })),
    ...(choices.configured ?? []).map((spec) => ({
      spec,
      origin: `"plugins" of ${choices.configPath ?? 'the configuration file'}`,
    })),
  ];
}

/** The nearest directory at or above `start` with a package.json: the current project. */
export function projectDirectory(start: string): string | undefined {
  let directory = resolve(start);
  for (;;) {
    if (existsSync(join(directory, 'package.json'))) return directory;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** A plugin spec's package directory: a path (relative to cwd), else a package installed for cwd or the CLI. */
async function pluginDirectory(request: PluginRequest, cwd: string): Promise<string> {
  const { spec } = request;
  const looksLikePath =
    isAbsolute(spec) || spec.startsWith('.') || (!spec.startsWith('@') && (spec.includes('/') || spec.includes(sep)));
  if (looksLikePath) {
    const directory = resolve(cwd, spec);
    if (!existsSync(join(directory, 'package.json'))) {
      throw new UsageError(`${request.origin} ${spec}: no package.json in ${directory}`);
    }
    return directory;
  }
  const found =
    (await findPackageDir(spec, cwd)) ??
    (await findPackageDir(spec, cliPackageDirectory())) ??
    (existsSync(join(resolve(cwd, spec), 'package.json')) ? resolve(cwd, spec) : undefined);
  if (!found) {
    throw new UsageError(
      `${request.origin} ${spec}: no such package installed for ${cwd} (install it, or give its directory)`,
    );
  }
  return found;
}

/** The warnings worth telling a person about (a project's undeclared or duplicate packages are not). */
function printWarning(warning: LoaderWarning): void {
  if (warning.code === 'missing-dependency' || warning.code === 'duplicate-package') return;
  process.stderr.write(`minidriver: warning: ${warning.message}\n`);
}

/**
 * A loader over the CLI's own card packages, the current project's dependencies (and the project itself
 * when it is a plugin), and the plugins the user named (`--plugin`, MINIDRIVER_PLUGINS, the configuration
 * file), which the CLI vouches for. Problems with a plugin are printed as warnings naming the package.
 */
export async function createCliLoader(
  choices: PluginChoices = {},
  onWarning: (warning: LoaderWarning) => void = printWarning,
): Promise<Loader> {
  const cwd = choices.cwd ?? process.cwd();
  const cliDirectory = cliPackageDirectory();
  const trust = choices.allow === undefined ? undefined : await allowlistWithBuiltIns(choices.allow, cliDirectory);
  const loader = new Loader({ applicationRoot: cliDirectory, onWarning, ...(trust ? { trust } : {}) });
  const project = projectDirectory(cwd);
  if (project !== undefined && project !== cliDirectory) {
    await loader.registerDependencies(project);
    const own = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { minidriver?: unknown };
    if (own.minidriver !== undefined) await loader.register(project, { trusted: true });
  }
  for (const request of requestedPlugins(choices)) {
    const directory = await pluginDirectory(request, cwd);
    const registered = await loader.register(directory, { trusted: true });
    if (!registered) {
      throw new UsageError(
        `${request.origin} ${request.spec}: ${directory} is not a card plugin (see the warning above)`,
      );
    }
  }
  return loader;
}

/** An allowlist plus the CLI's own card packages (their files hashed now, so they always pass). */
async function allowlistWithBuiltIns(allow: readonly TrustedPackage[], cliDirectory: string): Promise<TrustPolicy> {
  const builtIn = new Loader({ applicationRoot: cliDirectory, onWarning: () => undefined });
  const own = await Promise.all(
    (await builtIn.listPlugins())
      .filter((plugin) => plugin.packageDir !== undefined)
      .map(async (plugin) => ({
        name: plugin.packageName,
        integrity: await computePluginIntegrity(plugin.packageDir as string),
      })),
  );
  return { allow: [...allow, ...own] };
}

/**
 * A trust refusal, with how to allow the package: name it (`--plugin`, MINIDRIVER_PLUGINS, the
 * configuration's `plugins`), or add it with its integrity to the configuration's `trust.allow`.
 */
export async function explainTrustRefusal(error: unknown, loader: Loader, choices: PluginChoices): Promise<unknown> {
  if (!ScardError.hasCode(error, 'SCARD_W_SECURITY_VIOLATION')) return error;
  const plugin = (await loader.listPlugins()).find((candidate) =>
    error.message.includes(`plugin ${candidate.packageName} refused`),
  );
  if (!plugin) return error;
  const config = choices.configPath ?? 'the configuration file';
  let hint: string;
  if (choices.allow !== undefined && plugin.packageDir !== undefined) {
    const entry = { name: plugin.packageName, integrity: await computePluginIntegrity(plugin.packageDir) };
    hint = `to allow it, add ${JSON.stringify(entry)} to "trust.allow" in ${config}`;
  } else {
    hint = `to allow it, run with --plugin ${plugin.packageName}, list it in MINIDRIVER_PLUGINS, or add it to "plugins" in ${config}`;
  }
  return new ScardError(error.code, `${problemText(error)}; ${hint}`, { cause: error });
}

function problemText(error: ScardError): string {
  return error.message.replace(/^SCARD_[A-Z_]+: /, '');
}

/** The version of @minidriver/cli (from its package.json). */
export function cliVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(join(cliPackageDirectory(), 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
