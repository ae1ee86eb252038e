/**
 * Test support: running PKCS #11 clients through p11-kit-client.so against a server of ours, without
 * blocking the event loop the server runs on.
 */
import { describeWithTools, runTool, type ToolRun } from '@minidriver/sim/testing';

/** Debian's p11-kit client module (package p11-kit-modules). */
export const P11_KIT_CLIENT = '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so';

/**
 * p11-kit 0.25's client module, built from Debian trixie's source by `.ci/p11-kit-client` (the prebuilt one
 * needs a newer glibc than Debian 12's). It speaks RPC protocol version 1 and serializes the mechanism
 * parameters 0.24 refuses (CKM_ECDH1_DERIVE, hashed PSS and ECDSA).
 */
export const P11_KIT_025_CLIENT = process.env['P11_KIT_025_CLIENT'] ?? '/opt/p11-kit-0.25/p11-kit-client.so';

/** Runs `command` (60 s at most) with P11_KIT_SERVER_ADDRESS pointing at `socketPath`. */
export function runClient(
  socketPath: string,
  command: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolRun> {
  const env = { ...process.env, ...options.env, P11_KIT_SERVER_ADDRESS: `unix:path=${socketPath}` };
  return runTool(command, args, {
    env,
    timeoutMs: 60_000,
    ...(options.input === undefined ? {} : { input: options.input }),
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
  const files = modules.map((path) =>
    path === P11_KIT_025_CLIENT ? { path, hint: '(build it with .ci/p11-kit-client)' } : path,
  );
  describeWithTools(tools, name, body, { timeoutMs, files });
}
