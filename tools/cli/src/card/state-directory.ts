/**
 * @packageDocumentation
 * Where simulated cards keep their state between invocations: $MINIDRIVER_STATE_DIR, else the
 * configuration file's `stateDirectory`, else $XDG_DATA_HOME/minidriver, else ~/.local/share/minidriver.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The directory holding simulated card state files. */
export function stateDirectory(env: NodeJS.ProcessEnv = process.env, configured?: string): string {
  const override = env['MINIDRIVER_STATE_DIR'];
  if (override) return override;
  if (configured) return configured;
  const dataHome = env['XDG_DATA_HOME'];
  return join(dataHome ? dataHome : join(homedir(), '.local', 'share'), 'minidriver');
}

/** The state file of the simulated card `name` (e.g. `piv` → `<dir>/sim-piv.json`). */
export function simulatorStateFile(name: string, env: NodeJS.ProcessEnv = process.env, configured?: string): string {
  return join(stateDirectory(env, configured), `sim-${name}.json`);
}
