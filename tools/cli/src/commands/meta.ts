/**
 * @packageDocumentation
 * Commands about the program itself: `help [command]`, `completion bash|zsh|fish`,
 * `config path|show|check` and `schema [command]` (the JSON Schema of a command's `--json` document).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPackageDirectory } from '../card/cli-loader.js';
import { COMPLETION_SHELLS, type CompletionShell, completionScript } from '../completion/completion-scripts.js';
import { CONFIG_KEYS } from '../config/config-file.js';
import { GLOBAL_OPTIONS } from '../global-options.js';
import { commandHelp, programHelp } from '../help-text.js';
import { renderPairs } from '../output/table.js';
import { didYouMean } from '../parse/suggest.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { requirePositional } from './context.js';

/** The commands list, given lazily (the registry holds these commands too). */
type CommandList = () => readonly Command[];

function commandNamed(commands: readonly Command[], name: string): Command {
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    throw new UsageError(
      `unknown command${didYouMean(
        name,
        commands.map((candidate) => candidate.name),
      )} (run \`minidriver --help\`)`,
    );
  }
  return command;
}

/** `minidriver help [command]`. */
export function createHelpCommand(commands: CommandList): Command {
  return {
    name: 'help',
    usage: '[command]',
    summary: 'show the help of the program or of one command (with examples)',
    options: {},
    examples: ['minidriver help pin        # the pin command, its options and examples'],
    async run(context) {
      const name = context.positionals[0];
      const text = name === undefined ? programHelp(commands()) : commandHelp(commandNamed(commands(), name));
      context.print(text);
      return { help: text };
    },
  };
}

/** `minidriver completion bash|zsh|fish`. */
export function createCompletionCommand(commands: CommandList): Command {
  return {
    name: 'completion',
    usage: 'bash|zsh|fish',
    summary: 'print a shell completion script (commands, options, their values, files)',
    options: {},
    subcommands: COMPLETION_SHELLS,
    examples: [
      'source <(minidriver completion bash)                     # this bash session',
      'minidriver completion bash > ~/.local/share/bash-completion/completions/minidriver',
      'source <(minidriver completion zsh)                      # zsh (in ~/.zshrc)',
      'minidriver completion fish > ~/.config/fish/completions/minidriver.fish',
    ],
    async run(context) {
      const shell = requirePositional(context, 0, 'bash|zsh|fish');
      if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
        throw new UsageError(`no completion for that shell${didYouMean(shell, COMPLETION_SHELLS)} (bash, zsh, fish)`);
      }
      const script = completionScript(shell as CompletionShell, commands(), GLOBAL_OPTIONS);
      if (!context.json) context.io.stdout.write(script);
      return { shell, script };
    },
  };
}

/** `minidriver config path|show|check`. */
export const configCommand: Command = {
  name: 'config',
  usage: 'path|show|check',
  summary: 'where the configuration file is, what it sets, and whether it is valid',
  options: {},
  subcommands: ['path', 'show', 'check'],
  examples: [
    'minidriver config path     # the file read ($XDG_CONFIG_HOME/minidriver/config.json)',
    'minidriver config show     # the settings in effect from it',
    `echo '{"sim": "piv"}' > "$(minidriver config path)"   # --sim piv by default`,
  ],
  async run(context) {
    const action = requirePositional(context, 0, 'path|show|check');
    if (!['path', 'show', 'check'].includes(action)) {
      throw new UsageError(`unknown config action${didYouMean(action, ['path', 'show', 'check'])}`);
    }
    // The file was read (and validated) before the command ran: reaching here means it is valid.
    if (action === 'path') context.print(context.configPath);
    else if (action === 'check') context.print(`${context.configPath}: valid`);
    else {
      const entries = Object.entries(context.config);
      context.print(
        entries.length
          ? renderPairs(entries.map(([key, value]) => [key, JSON.stringify(value)] as const))
          : `no settings (${context.configPath})`,
      );
    }
    return { path: context.configPath, valid: true, settings: context.config, keys: Object.keys(CONFIG_KEYS) };
  },
};

/** The JSON Schema files shipped with the package (`schemas/`). */
export function schemaDirectory(): string {
  return join(cliPackageDirectory(), 'schemas');
}

/** `minidriver schema [command]`. */
export function createSchemaCommand(commands: CommandList): Command {
  return {
    name: 'schema',
    usage: '[command|config|error]',
    summary: "print the JSON Schema of a command's --json document (or of the config file, or of errors)",
    options: {},
    examples: ['minidriver schema info     # the shape of `minidriver info --json`'],
    async run(context) {
      const name = context.positionals[0] ?? 'error';
      const special = name === 'config' || name === 'error';
      if (!special) commandNamed(commands(), name);
      const file = join(schemaDirectory(), special ? `${name}.schema.json` : `commands/${name}.schema.json`);
      let schema: unknown;
      try {
        schema = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        throw new UsageError(`no schema for "${name}" (${file})`);
      }
      context.print(JSON.stringify(schema, null, 2));
      return schema;
    },
  };
}
