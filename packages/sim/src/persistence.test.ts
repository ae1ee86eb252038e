import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  autosaveCard,
  CARD_STATE_FORMAT,
  loadCardState,
  openCardState,
  parseCardStateFile,
  saveCardState,
  writeFileAtomically,
} from './persistence.js';
import type { SimulatedCard } from './simulated-card.js';
import { UnknownCard } from './unknown-card.js';

/** A card whose whole persistent state is a list of stored blobs; PUT DATA (INS DA) appends one. */
class BlobCard implements SimulatedCard {
  readonly name = 'Blob';
  readonly atr = fromHex('3B 80 80 01 01');
  blobs: string[] = [];
  powerOn(): void {}
  powerOff(): void {}
  reset(): void {}
  process(command: Uint8Array): Uint8Array {
    if (command[1] === 0xda) {
      this.blobs.push(Buffer.from(command.subarray(5)).toString('hex'));
      return fromHex('9000');
    }
    return fromHex('6D00');
  }
  saveState(): unknown {
    return { blobs: this.blobs };
  }
  loadState(state: unknown): void {
    const blobs = (state as { blobs?: unknown }).blobs;
    if (!Array.isArray(blobs)) throw new Error('no blobs');
    this.blobs = blobs.map(String);
  }
}

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'minidriver-sim-state-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function isCode(code: string) {
  return (error: unknown) => ScardError.isInstance(error) && error.name === code;
}

describe('saveCardState / loadCardState', () => {
  it('round-trips the state; a missing file loads as false', async () => {
    const path = join(directory, 'card.json');
    const fresh = new BlobCard();
    expect(await loadCardState(fresh, path)).toBe(false);
    const card = new BlobCard();
    card.blobs = ['01', 'aabb'];
    await saveCardState(card, path);
    expect(await loadCardState(fresh, path)).toBe(true);
    expect(fresh.blobs).toEqual(['01', 'aabb']);
    const file = JSON.parse(await readFile(path, 'utf8'));
    expect(file).toEqual({ format: CARD_STATE_FORMAT, version: 1, card: 'Blob', state: { blobs: ['01', 'aabb'] } });
    // Only the state file is left: the temp file was renamed over it.
    expect(await readdir(directory)).toEqual(['card.json']);
  });

  it('a truncated or foreign file throws SCARD_E_COMM_DATA_LOST naming the file', async () => {
    const path = join(directory, 'card.json');
    await saveCardState(Object.assign(new BlobCard(), { blobs: ['01'] }), path);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, text.length / 2));
    const error = await loadCardState(new BlobCard(), path).catch((caught: unknown) => caught);
    expect(isCode('SCARD_E_COMM_DATA_LOST')(error)).toBe(true);
    expect(String((error as Error).message)).toContain(path);
    await writeFile(path, JSON.stringify({ hello: 1 }));
    await expect(loadCardState(new BlobCard(), path)).rejects.toSatisfy(isCode('SCARD_E_COMM_DATA_LOST'));
    await writeFile(path, JSON.stringify({ format: CARD_STATE_FORMAT, version: 1, card: 'PIV', state: {} }));
    await expect(loadCardState(new BlobCard(), path)).rejects.toSatisfy(isCode('SCARD_E_COMM_DATA_LOST'));
    await writeFile(path, JSON.stringify({ format: CARD_STATE_FORMAT, version: 1, card: 'Blob', state: 7 }));
    await expect(loadCardState(new BlobCard(), path)).rejects.toSatisfy(isCode('SCARD_E_COMM_DATA_LOST'));
  });

  it('parseCardStateFile throws only ScardError for any text (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        try {
          parseCardStateFile(text);
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
    );
  });

  it('a save that fails midway leaves the old file intact and no temp file', async () => {
    const path = join(directory, 'card.json');
    const card = new BlobCard();
    card.blobs = ['01'];
    await saveCardState(card, path);
    const before = await readFile(path, 'utf8');
    const failing = new BlobCard();
    failing.saveState = () => ({ value: 10n }); // JSON.stringify throws on BigInt
    await expect(saveCardState(failing, path)).rejects.toSatisfy(ScardError.isInstance);
    await expect(writeFileAtomically(join(directory, 'missing-dir', 'x.json'), '{}')).rejects.toSatisfy(
      ScardError.isInstance,
    );
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(directory)).toEqual(['card.json']);
  });

  it('readers never see a partial file while large saves replace it (atomic rename)', async () => {
    const path = join(directory, 'card.json');
    const card = new BlobCard();
    card.blobs = ['00'.repeat(200_000)];
    await saveCardState(card, path);
    let saving = true;
    const reads: Promise<void> = (async () => {
      while (saving) {
        const text = await readFile(path, 'utf8');
        // A plain overwrite would be seen truncated here; rename swaps whole files.
        expect(() => parseCardStateFile(text)).not.toThrow();
      }
    })();
    for (let round = 1; round <= 15; round += 1) {
      card.blobs = [
        round
          .toString(16)
          .padStart(2, '0')
          .repeat(200_000 + round),
      ];
      await saveCardState(card, path);
    }
    saving = false;
    await reads;
    const loaded = new BlobCard();
    await loadCardState(loaded, path);
    expect(loaded.blobs[0]?.length).toBe(2 * (200_000 + 15));
  });

  it('a card without saveState/loadState throws SCARD_E_UNSUPPORTED_FEATURE', async () => {
    const path = join(directory, 'card.json');
    await expect(saveCardState(new UnknownCard(), path)).rejects.toSatisfy(isCode('SCARD_E_UNSUPPORTED_FEATURE'));
    await expect(loadCardState(new UnknownCard(), path)).rejects.toSatisfy(isCode('SCARD_E_UNSUPPORTED_FEATURE'));
  });
});

