/**
 * Bad plugins next to good ones: a malformed manifest, a module or an acquireContext that throws
 * something other than a ScardError, a plugin claiming CARD_DATA versions it does not implement, two
 * plugins with the same ATR. Each is a ScardError or a warning naming the package; never a crash, and
 * the loader keeps opening cards with the other plugins.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimTransport, UnknownCard } from '@minidriver/sim';
import { fromHex, ScardError } from '@minidriver/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Loader, type LoaderWarning } from '../src/index.js';
import { type FixturePlugin, makeTempDir, manifestOf, removeDir, writeApplication } from './fixture-packages.js';

const GOOD_ATR = '3b 06 00 00 00 00 60 01';
const THROWS_ON_IMPORT_ATR = '3b 06 00 00 00 00 60 02';
const THROWS_IN_ACQUIRE_ATR = '3b 06 00 00 00 00 60 03';
const THROWS_STRING_ATR = '3b 06 00 00 00 00 60 04';
const OVERCLAIMS_ATR = '3b 06 00 00 00 00 60 05';
const SHARED_ATR = '3b 06 00 00 00 00 60 06';

const good: FixturePlugin = { name: '@bad/good', manifest: manifestOf('Good', [{ atr: GOOD_ATR }]) };
const malformed: FixturePlugin = {
  name: '@bad/malformed',
  manifest: { name: 'Malformed', atrs: [{ atr: GOOD_ATR }], cardDataVersions: { min: 4, current: 9 } },
};
const throwsOnImport: FixturePlugin = {
  name: '@bad/throws-on-import',
  manifest: manifestOf('ThrowsOnImport', [{ atr: THROWS_ON_IMPORT_ATR }]),
};
const throwsInAcquire: FixturePlugin = {
  name: '@bad/throws-in-acquire',
  manifest: manifestOf('ThrowsInAcquire', [{ atr: THROWS_IN_ACQUIRE_ATR }]),
};
const throwsString: FixturePlugin = {
  name: '@bad/throws-string',
  manifest: manifestOf('ThrowsString', [{ atr: THROWS_STRING_ATR }]),
};
const overclaims: FixturePlugin = {
  name: '@bad/overclaims',
  manifest: manifestOf('Overclaims', [{ atr: OVERCLAIMS_ATR }]),
};
const twinA: FixturePlugin = { name: '@bad/twin-a', manifest: manifestOf('TwinA', [{ atr: SHARED_ATR }]) };
const twinB: FixturePlugin = { name: '@bad/twin-b', manifest: manifestOf('TwinB', [{ atr: SHARED_ATR }]) };

let temp: string;
let root: string;

/** Replaces a fixture plugin's index.mjs. */
function rewritePlugin(fixture: FixturePlugin, source: string): void {
  writeFileSync(join(root, 'node_modules', fixture.name, 'index.mjs'), source);
}

/** A plugin module whose acquireContext throws `thrown` (JavaScript source). */
function acquireThrows(name: string, thrown: string): string {
  return `export const plugin = {
  name: ${JSON.stringify(name)},
  cardDataVersions: { min: 4, current: 7 },
  async acquireContext() { throw ${thrown}; },
};
`;
}

beforeAll(() => {
  temp = makeTempDir('minidriver-bad-plugins-');
  root = join(temp, 'app');
  writeApplication(root, [good, malformed, throwsOnImport, throwsInAcquire, throwsString, overclaims, twinA, twinB]);
  rewritePlugin(throwsOnImport, "throw new TypeError('cannot read properties of undefined (reading \\'x\\')');\n");
  rewritePlugin(throwsInAcquire, acquireThrows('ThrowsInAcquire', "new RangeError('index out of range')"));
  rewritePlugin(throwsString, acquireThrows('ThrowsString', "'just a string'"));
  // Declares 4..7 but its minidriver has only the version 4 entry points.
  rewritePlugin(
    overclaims,
    `const fail = () => Promise.reject(new Error('not here'));
export const plugin = {
  name: 'Overclaims',
  cardDataVersions: { min: 4, current: 7 },
  async acquireContext() {
    globalThis.__overclaimsDeleted = false;
    return {
      deleteContext: async () => { globalThis.__overclaimsDeleted = true; },
      queryCapabilities: fail, getContainerInfo: fail, authenticatePin: fail, readFile: fail, enumFiles: fail,
      getFileInfo: fail, queryFreeSpace: fail, queryKeySizes: fail, signData: fail,
    };
  },
};
`,
  );
});

afterAll(() => removeDir(temp));

