import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { presenceTokenOf, resourceManagerInstance } from './presence.js';

const BOOT = '6cdd7017-d723-4042-8beb-02f731b9eac5';
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'minidriver-presence-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fake /proc and pid file: pcscd (or `command`) with `pid`, started at `start`. */
async function fakeProc(pid: string, command = 'pcscd', start = '1090946') {
  const proc = join(root, 'proc');
  await mkdir(join(proc, 'sys/kernel/random'), { recursive: true });
  await writeFile(join(proc, 'sys/kernel/random/boot_id'), `${BOOT}\n`);
  await mkdir(join(proc, pid), { recursive: true });
  await writeFile(join(proc, pid, 'comm'), `${command}\n`);
  const fields = Array.from({ length: 40 }, (_, index) => String(index + 3));
  fields[19] = start;
  await writeFile(join(proc, pid, 'stat'), `${pid} (${command} x) ${fields.join(' ')}\n`);
  await writeFile(join(root, 'pcscd.pid'), `${pid}\n\0`);
  return { proc, pidFile: join(root, 'pcscd.pid') };
}

describe('resourceManagerInstance', () => {
  it('is boot id / pid / start time of the running pcscd', async () => {
    expect(await resourceManagerInstance(await fakeProc('9678'))).toBe(`${BOOT}/9678/1090946`);
  });

  it('is undefined for a pid that is not pcscd, a bad pid file, or nothing to read', async () => {
    expect(await resourceManagerInstance(await fakeProc('77', 'bash'))).toBeUndefined();
    const files = await fakeProc('9678');
    await writeFile(files.pidFile, '../../etc\n');
    expect(await resourceManagerInstance(files)).toBeUndefined();
    expect(
      await resourceManagerInstance({ proc: join(root, 'none'), pidFile: join(root, 'none.pid') }),
    ).toBeUndefined();
  });
});

describe('presenceTokenOf', () => {
  const base = {
    resourceManager: `${BOOT}/9678/1090946`,
    channel: Uint8Array.of(0x00, 0x20, 0x01, 0x05),
    readerName: 'Yubico YubiKey OTP+FIDO+CCID 00 00',
    eventState: (3 << 16) | 0x22,
    atr: Uint8Array.of(0x3b, 0xfd, 0x13),
  };

  it('names pcscd, the reader instance, the event counter and the ATR', () => {
    expect(presenceTokenOf(base)).toBe(
      `pcsc:${BOOT}/9678/1090946:00200105:Yubico YubiKey OTP+FIDO+CCID 00 00:3:3bfd13`,
    );
  });

  it('is undefined without pcscd lifetime, without a channel id, or without a card', () => {
    expect(presenceTokenOf({ ...base, resourceManager: undefined })).toBeUndefined();
    expect(presenceTokenOf({ ...base, channel: undefined })).toBeUndefined();
    expect(presenceTokenOf({ ...base, channel: new Uint8Array(0) })).toBeUndefined();
    expect(presenceTokenOf({ ...base, eventState: (3 << 16) | 0x12 })).toBeUndefined();
  });

  it('differs whenever the counter, the reader instance, pcscd or the ATR differ', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        (a, b, channel) => {
          const first = presenceTokenOf({ ...base, eventState: (a << 16) | 0x22, channel });
          const second = presenceTokenOf({ ...base, eventState: (b << 16) | 0x22, channel });
          expect(first === second).toBe(a === b);
          expect(
            presenceTokenOf({ ...base, eventState: (a << 16) | 0x22, channel: Uint8Array.of(...channel, 1) }),
          ).not.toBe(first);
          expect(
            presenceTokenOf({ ...base, eventState: (a << 16) | 0x22, channel, resourceManager: 'other' }),
          ).not.toBe(first);
        },
      ),
    );
  });
});