describe('autosaveCard', () => {
  it('saves after an APDU that changed the state, before answering, and not after one that did not', async () => {
    const path = join(directory, 'card.json');
    const card = new BlobCard();
    const saving = autosaveCard(card, path);
    expect(await saving.process(fromHex('00CA000000'))).toEqual(fromHex('6D00'));
    expect(await readdir(directory)).toEqual([]);
    expect(await saving.process(fromHex('00DA000002CAFE'))).toEqual(fromHex('9000'));
    const restored = new BlobCard();
    expect(await loadCardState(restored, path)).toBe(true);
    expect(restored.blobs).toEqual(['cafe']);
    await saving.flush();
  });

  it('a second "invocation" sees what the first saved (CLI keygen, then sign)', async () => {
    const path = join(directory, 'card.json');
    const first = new BlobCard();
    await loadCardState(first, path);
    await autosaveCard(first, path).process(fromHex('00DA00000101'));
    const second = new BlobCard();
    expect(await loadCardState(second, path)).toBe(true);
    expect(second.blobs).toEqual(['01']);
  });
});

describe('hostile state files and failed saves (issue #11 items 10-12)', () => {
  it("a failed save keeps the card's real answer and its change; nothing new runs until the change is on disk (item 10)", async () => {
    const path = join(directory, 'not-yet', 'card.json');
    const card = new BlobCard();
    const saving = autosaveCard(card, path);
    // The save fails (no directory): the answer is still the card's own 9000, not 6F00.
    expect(await saving.process(fromHex('00DA000001AA'))).toEqual(fromHex('9000'));
    await expect(saving.flush()).rejects.toSatisfy(ScardError.isInstance);
    // While the change is not on disk the card runs nothing new.
    expect(await saving.process(fromHex('00DA000001BB'))).toEqual(fromHex('6F00'));
    expect(card.blobs).toEqual(['aa']);
    await mkdir(join(directory, 'not-yet'));
    expect(await saving.process(fromHex('00DA000001CC'))).toEqual(fromHex('9000'));
    await saving.flush();
    const restored = new BlobCard();
    await loadCardState(restored, path);
    expect(restored.blobs).toEqual(['aa', 'cc']);
  });

  it('openCardState refuses a state directory it cannot write before the card runs anything (item 10)', async () => {
    const notADirectory = join(directory, 'file');
    await writeFile(notADirectory, 'x');
    await expect(openCardState(new BlobCard(), join(notADirectory, 'card.json'))).rejects.toSatisfy(
      ScardError.isInstance,
    );
    // /proc/self exists but no file can be created in it, not even by root.
    if (process.platform === 'linux') {
      await expect(openCardState(new BlobCard(), '/proc/self/sim-card.json')).rejects.toSatisfy(
        isCode('SCARD_E_NO_ACCESS'),
      );
    }
  });

  it('creates the state directory 0700 and serialises concurrent users of one state file (item 11)', async () => {
    const path = join(directory, 'private', 'card.json');
    const users = Array.from({ length: 6 }, async (_, index) => {
      const card = new BlobCard();
      const lease = await openCardState(card, path);
      try {
        const saving = autosaveCard(card, path);
        await saving.process(fromHex(`00DA000001${index.toString(16).padStart(2, '0')}`));
        await new Promise((resolve) => setTimeout(resolve, 5));
        await saving.flush();
      } finally {
        lease.release();
      }
    });
    await Promise.all(users);
    const restored = new BlobCard();
    await loadCardState(restored, path);
    // Every user saw the others' blobs: none of the six changes was lost.
    expect(restored.blobs.sort()).toEqual(['00', '01', '02', '03', '04', '05']);
    if (process.platform !== 'win32') expect((await stat(join(directory, 'private'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(directory, 'private'))).toEqual(['card.json']);
  });

  it('a lock held by a live process makes the next user wait, then SCARD_E_SHARING_VIOLATION', async () => {
    const path = join(directory, 'card.json');
    const lease = await openCardState(new BlobCard(), path);
    await expect(openCardState(new BlobCard(), path, { timeoutMs: 200 })).rejects.toSatisfy(
      isCode('SCARD_E_SHARING_VIOLATION'),
    );
    lease.release();
    (await openCardState(new BlobCard(), path, { timeoutMs: 200 })).release();
  });

  it.skipIf(process.platform === 'win32')(
    'a FIFO, a directory or a symbolic link as state file is refused at once (item 12)',
    async () => {
      const fifo = join(directory, 'fifo.json');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      await expect(loadCardState(new BlobCard(), fifo)).rejects.toSatisfy(isCode('SCARD_E_INVALID_PARAMETER'));
      await expect(openCardState(new BlobCard(), fifo)).rejects.toSatisfy(isCode('SCARD_E_INVALID_PARAMETER'));
      await mkdir(join(directory, 'dir.json'));
      await expect(loadCardState(new BlobCard(), join(directory, 'dir.json'))).rejects.toSatisfy(
        isCode('SCARD_E_INVALID_PARAMETER'),
      );
      await symlink(fifo, join(directory, 'link.json'));
      await expect(loadCardState(new BlobCard(), join(directory, 'link.json'))).rejects.toSatisfy(
        isCode('SCARD_E_INVALID_PARAMETER'),
      );
    },
    5_000,
  );
});
