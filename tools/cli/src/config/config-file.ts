/**
 * @packageDocumentation
 * The `minidriver` configuration file: defaults for global options, read from `--config <file>`, else
 * `$MINIDRIVER_CONFIG`, else `$XDG_CONFIG_HOME/minidriver/config.json`, else
 * `~/.config/minidriver/config.json`. A missing file is an empty configuration; a malformed one is a
 * usage error naming the file, the line and column or the key, and what was expected. Its JSON Schema is
 * `schemas/config.schema.json` of this package (kept equal to {@link CONFIG_KEYS} by a test).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { didYouMean } from '../parse/suggest.js';
import { UsageError } from '../parse/usage-error.js';

/** When colour is used: on a terminal without NO_COLOR (`auto`), always, or never. */
export type ColourMode = 'auto' | 'always' | 'never';

/** What a configuration file may hold (every key optional). */
export interface CliConfig {
  /** Default `--reader` (a reader name, part of one, or an index from `minidriver readers`). */
  readonly reader?: string;
  /** Default `--sim` (`piv`, `openpgp`, or a simulator a plugin ships). Excludes `reader`. */
  readonly sim?: string;
  /** Card plugins to use besides the built-in ones: installed package names or directories. */
  readonly plugins?: readonly string[];
  /**
   * Which third-party plugins may be imported. Absent: the ones named here, on the command line, in
   * MINIDRIVER_PLUGINS, and the current project's dependencies. `{ allow }`: only the listed packages,
   * each with the integrity of its files (`sha256-…`, as a refusal prints it).
   */
  readonly trust?: { readonly allow: readonly { readonly name: string; readonly integrity: string }[] };
  /** Default `--json`. */
  readonly json?: boolean;
  /** Default `--trace`. */
  readonly trace?: boolean;
  /** Colour: `auto` (default), `always`, `never`. NO_COLOR still wins over `always`. */
  readonly color?: ColourMode;
  /** Where simulated cards keep their state (MINIDRIVER_STATE_DIR still wins). */
  readonly stateDirectory?: string;
}

/** A configuration and where it came from. */
export interface LoadedConfig {
  readonly config: CliConfig;
  /** The file looked at. */
  readonly path: string;
  /** False when the file does not exist (the configuration is then empty). */
  readonly exists: boolean;
}

/** Largest configuration file read (a config is a few lines; anything bigger is a mistake). */
const MAX_CONFIG_BYTES = 64 * 1024;

type Check = (value: unknown) => string | undefined;

const isText: Check = (value) =>
  typeof value === 'string' && value.length > 0 && value.length <= 4096 ? undefined : 'a non-empty string';
const isBoolean: Check = (value) => (typeof value === 'boolean' ? undefined : 'true or false');
const isSimulatorName: Check = (value) =>
  typeof value === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(value)
    ? undefined
    : 'a simulated card name (lowercase letters, digits, dashes)';
const isPluginList: Check = (value) =>
  Array.isArray(value) &&
  value.length <= 64 &&
  value.every((entry) => typeof entry === 'string' && entry.length > 0 && entry.length <= 4096)
    ? undefined
    : 'an array of at most 64 package names or directories';
const isTrust: Check = (value) => {
  const allow = (value as { allow?: unknown } | null)?.allow;
  const valid =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    Array.isArray(allow) &&
    allow.length <= 256 &&
    allow.every(
      (entry: unknown) =>
        typeof entry === 'object' &&
        entry !== null &&
        !Array.isArray(entry) &&
        Object.keys(entry).length === 2 &&
        typeof (entry as { name?: unknown }).name === 'string' &&
        /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test((entry as { name: string }).name) &&
        typeof (entry as { integrity?: unknown }).integrity === 'string' &&
        /^sha(256|384|512)-[A-Za-z0-9+/]+={0,2}$/.test((entry as { integrity: string }).integrity),
    );
  return valid ? undefined : '{ "allow": [{ "name": "<package>", "integrity": "sha256-…" }] }';
};
const oneOf =
  (...choices: string[]): Check =>
  (value) =>
    typeof value === 'string' && choices.includes(value)
      ? undefined
      : `one of ${choices.map((c) => `"${c}"`).join(', ')}`;

