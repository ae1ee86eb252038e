/**
 * Test support for the pcscd tests (not exported): the two vpcd readers and waiting for pcscd to see them
 * empty or holding a card, polled without blocking the event loop the in-process vpcd bridges run on.
 */

export const READER_00 = 'Virtual PCD 00 00';
export const READER_01 = 'Virtual PCD 00 01';

/** Waits until every reader in `expected` holds a card (true) or is empty (false), as pcscd reports it. */
export async function waitForReaderStates(expected: Readonly<Record<string, boolean>>): Promise<void> {
  const pcsc = await import('@minidriver/pcsc');
  const context = await pcsc.PcscContext.establish();
  const names = Object.keys(expected);
  const query = names.map((readerName) => ({ readerName }));
  const matches = (readerName: string, eventState: number) =>
    (eventState & (expected[readerName] ? pcsc.SCARD_STATE_PRESENT : pcsc.SCARD_STATE_EMPTY)) !== 0;
  try {
    for (let attempt = 0; attempt < 240; attempt++) {
      const states = await context.getStatusChange(query, 0);
      if (states.every((state) => matches(state.readerName, state.eventState))) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const states = await context.getStatusChange(query, 0);
    throw new Error(
      `pcscd never showed ${JSON.stringify(expected)}: states ${states.map((state) => state.eventState.toString(16)).join(', ')}`,
    );
  } finally {
    await context.release();
  }
}
