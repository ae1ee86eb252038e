/**
 * @packageDocumentation
 * The context a command runs in: its parsed arguments, configuration, output (human or JSON), colours,
 * credentials and access to the card.
 */
import type { ApduTraceHook } from '@minidriver/spec';
import type { PluginChoices } from '../card/cli-loader.js';
import { type ConnectedCard, connectCard, type OpenedCard, openCardSession } from '../card/open-card.js';
import type { CliConfig } from '../config/config-file.js';
import type { CredentialSource } from '../input/credentials.js';
import type { Colours } from '../output/colours.js';
import { UsageError } from '../parse/usage-error.js';

/** Everything a command gets. */
export interface CommandContext {
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly json: boolean;
  readonly colours: Colours;
  readonly credentials: CredentialSource;
  /** The configuration file's settings (empty when there is none) and where it was looked for. */
  readonly config: CliConfig;
  readonly configPath: string;
  /** The program's output streams (for commands that write raw bytes: `--out -`, `--pem`). */
  readonly io: { readonly stdout: NodeJS.WritableStream; readonly stderr: NodeJS.WritableStream };
  /** Writes a line of human output (nothing in `--json` mode). */
  print(text?: string): void;
  /** Opens a session on the card (simulator or reader); the caller closes it. */
  openSession(options?: { readonly version?: number }): Promise<OpenedCard>;
  /** Connects to the card without choosing a plugin (raw APDUs). */
  connect(): Promise<ConnectedCard>;
  /** The trace hook when `--trace` is on. */
  readonly trace: ApduTraceHook | undefined;
  /** The card plugins to use besides the CLI's own, and their trust policy. */
  readonly plugins: PluginChoices;
}

/** A string option, or undefined. A flag given where a value is expected is a usage error. */
export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`--${name} needs a value`);
  return value;
}

/** A required string option. */
export function requireOption(context: CommandContext, name: string): string {
  const value = stringOption(context, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/** A required positional argument. */
export function requirePositional(context: CommandContext, index: number, what: string): string {
  const value = context.positionals[index];
  if (value === undefined) throw new UsageError(`missing ${what}`);
  return value;
}

/** A non-negative integer option (container index). */
export function integerOption(context: CommandContext, name: string, max = 255): number {
  const text = requireOption(context, name);
  if (!/^\d+$/.test(text) || Number(text) > max) throw new UsageError(`--${name} must be an integer 0..${max}`);
  return Number(text);
}

/** Wires the card access of a context. */
export function cardAccess(
  target: { sim?: string; reader?: string; stateDirectory?: string; plugins?: PluginChoices },
  trace: ApduTraceHook | undefined,
) {
  const base = {
    ...(target.plugins === undefined ? {} : { plugins: target.plugins }),
    ...(target.sim === undefined ? {} : { sim: target.sim }),
    ...(target.reader === undefined ? {} : { reader: target.reader }),
    ...(target.stateDirectory === undefined ? {} : { stateDirectory: target.stateDirectory }),
    ...(trace ? { trace } : {}),
  };
  return {
    openSession: (options: { readonly version?: number } = {}) => openCardSession(base, options),
    connect: () => connectCard(base),
  };
}
