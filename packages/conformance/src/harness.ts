/**
 * The rig every test group stands on: a simulated card behind a SimTransport that records APDUs,
 * a CardSession on it, and assertion helpers whose failures name the spec rule that was broken.
 */
import { CardSession, type CardSessionOptions, DataCacheStore } from '@minidriver/core';
import { ApduRecorder, SimTransport, type SimulatedCard } from '@minidriver/sim';
import { type ScardCodeName, ScardError } from '@minidriver/spec';
import type { ConformanceOptions } from './options.js';

/** A card, one transport to it, and a session on that transport. */
export interface Rig {
  readonly card: SimulatedCard;
  readonly transport: SimTransport;
  readonly recorder: ApduRecorder;
  /** The data cache store of this rig's sessions (shared by {@link openSecondSession}). */
  readonly store: DataCacheStore;
  readonly session: CardSession;
}

/** A failure of the card under test, with the rule it broke. */
export class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
}

/** Describes what a call threw, for messages (never includes data: it may hold a PIN). */
export function describeError(error: unknown): string {
  if (ScardError.isInstance(error)) return `${error.name} (${error.message})`;
  if (error instanceof Error)
    return `a non-ScardError ${error.name}: ${error.message} — only ScardError may escape (docs/spec/minidriver.md §1.5)`;
  return `a non-Error value ${String(error)} — only ScardError may escape (docs/spec/minidriver.md §1.5)`;
}

/** Opens a session with the plugin under test on a new SimTransport to `card`. */
export async function openRig(
  options: ConformanceOptions,
  card: SimulatedCard = options.createCard(),
  sessionOptions: CardSessionOptions = {},
  store: DataCacheStore = new DataCacheStore(),
): Promise<Rig> {
  const recorder = new ApduRecorder();
  const transport = new SimTransport(card, { recorder, readerName: `Conformance ${options.name}` });
  const session = await must(
    CardSession.open(options.plugin, transport, { cache: store, ...sessionOptions }),
    `docs/spec/minidriver.md §5.1.1 CardAcquireContext on a fresh ${options.name} card must succeed`,
  );
  return { card, transport, recorder, store, session };
}

/** Another transport and session on the same card, sharing the rig's cache store (a second process). */
export async function openSecondSession(options: ConformanceOptions, rig: Rig): Promise<Rig> {
  return openRig(options, rig.card, {}, rig.store);
}

/** Closes the session and the transport of a rig (never throws). */
export async function closeRig(rig: Rig | undefined): Promise<void> {
  if (rig === undefined) return;
  await rig.session.close().catch(() => undefined);
  await rig.transport.close().catch(() => undefined);
}

/** Awaits `promise`; a failure becomes a ConformanceFailure naming `rule` and what was thrown. */
export async function must<T>(promise: Promise<T>, rule: string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new ConformanceFailure(`${rule}: the call failed with ${describeError(error)}`, { cause: error });
  }
}

/**
 * Awaits `promise` and requires it to fail with the ScardError `code` (or one of `code`s). Returns the
 * error. The message says which rule failed, what was expected and what happened.
 */
export async function mustFail(
  promise: Promise<unknown>,
  code: ScardCodeName | readonly ScardCodeName[],
  rule: string,
): Promise<ScardError> {
  const codes: readonly ScardCodeName[] = typeof code === 'string' ? [code] : code;
  const expected = codes.join(' or ');
  let outcome: unknown;
  try {
    await promise;
  } catch (error) {
    outcome = error;
    if (ScardError.isInstance(error) && codes.some((name) => ScardError.hasCode(error, name))) return error;
    throw new ConformanceFailure(`${rule}: expected ${expected}, got ${describeError(error)}`, { cause: error });
  }
  throw new ConformanceFailure(`${rule}: expected ${expected}, but the call succeeded`, { cause: outcome });
}

/** Requires `condition`; otherwise fails with `rule` and `detail`. */
export function check(condition: unknown, rule: string, detail = ''): asserts condition {
  if (!condition) throw new ConformanceFailure(detail ? `${rule}: ${detail}` : rule);
}

/** Requires two byte strings to be equal, reporting lengths and the first difference. */
export function checkBytesEqual(actual: Uint8Array, expected: Uint8Array, rule: string): void {
  if (actual.length === expected.length && actual.every((byte, index) => byte === expected[index])) return;
  let index = 0;
  while (index < Math.min(actual.length, expected.length) && actual[index] === expected[index]) index++;
  throw new ConformanceFailure(
    `${rule}: got ${actual.length} bytes, expected ${expected.length}; first difference at offset ${index}`,
  );
}

/** Runs `action` and tells whether it failed, and with what; never throws. */
export async function settle(action: () => Promise<unknown>): Promise<{ failed: boolean; error?: unknown }> {
  try {
    await action();
    return { failed: false };
  } catch (error) {
    return { failed: true, error };
  }
}

/** How many APDUs `action` exchanged on the rig's transport (whether it succeeded or not). */
export async function countApdus(rig: Rig, action: () => Promise<unknown>): Promise<Outcome> {
  const before = rig.recorder.totals().apdus;
  const settled = await settle(action);
  return { apdus: rig.recorder.totals().apdus - before, ...settled };
}

/** What a call did: how many APDUs it sent and whether (and with what) it failed. */
export interface Outcome {
  readonly apdus: number;
  readonly failed: boolean;
  readonly error?: unknown;
}

/** Requires an {@link Outcome} to be a failure with `code`. */
export function checkFailedWith(outcome: Outcome, code: ScardCodeName | readonly ScardCodeName[], rule: string): void {
  const codes: readonly ScardCodeName[] = typeof code === 'string' ? [code] : code;
  if (!outcome.failed) throw new ConformanceFailure(`${rule}: expected ${codes.join(' or ')}, but the call succeeded`);
  if (codes.some((name) => ScardError.hasCode(outcome.error, name))) return;
  throw new ConformanceFailure(`${rule}: expected ${codes.join(' or ')}, got ${describeError(outcome.error)}`, {
    cause: outcome.error,
  });
}

/** The PIN the suite uses as a wrong PIN: the declared one, or the user PIN with its last byte changed. */
export function wrongPinOf(options: ConformanceOptions): Uint8Array {
  if (options.credentials.wrongPin) return new Uint8Array(options.credentials.wrongPin);
  const pin = new Uint8Array(options.credentials.userPin);
  const last = pin.length - 1;
  // Keep it a digit when it is one, so cards that check the PIN format still count the attempt.
  pin[last] = pin[last] === 0x30 ? 0x31 : pin[last] === 0x39 ? 0x38 : (pin[last] as number) ^ 0x01;
  return pin;
}

/** A copy of the user PIN (the session wipes its own copies; ours stay intact). */
export function userPinOf(options: ConformanceOptions): Uint8Array {
  return new Uint8Array(options.credentials.userPin);
}

/** Runs the card's `prepare` hook, then authenticates the user PIN (docs/spec/minidriver.md §5.2.1). */
export async function authenticateForWrites(options: ConformanceOptions, session: CardSession): Promise<void> {
  if (options.prepare) await must(options.prepare(session), `prepare() of the ${options.name} conformance options`);
  await must(
    session.authenticatePin('user', userPinOf(options)),
    'docs/spec/minidriver.md §5.2.1 CardAuthenticatePin("user") with the right PIN',
  );
}

/** A deterministic pseudo-random byte string (tests need varied, reproducible contents). */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[index] = state & 0xff;
  }
  return out;
}
