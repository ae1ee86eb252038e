/**
 * @packageDocumentation
 * The PC/SC side of a key store (internal): a context of its own, the cards already present when it starts,
 * then card insertions and removals from a ReaderWatch, for every reader or the ones named. Connections are
 * shared (other applications keep using the cards); @minidriver/pcsc is imported only when PC/SC is used.
 */

import type { PcscContext, ReaderEvent, ReaderWatch } from '@minidriver/pcsc';
import { ScardError, type Transport } from '@minidriver/spec';

/** What the reader source reports to its store. */
export interface ReaderHandlers {
  /** A card is in `readerName` (present at start, or inserted later). */
  inserted(readerName: string): void;
  /** The card left `readerName` (or the reader left). */
  removed(readerName: string): void;
  /** A watched reader appeared (`present` true) or left (false). */
  reader(readerName: string, present: boolean): void;
  /** The watch failed; no more events will come. */
  failed(error: ScardError): void;
}

/** True when `readerName` is one of `wanted` (exact name, or a part of it); every reader when `wanted` is undefined. */
export function readerWanted(readerName: string, wanted: readonly string[] | undefined): boolean {
  if (wanted === undefined) return true;
  return wanted.some((name) => readerName === name || readerName.includes(name));
}

async function importPcsc(): Promise<typeof import('@minidriver/pcsc')> {
  try {
    return await import('@minidriver/pcsc');
  } catch (error) {
    throw new ScardError(
      'SCARD_E_NO_SERVICE',
      'watching PC/SC readers needs @minidriver/pcsc: install it next to @minidriver/keystore',
      { cause: error },
    );
  }
}

/** PC/SC readers watched for one key store. */
export class PcscReaders {
  private watch: ReaderWatch | undefined;
  private closed = false;
  private readonly names = new Set<string>();

  private constructor(
    private readonly context: PcscContext,
    private readonly wanted: readonly string[] | undefined,
    private readonly handlers: ReaderHandlers,
  ) {}

  /** Establishes a context and starts reporting insertions and removals until {@link close}. */
  static async start(wanted: readonly string[] | undefined, handlers: ReaderHandlers): Promise<PcscReaders> {
    const pcsc = await importPcsc();
    const context = await pcsc.PcscContext.establish();
    const readers = new PcscReaders(context, wanted, handlers);
    try {
      readers.watch = context.watch({ initialState: true });
      readers.watch.on('event', (event: ReaderEvent) => readers.onEvent(event));
      readers.watch.on('error', (error: ScardError) => {
        if (!readers.closed) handlers.failed(error);
      });
    } catch (error) {
      await context.release().catch(() => undefined);
      throw ScardError.from(error, 'watching PC/SC readers');
    }
    return readers;
  }

  /** The watched readers that hold a card now (the watch reports them too, later; the store opens each once). */
  async readersWithCards(): Promise<string[]> {
    const pcsc = await importPcsc();
    const names = (await this.context.listReaders()).filter((name) => readerWanted(name, this.wanted));
    for (const name of names) this.addReader(name);
    if (names.length === 0) return [];
    const states = await this.context.getStatusChange(
      names.map((readerName) => ({ readerName })),
      0,
    );
    return states
      .filter(
        (state) =>
          (state.eventState & pcsc.SCARD_STATE_PRESENT) !== 0 && (state.eventState & pcsc.SCARD_STATE_MUTE) === 0,
      )
      .map((state) => state.readerName);
  }

  /** The watched readers connected now, with or without a card, in name order. */
  readerNames(): string[] {
    return [...this.names].sort();
  }

  /** A shared connection to the card in `readerName`: a Transport with real PC/SC transactions. */
  connect(readerName: string): Promise<Transport> {
    return this.context.connect(readerName, { share: 'shared' });
  }

  /**
   * Whether a card is still in `readerName`, asked after a failed transmission: pcscd may need a presence
   * poll to notice a removal, so an answer of "present" is confirmed for up to `settleMs`.
   */
  async cardPresent(readerName: string, settleMs = 1500): Promise<boolean> {
    const pcsc = await importPcsc();
    const deadline = Date.now() + settleMs;
    for (;;) {
      const [state] = await this.context.getStatusChange([{ readerName }], 0);
      const event = state?.eventState ?? 0;
      if ((event & pcsc.SCARD_STATE_PRESENT) === 0) return false;
      if (Date.now() >= deadline) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops watching and releases the context (closing connections still open). Never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watch?.close();
    await this.context.release().catch(() => undefined);
  }

  private addReader(readerName: string): void {
    if (this.names.has(readerName)) return;
    this.names.add(readerName);
    this.handlers.reader(readerName, true);
  }

  private onEvent(event: ReaderEvent): void {
    if (this.closed || !readerWanted(event.readerName, this.wanted)) return;
    if (event.type === 'reader-added') this.addReader(event.readerName);
    else if (event.type === 'card-inserted') this.handlers.inserted(event.readerName);
    else if (event.type === 'card-removed' || event.type === 'reader-removed') this.handlers.removed(event.readerName);
    if (event.type === 'reader-removed' && this.names.delete(event.readerName)) {
      this.handlers.reader(event.readerName, false);
    }
  }
}
