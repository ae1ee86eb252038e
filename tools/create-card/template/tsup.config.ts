import { defineConfig } from 'tsup';

// ESM + CJS + declarations for the plugin (".") and the simulator ("./sim"), as package.json exports them.
export default defineConfig({
  entry: { index: 'src/index.ts', sim: 'sim/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
});
