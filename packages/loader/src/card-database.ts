/**
 * pcsc-tools' smart card database (smartcard_list.txt), read at run time: an ATR "regular
 * expression" line, then tab-indented description lines. ATR bytes may be `..` (any byte), a nibble
 * wildcard (`3.`), or a character class (`0[1-5]`, `[6,E]C`); classes expand into several patterns.
 */
import { readFile } from 'node:fs/promises';
import { ScardError } from '@minidriver/spec';
import { AtrIndex } from './atr-index.js';
import { type AtrPattern, createAtrPattern } from './atr-pattern.js';

/** Where pcsc-tools installs the database on Debian, Ubuntu, Fedora and Arch. */
export const DEFAULT_CARD_DATABASE = '/usr/share/pcsc/smartcard_list.txt';

/** One database entry. */
export interface CardDatabaseEntry {
  /** The ATR line as written. */
  readonly atrText: string;
  readonly patterns: readonly AtrPattern[];
  readonly names: readonly string[];
}

/** The parsed database with an ATR index over it. */
export interface CardDatabase {
  readonly path: string;
  readonly entries: readonly CardDatabaseEntry[];
  /** ATR lines that could not be read as patterns (kept out of the index). */
  readonly skippedLines: number;
  /** The names of every entry matching `atr`, in file order, without duplicates. */
  lookupNames(atr: Uint8Array): string[];
}

/** Parses database text. Never throws on a bad line: it is counted in `skippedLines`. */
export function parseCardDatabase(text: string, path = '<text>'): CardDatabase {
  const entries: { atrText: string; patterns: AtrPattern[]; names: string[] }[] = [];
  let current: { atrText: string; patterns: AtrPattern[]; names: string[] } | undefined;
  let skippedLines = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#') || line.trim() === '') {
      current = undefined;
      continue;
    }
    if (line.startsWith('\t') || line.startsWith(' ')) {
      current?.names.push(line.trim());
      continue;
    }
    const patterns = patternsFromDatabaseAtr(line.trim());
    if (!patterns) {
      skippedLines++;
      current = undefined;
      continue;
    }
    current = { atrText: line.trim(), patterns, names: [] };
    entries.push(current);
  }
  const index = new AtrIndex<number>();
  entries.forEach((entry, position) => {
    for (const pattern of entry.patterns) index.add(pattern, position);
  });
  return {
    path,
    entries,
    skippedLines,
    lookupNames(atr: Uint8Array): string[] {
      const positions = [...new Set(index.lookup(atr).map((hit) => hit.value))].sort((a, b) => a - b);
      const names: string[] = [];
      for (const position of positions)
        for (const name of entries[position]?.names ?? []) if (!names.includes(name)) names.push(name);
      return names;
    },
  };
}

const cache = new Map<string, Promise<CardDatabase>>();

/**
 * Reads and parses the database at `path` once per process. SCARD_E_FILE_NOT_FOUND when it is missing.
 */
export function loadCardDatabase(path: string = DEFAULT_CARD_DATABASE): Promise<CardDatabase> {
  let pending = cache.get(path);
  if (!pending) {
    pending = readFile(path, 'latin1').then(
      (text) => parseCardDatabase(text, path),
      (error: NodeJS.ErrnoException) => {
        cache.delete(path);
        throw error.code === 'ENOENT'
          ? new ScardError('SCARD_E_FILE_NOT_FOUND', `card database ${path} not found (install pcsc-tools)`)
          : ScardError.from(error, `reading card database ${path}`);
      },
    );
    cache.set(path, pending);
  }
  return pending;
}

/**
 * The patterns an ATR line of smartcard_list.txt stands for (one per expansion of its character
 * classes, at most 64), or undefined when the line is not an ATR pattern.
 */
export function patternsFromDatabaseAtr(line: string): AtrPattern[] | undefined {
  const tokens = line.split(/\s+/).filter((token) => token !== '');
  if (tokens.length < 2 || tokens.length > 33) return undefined;
  // Per byte: the list of (value, mask) alternatives.
  const bytes: { value: number; mask: number }[][] = [];
  for (const token of tokens) {
    const nibbles = parseNibbles(token);
    if (nibbles?.length !== 2) return undefined;
    const [high, low] = nibbles as [NibbleSet, NibbleSet];
    const alternatives: { value: number; mask: number }[] = [];
    for (const h of high.values)
      for (const l of low.values) alternatives.push({ value: (h << 4) | l, mask: (high.mask << 4) | low.mask });
    bytes.push(alternatives);
  }
  let combinations: { atr: number[]; mask: number[] }[] = [{ atr: [], mask: [] }];
  for (const alternatives of bytes) {
    const next: { atr: number[]; mask: number[] }[] = [];
    for (const combination of combinations) {
      for (const alternative of alternatives) {
        next.push({ atr: [...combination.atr, alternative.value], mask: [...combination.mask, alternative.mask] });
      }
    }
    if (next.length > 64) return undefined;
    combinations = next;
  }
  return combinations.map((combination) =>
    createAtrPattern(Uint8Array.from(combination.atr), Uint8Array.from(combination.mask)),
  );
}

interface NibbleSet {
  /** 0xF when the nibble is fixed to each value, 0 for a wildcard. */
  readonly mask: number;
  readonly values: readonly number[];
}

function parseNibbles(token: string): NibbleSet[] | undefined {
  const nibbles: NibbleSet[] = [];
  for (let i = 0; i < token.length; i++) {
    const char = token[i] as string;
    if (char === '.') {
      nibbles.push({ mask: 0, values: [0] });
    } else if (/[0-9a-fA-F]/.test(char)) {
      nibbles.push({ mask: 0xf, values: [Number.parseInt(char, 16)] });
    } else if (char === '[') {
      const end = token.indexOf(']', i);
      if (end < 0) return undefined;
      const values = parseClass(token.slice(i + 1, end));
      if (!values) return undefined;
      nibbles.push(values.length === 16 ? { mask: 0, values: [0] } : { mask: 0xf, values });
      i = end;
    } else {
      return undefined;
    }
  }
  return nibbles;
}

function parseClass(body: string): number[] | undefined {
  const values = new Set<number>();
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (char === ',') continue;
    if (!/[0-9a-fA-F]/.test(char)) return undefined;
    const from = Number.parseInt(char, 16);
    if (body[i + 1] === '-' && body[i + 2] !== undefined && /[0-9a-fA-F]/.test(body[i + 2] as string)) {
      const to = Number.parseInt(body[i + 2] as string, 16);
      for (let value = from; value <= to; value++) values.add(value);
      i += 2;
    } else {
      values.add(from);
    }
  }
  return values.size === 0 ? undefined : [...values].sort((a, b) => a - b);
}
