/**
 * @module Saving a simulated card's persistent state (keys, objects, PIN counters) to a JSON file and
 * loading it back, so a CLI can generate a key in one run and sign with it in the next. Saves replace
 * the file atomically (temp file in the same directory, fsync, rename): an interrupted save leaves the
 * old file or the new one, never a broken one.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ScardError } from '@minidriver/core';
import type { SimulatedCard } from './simulated-card.js';

/** The `format` field that marks a card state file. */
export const CARD_STATE_FORMAT = 'minidriver-sim-card-state';

/** The file layout: the card's own state wrapped with what is needed to check it on load. */
export interface CardStateFile {
  readonly format: typeof CARD_STATE_FORMAT;
  readonly version: 1;
  /** The `name` of the card that saved it (a PIV state is not loaded into an OpenPGP card). */
  readonly card: string;
  /** What `card.saveState()` returned. */
  readonly state: unknown;
}

/** The state file contents for `card` (throws SCARD_E_UNSUPPORTED_FEATURE when the card cannot save). */
export function serializeCardState(card: SimulatedCard): string {
  if (typeof card.saveState !== 'function') {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `saving the state of simulated card "${card.name}" is not supported`,
    );
  }
  let text: string | undefined;
  try {
    const file: CardStateFile = { format: CARD_STATE_FORMAT, version: 1, card: card.name, state: card.saveState() };
    text = JSON.stringify(file, null, 2);
  } catch (error) {
    throw ScardError.from(error, `serialising the state of simulated card "${card.name}"`);
  }
  if (text === undefined) throw new ScardError('SCARD_E_UNEXPECTED', `card "${card.name}" returned no state`);
  return `${text}\n`;
}

/**
 * Writes `text` to `path` atomically: a temp file in the same directory (mode 0600, the state holds
 * private keys), fsync, rename over `path`, then fsync of the directory so the rename survives a crash.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const directory = dirname(path);
  const temporaryPath = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const handle = await open(temporaryPath, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporaryPath, path);
    renamed = true;
    await syncDirectory(directory);
  } catch (error) {
    if (!renamed) await unlink(temporaryPath).catch(() => undefined);
    throw ScardError.from(error, `saving ${path}`);
  }
}

async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
  }
}

/** Saves `card.saveState()` to `path` as JSON, replacing the file atomically. */
export async function saveCardState(card: SimulatedCard, path: string): Promise<void> {
  await writeFileAtomically(path, serializeCardState(card));
}

/**
 * Loads the state saved at `path` into `card`. Returns false when there is no file (a fresh card).
 * A file that is not a complete state file of this card throws SCARD_E_COMM_DATA_LOST naming the file.
 */
export async function loadCardState(card: SimulatedCard, path: string): Promise<boolean> {
  if (typeof card.loadState !== 'function') {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `loading the state of simulated card "${card.name}" is not supported`,
    );
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ScardError.from(error, `reading ${path}`);
  }
  const file = parseCardStateFile(text, path);
  if (file.card !== card.name) {
    throw new ScardError(
      'SCARD_E_COMM_DATA_LOST',
      `${path} holds the state of a "${file.card}" card, not of "${card.name}"`,
    );
  }
  try {
    card.loadState(file.state);
  } catch (error) {
    throw new ScardError('SCARD_E_COMM_DATA_LOST', `${path}: the "${card.name}" simulator rejected the saved state`, {
      cause: error,
    });
  }
  return true;
}

/** Parses and checks a state file's text; anything else throws SCARD_E_COMM_DATA_LOST. */
export function parseCardStateFile(text: string, path = 'card state'): CardStateFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ScardError('SCARD_E_COMM_DATA_LOST', `${path} is not valid JSON (corrupt or truncated card state file)`, {
      cause: error,
    });
  }
  const file = value as Partial<CardStateFile> | null;
  if (
    typeof file !== 'object' ||
    file === null ||
    file.format !== CARD_STATE_FORMAT ||
    file.version !== 1 ||
    typeof file.card !== 'string' ||
    !('state' in file)
  ) {
    throw new ScardError('SCARD_E_COMM_DATA_LOST', `${path} is not a version 1 ${CARD_STATE_FORMAT} file`);
  }
  return file as CardStateFile;
}

/** A card that saves itself; see {@link autosaveCard}. */
export interface AutosavingCard extends SimulatedCard {
  /** Resolves when every save started so far has finished (rejects with the last save error). */
  flush(): Promise<void>;
}

/**
 * Wraps `card` so that every APDU that changed its persistent state is followed by an atomic save to
 * `path` before the response is returned (so a response the host saw is always on disk). Whether the
 * state changed is decided by comparing the serialised state, so the card needs `saveState`.
 * Typical CLI use: `await loadCardState(card, path)` at start, then serve `autosaveCard(card, path)`.
 */
export function autosaveCard(card: SimulatedCard, path: string): AutosavingCard {
  if (typeof card.saveState !== 'function') {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `saving the state of simulated card "${card.name}" is not supported`,
    );
  }
  let lastSaved: string | undefined;
  let pending: Promise<void> = Promise.resolve();
  const saveIfChanged = async (): Promise<void> => {
    const text = serializeCardState(card);
    if (text === lastSaved) return;
    await writeFileAtomically(path, text);
    lastSaved = text;
  };
  const wrapped: AutosavingCard = {
    get name() {
      return card.name;
    },
    get atr() {
      return card.atr;
    },
    powerOn: () => card.powerOn(),
    powerOff: () => card.powerOff(),
    reset: () => card.reset(),
    async process(command) {
      if (lastSaved === undefined) lastSaved = serializeCardState(card);
      const response = await card.process(command);
      // A failed save fails this APDU (the simulator answers 6F00) but not the ones after it.
      pending = pending.catch(() => undefined).then(saveIfChanged);
      await pending;
      return response;
    },
    saveState: () => card.saveState?.(),
    flush: () => pending,
  };
  if (typeof card.loadState === 'function') {
    const loadState = card.loadState.bind(card);
    wrapped.loadState = (state) => {
      loadState(state);
      lastSaved = undefined;
    };
  }
  return wrapped;
}
