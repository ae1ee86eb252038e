/**
 * @packageDocumentation
 * The `minidriver` program: global options, configuration file, command dispatch, help, version, output
 * mode and exit codes.
 */
import type { ApduTraceHook } from '@minidriver/spec';
import { cliVersion, type PluginChoices } from './card/cli-loader.js';
import type { Command } from './commands/command.js';
import { type CommandContext, cardAccess } from './commands/context.js';
import { COMMAND_NAMES, COMMANDS, findCommand } from './commands/registry.js';
import { type CliConfig, loadConfig } from './config/config-file.js';
import { GLOBAL_OPTIONS, VALUE_OPTIONS } from './global-options.js';
import { commandHelp, programHelp } from './help-text.js';
import { createCredentialSource } from './input/credentials.js';
import { createTraceHook } from './output/apdu-trace.js';
import { colourWanted, createColours } from './output/colours.js';
import { reportError } from './output/error-report.js';
import { RunStats } from './output/run-stats.js';
import { parseArguments } from './parse/arguments.js';
import { didYouMean } from './parse/suggest.js';
import { ExitCode, UsageError } from './parse/usage-error.js';

export { GLOBAL_OPTIONS } from './global-options.js';

/** The help text of the program, or of one command. */
export function helpText(command?: Command): string {
  return command ? commandHelp(command) : programHelp(COMMANDS);
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

function colourEnabled(stream: NodeJS.WriteStream, config: CliConfig): boolean {
  const noColour = process.env['NO_COLOR'];
  if (noColour !== undefined && noColour !== '') return false;
  if (config.color === 'always') return true;
  if (config.color === 'never') return false;
  return colourWanted(stream);
}

/** Runs the program with `argv` (without node and script) and returns the exit code. */
export async function runProgram(
  argv: readonly string[],
  io: ProgramIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let colours = createColours(colourWanted(io.stdout));
  let errorColours = createColours(colourWanted(io.stderr));
  let json = argv.includes('--json');
  let stats: RunStats | undefined;
  try {
    const { name, rest } = splitCommand(argv);
    if (name === undefined) {
      const { options } = parseArguments(rest, GLOBAL_OPTIONS);
      if (options['version']) {
        io.stdout.write(
          options['json']
            ? `${JSON.stringify({ name: 'minidriver', version: cliVersion(), node: process.version }, null, 2)}\n`
            : `minidriver ${cliVersion()}\n`,
        );
        return ExitCode.SUCCESS;
      }
      if (options['help']) {
        io.stdout.write(`${helpText()}\n`);
        return ExitCode.SUCCESS;
      }
      throw new UsageError('no command given (run `minidriver --help`)');
    }
    const command = findCommand(name);
    if (!command) {
      // The name itself is not echoed: it may be a secret typed in the wrong place.
      throw new UsageError(`unknown command${didYouMean(name, COMMAND_NAMES)} (run \`minidriver --help\`)`);
    }
    const { options, positionals, lists } = parseArguments(rest, { ...GLOBAL_OPTIONS, ...command.options });
    if (options['help']) {
      io.stdout.write(`${helpText(command)}\n`);
      return ExitCode.SUCCESS;
    }
    if (options['version']) throw new UsageError('--version takes no command (run `minidriver --version`)');
    const text = (key: string): string | undefined =>
      typeof options[key] === 'string' ? (options[key] as string) : undefined;
    const { config, path: configPath } = loadConfig(process.env, text('config'));
    json = options['json'] === true || (config.json === true && options['json'] === undefined);
    colours = createColours(colourEnabled(io.stdout, config));
    errorColours = createColours(colourEnabled(io.stderr, config));
    const trace: ApduTraceHook | undefined =
      options['trace'] || config.trace
        ? createTraceHook((line) => io.stderr.write(`${errorColours.dim(line)}\n`))
        : undefined;
    let sim = text('sim');
    let reader = text('reader');
    if (sim !== undefined && reader !== undefined) throw new UsageError('--sim and --reader exclude each other');
    // The configuration's card is a default: any card named on the command line replaces it.
    if (sim === undefined && reader === undefined) {
      sim = config.sim;
      reader = config.reader;
    }
    const plugins: PluginChoices = {
      named: lists['plugin'] ?? [],
      configPath,
      ...(config.plugins === undefined ? {} : { configured: config.plugins }),
      ...(config.trust === undefined ? {} : { allow: config.trust.allow }),
    };
    const pinEnv = text('pin-env');
    const adminPinEnv = text('admin-pin-env');
    const adminKeyEnv = text('admin-key-env');
    const newPinEnv = text('new-pin-env');
    const adminKey = text('admin-key');
    stats = options['stats'] === true ? new RunStats() : undefined;
    const access = cardAccess(
      {
        ...(sim === undefined ? {} : { sim }),
        ...(reader === undefined ? {} : { reader }),
        ...(config.stateDirectory === undefined ? {} : { stateDirectory: config.stateDirectory }),
        plugins,
      },
      trace,
    );
    const context: CommandContext = {
      options,
      positionals,
      json,
      colours,
      trace,
      plugins,
      config,
      configPath,
      io,
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
      ...(stats ? stats.track(access) : access),
    };
    const result = await command.run(context);
    if (json && result !== undefined)
      io.stdout.write(`${JSON.stringify(stats ? stats.attachTo(result) : result, null, 2)}\n`);
    else if (stats) io.stderr.write(`${stats.render()}\n`);
    return ExitCode.SUCCESS;
  } catch (error) {
    const report = reportError(error);
    if (json) io.stdout.write(`${JSON.stringify(stats ? stats.attachTo(report.json) : report.json, null, 2)}\n`);
    else if (stats) io.stderr.write(`${stats.render()}\n`);
    io.stderr.write(`${errorColours.red('minidriver:')} ${report.message}\n`);
    return report.exitCode;
  }
}
