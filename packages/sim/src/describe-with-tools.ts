/**
 * `@minidriver/sim/testing`: vitest helpers for suites that need external tools (pcscd,
 * opensc-tool ...): the tools check, running a tool without blocking the vpcd bridge, and a simulated
 * card in a vpcd reader for a whole suite. Kept out of the main entry because it imports vitest.
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { describe } from 'vitest';
import { missingToolsReason, onCi } from './testing.js';

export {
  OPENSC_PKCS11_MODULE,
  type Pkcs11KeyOperation,
  pkcs11SlotIndex,
  pkcs11ToolKeyOperation,
} from './opensc-pkcs11.js';
export {
  issueCertificateWithOpenssl,
  type OpensslCertificateRequest,
  type OpensslSignatureCheck,
  opensslVerify,
} from './openssl.js';
export { type RunToolOptions, runTool, type ToolRun } from './run-tool.js';
export {
  acquireVpcdPortLock,
  missingToolsReason,
  onCi,
  pcscdRunning,
  toolAvailable,
  vpcdPortLockPath,
} from './testing.js';
export { serveVpcdForSuite, type VpcdSuiteCard, type VpcdSuiteOptions } from './vpcd-suite.js';

/** A file a suite needs (a PKCS #11 module ...), and what to do when it is missing. */
export interface RequiredFile {
  readonly path: string;
  /** Appended to the skip reason, e.g. "(build it with .ci/p11-kit-client)". */
  readonly hint?: string;
}

/** Options of {@link describeWithTools}. */
export interface DescribeWithToolsOptions {
  /** Each test's timeout (client runs through vpcd take seconds). Default: the run's testTimeout. */
  readonly timeoutMs?: number;
  /** Files that must exist, like the tools: missing, the suite is skipped (or fails with CI=true). */
  readonly files?: readonly (string | RequiredFile)[];
}

/**
 * Declares a suite that needs external tools: commands on PATH, or "pcscd" for the running daemon (and
 * `options.files`). When one is missing the suite is skipped with a one-line reason in its name; with
 * CI=true this throws instead, so the run fails.
 *
 * @example
 * describeWithTools(['pcscd', 'opensc-tool'], 'vpcd bridge', () => { it(...) });
 */
export function describeWithTools(
  tools: readonly string[],
  name: string,
  body: () => void,
  options: DescribeWithToolsOptions = {},
): void {
  const files = (options.files ?? []).map((file) => (typeof file === 'string' ? { path: file } : file));
  const missingFile = files.find((file) => !existsSync(file.path));
  const reason =
    missingToolsReason(tools) ??
    (missingFile === undefined
      ? undefined
      : `needs ${missingFile.path}${missingFile.hint === undefined ? '' : ` ${missingFile.hint}`}`);
  if (reason === undefined) {
    if (options.timeoutMs === undefined) describe(name, body);
    else describe(name, { timeout: options.timeoutMs }, body);
    return;
  }
  if (onCi()) throw new Error(`${name}: ${reason} (CI=true, so a missing tool is a failure, not a skip)`);
  describe.skip(`${name} — skipped: ${reason}`, body);
}
