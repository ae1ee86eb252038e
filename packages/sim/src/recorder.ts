/**
 * The APDU recorder: counts APDUs and bytes each way per named operation ("keygen", "sign"), for
 * tests ("signing takes exactly 3 APDUs") and benchmarks. `recordingTransport` puts one in front of any
 * Transport, real or simulated.
 */
import { interceptTransmit, type Transport } from '@minidriver/spec';

/** APDU counts for one operation. */
export interface ApduStats {
  /** The operation name given to `begin`, or {@link UNLABELLED_OPERATION}. */
  readonly operation: string;
  /** Command APDUs exchanged. */
  readonly apdus: number;
  /** Bytes of command APDUs sent to the card. */
  readonly bytesSent: number;
  /** Bytes of response APDUs received (data and status word). */
  readonly bytesReceived: number;
}

/** The operation APDUs count toward when no `begin` is open. */
export const UNLABELLED_OPERATION = '(unlabelled)';

interface MutableStats {
  apdus: number;
  bytesSent: number;
  bytesReceived: number;
}

/**
 * Counts APDUs per operation. Operations nest: `begin('sign')` inside `begin('login')` counts toward
 * `sign` until its `end()`. Only sizes are kept, never the bytes (they may carry PINs).
 */
export class ApduRecorder {
  readonly #byOperation = new Map<string, MutableStats>();
  readonly #open: string[] = [];

  /** Starts counting toward `operation` (until the matching `end`). */
  begin(operation: string): void {
    this.#open.push(operation);
  }

  /** Ends the innermost open operation; does nothing when none is open. */
  end(): void {
    this.#open.pop();
  }

  /** Runs `action` as `operation` and ends it even when `action` throws. */
  async measure<T>(operation: string, action: () => Promise<T> | T): Promise<T> {
    this.begin(operation);
    try {
      return await action();
    } finally {
      this.end();
    }
  }

  /** The operation now being counted. */
  get currentOperation(): string {
    return this.#open.at(-1) ?? UNLABELLED_OPERATION;
  }

  /** Counts one exchange toward the current operation. */
  record(command: Uint8Array, response: Uint8Array): void {
    const operation = this.currentOperation;
    let stats = this.#byOperation.get(operation);
    if (!stats) {
      stats = { apdus: 0, bytesSent: 0, bytesReceived: 0 };
      this.#byOperation.set(operation, stats);
    }
    stats.apdus += 1;
    stats.bytesSent += command.length;
    stats.bytesReceived += response.length;
  }

  /** Counts per operation, in the order operations were first seen. */
  stats(): ApduStats[] {
    return [...this.#byOperation].map(([operation, stats]) => ({ operation, ...stats }));
  }

  /** The counts of one operation (zeros when it saw no APDU). */
  statsOf(operation: string): ApduStats {
    const stats = this.#byOperation.get(operation);
    return {
      operation,
      apdus: stats?.apdus ?? 0,
      bytesSent: stats?.bytesSent ?? 0,
      bytesReceived: stats?.bytesReceived ?? 0,
    };
  }

  /** The sum over every operation. */
  totals(): Omit<ApduStats, 'operation'> {
    let apdus = 0;
    let bytesSent = 0;
    let bytesReceived = 0;
    for (const stats of this.#byOperation.values()) {
      apdus += stats.apdus;
      bytesSent += stats.bytesSent;
      bytesReceived += stats.bytesReceived;
    }
    return { apdus, bytesSent, bytesReceived };
  }

  /** Forgets all counts and closes every open operation. */
  reset(): void {
    this.#byOperation.clear();
    this.#open.length = 0;
  }
}

/**
 * A Transport that records every successful transmit of `transport` in `recorder` and otherwise
 * behaves exactly like it (same errors, same events, close passes through).
 */
export function recordingTransport(transport: Transport, recorder: ApduRecorder): Transport {
  return interceptTransmit(transport, async (command, send) => {
    const response = await send(command);
    recorder.record(command, response);
    return response;
  });
}