function makeLoader(): { loader: Loader; warnings: LoaderWarning[] } {
  const warnings: LoaderWarning[] = [];
  return { loader: new Loader({ applicationRoot: root, onWarning: (warning) => warnings.push(warning) }), warnings };
}

function cardWithAtr(atr: string): SimTransport {
  return new SimTransport(new UnknownCard({ atr: fromHex(atr) }));
}

/** The rejection of `promise`, which must be a ScardError. */
async function failureOf(promise: Promise<unknown>): Promise<ScardError> {
  const failure = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(ScardError.isInstance(failure), `expected a ScardError, got ${String(failure)}`).toBe(true);
  return failure as ScardError;
}

async function expectGoodCardOpens(loader: Loader): Promise<void> {
  const session = await loader.openCard(cardWithAtr(GOOD_ATR));
  expect(session.pluginName).toBe('@bad/good');
  await session.close();
}

describe('bad plugins', () => {
  it('skips a malformed manifest with a warning naming the package and the field, and indexes the others', async () => {
    const { loader, warnings } = makeLoader();
    const names = (await loader.listPlugins()).map((plugin) => plugin.packageName);
    expect(names).not.toContain('@bad/malformed');
    expect(names).toContain('@bad/good');
    const warning = warnings.find((candidate) => candidate.packageName === '@bad/malformed');
    expect(warning?.code).toBe('malformed-manifest');
    expect(warning?.message).toBe(
      '@bad/malformed: malformed "minidriver" manifest skipped: "cardDataVersions.current" must be 4, 5, 6 or 7, got 9',
    );
    await expectGoodCardOpens(loader);
  });

  it('turns a module that throws a TypeError on import into SCARD_E_UNEXPECTED naming the package', async () => {
    const { loader } = makeLoader();
    const failure = await failureOf(loader.openCard(cardWithAtr(THROWS_ON_IMPORT_ATR)));
    expect(failure.name).toBe('SCARD_E_UNEXPECTED');
    expect(failure.message).toMatch(
      /^SCARD_E_UNEXPECTED: @bad\/throws-on-import: importing .*index\.mjs: TypeError: cannot read properties of undefined/,
    );
    await expectGoodCardOpens(loader);
  });

  it('names the package when acquireContext throws an Error that is not a ScardError', async () => {
    const { loader } = makeLoader();
    const failure = await failureOf(loader.openCard(cardWithAtr(THROWS_IN_ACQUIRE_ATR)));
    expect(failure.message).toBe(
      'SCARD_E_UNEXPECTED: @bad/throws-in-acquire: CardAcquireContext: RangeError: index out of range',
    );
    await expectGoodCardOpens(loader);
  });

  it('names the package when acquireContext throws something that is not even an Error', async () => {
    const { loader } = makeLoader();
    const failure = await failureOf(loader.openCard(cardWithAtr(THROWS_STRING_ATR)));
    expect(failure.message).toBe('SCARD_E_UNEXPECTED: @bad/throws-string: CardAcquireContext: threw just a string');
    await expectGoodCardOpens(loader);
  });

  it('refuses a plugin that claims versions it does not implement, even at a lower negotiated version', async () => {
    const { loader } = makeLoader();
    for (const version of [4, 7]) {
      const failure = await failureOf(loader.openCard(cardWithAtr(OVERCLAIMS_ATR), { version }));
      expect(failure.name).toBe('SCARD_E_UNEXPECTED');
      expect(failure.message).toContain('@bad/overclaims claims CARD_DATA versions 4 to 7 but does not implement');
      expect(failure.message).toContain('CardGetProperty (version 6)');
      expect((globalThis as { __overclaimsDeleted?: boolean }).__overclaimsDeleted).toBe(true);
    }
    await expectGoodCardOpens(loader);
  });

  it('reports two plugins with the same ATR, naming both, and still opens the card with one of them', async () => {
    const { loader, warnings } = makeLoader();
    const session = await loader.openCard(cardWithAtr(SHARED_ATR));
    expect(session.pluginName).toBe('@bad/twin-a');
    await session.close();
    const conflict = warnings.filter((warning) => warning.code === 'atr-conflict');
    expect(conflict).toHaveLength(1);
    expect(conflict[0]?.message).toContain('matches @bad/twin-a and @bad/twin-b equally well');
    const resolution = await loader.resolve(fromHex(SHARED_ATR));
    expect(resolution?.conflict?.packages).toEqual(['@bad/twin-a', '@bad/twin-b']);
    await expectGoodCardOpens(loader);
  });
});
