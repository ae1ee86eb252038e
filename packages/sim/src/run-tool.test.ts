import { describe, expect, it } from 'vitest';
import { runTool } from './run-tool.js';

describe('runTool', () => {
  it('gives the exit code, stdout, stderr and both in order, and feeds stdin', async () => {
    const run = await runTool('sh', ['-c', 'read line; echo "out $line"; echo err >&2; exit 3'], { input: 'in\n' });
    expect(run).toEqual({ code: 3, stdout: 'out in\n', stderr: 'err\n', output: 'out in\nerr\n' });
  });

  it('passes the environment it is given', async () => {
    const run = await runTool('sh', ['-c', 'echo "$RUN_TOOL_TEST"'], { env: { RUN_TOOL_TEST: 'seen' } });
    expect(run.stdout).toBe('seen\n');
    expect(run.code).toBe(0);
  });

  it('a tool killed at its timeout, or one that cannot start, ends with -1 and never rejects', async () => {
    const started = Date.now();
    const killed = await runTool('sh', ['-c', 'sleep 30'], { timeoutMs: 200 });
    expect(killed.code).toBe(-1);
    expect(Date.now() - started).toBeLessThan(20_000);
    const missing = await runTool('no-such-tool-minidriver-xyz', []);
    expect(missing.code).toBe(-1);
  });
});
