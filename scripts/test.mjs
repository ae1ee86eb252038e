#!/usr/bin/env node
// `pnpm test`: build every package (the CLI's end-to-end tests spawn the built binary), run the whole
// vitest suite once, and finish with the plain summary line "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (command, args) => spawnSync(command, args, { stdio: 'inherit', shell: false }).status ?? 1;

const buildStatus = run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);
if (buildStatus !== 0) {
  console.error('build failed');
  process.exit(buildStatus);
}

const resultsFile = join(tmpdir(), `minidriver-vitest-${process.pid}.json`);
const extra = process.argv.slice(2);
const status = run('pnpm', [
  'exec',
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${resultsFile}`,
  ...extra,
]);

if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  rmSync(resultsFile, { force: true });
  const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  console.log(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`);
}
process.exit(status);
