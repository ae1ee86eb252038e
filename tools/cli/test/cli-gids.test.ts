/**
 * End-to-end tests of the built `minidriver` binary on the built-in simulated GIDS card (`--sim gids`):
 * `info` says which cache mode the card runs in and why — GLOBAL on a card whose cardcf the user may
 * write, SESSION_ONLY (and the plugin's reason, naming cardcf's EF) on a card personalized with a
 * read-only cardcf ACL — in text and in its JSON document, which matches info.schema.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GidsSimulator } from '@minidriver/card-gids/sim';
import { saveCardState } from '@minidriver/sim';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIRECTORY, freshStateDirectories, runCli } from './run-cli.js';

const freshState = freshStateDirectories({ beforeAll, afterAll });
const gids = (...args: string[]) => ['--sim', 'gids', ...args];
const validateInfo = new Ajv2020({ allErrors: true, validateFormats: false }).compile(
  JSON.parse(readFileSync(join(CLI_DIRECTORY, 'schemas', 'commands', 'info.schema.json'), 'utf8')),
);

/** A state directory whose simulated GIDS card was personalized with cardcf writable by the admin only. */
async function readOnlyCardcfState(): Promise<string> {
  const directory = freshState();
  await saveCardState(new GidsSimulator({ readOnlyCardcf: true }), join(directory, 'sim-gids.json'));
  return directory;
}

describe('minidriver info --sim gids: the cache mode and its reason', () => {
  it('a card whose cardcf the user may write runs GLOBAL, and says so', async () => {
    const stateDirectory = freshState();
    const result = await runCli(gids('info', '--json'), { stateDirectory });
    expect(result.status, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(validateInfo(document), JSON.stringify(validateInfo.errors)).toBe(true);
    expect(document).toMatchObject({
      cacheMode: 'GLOBAL_CACHE',
      cacheModeReason: { reason: 'plugin-choice', detail: 'cardcf is on the card and the user may write it' },
    });
  });

  it('a card whose cardcf ACL is read-only degrades to SESSION_ONLY and says why, in text and JSON', async () => {
    const stateDirectory = await readOnlyCardcfState();
    const text = await runCli(gids('info'), { stateDirectory });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^cache mode: +SESSION_ONLY$/m);
    expect(text.stdout).toMatch(
      /^cache mode reason: +cardcf \(EF A012\) cannot be written by the user: other writers could not signal changes, so nothing is cached beyond a session \(plugin-choice\)$/m,
    );
    const json = await runCli(gids('info', '--json'), { stateDirectory });
    expect(json.status, json.stderr).toBe(0);
    const document = JSON.parse(json.stdout);
    expect(validateInfo(document), JSON.stringify(validateInfo.errors)).toBe(true);
    expect(document.cacheMode).toBe('SESSION_ONLY');
    expect(document.cacheModeReason).toEqual({
      reason: 'plugin-choice',
      detail:
        'cardcf (EF A012) cannot be written by the user: other writers could not signal changes, so nothing is cached beyond a session',
    });
  });
});
