/**
 * The package.json of a new card package: standalone (no workspace), ESM + CJS + types for the plugin
 * and its simulator, the minidriver manifest with its simulator, and scripts that test, check the
 * packaging (publint, are-the-types-wrong) and release with changesets.
 *
 * @packageDocumentation
 */
import type { CardProfile } from './card-options.js';
import { MINIDRIVER_VERSIONS } from './versions.js';

/** Third-party tools the card package builds, tests and releases with. vitest 4 runs on Node 20 and 22+. */
export const TOOL_VERSIONS = {
  '@arethetypeswrong/cli': '^0.18.5',
  '@changesets/cli': '^2.31.1',
  '@types/node': '^20.19.0',
  publint: '^0.3.25',
  tsup: '^9.0.0',
  typescript: '~6.0.3',
  vitest: '^4.1.0',
} as const;

function dualExport(name: string): Record<string, unknown> {
  return {
    import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
    require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
  };
}

/** The package.json object of the card package. */
export function cardPackageJson(profile: CardProfile): Record<string, unknown> {
  const range = (name: keyof typeof MINIDRIVER_VERSIONS) => `^${MINIDRIVER_VERSIONS[name]}`;
  return {
    name: profile.packageName,
    version: '0.1.0',
    description: `${profile.name}: a minidriver card plugin and a simulator of the card.`,
    keywords: ['minidriver', 'minidriver-plugin', 'smart card'],
    license: 'MIT',
    type: 'module',
    sideEffects: false,
    engines: { node: '>=20.19' },
    main: './dist/index.cjs',
    module: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': dualExport('index'), './sim': dualExport('sim'), './package.json': './package.json' },
    files: ['dist', '!dist/**/*.map'],
    publishConfig: { access: 'public' },
    scripts: {
      build: 'tsup',
      typecheck: 'tsc --noEmit',
      test: 'tsc --noEmit && vitest run && npm run check-package',
      'check-package': 'tsup && publint --strict && attw --pack . --profile node16',
      changeset: 'changeset',
      'version-packages': 'changeset version',
      release: 'changeset publish',
      prepublishOnly: 'npm run check-package',
    },
    dependencies: {
      '@minidriver/card-kit': range('@minidriver/card-kit'),
      '@minidriver/iso7816': range('@minidriver/iso7816'),
      '@minidriver/sim': range('@minidriver/sim'),
      '@minidriver/spec': range('@minidriver/spec'),
    },
    devDependencies: {
      '@minidriver/conformance': range('@minidriver/conformance'),
      ...TOOL_VERSIONS,
    },
    minidriver: {
      name: profile.name,
      atrs: [{ atr: profile.atr, name: profile.name }],
      aids: [profile.aid],
      cardDataVersions: { min: 4, current: 7 },
      simulator: { name: profile.simulatorName, module: './sim' },
    },
  };
}
