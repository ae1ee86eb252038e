/**
 * Saving a simulated card's persistent state (keys, objects, PIN counters) to a JSON file and
 * loading it back, so a CLI can generate a key in one run and sign with it in the next. Saves replace
 * the file atomically (temp file in the same directory, fsync, rename): an interrupted save leaves the
 * old file or the new one, never a broken one.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ScardError } from '@minidriver/spec';
import { acquireFileLock } from './file-lock.js';
import type { SimulatedCard } from './simulated-card.js';

/** The largest state file accepted (a full PIV card with every object is well under 1 MB). */
export const MAX_CARD_STATE_BYTES = 16 * 1024 * 1024;

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
  const text = await readStateText(path);
  if (text === undefined) return false;
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

/**
 * The text of the state file at `path`, or undefined when there is none. Only a regular file is read: it is
 * opened without following a symbolic link and without blocking (a FIFO or device would hang the reader),
 * checked with fstat, and read up to {@link MAX_CARD_STATE_BYTES}.
 */
async function readStateText(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | (fsConstants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP')
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `${path} is a symbolic link, not a card state file`);
    throw ScardError.from(error, `reading ${path}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ScardError('SCARD_E_INVALID_PARAMETER', `${path} is not a regular file`);
    if (stats.size > MAX_CARD_STATE_BYTES) {
      throw new ScardError('SCARD_E_COMM_DATA_LOST', `${path} is larger than ${MAX_CARD_STATE_BYTES} bytes`);
    }
    return await handle.readFile('utf8');
  } catch (error) {
    throw ScardError.from(error, `reading ${path}`);
  } finally {
    await handle.close();
  }
}

/** What {@link openCardState} hands back: the card's state file, locked for this process. */
export interface CardStateLease {
  /** The state file. */
  readonly path: string;
  /** True when a saved state was loaded into the card, false for a fresh card. */
  readonly restored: boolean;
  /** Saves the card's state now (atomically; throws ScardError when it cannot). */
  save(): Promise<void>;
  /** Releases the lock (idempotent). */
  release(): void;
}

/**
 * Takes the state file `path` of `card` for this process: creates its directory (mode 0700: the state holds
 * private keys and PIN counters), takes the lock file `<path>.lock` (waiting up to `timeoutMs` for another
 * process, then SCARD_E_SHARING_VIOLATION), checks that the state can be written back (a read-only
 * directory or file fails here, before the card has done anything, so no card change can be lost), and
 * loads the saved state. Concurrent processes thus see each other's changes: none is lost.
 */
export async function openCardState(
  card: SimulatedCard,
  path: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<CardStateLease> {
  const directory = dirname(path);
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw ScardError.from(error, `creating the card state directory ${directory}`);
  }
  let release: () => void;
  try {
    release = await acquireFileLock(`${path}.lock`, {
      timeoutMs: options.timeoutMs ?? 60_000,
      what: `card state ${path}`,
      onTimeout: (message) =>
        new ScardError('SCARD_E_SHARING_VIOLATION', `${message} (another process uses this card)`),
    });
  } catch (error) {
    if (ScardError.isInstance(error)) throw error;
    throw new ScardError('SCARD_E_NO_ACCESS', `cannot lock the card state ${path} (${(error as Error).message})`, {
      cause: error,
    });
  }
  try {
    await assertWritable(path);
    const restored = await loadCardState(card, path);
    return { path, restored, save: () => saveCardState(card, path), release };
  } catch (error) {
    release();
    throw error;
  }
}

/** Throws SCARD_E_NO_ACCESS unless an existing state file at `path` is a regular file this process may replace. */
async function assertWritable(path: string): Promise<void> {
  try {
    const stats = await lstat(path);
    if (!stats.isFile()) throw new ScardError('SCARD_E_INVALID_PARAMETER', `${path} is not a regular file`);
    await access(path, fsConstants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if (ScardError.isInstance(error)) throw error;
    throw new ScardError('SCARD_E_NO_ACCESS', `the card state ${path} cannot be written`, { cause: error });
  }
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
 * Typical use: `await openCardState(card, path)` at start, then serve `autosaveCard(card, path)`.
 *
 * A failed save never replaces the card's real answer and never drops the change: the answer is returned,
 * {@link AutosavingCard.flush} rejects with the save error, and the card refuses every later APDU (6F00,
 * without running it) until a save of the changed state succeeds.
 */
export function autosaveCard(card: SimulatedCard, path: string): AutosavingCard {
  if (typeof card.saveState !== 'function') {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `saving the state of simulated card "${card.name}" is not supported`,
    );
  }
  let lastSaved: string | undefined;
  let saveError: unknown;
  const saveIfChanged = async (): Promise<void> => {
    const text = serializeCardState(card);
    if (text === lastSaved) {
      saveError = undefined;
      return;
    }
    try {
      await writeFileAtomically(path, text);
      lastSaved = text;
      saveError = undefined;
    } catch (error) {
      saveError = error;
    }
  };
  let queue: Promise<void> = Promise.resolve();
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
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
    process: (command) =>
      serialised(async () => {
        if (lastSaved === undefined) lastSaved = serializeCardState(card);
        if (saveError !== undefined) {
          // The last change is not on disk yet: try again, and run nothing new until it is.
          await saveIfChanged();
          if (saveError !== undefined) return Uint8Array.of(0x6f, 0x00);
        }
        const response = await card.process(command);
        await saveIfChanged();
        return response;
      }),
    saveState: () => card.saveState?.(),
    flush: () =>
      serialised(async () => {
        if (saveError !== undefined) throw ScardError.from(saveError, `saving ${path}`);
      }),
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
