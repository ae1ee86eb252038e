/**
 * The OpenPGP plugin's `cardcf` (docs/cache.md): the containers and files counters live in the private
 * use DO 0102 (readable by everyone, written with PW3, which every write of ours holds), so every process
 * sees the writes of every other through them; the pins counter stays in the context (nothing cached
 * depends on it, and a PIN change does not hold PW3); the trailing bytes are the witness of the card's
 * keys in 6E ({@link applicationDataWitness}), which every key writer changes. A DO 0102 holding someone
 * else's data is never overwritten: the counters then stay in the context.
 *
 * @packageDocumentation
 */
import { type CardCfStore, decodeCardCacheFile, encodeCardCacheFile, InContextCardCf } from '@minidriver/card-kit';
import { type CallMemo, ScardError } from '@minidriver/spec';
import type { OpenPgpApplication } from './openpgp-application.js';
import { applicationDataWitness, COUNTERS_DO, decodeCountersDo, encodeCountersDo } from './openpgp-freshness.js';

const SW_SECURITY_STATUS_NOT_SATISFIED = 0x6982;

/** The memo key of the 6E bytes CardAcquireContext read, used by the first `cardcf` read of that call. */
export const ACQUIRED_APPLICATION_DATA = 'openpgp:6E at acquire';

/** See the module documentation. */
export class OpenPgpCardCf implements CardCfStore {
  readonly #app: OpenPgpApplication;
  readonly #memo: CallMemo;
  /** The pins counter, and the other counters when DO 0102 is not ours. */
  readonly #inContext = new InContextCardCf();

  constructor(app: OpenPgpApplication, memo: CallMemo) {
    this.#app = app;
    this.#memo = memo;
  }

  async read(): Promise<Uint8Array> {
    // Once: the 6E CardAcquireContext read in this call; every later read asks the card.
    const acquired = this.#memo.peek<Uint8Array>(ACQUIRED_APPLICATION_DATA);
    this.#memo.delete(ACQUIRED_APPLICATION_DATA);
    const witness = applicationDataWitness(acquired ?? (await this.#app.readApplicationDataBytes()));
    const onCard = decodeCountersDo(await this.#app.readPrivateUse(COUNTERS_DO));
    const local = decodeCardCacheFile(this.#inContext.read());
    const counters = onCard.kind === 'ours' ? onCard.counters : local;
    return encodeCardCacheFile({
      version: local.version,
      pinsFreshness: local.pinsFreshness,
      containersFreshness: counters.containersFreshness,
      filesFreshness: counters.filesFreshness,
      trailing: witness,
    });
  }

  async write(data: Uint8Array): Promise<void> {
    this.#inContext.write(data);
    const next = decodeCardCacheFile(data);
    const onCard = decodeCountersDo(await this.#app.readPrivateUse(COUNTERS_DO));
    if (onCard.kind === 'foreign') return;
    const current = onCard.kind === 'ours' ? onCard.counters : { containersFreshness: 0, filesFreshness: 0 };
    if (current.containersFreshness === next.containersFreshness && current.filesFreshness === next.filesFreshness) {
      return;
    }
    try {
      await this.#app.writePrivateUse(COUNTERS_DO, encodeCountersDo(next));
    } catch (error) {
      // Without PW3 (a user's write of the in-context cmapfile) the card did not change: the counters
      // stay in this context, and other contexts have nothing to see.
      if (!ScardError.isInstance(error) || error.statusWord !== SW_SECURITY_STATUS_NOT_SATISFIED) throw error;
    }
  }
}
