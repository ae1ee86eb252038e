import { defineConfig } from 'vitest/config';

// vitest 5's reporters call Map.groupBy / Object.groupBy, which Node 20 lacks: without these a failing
// test crashes the reporter and hides the failure.
if (typeof (Map as { groupBy?: unknown }).groupBy !== 'function') {
  (Map as unknown as { groupBy: unknown }).groupBy = <K, V>(items: Iterable<V>, key: (item: V, index: number) => K) => {
    const groups = new Map<K, V[]>();
    let index = 0;
    for (const item of items) {
      const k = key(item, index++);
      const group = groups.get(k);
      if (group) group.push(item);
      else groups.set(k, [item]);
    }
    return groups;
  };
}
if (typeof (Object as { groupBy?: unknown }).groupBy !== 'function') {
  (Object as unknown as { groupBy: unknown }).groupBy = <V>(
    items: Iterable<V>,
    key: (item: V, index: number) => PropertyKey,
  ) => {
    const groups: Record<PropertyKey, V[]> = Object.create(null);
    let index = 0;
    for (const item of items) {
      const k = key(item, index++);
      if (!groups[k]) groups[k] = [];
      groups[k].push(item);
    }
    return groups;
  };
}

const allTests = [
  'packages/*/src/**/*.test.ts',
  'packages/*/test/**/*.test.ts',
  'cards/*/src/**/*.test.ts',
  'cards/*/sim/**/*.test.ts',
  'cards/*/test/**/*.test.ts',
  'tools/*/src/**/*.test.ts',
  'tools/*/test/**/*.test.ts',
];

// Test files that put simulated cards into pcscd through vpcd and drive real clients. pcscd is one shared
// daemon and some clients (opensc-tool) touch every reader, so these run one file at a time, after the
// rest; the vpcd port lock of @minidriver/sim still guards against other processes (pnpm bench).
const pcscdTests = [
  'packages/pcsc/test/**/*.test.ts',
  'packages/sim/src/vpcd.test.ts',
  'cards/*/sim/*-interop.test.ts',
  'cards/*/test/*-interop.test.ts',
  'cards/piv/src/piv-opensc.test.ts',
  'tools/cli/test/cli-pcscd.test.ts',
  'tools/cli/test/cli-management-pcscd.test.ts',
  'packages/pkcs11-server/test/*-pcscd.test.ts',
  'packages/keystore/test/*-pcscd.test.ts',
  'tools/cli/test/cli-pkcs11-pcscd.test.ts',
];

// One vitest run for the whole repo. Workspace packages resolve to their TypeScript sources through the
// "source" export condition, so a test never runs against a stale dist/.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      // Worker threads: a forks-pool worker once sat idle forever in CI with an unread IPC message from the
      // main process (its test timeout never fired); threads talk through MessagePorts instead.
      { extends: true, test: { name: 'unit', include: allTests, exclude: pcscdTests, pool: 'threads' } },
      {
        extends: true,
        // Forks: in worker threads these files aborted the whole run (a V8 fatal error; they load koffi/libpcsclite).
        test: {
          name: 'pcscd',
          include: pcscdTests,
          pool: 'forks',
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
