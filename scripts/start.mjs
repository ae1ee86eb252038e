#!/usr/bin/env node
// `pnpm start`: build the `minidriver` command (quietly; the build log is shown only if it fails), then
// run its tour on the built-in simulated PIV card.
import { spawnSync } from 'node:child_process';

const build = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'build', '--filter=@minidriver/cli...', '--output-logs=errors-only'],
  {
    encoding: 'utf8',
  },
);
if (build.status !== 0) {
  process.stdout.write(build.stdout ?? '');
  process.stderr.write(build.stderr ?? '');
  console.error('build failed');
  process.exit(build.status ?? 1);
}
const demo = spawnSync(process.execPath, ['tools/cli/dist/bin.js', 'demo', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(demo.status ?? 1);
