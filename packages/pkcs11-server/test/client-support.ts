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

/**
 * p11-kit 0.25's client module, built from Debian trixie's source by `.ci/p11-kit-client` (the prebuilt one
 * needs a newer glibc than Debian 12's). It speaks RPC protocol version 1 and serializes the mechanism
 * parameters 0.24 refuses (CKM_ECDH1_DERIVE, hashed PSS and ECDSA).
 */
export const P11_KIT_025_CLIENT = process.env['P11_KIT_025_CLIENT'] ?? '/opt/p11-kit-0.25/p11-kit-client.so';

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

/** pkcs11-tool through p11-kit 0.25's p11-kit-client.so. */
export const pkcs11Tool025 = (socketPath: string, ...args: string[]) =>
  runClient(socketPath, 'pkcs11-tool', ['--module', P11_KIT_025_CLIENT, ...args]);

/** A suite that needs `tools` and p11-kit-client.so: skipped with a reason when missing, failing on CI. */
export function describeWithClient(
  tools: readonly string[],
  name: string,
  body: () => void,
  timeoutMs = 60_000,
  modules: readonly string[] = [P11_KIT_CLIENT],
): void {
  const missing = modules.find((module) => !existsSync(module));
  const build = missing === P11_KIT_025_CLIENT ? ' (build it with .ci/p11-kit-client)' : '';
  const reason = missingToolsReason(tools) ?? (missing === undefined ? undefined : `needs ${missing}${build}`);
  if (reason === undefined) {
    describe(name, { timeout: timeoutMs }, body);
    return;
  }
  if (onCi()) throw new Error(`${name}: ${reason} (CI=true: a missing tool is a failure)`);
  describe.skip(`${name} — skipped: ${reason}`, body);
}
