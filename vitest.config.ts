import { defineConfig } from 'vitest/config';

// One vitest run for the whole repo. Workspace packages resolve to their TypeScript sources through the
// "source" export condition, so a test never runs against a stale dist/.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'cards/*/src/**/*.test.ts',
      'cards/*/sim/**/*.test.ts',
      'cards/*/test/**/*.test.ts',
      'tools/*/src/**/*.test.ts',
      'tools/*/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
