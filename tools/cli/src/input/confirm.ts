/**
 * @packageDocumentation
 * Confirmation of what destroys data on the card: a destructive command says what it will destroy and goes
 * on only with `--force`, or, on a terminal, when the user types the word asked for. Without a terminal
 * and without `--force` it stops with a usage error that names what would be destroyed.
 */
import { ScardError } from '@minidriver/spec';
import { UsageError } from '../parse/usage-error.js';
import { promptVisible } from './hidden-prompt.js';

/** The `--force` option of destructive commands. */
export const FORCE_OPTION = {
  force: { type: 'boolean', description: 'do it without asking (it destroys what the command says)' },
} as const;

/** What a confirmation needs from the command's context. */
export interface ConfirmationContext {
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly json: boolean;
}

/**
 * Goes on when `--force` was given or the user typed `word`; otherwise throws. `destroys` says what will be
 * lost ("the RSA 2048 key in slot 9a and its certificate").
 */
export async function confirmDestruction(
  context: ConfirmationContext,
  destroys: string,
  word = 'yes',
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<void> {
  if (context.options['force'] === true) return;
  if (!input.isTTY || context.json) {
    throw new UsageError(`this destroys ${destroys}: pass --force to do it`);
  }
  output.write(`This destroys ${destroys}.\n`);
  const answer = await promptVisible(`Type "${word}" to go on: `, input, output);
  if (answer.trim() !== word) {
    throw new ScardError('SCARD_W_CANCELLED_BY_USER', 'not confirmed: nothing was changed');
  }
}
