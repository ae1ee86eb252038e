/**
 * `@minidriver/sim/testing`: vitest helpers for suites that need external tools (pcscd,
 * opensc-tool ...). Kept out of the main entry because it imports vitest.
 */
import { describe } from 'vitest';
import { missingToolsReason, onCi } from './testing.js';

export {
  acquireVpcdPortLock,
  missingToolsReason,
  onCi,
  pcscdRunning,
  toolAvailable,
  vpcdPortLockPath,
} from './testing.js';

/**
 * Declares a suite that needs external tools: commands on PATH, or "pcscd" for the running daemon.
 * When one is missing the suite is skipped with a one-line reason in its name; with CI=true this throws
 * instead, so the run fails.
 *
 * @example
 * describeWithTools(['pcscd', 'opensc-tool'], 'vpcd bridge', () => { it(...) });
 */
export function describeWithTools(tools: readonly string[], name: string, body: () => void): void {
  const reason = missingToolsReason(tools);
  if (reason === undefined) {
    describe(name, body);
    return;
  }
  if (onCi()) throw new Error(`${name}: ${reason} (CI=true, so a missing tool is a failure, not a skip)`);
  describe.skip(`${name} — skipped: ${reason}`, body);
}
