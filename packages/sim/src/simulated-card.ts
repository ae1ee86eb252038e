/**
 * The interface every card simulator implements (cards/<card>/sim), and that the simulator host
 * (in-memory transport, vpcd bridge) drives.
 */

/**
 * A simulated smart card: an ATR, power control and an APDU processor. Implementations must behave as
 * the real card does on the wire (status words, chaining, 61xx), because real clients (OpenSC,
 * yubico-piv-tool, gpg) talk to them through pcscd.
 */
export interface SimulatedCard {
  /** A short name, e.g. "PIV" or "OpenPGP". */
  readonly name: string;
  /** The answer to reset the card sends on power-up. */
  readonly atr: Uint8Array;
  /** Power on (cold reset): volatile state (selected application, verified PINs) starts afresh. */
  powerOn(): void;
  /** Power off: volatile state is lost; persistent state (keys, objects, counters) stays. */
  powerOff(): void;
  /** Warm reset: like powerOff then powerOn. */
  reset(): void;
  /** Processes one command APDU and returns the response APDU (data || SW1 SW2). */
  process(command: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** The persistent state as a JSON-serialisable value (keys, objects, PIN counters). */
  saveState?(): unknown;
  /** Restores a state produced by saveState. */
  loadState?(state: unknown): void;
}
