/**
 * Test support: running PKCS #11 clients through p11-kit-client.so against a server of ours, without
 * blocking the event loop the server runs on.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { missingToolsReason, onCi } from '@minidriver/sim';
import { describe } from 'vitest';

/** Debian's p11-kit client module (package p11-kit-modules). */
export const P11_KIT_CLIENT = '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  /** stdout then stderr. */
  readonly output: string;
}

/** Runs `command` with P11_KIT_SERVER_ADDRESS pointing at `socketPath`. */
export function runClient(
  socketPath: string,
  command: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      {
        timeout: 60_000,
        encoding: 'utf8',
        env: { ...process.env, ...options.env, P11_KIT_SERVER_ADDRESS: `unix:path=${socketPath}` },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, output: `${stdout}${stderr}` });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** pkcs11-tool through p11-kit-client.so. */
export const pkcs11Tool = (socketPath: string, ...args: string[]) =>
  runClient(socketPath, 'pkcs11-tool', ['--module', P11_KIT_CLIENT, ...args]);

/** A suite that needs `tools` and p11-kit-client.so: skipped with a reason when missing, failing on CI. */
export function describeWithClient(tools: readonly string[], name: string, body: () => void, timeoutMs = 60_000): void {
  const reason = missingToolsReason(tools) ?? (existsSync(P11_KIT_CLIENT) ? undefined : `needs ${P11_KIT_CLIENT}`);
  if (reason === undefined) {
    describe(name, { timeout: timeoutMs }, body);
    return;
  }
  if (onCi()) throw new Error(`${name}: ${reason} (CI=true: a missing tool is a failure)`);
  describe.skip(`${name} — skipped: ${reason}`, body);
}
