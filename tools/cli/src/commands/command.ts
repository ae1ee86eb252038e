/**
 * @packageDocumentation
 * What a command is: its name, options, help, and a run function that gets a context and returns its
 * JSON result (human output is written through the context as it goes).
 */
import type { OptionSpecs } from '../parse/arguments.js';
import type { CommandContext } from './context.js';

/** One `minidriver` command. */
export interface Command {
  /** The words that select it (`pin` for `minidriver pin verify`, subcommands are positionals). */
  readonly name: string;
  /** One-line usage after the command name (`<dir/file> [--out f]`). */
  readonly usage: string;
  readonly summary: string;
  /** Options beyond the global ones. */
  readonly options: OptionSpecs;
  /** Its first positional words, when it has subcommands (`verify`, `change`... for `pin`). */
  readonly subcommands?: readonly string[];
  /** Example command lines shown by `minidriver help <command>`, each with a `# comment`. */
  readonly examples?: readonly string[];
  /** Runs the command; the value returned is the `--json` document. */
  run(context: CommandContext): Promise<unknown>;
}
