/**
 * `--stats`: what a run cost. Counts the APDUs (and bytes) sent to every card the command opened and the
 * data cache's answers, for one line on stderr or a `stats` member of the JSON document.
 *
 * @packageDocumentation
 */
import type { ConnectedCard, OpenedCard } from '../card/open-card.js';

/** The figures of one run. */
export interface RunStatsSummary {
  /** Command APDUs sent to the card(s). */
  readonly apdus: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Lookups the data cache answered (files, container info, key sizes, properties). */
  readonly cacheHits: number;
  /** Lookups that went to the card. */
  readonly cacheMisses: number;
}

/** The card access functions of a command context. */
interface CardAccess {
  openSession(options?: { readonly version?: number }): Promise<OpenedCard>;
  connect(): Promise<ConnectedCard>;
}

/** Collects the figures of the cards a command opens. */
export class RunStats {
  private readonly connected: ConnectedCard[] = [];
  private readonly opened: OpenedCard[] = [];

  /** The same access, remembering every card opened through it. */
  track<T extends CardAccess>(access: T): T {
    return {
      ...access,
      openSession: async (options?: { readonly version?: number }) => {
        const card = await access.openSession(options);
        this.opened.push(card);
        return card;
      },
      connect: async () => {
        const card = await access.connect();
        this.connected.push(card);
        return card;
      },
    };
  }

  /** The totals so far. */
  summary(): RunStatsSummary {
    let apdus = 0;
    let bytesSent = 0;
    let bytesReceived = 0;
    let cacheHits = 0;
    let cacheMisses = 0;
    for (const card of [...this.connected, ...this.opened]) {
      const totals = card.recorder.totals();
      apdus += totals.apdus;
      bytesSent += totals.bytesSent;
      bytesReceived += totals.bytesReceived;
    }
    for (const card of this.opened) {
      const stats = card.session.stats();
      cacheHits += stats.cacheHits;
      cacheMisses += stats.cacheMisses;
    }
    return { apdus, bytesSent, bytesReceived, cacheHits, cacheMisses };
  }

  /** The human line. */
  render(): string {
    const { apdus, bytesSent, bytesReceived, cacheHits, cacheMisses } = this.summary();
    return `stats: ${apdus} APDUs sent (${bytesSent} bytes out, ${bytesReceived} in), cache hits: ${cacheHits}, cache misses: ${cacheMisses}`;
  }

  /** `result` with a `stats` member (a non-object result is wrapped as `{ result, stats }`). */
  attachTo(result: unknown): unknown {
    const stats = this.summary();
    if (result !== null && typeof result === 'object' && !Array.isArray(result)) return { ...result, stats };
    return { result, stats };
  }
}
