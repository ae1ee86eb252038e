import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'sim/**/*.test.ts'],
    // The conformance suite generates keys and runs every group on a fresh simulated card.
    testTimeout: 60_000,
  },
});
