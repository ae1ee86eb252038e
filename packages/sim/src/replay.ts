/**
 * Replay fixtures: a real card's conversation recorded once (through any Transport, e.g. a PC/SC reader)
 * and answered again by {@link ReplayCard} in tests, without the card. Secrets never reach the fixture:
 * the data of VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and of the plugin's declared secret
 * APDUs is zeroed in the recorded commands (and secret responses are zeroed), and the replay compares the
 * commands it receives after the same redaction.
 *
 * @packageDocumentation
 */

import {
  fromHex,
  redactCommand,
  ScardError,
  type SecretApdu,
  type Transport,
  toHex,
  traceTransport,
} from '@minidriver/spec';
import type { SimulatedCard } from './simulated-card.js';

/** A recorded conversation with one card. */
export interface ReplayFixture {
  /** Format version: 1. */
  readonly version: 1;
  /** What the fixture shows (card, firmware, what was done). */
  readonly description?: string;
  /** The card's ATR, hex. */
  readonly atr: string;
  /** Every exchange in order: command and response APDUs, hex, secrets zeroed. */
  readonly exchanges: readonly { readonly command: string; readonly response: string }[];
}

/** The largest fixture accepted (exchanges), so a hostile file cannot exhaust memory. */
const MAX_EXCHANGES = 100_000;

/**
 * Wraps `transport` so that every exchange is recorded (secrets redacted under the ISO rules and `rules`,
 * a plugin's `secretApdus`). Use the returned transport as the card; `fixture()` is the conversation so far.
 */
export function recordReplayFixture(
  transport: Transport,
  options: { readonly rules?: readonly SecretApdu[]; readonly description?: string } = {},
): { readonly transport: Transport; fixture(): ReplayFixture } {
  const exchanges: { command: string; response: string }[] = [];
  const recording = traceTransport(
    transport,
    (entry) => {
      if (entry.response !== undefined)
        exchanges.push({ command: toHex(entry.command), response: toHex(entry.response) });
    },
    options.rules ?? [],
  );
  return {
    transport: recording,
    fixture: () => ({
      version: 1,
      ...(options.description === undefined ? {} : { description: options.description }),
      atr: toHex(transport.atr),
      exchanges: exchanges.map((exchange) => ({ ...exchange })),
    }),
  };
}

/** Checks a parsed fixture (e.g. from JSON.parse); SCARD_E_INVALID_PARAMETER names what is wrong. */
export function validateReplayFixture(value: unknown): ReplayFixture {
  const invalid = (problem: string): never => {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `replay fixture: ${problem}`);
  };
  const hex = (text: unknown, what: string, min: number): Uint8Array => {
    if (typeof text !== 'string') return invalid(`${what} must be a hex string`);
    let bytes: Uint8Array;
    try {
      bytes = fromHex(text);
    } catch {
      return invalid(`${what} is not hex`);
    }
    if (bytes.length < min) invalid(`${what} has ${bytes.length} bytes (at least ${min})`);
    return bytes;
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('not an object');
  const fixture = value as Record<string, unknown>;
  if (fixture.version !== 1) invalid(`version ${JSON.stringify(fixture.version)} (only 1)`);
  if (fixture.description !== undefined && typeof fixture.description !== 'string') invalid('description must be text');
  const atr = hex(fixture.atr, 'atr', 2);
  if (atr.length > 33) invalid(`atr has ${atr.length} bytes (at most 33)`);
  if (!Array.isArray(fixture.exchanges)) return invalid('exchanges must be an array');
  if (fixture.exchanges.length > MAX_EXCHANGES) invalid(`more than ${MAX_EXCHANGES} exchanges`);
  const exchanges = fixture.exchanges.map((exchange: unknown, index: number) => {
    const entry = (typeof exchange === 'object' && exchange !== null ? exchange : {}) as Record<string, unknown>;
    hex(entry.command, `exchanges[${index}].command`, 4);
    hex(entry.response, `exchanges[${index}].response`, 2);
    return { command: (entry.command as string).toLowerCase(), response: (entry.response as string).toLowerCase() };
  });
  return {
    version: 1,
    ...(typeof fixture.description === 'string' ? { description: fixture.description } : {}),
    atr: toHex(atr),
    exchanges,
  };
}

/**
 * A simulated card that answers a recorded conversation, exchange by exchange. A command that differs
 * from the recording (after redaction), or one past its end, answers 6F 00 and is kept in
 * {@link divergence}; {@link assertComplete} then fails the test with what was expected and what came.
 */
export class ReplayCard implements SimulatedCard {
  readonly name: string;
  readonly atr: Uint8Array;
  readonly #fixture: ReplayFixture;
  readonly #rules: readonly SecretApdu[];
  #next = 0;
  #divergence: string | undefined;

  constructor(fixture: unknown, options: { readonly rules?: readonly SecretApdu[]; readonly name?: string } = {}) {
    this.#fixture = validateReplayFixture(fixture);
    this.#rules = options.rules ?? [];
    this.name = options.name ?? this.#fixture.description ?? 'Replayed card';
    this.atr = fromHex(this.#fixture.atr);
  }

  /** How many recorded exchanges were answered. */
  get replayed(): number {
    return this.#next;
  }

  /** The first difference from the recording, in words; undefined while the replay follows it. */
  get divergence(): string | undefined {
    return this.#divergence;
  }

  powerOn(): void {}
  powerOff(): void {}
  reset(): void {}

  process(command: Uint8Array): Uint8Array {
    const expected = this.#fixture.exchanges[this.#next];
    const received = toHex(redactCommand(command, this.#rules).command);
    if (this.#divergence !== undefined || expected === undefined || expected.command !== received) {
      this.#divergence ??=
        expected === undefined
          ? `exchange ${this.#next + 1}: ${received} after the recording's ${this.#fixture.exchanges.length} exchanges`
          : `exchange ${this.#next + 1}: expected ${expected.command}, received ${received}`;
      return Uint8Array.of(0x6f, 0x00);
    }
    this.#next++;
    return fromHex(expected.response);
  }

  /** Throws SCARD_E_UNEXPECTED unless every recorded exchange was replayed, in order, and nothing else. */
  assertComplete(): void {
    if (this.#divergence !== undefined) {
      throw new ScardError('SCARD_E_UNEXPECTED', `the replay diverged from the recording: ${this.#divergence}`);
    }
    if (this.#next !== this.#fixture.exchanges.length) {
      throw new ScardError(
        'SCARD_E_UNEXPECTED',
        `the replay stopped after ${this.#next} of ${this.#fixture.exchanges.length} recorded exchanges`,
      );
    }
  }
}
