/**
 * Running a client tool (opensc-tool, yubico-piv-tool, gpg, pkcs11-tool ...) from a test without blocking
 * the event loop: a vpcd bridge serving the card lives on that same loop, so a synchronous spawn would
 * deadlock the client against its own card.
 *
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';

/** Options of {@link runTool}. */
export interface RunToolOptions {
  /** Written to the tool's stdin, which is then closed. */
  readonly input?: string;
  /** The tool's environment. Default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** The tool is killed (SIGTERM) after this long. Default 120 000 ms. */
  readonly timeoutMs?: number;
}

/** How a tool run ended. */
export interface ToolRun {
  /** The exit code; -1 when the tool ended without one (killed, timed out, or it could not be started). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout followed by stderr. */
  readonly output: string;
}

/**
 * Runs `command` with `args` asynchronously and resolves (never rejects) with its exit code and output.
 * MINIDRIVER_TOOL_DEBUG=1 prints each run, its exit code and its duration.
 */
export function runTool(command: string, args: readonly string[], options: RunToolOptions = {}): Promise<ToolRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { env: options.env ?? process.env, encoding: 'utf8', timeout: options.timeoutMs ?? 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        if (process.env['MINIDRIVER_TOOL_DEBUG']) {
          console.log(`${command} ${args.join(' ')}: exit ${code} after ${Date.now() - started} ms`);
        }
        resolve({ code, stdout, stderr, output: `${stdout}${stderr}` });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
