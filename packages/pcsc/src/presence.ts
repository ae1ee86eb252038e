/**
 * Proof that a card has not left its reader, for a data cache that wants to skip reading the card's
 * identity (docs/cache.md). pcsc-lite (and Windows) put in the upper 16 bits of SCardGetStatusChange's
 * dwEventState a count of the card insertions and removals of that reader: measured on pcsc-lite 1.9.9
 * with vpcd, it moves by one at every removal and every insertion and stays through resets, power
 * cycles and SCARD_UNPOWER_CARD. It is kept per reader by the running resource manager, so alone it
 * proves nothing across a restart of pcscd (which starts again at 0, and pcscd may exit when idle) or a
 * reader unplugged and plugged in again (a new reader of the same name, counting from 0 again — every
 * USB token is such a reader). The token therefore also names
 * - the resource manager's lifetime: on Linux the boot (`/proc/sys/kernel/random/boot_id`), pcscd's pid
 *   (from its pid file) and that process's start time (`/proc/<pid>/stat`); elsewhere unknown;
 * - the reader's lifetime: its SCARD_ATTR_CHANNEL_ID (for USB readers the bus and device address, which
 *   Linux gives anew at every plug-in); a reader without one (vpcd, serial drivers) cannot prove it was
 *   not replaced, and gets no token.
 * The 16-bit counter wraps: two states 65,536 events apart look alike (with the same ATR, reader, pcscd
 * and USB address).
 *
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Where a resource manager's lifetime is read from (overridable for tests). */
export interface ResourceManagerFiles {
  /** pcscd's pid file. Default: beside $PCSCLITE_CSOCK_NAME, else /run/pcscd/pcscd.pid. */
  readonly pidFile?: string;
  /** The /proc directory. Default /proc. */
  readonly proc?: string;
}

/**
 * The running pcscd's lifetime as `<boot id>/<pid>/<start time>`, or undefined when it cannot be read
 * (not Linux, no pid file, a pid that is not pcscd's, no /proc). Never throws.
 */
export async function resourceManagerInstance(files: ResourceManagerFiles = {}): Promise<string | undefined> {
  if (files.proc === undefined && process.platform !== 'linux') return undefined;
  const proc = files.proc ?? '/proc';
  const socket = process.env['PCSCLITE_CSOCK_NAME'];
  const pidFile = files.pidFile ?? (socket ? join(dirname(socket), 'pcscd.pid') : '/run/pcscd/pcscd.pid');
  try {
    // pcsc-lite 1.9 writes the pid followed by a NUL byte.
    const pid = (await readFile(pidFile, 'utf8')).replace(/\0/g, '').trim();
    if (!/^[1-9][0-9]{0,9}$/.test(pid)) return undefined;
    const [boot, command, stat] = await Promise.all([
      readFile(join(proc, 'sys/kernel/random/boot_id'), 'utf8'),
      readFile(join(proc, pid, 'comm'), 'utf8'),
      readFile(join(proc, pid, 'stat'), 'utf8'),
    ]);
    if (command.trim() !== 'pcscd') return undefined;
    // The fields after the command name (which may hold spaces) start at the last ')'; start time is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = fields[19];
    const bootId = boot.trim();
    if (startTime === undefined || !/^[0-9]+$/.test(startTime) || !/^[0-9a-f-]{36}$/.test(bootId)) return undefined;
    return `${bootId}/${pid}/${startTime}`;
  } catch {
    return undefined;
  }
}

/** What a presence token is made of. */
export interface PresenceParts {
  readonly resourceManager: string | undefined;
  /** The reader's SCARD_ATTR_CHANNEL_ID, undefined when it has none. */
  readonly channel: Uint8Array | undefined;
  readonly readerName: string;
  /** dwEventState of the reader from SCardGetStatusChange. */
  readonly eventState: number;
  readonly atr: Uint8Array;
}

const SCARD_STATE_PRESENT = 0x0020;

/** The token, or undefined when one of the parts that make it a proof is missing or no card is present. */
export function presenceTokenOf(parts: PresenceParts): string | undefined {
  const { resourceManager, channel, readerName, eventState, atr } = parts;
  if (resourceManager === undefined || channel === undefined || channel.length === 0) return undefined;
  if ((eventState & SCARD_STATE_PRESENT) === 0 || atr.length === 0) return undefined;
  const counter = (eventState >>> 16) & 0xffff;
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  return `pcsc:${resourceManager}:${hex(channel)}:${readerName}:${counter}:${hex(atr)}`;
}
