/**
 * Declarative fault injection: which APDU (counted from 1) loses the card, loses power, is slowed
 * down or gets a corrupted response. Shared by SimTransport and the vpcd bridge so a test that injects a
 * fault behaves the same in process and through pcscd.
 */
import { copyBytes } from '@minidriver/spec';

/**
 * What goes wrong, and when. APDU numbers are 1-based and count the command APDUs seen since the plan
 * was set (control messages such as power on/off are not counted). Each fault fires once, at its APDU.
 *
 * - `removeBeforeApdu: n` — the card is removed when APDU n arrives; the card never sees APDU n.
 * - `removeAfterApdu: n` — the card processes APDU n (its state changes) and is removed before the
 *   response reaches the host: the host sees a removed card and never gets the response. This is the
 *   "did my write happen?" case.
 * - `unpowerAfterApdu: n` — the card processes APDU n, then loses power (volatile state such as verified
 *   PINs and the selected application is gone; persistent state stays). The response is lost.
 * - `delayMs` — every response is held back this long (simulates a slow card, e.g. RSA key generation).
 * - `corruptResponseAt: n` — the first byte of response n is inverted (XOR 0xFF). With a data field this
 *   corrupts data; with a bare status word it turns the SW into another one.
 */
export interface FaultPlan {
  readonly removeBeforeApdu?: number;
  readonly removeAfterApdu?: number;
  readonly unpowerAfterApdu?: number;
  readonly delayMs?: number;
  readonly corruptResponseAt?: number;
}

/** What the injector decided for one APDU. */
export interface FaultDecision {
  /** The 1-based number of this APDU under the current plan. */
  readonly apduNumber: number;
  /** Remove the card now, without giving the APDU to the card. */
  readonly removeBefore: boolean;
  /** Give the APDU to the card, then remove the card and drop the response. */
  readonly removeAfter: boolean;
  /** Give the APDU to the card, then cut its power and drop the response. */
  readonly unpowerAfter: boolean;
  /** Invert the first byte of the response. */
  readonly corruptResponse: boolean;
  /** Hold the response back this many milliseconds (0 = none). */
  readonly delayMs: number;
}

/**
 * Holds a {@link FaultPlan} and counts APDUs against it. `setPlan` re-arms with a new plan and restarts
 * the count, so a test can say "remove the card after the next APDU" at any moment.
 */
export class FaultInjector {
  #plan: FaultPlan;
  #apduCount = 0;

  constructor(plan: FaultPlan = {}) {
    this.#plan = { ...plan };
  }

  /** The plan in force. */
  get plan(): FaultPlan {
    return { ...this.#plan };
  }

  /** APDUs counted since the plan was set. */
  get apduCount(): number {
    return this.#apduCount;
  }

  /** Replaces the plan and restarts the APDU count at zero. */
  setPlan(plan: FaultPlan): void {
    this.#plan = { ...plan };
    this.#apduCount = 0;
  }

  /** Removes every fault (and restarts the count). */
  clear(): void {
    this.setPlan({});
  }

  /** Counts one more APDU and says which faults apply to it. */
  nextApdu(): FaultDecision {
    this.#apduCount += 1;
    const apduNumber = this.#apduCount;
    const plan = this.#plan;
    return {
      apduNumber,
      removeBefore: plan.removeBeforeApdu === apduNumber,
      removeAfter: plan.removeAfterApdu === apduNumber,
      unpowerAfter: plan.unpowerAfterApdu === apduNumber,
      corruptResponse: plan.corruptResponseAt === apduNumber,
      delayMs: Math.max(0, plan.delayMs ?? 0),
    };
  }
}

/** Accepts a plan or an injector, so options can take either. */
export function toFaultInjector(faults: FaultPlan | FaultInjector | undefined): FaultInjector {
  return faults instanceof FaultInjector ? faults : new FaultInjector(faults);
}

/** A copy of `response` with its first byte inverted (the corruption `corruptResponseAt` applies). */
export function corruptResponse(response: Uint8Array): Uint8Array {
  const corrupted = copyBytes(response);
  if (corrupted.length > 0) corrupted[0] = (corrupted[0] ?? 0) ^ 0xff;
  return corrupted;
}

/** Waits `milliseconds` (resolves at once for 0). */
export function delay(milliseconds: number): Promise<void> {
  if (milliseconds <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
