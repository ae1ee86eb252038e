import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'sim/**/*.test.ts'],
    // Worker threads rather than child processes: on Node 20 a forked test worker was seen to stop
    // reading its IPC channel and hang the run.
    pool: 'threads',
    // The conformance suite generates keys and runs every group on a fresh simulated card.
    testTimeout: 60_000,
  },
});
