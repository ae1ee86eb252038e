/**
 * `pnpm fuzz [--target piv|openpgp|gids|all] [--iterations N | --apdus N] [--seed S] [--rate R]`: runs the hostile-card
 * fuzzer and prints its counts per target. Exits 1 when a session call threw something other than a
 * ScardError, or a flow hung.
 *
 * @packageDocumentation
 */
import { type FuzzReport, runFuzz } from './fuzz.js';
import { TARGETS } from './targets.js';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

function count(name: string): number | undefined {
  const value = option(name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    console.error(`--${name} must be a whole number`);
    process.exit(2);
  }
  return Number(value);
}

function summary(report: FuzzReport): string {
  const mib = (report.peakRssBytes / 1024 / 1024).toFixed(0);
  return [
    `${report.target}: ${report.iterations} flows, ${report.apdus} APDUs, ${report.mutatedResponses} mutated responses`,
    `  session calls: ${report.successes} ok, ${report.scardErrors} ScardError, ${report.nonScardErrors} other throws`,
    `  hangs: ${report.hangs}, peak RSS ${mib} MiB, ${(report.durationMs / 1000).toFixed(1)} s`,
    `  mutations: ${Object.entries(report.mutations)
      .map(([kind, value]) => `${kind} ${value}`)
      .join(', ')}`,
    ...report.findings.map((finding) => `  FINDING iteration ${finding.iteration} (${finding.step}): ${finding.error}`),
  ].join('\n');
}

const which = option('target') ?? 'all';
const names = which === 'all' ? Object.keys(TARGETS) : [which];
const iterations = count('iterations');
const apdus = count('apdus');
const seed = option('seed') ?? 'minidriver-fuzz';
const rate = option('rate') === undefined ? undefined : Number(option('rate'));
let failed = false;
for (const name of names) {
  const prepare = TARGETS[name];
  if (!prepare) {
    console.error(`unknown target (choose ${Object.keys(TARGETS).join(', ')}, all)`);
    process.exit(2);
  }
  const target = await prepare();
  const report = await runFuzz(target, {
    seed,
    ...(iterations === undefined && apdus === undefined ? { iterations: 2000 } : {}),
    ...(iterations === undefined ? {} : { iterations }),
    ...(apdus === undefined ? {} : { apdus }),
    ...(rate === undefined ? {} : { rate }),
    progressEvery: 5000,
    onProgress: (partial) =>
      process.stderr.write(`  ${partial.target}: ${partial.iterations} flows, ${partial.apdus} APDUs ...\n`),
  });
  console.log(summary(report));
  if (report.nonScardErrors > 0 || report.hangs > 0) failed = true;
}
process.exit(failed ? 1 : 0);
