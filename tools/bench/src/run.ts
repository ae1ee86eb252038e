/**
 * `pnpm bench`: runs every benchmark of the repo and prints one table. Speed is measured here, never
 * asserted by a test.
 */
import type { BenchResult } from './result.js';

interface Suite {
  name: string;
  load: () => Promise<() => Promise<BenchResult[]>>;
}

const suites: Suite[] = [
  { name: 'sim', load: async () => (await import('./sim-bench.js')).benchSim },
  { name: 'pcsc', load: async () => (await import('./pcsc-bench.js')).benchPcsc },
  { name: 'loader', load: async () => (await import('./loader-bench.js')).benchLoader },
  { name: 'keystore', load: async () => (await import('./keystore-bench.js')).benchKeystore },
  { name: 'pkcs11', load: async () => (await import('./pkcs11-bench.js')).benchPkcs11 },
  { name: 'cache', load: async () => (await import('./cache-bench.js')).benchCache },
];

const only = process.argv.slice(2);
const rows: BenchResult[] = [];
for (const suite of suites) {
  if (only.length > 0 && !only.includes(suite.name)) continue;
  process.stderr.write(`running ${suite.name} ...\n`);
  try {
    const bench = await suite.load();
    rows.push(...(await bench()));
  } catch (error) {
    rows.push({ name: `${suite.name}: did not run`, value: Number.NaN, unit: '', note: String(error) });
  }
}

const format = (value: number) =>
  Number.isFinite(value) ? (Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(4)) : '-';
const nameWidth = Math.max(...rows.map((row) => row.name.length), 10);
for (const row of rows) {
  const verdict = row.pass === undefined ? '' : row.pass ? '  ok' : '  MISSED';
  const goal = row.goal ? `  (goal ${row.goal})` : '';
  const note = row.note ? `  — ${row.note}` : '';
  console.log(`${row.name.padEnd(nameWidth)}  ${format(row.value).padStart(10)} ${row.unit}${goal}${verdict}${note}`);
}

// The pcsclite binding keeps a native reader monitor alive after its last reader is closed: end here.
process.exit(0);
