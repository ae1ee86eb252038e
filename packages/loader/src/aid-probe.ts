/**
 * AID probing: when no registered ATR matches, find the plugin whose application the card
 * carries by SELECTing each probing plugin's AIDs, as Windows does for its class minidrivers (spec docs/spec/minidriver.md §12.3).
 *
 * Order (documented and tested):
 *  1. the PIV AID family (A0 00 00 03 08 ...), then the GIDS family (A0 00 00 03 97 42 54 46 59 ...) —
 *     the class minidriver's order (docs/spec/minidriver.md §12.3 (c));
 *  2. every other AID;
 *  within each group by plugin source (explicit, directory, installed), then package name, then the
 *  AID's position in the manifest. The first SELECT answered 9000 or 61xx wins.
 *
 * All SELECTs run inside one transaction. A SELECT that fails leaves the current selection unchanged
 * (ISO/IEC 7816-4), so when nothing matched the transaction ends with `leave`; when a SELECT succeeded
 * the card has a new application selected, so the transaction ends with `reset`, which puts the card
 * back in the state it is in after insertion (where Windows runs discovery).
 */

import { encodeCommandApdu } from '@minidriver/iso7816';
import type { Transport } from '@minidriver/spec';
import { ScardError, toHex } from '@minidriver/spec';
import { type PluginRecord, SOURCE_RANK } from './plugin-record.js';

/** One SELECT the probe will send. */
export interface ProbeStep {
  readonly record: PluginRecord;
  readonly aid: Uint8Array;
  /** Position of the AID in its manifest. */
  readonly aidIndex: number;
}

/** What probing found. */
export interface ProbeOutcome {
  /** The step whose SELECT succeeded, if any. */
  readonly match?: ProbeStep;
  /** The status word each SELECT got, in the order sent. */
  readonly exchanges: readonly { readonly packageName: string; readonly aid: string; readonly statusWord: number }[];
}

const PIV_PREFIX = Uint8Array.of(0xa0, 0x00, 0x00, 0x03, 0x08);
const GIDS_PREFIX = Uint8Array.of(0xa0, 0x00, 0x00, 0x03, 0x97, 0x42, 0x54, 0x46, 0x59);

/** The SELECTs to send for these plugins, in probe order. */
export function planProbe(records: readonly PluginRecord[]): ProbeStep[] {
  const steps: ProbeStep[] = [];
  for (const record of records) {
    record.aids.forEach((aid, aidIndex) => {
      steps.push({ record, aid, aidIndex });
    });
  }
  return steps.sort(
    (a, b) =>
      familyRank(a.aid) - familyRank(b.aid) ||
      SOURCE_RANK[a.record.source] - SOURCE_RANK[b.record.source] ||
      (a.record.packageName < b.record.packageName ? -1 : a.record.packageName > b.record.packageName ? 1 : 0) ||
      a.aidIndex - b.aidIndex,
  );
}

/** A key naming the plan, so a cached result is reused only for the same plugins and AIDs. */
export function planKey(steps: readonly ProbeStep[]): string {
  return steps
    .map((step) => `${step.record.packageName}@${step.record.packageVersion ?? ''}:${toHex(step.aid)}`)
    .join(',');
}

/** Sends the plan's SELECTs in one transaction; see the module comment for order and disposition. */
export async function probeAids(transport: Transport, steps: readonly ProbeStep[]): Promise<ProbeOutcome> {
  const exchanges: { packageName: string; aid: string; statusWord: number }[] = [];
  if (steps.length === 0) return { exchanges };
  await transport.beginTransaction();
  let match: ProbeStep | undefined;
  try {
    for (const step of steps) {
      const command = encodeCommandApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: step.aid, le: 256 });
      const response = await transport.transmit(command);
      if (response.length < 2) {
        throw new ScardError('SCARD_E_UNEXPECTED', `SELECT ${toHex(step.aid)} got a ${response.length}-byte response`);
      }
      const statusWord = ((response[response.length - 2] as number) << 8) | (response[response.length - 1] as number);
      exchanges.push({ packageName: step.record.packageName, aid: toHex(step.aid), statusWord });
      if (statusWord === 0x9000 || statusWord >> 8 === 0x61) {
        match = step;
        break;
      }
    }
  } catch (error) {
    await transport.endTransaction('leave').catch(() => undefined);
    throw ScardError.from(error, 'AID probing');
  }
  await transport.endTransaction(match ? 'reset' : 'leave');
  return match ? { match, exchanges } : { exchanges };
}

function familyRank(aid: Uint8Array): number {
  if (startsWith(aid, PIV_PREFIX)) return 0;
  if (startsWith(aid, GIDS_PREFIX)) return 1;
  return 2;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
