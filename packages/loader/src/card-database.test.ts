import { existsSync } from 'node:fs';
import { fromHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CARD_DATABASE,
  loadCardDatabase,
  parseCardDatabase,
  patternsFromDatabaseAtr,
} from './card-database.js';

describe('smartcard_list.txt parsing', () => {
  it('turns "..", nibble wildcards and character classes into patterns + masks', () => {
    const [any] = patternsFromDatabaseAtr('3B .. 41') ?? [];
    expect(any && [...any.mask]).toEqual([0xff, 0x00, 0xff]);
    const [nibble] = patternsFromDatabaseAtr('3B 6. 0[1-2]') ?? [];
    expect(nibble && [...nibble.mask]).toEqual([0xff, 0xf0, 0xff]);
    expect(patternsFromDatabaseAtr('3B 6. 0[1-2]')?.map((pattern) => pattern.atr[2])).toEqual([0x01, 0x02]);
    expect(patternsFromDatabaseAtr('3B [6,E]C')?.map((pattern) => pattern.atr[1])).toEqual([0x6c, 0xec]);
    expect(patternsFromDatabaseAtr('not an atr')).toBeUndefined();
  });

  it('collects the tab-indented names of every matching entry, in file order', () => {
    // Lines in the file's own format (smartcard_list.txt header: "ATR in regular expression form").
    const database = parseCardDatabase(
      [
        '# comment',
        '',
        '3B 8D 80 01 .. ..',
        '\tGeneric T=1 card',
        '',
        '3B 8D 80 01 80 73',
        '\tExact card',
        '\thttps://example.invalid',
        '',
        'garbage line',
      ].join('\n'),
    );
    expect(database.entries).toHaveLength(2);
    expect(database.skippedLines).toBe(1);
    expect(database.lookupNames(fromHex('3b 8d 80 01 80 73'))).toEqual([
      'Generic T=1 card',
      'Exact card',
      'https://example.invalid',
    ]);
    expect(database.lookupNames(fromHex('3b 8d 80 01 00 00'))).toEqual(['Generic T=1 card']);
    expect(database.lookupNames(fromHex('3b 8d 80 02 00 00'))).toEqual([]);
  });

  it('never throws on random text, and every pattern it returns is consistent (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789ABCDEF.[]-, \t\n'.split('')) }), (text) => {
        const database = parseCardDatabase(text);
        for (const entry of database.entries) {
          for (const pattern of entry.patterns) {
            expect(pattern.atr.length).toBe(pattern.mask.length);
            expect(pattern.atr.every((byte, i) => (byte & ~(pattern.mask[i] as number) & 0xff) === 0)).toBe(true);
          }
        }
      }),
    );
  });

  it('reports a missing database as SCARD_E_FILE_NOT_FOUND', async () => {
    await expect(loadCardDatabase('/nonexistent/smartcard_list.txt')).rejects.toThrow(/SCARD_E_FILE_NOT_FOUND/);
  });

  const present = existsSync(DEFAULT_CARD_DATABASE);
  if (!present && process.env.CI === 'true')
    throw new Error(`${DEFAULT_CARD_DATABASE} is required on CI (install pcsc-tools)`);
  it.skipIf(!present)(
    'names a YubiKey 5 NFC from the installed pcsc-tools database (skips without pcsc-tools, fails in CI)',
    async () => {
      const database = await loadCardDatabase();
      expect(database.entries.length).toBeGreaterThan(1000);
      // ATR from docs/spec/piv.md §8; the name is the database's own.
      const names = database.lookupNames(
        fromHex('3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40'),
      );
      expect(names).toContain('Yubico YubiKey 5 NFC (PKI)');
    },
  );
});
