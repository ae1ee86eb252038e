/**
 * @packageDocumentation
 * The `minidriver` executable.
 */
import { runProgram } from './main.js';
import { interruptReport } from './output/error-report.js';

// Ctrl-C outside a prompt (a prompt answers it itself): SCARD_W_CANCELLED_BY_USER and exit code 130, the
// shell's code for SIGINT. A command that handles SIGINT itself (`sim serve`) adds its own listener.
process.on('SIGINT', () => {
  if (process.listenerCount('SIGINT') > 1) return;
  const report = interruptReport();
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(report.json, null, 2)}\n`);
  process.stderr.write(`minidriver: ${report.message}\n`);
  process.exit(report.exitCode);
});

// `minidriver info | head` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

runProgram(process.argv.slice(2)).then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    process.stderr.write(`minidriver: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