/** Every key a configuration may have, with what its value must be and what it means. */
export const CONFIG_KEYS: Readonly<Record<string, { readonly check: Check; readonly description: string }>> = {
  $schema: { check: isText, description: 'the JSON Schema of this file (ignored)' },
  reader: { check: isText, description: 'default --reader' },
  sim: { check: isSimulatorName, description: 'default --sim' },
  plugins: { check: isPluginList, description: 'card plugins to use: package names or directories' },
  trust: { check: isTrust, description: 'only these plugin packages, with the integrity of their files' },
  json: { check: isBoolean, description: 'default --json' },
  trace: { check: isBoolean, description: 'default --trace' },
  color: { check: oneOf('auto', 'always', 'never'), description: 'colour: auto, always or never' },
  stateDirectory: { check: isText, description: 'where simulated cards keep their state' },
};

/** The configuration file to read: `explicit` (--config), $MINIDRIVER_CONFIG, XDG, or ~/.config. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env, explicit?: string): string {
  if (explicit !== undefined) return explicit;
  const override = env['MINIDRIVER_CONFIG'];
  if (override) return override;
  const configHome = env['XDG_CONFIG_HOME'];
  return join(configHome ? configHome : join(homedir(), '.config'), 'minidriver', 'config.json');
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/** Whether `prefix` could still begin a valid JSON text (it fails only for lack of an ending). */
function validSoFar(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    // V8 names the offending position; a position at the very end only means "more was expected".
    const message = (error as Error).message;
    if (/end of JSON input/.test(message)) return true;
    const position = /at position (\d+)/.exec(message);
    return position !== null && Number(position[1]) >= prefix.length;
  }
}

/** The offset of the first character that makes `text` invalid JSON (binary search over prefixes). */
function firstInvalidOffset(text: string): number {
  let good = 0;
  let bad = text.length;
  while (bad - good > 1) {
    const middle = (good + bad) >> 1;
    if (validSoFar(text.slice(0, middle))) good = middle;
    else bad = middle;
  }
  return bad - 1;
}

/** Parses and validates the text of a configuration file; `path` names it in errors. */
export function parseConfig(text: string, path: string): CliConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const empty = text.trim() === '';
    const truncated = !empty && validSoFar(text);
    const offset = empty ? -1 : truncated ? text.length : firstInvalidOffset(text);
    const problem = empty
      ? 'empty (write {} for no settings)'
      : truncated
        ? 'the JSON ends too early'
        : `unexpected ${JSON.stringify(text[offset])}`;
    const where = empty ? '' : `${lineAndColumn(text, offset)}: `;
    throw new UsageError(`config file ${path}: ${where}not valid JSON (${problem})`);
  }
  return validateConfig(value, path);
}

/** Checks a parsed configuration: an object whose keys are all known and whose values fit. */
export function validateConfig(value: unknown, path: string): CliConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`config file ${path}: the top level must be a JSON object`);
  }
  const record = value as Record<string, unknown>;
  const known = Object.keys(CONFIG_KEYS);
  for (const [key, entry] of Object.entries(record)) {
    const rule = Object.hasOwn(CONFIG_KEYS, key) ? CONFIG_KEYS[key] : undefined;
    if (rule === undefined) {
      throw new UsageError(`config file ${path}: unknown key "${key}"${didYouMean(key, known)}`);
    }
    const expected = rule.check(entry);
    if (expected !== undefined) throw new UsageError(`config file ${path}: "${key}" must be ${expected}`);
  }
  if (record['reader'] !== undefined && record['sim'] !== undefined) {
    throw new UsageError(`config file ${path}: "reader" and "sim" exclude each other`);
  }
  const { $schema: _schema, ...config } = record;
  return config as CliConfig;
}

/** Reads the configuration file (a missing file is an empty configuration). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, explicit?: string): LoadedConfig {
  const path = configFilePath(env, explicit);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && explicit === undefined) return { config: {}, path, exists: false };
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : String(code);
    throw new UsageError(`config file ${path}: ${reason}`);
  }
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new UsageError(`config file ${path}: larger than ${MAX_CONFIG_BYTES} bytes`);
  }
  return { config: parseConfig(bytes.toString('utf8'), path), path, exists: true };
}
