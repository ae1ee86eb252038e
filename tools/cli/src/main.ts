/**
 * @module The `minidriver` program: global options, command dispatch, help, output mode and exit codes.
 */
import type { ApduTraceHook } from '@minidriver/core';
import type { Command } from './commands/command.js';
import { type CommandContext, cardAccess } from './commands/context.js';
import { COMMANDS, findCommand } from './commands/registry.js';
import { createCredentialSource } from './input/credentials.js';
import { createTraceHook } from './output/apdu-trace.js';
import { colourWanted, createColours } from './output/colours.js';
import { reportError } from './output/error-report.js';
import { type OptionSpecs, parseArguments } from './parse/arguments.js';
import { ExitCode, UsageError } from './parse/usage-error.js';

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  reader: {
    type: 'string',
    placeholder: '<name|index>',
    description: 'PC/SC reader to use (default: the first with a card)',
  },
  sim: {
    type: 'string',
    placeholder: '<card>',
    description: 'use the built-in simulated card (piv, openpgp); its state persists',
  },
  json: { type: 'boolean', description: 'print one JSON document for scripts' },
  trace: { type: 'boolean', description: 'print every APDU, decoded, on stderr (PINs shown as **)' },
  help: { type: 'boolean', alias: 'h', description: 'show help' },
  'pin-stdin': { type: 'boolean', description: 'read the PIN (and a new PIN, one per line) from stdin' },
  'pin-env': { type: 'string', placeholder: '<VAR>', description: 'read the user PIN from environment variable VAR' },
  'admin-pin-env': { type: 'string', placeholder: '<VAR>', description: 'read the admin PIN (OpenPGP PW3) from VAR' },
  'admin-key-env': {
    type: 'string',
    placeholder: '<VAR>',
    description: 'read the admin key (hex; PIV management key) from VAR',
  },
  'admin-key': { type: 'string', placeholder: 'default', description: "use the card's well-known default admin key" },
};

/** The global string options (their next token is a value, not the command). */
const VALUE_OPTIONS = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, spec]) => spec.type === 'string')
    .map(([name]) => `--${name}`),
);

function optionLines(specs: OptionSpecs): string[] {
  const rows = Object.entries(specs).map(
    ([name, spec]) =>
      [
        `--${name}${spec.placeholder ? ` ${spec.placeholder}` : ''}${spec.alias ? `, -${spec.alias}` : ''}`,
        spec.description,
      ] as const,
  );
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

/** The help text of the program, or of one command. */
export function helpText(command?: Command): string {
  if (command) {
    return [
      `usage: minidriver ${command.name}${command.usage ? ` ${command.usage}` : ''} [global options]`,
      '',
      command.summary,
      ...(Object.keys(command.options).length ? ['', 'options:', ...optionLines(command.options)] : []),
      '',
      'global options:',
      ...optionLines(GLOBAL_OPTIONS),
    ].join('\n');
  }
  const width = Math.max(...COMMANDS.map((entry) => entry.name.length));
  return [
    'usage: minidriver <command> [options]',
    '',
    'Inspect and use any smart card through its minidriver plugin.',
    '',
    'commands:',
    ...COMMANDS.map((entry) => `  ${entry.name.padEnd(width)}  ${entry.summary}`),
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Exit codes: 0 success, 1 card or PC/SC error, 2 usage error.',
    'Try `minidriver demo`, or `minidriver --sim piv info` for the built-in simulated PIV card.',
  ].join('\n');
}

/** Finds the command word: the first token that is neither an option nor a global option's value. */
function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string;
    if (token === '--') break;
    if (token.startsWith('-')) {
      if (VALUE_OPTIONS.has(token)) index++;
      continue;
    }
    return { name: token, rest: [...argv.slice(0, index), ...argv.slice(index + 1)] };
  }
  return { name: undefined, rest: [...argv] };
}

/** The streams the program writes to (tests may replace them). */
export interface ProgramIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** Runs the program with `argv` (without node and script) and returns the exit code. */
export async function runProgram(
  argv: readonly string[],
  io: ProgramIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const colours = createColours(colourWanted(io.stdout));
  const errorColours = createColours(colourWanted(io.stderr));
  let json = argv.includes('--json');
  try {
    const { name, rest } = splitCommand(argv);
    if (name === undefined) {
      const { options } = parseArguments(rest, GLOBAL_OPTIONS);
      if (options['help']) {
        io.stdout.write(`${helpText()}\n`);
        return ExitCode.SUCCESS;
      }
      throw new UsageError('no command given (run `minidriver --help`)');
    }
    const command = findCommand(name);
    if (!command) throw new UsageError(`unknown command "${name}" (run \`minidriver --help\`)`);
    const { options, positionals } = parseArguments(rest, { ...GLOBAL_OPTIONS, ...command.options });
    json = options['json'] === true;
    if (options['help']) {
      io.stdout.write(`${helpText(command)}\n`);
      return ExitCode.SUCCESS;
    }
    const trace: ApduTraceHook | undefined = options['trace']
      ? createTraceHook((line) => io.stderr.write(`${errorColours.dim(line)}\n`))
      : undefined;
    const text = (key: string): string | undefined =>
      typeof options[key] === 'string' ? (options[key] as string) : undefined;
    const sim = text('sim');
    const reader = text('reader');
    if (sim !== undefined && reader !== undefined) throw new UsageError('--sim and --reader exclude each other');
    const pinEnv = text('pin-env');
    const adminPinEnv = text('admin-pin-env');
    const adminKeyEnv = text('admin-key-env');
    const newPinEnv = text('new-pin-env');
    const adminKey = text('admin-key');
    const context: CommandContext = {
      options,
      positionals,
      json,
      colours,
      trace,
      credentials: createCredentialSource({
        pinStdin: options['pin-stdin'] === true,
        ...(pinEnv === undefined ? {} : { pinEnv }),
        ...(adminPinEnv === undefined ? {} : { adminPinEnv }),
        ...(adminKeyEnv === undefined ? {} : { adminKeyEnv }),
        ...(newPinEnv === undefined ? {} : { newPinEnv }),
        ...(adminKey === undefined ? {} : { adminKey }),
      }),
      print: (line = '') => {
        if (!json) io.stdout.write(`${line}\n`);
      },
      ...cardAccess({ ...(sim === undefined ? {} : { sim }), ...(reader === undefined ? {} : { reader }) }, trace),
    };
    const result = await command.run(context);
    if (json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return ExitCode.SUCCESS;
  } catch (error) {
    const report = reportError(error);
    if (json) io.stdout.write(`${JSON.stringify(report.json, null, 2)}\n`);
    io.stderr.write(`${errorColours.red('minidriver:')} ${report.message}\n`);
    return report.exitCode;
  }
}
