/**
 * Where secrets come from: `--pin-stdin` (one secret per line of stdin), `--pin-env VAR`,
 * `--admin-pin-env VAR`, `--admin-key-env VAR` (hex), `--admin-key default`, or a hidden prompt on a
 * TTY. Secrets are returned as bytes the caller wipes; they are never printed.
 */
import { fromHex, wipe } from '@minidriver/spec';
import { UsageError } from '../parse/usage-error.js';
import { promptHidden } from './hidden-prompt.js';

/** What `--admin-key` resolved to. */
export type AdminKeyChoice = { readonly kind: 'default' } | { readonly kind: 'key'; readonly key: Uint8Array };

/** The options naming an environment variable that holds a secret. */
export type SecretEnvOption = 'pin-env' | 'admin-pin-env' | 'new-pin-env';

/** What a prompt says beyond the secret's name: which card, how many tries, whether to ask twice. */
export interface SecretPromptDetails {
  /** The card it is for ("YubiKey 5 in Virtual PCD 00 00"). */
  readonly card?: string;
  /** Tries left on that secret, when the card can tell. */
  readonly triesLeft?: number | null;
  /** A new secret: on a terminal it is asked twice and both must match. */
  readonly confirm?: boolean;
}

/** The options that can supply each kind of secret, for "needed: give ..." hints. */
const SOURCES_OF: Readonly<Record<SecretEnvOption, string>> = {
  'pin-env': '--pin-stdin or --pin-env VAR',
  'admin-pin-env': '--pin-stdin or --admin-pin-env VAR',
  'new-pin-env': '--pin-stdin or --new-pin-env VAR',
};

/** The prompt text: `PIN for YubiKey 5 in Reader (3 tries left): `. */
export function promptText(label: string, details: SecretPromptDetails = {}): string {
  const parts: string[] = [];
  const tries = details.triesLeft;
  if (tries !== undefined && tries !== null) {
    parts.push(tries === 1 ? '1 try left: a wrong one blocks it' : `${tries} tries left`);
  }
  return `${label}${details.card ? ` for ${details.card}` : ''}${parts.length ? ` (${parts.join(', ')})` : ''}: `;
}

/** Supplies secrets to commands; each is asked for only when a command needs it. */
export interface CredentialSource {
  /** The user PIN (or, with `label`, another secret of the same source, e.g. "New PIN"). */
  secret(label: string, envOption: SecretEnvOption, details?: SecretPromptDetails): Promise<Uint8Array>;
  /** The admin key, or undefined when none was given. */
  adminKey(): AdminKeyChoice | undefined;
}

interface CredentialOptions {
  readonly pinStdin: boolean;
  readonly pinEnv?: string;
  readonly adminPinEnv?: string;
  readonly newPinEnv?: string;
  readonly adminKeyEnv?: string;
  readonly adminKey?: string;
}

/** The most `--pin-stdin` reads: a few secrets of a few hundred bytes each, never a whole file. */
export const MAX_SECRET_STDIN_BYTES = 4096;

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total > MAX_SECRET_STDIN_BYTES) {
        process.stdin.destroy();
        throw new UsageError(`--pin-stdin: more than ${MAX_SECRET_STDIN_BYTES} bytes on stdin`);
      }
    }
    const all = Buffer.concat(chunks);
    const text = all.toString('utf8');
    all.fill(0);
    return text;
  } finally {
    for (const chunk of chunks) chunk.fill(0);
  }
}

/**
 * Reads two secrets in turn (current and new PIN, PUK and new PIN). When the second cannot be had, the first
 * is wiped before the error propagates; the caller wipes both after use.
 */
export async function readSecretPair(
  source: CredentialSource,
  first: readonly [label: string, envOption: SecretEnvOption, details?: SecretPromptDetails],
  second: readonly [label: string, envOption: SecretEnvOption, details?: SecretPromptDetails],
): Promise<[Uint8Array, Uint8Array]> {
  const one = await source.secret(...first);
  try {
    return [one, await source.secret(...second)];
  } catch (error) {
    wipe(one);
    throw error;
  }
}

/** Builds the credential source from the command line and environment. */
export function createCredentialSource(
  options: CredentialOptions,
  env: NodeJS.ProcessEnv = process.env,
): CredentialSource {
  let stdinLines: string[] | undefined;
  const usedEnv = new Set<string>();
  const nextStdinLine = async (label: string): Promise<string> => {
    stdinLines ??= (await readAllStdin()).split(/\r?\n/);
    const line = stdinLines.shift();
    if (line === undefined || line === '') throw new UsageError(`--pin-stdin: no line on stdin for ${label}`);
    return line;
  };
  return {
    async secret(label, envOption, details = {}) {
      const variable =
        envOption === 'pin-env'
          ? options.pinEnv
          : envOption === 'admin-pin-env'
            ? options.adminPinEnv
            : options.newPinEnv;
      // An environment variable supplies one secret; a second one (a new PIN) comes from the next source.
      if (variable !== undefined && !usedEnv.has(variable)) {
        usedEnv.add(variable);
        const value = env[variable];
        // The name is not repeated: a user who typed the secret itself where its variable's name goes
        // must not see it echoed (terminal scrollback, CI logs).
        if (value === undefined || value === '')
          throw new UsageError(`--${envOption}: the environment variable it names is not set`);
        return new TextEncoder().encode(value);
      }
      if (options.pinStdin) return new TextEncoder().encode(await nextStdinLine(label));
      if (!process.stdin.isTTY) {
        throw new UsageError(`${label} needed: give ${SOURCES_OF[envOption]}, or run on a terminal`);
      }
      const answer = await promptHidden(promptText(label, details));
      if (details.confirm) {
        const again = await promptHidden(`${label} again: `);
        if (again !== answer) throw new UsageError(`the two ${label} entries differ: nothing was changed`);
      }
      return new TextEncoder().encode(answer);
    },
    adminKey() {
      if (options.adminKeyEnv !== undefined) {
        const value = env[options.adminKeyEnv];
        if (value === undefined || value === '')
          throw new UsageError('--admin-key-env: the environment variable it names is not set');
        let key: Uint8Array;
        try {
          key = fromHex(value);
        } catch {
          throw new UsageError('--admin-key-env: the environment variable it names does not hold hex');
        }
        return { kind: 'key', key };
      }
      if (options.adminKey !== undefined) {
        if (options.adminKey !== 'default')
          throw new UsageError('--admin-key accepts only "default" (pass a key with --admin-key-env VAR)');
        return { kind: 'default' };
      }
      return undefined;
    },
  };
}
