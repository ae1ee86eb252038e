/**
 * Reader listing with card presence and ATR (`minidriver readers`, reader choice).
 */

import type { PcscContext } from '@minidriver/pcsc';
import { toHex } from '@minidriver/spec';

/** One PC/SC reader and what is in it. */
export interface ReaderState {
  readonly index: number;
  readonly name: string;
  readonly cardPresent: boolean;
  /** Hex ATR of the card, empty without a card. */
  readonly atr: string;
}

const SCARD_STATE_PRESENT = 0x0020;

/** Every reader, in PC/SC order, with card presence (one non-blocking SCardGetStatusChange). */
export async function listReaderStates(context: PcscContext): Promise<ReaderState[]> {
  const names = await context.listReaders();
  if (names.length === 0) return [];
  const statuses = await context.getStatusChange(
    names.map((readerName) => ({ readerName })),
    0,
  );
  return names.map((name, index) => {
    const status = statuses.find((candidate) => candidate.readerName === name);
    const cardPresent = status !== undefined && (status.eventState & SCARD_STATE_PRESENT) !== 0;
    return { index, name, cardPresent, atr: cardPresent && status ? toHex(status.atr, ' ') : '' };
  });
}
