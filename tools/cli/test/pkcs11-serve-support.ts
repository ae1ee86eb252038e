/**
 * Test support: `minidriver pkcs11 serve` as a child process — started, its export line read, stopped
 * with SIGTERM — and pkcs11-tool through p11-kit-client.so against it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { BIN } from './run-cli.js';

export const P11_KIT_CLIENT = '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so';

/** A running `minidriver pkcs11 serve`. */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** The first stdout line: the export line. */
  readonly exportLine: string;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `minidriver <args>` and waits for its first stdout line (the export line). */
export function startServe(args: readonly string[], stateDirectory: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', MINIDRIVER_STATE_DIR: stateDirectory },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no export line within 60 s: ${output}`)), 60_000);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const line = output.split('\n').find((candidate) => candidate.startsWith('P11_KIT_SERVER_ADDRESS='));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve({
        child,
        exportLine: line,
        output: () => output,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`minidriver ${args.join(' ')} exited (${code}) before serving: ${output}`));
    });
  });
}

/** The socket path of an export line. */
export function socketOf(exportLine: string): string {
  const path = /^P11_KIT_SERVER_ADDRESS=unix:path=([^;]+);/.exec(exportLine)?.[1];
  if (path === undefined) throw new Error(`not an export line: ${exportLine}`);
  return path;
}

/** pkcs11-tool through p11-kit-client.so against `socketPath`. */
export function pkcs11Tool(socketPath: string, ...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'pkcs11-tool',
      ['--module', P11_KIT_CLIENT, ...args],
      { timeout: 60_000, env: { ...process.env, P11_KIT_SERVER_ADDRESS: `unix:path=${socketPath}` } },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` }),
    );
  });
}
