import { defineConfig, type Options } from 'tsup';

/** The one build every published package uses: ESM + CJS + declarations, for Node 20. */
export function packageBuild(
  entry: Record<string, string> | string[] = ['src/index.ts'],
  extra: Partial<Options> = {},
) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    ...extra,
  });
}
