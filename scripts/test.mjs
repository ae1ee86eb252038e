#!/usr/bin/env node
// `pnpm test`: build every package (the CLI's end-to-end tests spawn the built binary), run the whole
// vitest suite once, and finish with the plain summary line "N passed, N failed, N skipped".
//
// A stalled run is stopped and run once more: on Node 20 a forked vitest worker was seen to stop reading
// its IPC channel (a message from vitest left unread in the socket, the worker idle) so that neither the
// test's timeout nor vitest ever ended the run. vitest prints a line as each test file ends; when it has
// printed nothing for MINIDRIVER_TEST_STALL_SECONDS (default 360, six times the slowest file), the whole
// process group is killed, the stall is reported, and the suite runs again. A second stall fails.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const buildStatus =
  spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], { stdio: 'inherit' }).status ?? 1;
if (buildStatus !== 0) {
  console.error('build failed');
  process.exit(buildStatus);
}

// biome-ignore lint/suspicious/noUndeclaredEnvVars: this script is not a turbo task
const stallSeconds = Number(process.env.MINIDRIVER_TEST_STALL_SECONDS ?? 360);
if (!Number.isFinite(stallSeconds) || stallSeconds <= 0) {
  console.error('MINIDRIVER_TEST_STALL_SECONDS must be a positive number of seconds');
  process.exit(2);
}
const resultsFile = join(tmpdir(), `minidriver-vitest-${process.pid}.json`);
const extra = process.argv.slice(2);

/** One vitest run; resolves with its exit status, or 'stalled' when it went silent and was killed. */
function runVitest() {
  return new Promise((resolve) => {
    const child = spawn(
      'pnpm',
      ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...extra],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so a stall kills vitest, its workers and whatever they started.
        detached: true,
        // biome-ignore lint/suspicious/noUndeclaredEnvVars: this script is not a turbo task
        env: process.stdout.isTTY && !process.env.NO_COLOR ? { ...process.env, FORCE_COLOR: '1' } : process.env,
      },
    );
    let lastOutput = Date.now();
    let stalled = false;
    const relay = (target) => (chunk) => {
      lastOutput = Date.now();
      target.write(chunk);
    };
    child.stdout.on('data', relay(process.stdout));
    child.stderr.on('data', relay(process.stderr));
    const watch = setInterval(() => {
      if (Date.now() - lastOutput < stallSeconds * 1000) return;
      stalled = true;
      clearInterval(watch);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 5000);
    const stop = () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      process.exit(130);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    child.on('close', (code) => {
      clearInterval(watch);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve(stalled ? 'stalled' : (code ?? 1));
    });
  });
}

let status = await runVitest();
if (status === 'stalled') {
  console.error(
    `\npnpm test: vitest printed nothing for ${stallSeconds} s (a test worker stopped responding); ` +
      'stopped it, running the suite once more',
  );
  rmSync(resultsFile, { force: true });
  status = await runVitest();
  if (status === 'stalled') {
    console.error(`\npnpm test: vitest stalled again for ${stallSeconds} s; giving up`);
    rmSync(resultsFile, { force: true });
    process.exit(1);
  }
}

if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  rmSync(resultsFile, { force: true });
  const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  console.log(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`);
}
process.exit(status);
