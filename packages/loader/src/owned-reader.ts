/**
 * Opens a PC/SC reader for openCard(readerName). @minidriver/pcsc is imported only here, and
 * only when a reader name is given, so the loader works without koffi or pcscd when handed a Transport.
 */
import type { Disposition, ReaderFeatures, Transport, TransportEvent } from '@minidriver/spec';
import { ScardError } from '@minidriver/spec';

type PcscModule = typeof import('@minidriver/pcsc');

/** Connects to `readerName` (shared mode); closing the transport also releases its PC/SC context. */
export async function openReader(readerName: string): Promise<Transport> {
  let pcsc: PcscModule;
  try {
    pcsc = (await import('@minidriver/pcsc')) as PcscModule;
  } catch (error) {
    throw new ScardError(
      'SCARD_E_NO_SERVICE',
      `opening reader "${readerName}" needs @minidriver/pcsc, which could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const context = await pcsc.PcscContext.establish();
  try {
    const card = await context.connect(readerName, { share: 'shared' });
    return new ReaderTransport(card, () => context.release());
  } catch (error) {
    await context.release().catch(() => undefined);
    throw ScardError.from(error, `connecting to reader "${readerName}"`);
  }
}

/** A Transport that owns its PC/SC context. */
class ReaderTransport implements Transport {
  constructor(
    private readonly card: Transport,
    private readonly releaseContext: () => Promise<void>,
  ) {}
  get atr(): Uint8Array {
    return this.card.atr;
  }
  get protocol(): Transport['protocol'] {
    return this.card.protocol;
  }
  get readerName(): string {
    return this.card.readerName;
  }
  get features(): ReaderFeatures | undefined {
    return this.card.features;
  }
  transmit(command: Uint8Array): Promise<Uint8Array> {
    return this.card.transmit(command);
  }
  beginTransaction(): Promise<void> {
    return this.card.beginTransaction();
  }
  endTransaction(disposition?: Disposition): Promise<void> {
    return this.card.endTransaction(disposition);
  }
  reconnect(initialization?: 'leave' | 'reset' | 'unpower'): Promise<Uint8Array> {
    return this.card.reconnect(initialization);
  }
  onEvent(listener: (event: TransportEvent) => void): () => void {
    return this.card.onEvent ? this.card.onEvent(listener) : () => undefined;
  }
  async close(disposition?: Disposition): Promise<void> {
    await this.card.close(disposition);
    await this.releaseContext().catch(() => undefined);
  }
}
