/**
 * The transport side of a simulated card (ISO/IEC 7816-3 and 7816-4, docs/spec/iso7816.md): parsing a
 * command APDU of any case (short or extended), assembling command chains (CLA bit b5), and handing
 * out long answers in pieces with 61xx and GET RESPONSE, around a handler that only sees whole
 * commands and returns whole answers.
 *
 * @packageDocumentation
 */
import { CardStatusError } from './status-error.js';

/** A parsed command APDU. */
export interface SimCommand {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** The command data (the whole chain's data for the last command of a chain). */
  readonly data: Uint8Array;
  /** Ne: the most response bytes the host expects (256 / 65536 for Le = 00 / 0000); undefined = no Le. */
  readonly ne: number | undefined;
  /** True when the command used extended length fields. */
  readonly extended: boolean;
}

/** A handler's answer: data and status word (default 90 00). */
export interface SimAnswer {
  readonly data?: Uint8Array;
  readonly statusWord?: number;
}

/** Status words the dispatcher itself answers. */
export const SimStatus = {
  success: 0x9000,
  wrongLength: 0x6700,
  secureMessagingNotSupported: 0x6882,
  chainingNotSupported: 0x6884,
  conditionsNotSatisfied: 0x6985,
  wrongP1P2: 0x6b00,
  claNotSupported: 0x6e00,
} as const;

/** Options of {@link ApduDispatcher}. */
export interface ApduDispatcherOptions {
  /** Largest command data a chain may assemble (default 65535). */
  readonly maxChainLength?: number;
  /** Largest piece of an answer sent at once when the host asked for more (default: Ne as asked). */
  readonly maxResponseLength?: number;
  /**
   * The instructions a command chain may carry: a chained block of any other instruction discards the chain
   * and answers 68 84 (default: every instruction may be chained).
   */
  readonly chainableInstructions?: ReadonlySet<number>;
  /**
   * True for a card that knows only the interindustry class without secure messaging: CLA with b4 or b3 set
   * answers 68 82, any other bit than the chaining bit b5 answers 6E 00 (default: the handler checks CLA).
   */
  readonly interindustryClassOnly?: boolean;
  /**
   * The status word answered when the handler throws something other than a {@link CardStatusError}, as a card
   * answers an internal fault (e.g. 6F 00). Default: the error is rethrown.
   */
  readonly internalErrorStatus?: number;
}

/** What the dispatcher makes of a command APDU before the handler: an answer of its own, or a whole command. */
type Received =
  | { readonly response: Uint8Array }
  | { readonly command: SimCommand; readonly whole: SimCommand; readonly response?: undefined };

const INS_GET_RESPONSE = 0xc0;
const SW_INS_NOT_SUPPORTED = 0x6d00;

/** A handler of one instruction: its answer, or just the response data (status 90 00). */
export type InstructionHandler = (command: SimCommand) => SimAnswer | Uint8Array;

/**
 * A dispatcher handler from a table of instructions: each command goes to the handler of its INS, an
 * instruction the table lacks answers 6D 00 (instruction not supported).
 */
export function byInstruction(table: ReadonlyMap<number, InstructionHandler>): (command: SimCommand) => SimAnswer {
  return (command) => {
    const handler = table.get(command.ins);
    if (handler === undefined) throw new CardStatusError(SW_INS_NOT_SUPPORTED, 'instruction not supported');
    const answer = handler(command);
    return answer instanceof Uint8Array ? { data: answer } : answer;
  };
}

/**
 * Parses a command APDU (cases 1-4, short or extended). Malformed lengths → a {@link CardStatusError}
 * 67 00, as a card answers.
 */
export function parseSimCommand(apdu: Uint8Array): SimCommand {
  if (apdu.length < 4) throw new CardStatusError(SimStatus.wrongLength, 'command shorter than a header');
  const [cla, ins, p1, p2] = apdu as unknown as [number, number, number, number];
  const body = apdu.subarray(4);
  const command = (data: Uint8Array, ne: number | undefined, extended: boolean): SimCommand => ({
    cla,
    ins,
    p1,
    p2,
    data: new Uint8Array(data),
    ne,
    extended,
  });
  if (body.length === 0) return command(new Uint8Array(0), undefined, false);
  if (body.length === 1) return command(new Uint8Array(0), body[0] === 0 ? 256 : body[0], false);
  if (body[0] !== 0) {
    const lc = body[0] as number;
    if (body.length === 1 + lc) return command(body.subarray(1), undefined, false);
    if (body.length === 2 + lc) {
      const le = body[1 + lc] as number;
      return command(body.subarray(1, 1 + lc), le === 0 ? 256 : le, false);
    }
    throw new CardStatusError(SimStatus.wrongLength, 'Lc does not match the command length');
  }
  // Extended: 00 followed by two bytes.
  if (body.length === 3) {
    const le = ((body[1] as number) << 8) | (body[2] as number);
    return command(new Uint8Array(0), le === 0 ? 65536 : le, true);
  }
  const lc = ((body[1] as number) << 8) | (body[2] as number);
  if (lc === 0) throw new CardStatusError(SimStatus.wrongLength, 'extended Lc of 0');
  if (body.length === 3 + lc) return command(body.subarray(3), undefined, true);
  if (body.length === 5 + lc) {
    const le = ((body[3 + lc] as number) << 8) | (body[4 + lc] as number);
    return command(body.subarray(3, 3 + lc), le === 0 ? 65536 : le, true);
  }
  throw new CardStatusError(SimStatus.wrongLength, 'extended Lc does not match the command length');
}

/**
 * Runs a simulated card's commands: chains (CLA b5 set: kept and answered 90 00; the last command gets
 * the whole data; a different command discards the chain), GET RESPONSE (INS C0) for answers longer
 * than Ne (61xx, xx = bytes left or 00 for 256 and more; any other command drops what was left), and
 * {@link CardStatusError}s thrown by the handler turned into their status word. Chain data is wiped
 * once used. {@link process} awaits the handler; {@link processSync} runs a synchronous handler.
 */
export class ApduDispatcher {
  readonly #handler: (command: SimCommand) => SimAnswer | Promise<SimAnswer>;
  readonly #options: ApduDispatcherOptions;
  readonly #maxChainLength: number;
  #chain: { key: string; blocks: Uint8Array[]; length: number } | undefined;
  #pending: { rest: Uint8Array; statusWord: number } | undefined;

  constructor(handler: (command: SimCommand) => SimAnswer | Promise<SimAnswer>, options: ApduDispatcherOptions = {}) {
    this.#handler = handler;
    this.#options = options;
    this.#maxChainLength = options.maxChainLength ?? 0xffff;
  }

  /** Forgets a pending chain and response (card reset, application selection). */
  reset(): void {
    this.#discardChain();
    this.#pending = undefined;
  }

  #discardChain(): void {
    for (const block of this.#chain?.blocks ?? []) block.fill(0);
    this.#chain = undefined;
  }

  /** Answers one command APDU with a response APDU (data ‖ SW1 SW2). */
  async process(apdu: Uint8Array): Promise<Uint8Array> {
    const received = this.#receive(apdu);
    if (received.response !== undefined) return received.response;
    try {
      return this.#respond(await this.#handler(received.whole), received);
    } catch (error) {
      return this.#status(error);
    }
  }

  /**
   * {@link process} for a card whose handler answers synchronously (a simulator that must answer its own
   * commands in a constructor); a handler that returns a promise is a TypeError.
   */
  processSync(apdu: Uint8Array): Uint8Array {
    const received = this.#receive(apdu);
    if (received.response !== undefined) return received.response;
    let answer: SimAnswer | Promise<SimAnswer>;
    try {
      answer = this.#handler(received.whole);
    } catch (error) {
      return this.#status(error);
    }
    if (answer instanceof Promise) {
      answer.catch(() => undefined);
      throw new TypeError('processSync needs a synchronous handler');
    }
    return this.#respond(answer, received);
  }

  #receive(apdu: Uint8Array): Received {
    let command: SimCommand;
    try {
      command = parseSimCommand(apdu);
    } catch (error) {
      this.#pending = undefined;
      return { response: this.#status(error) };
    }
    if (this.#options.interindustryClassOnly) {
      const refusal =
        (command.cla & 0x0c) !== 0
          ? SimStatus.secureMessagingNotSupported
          : (command.cla & ~0x10) !== 0
            ? SimStatus.claNotSupported
            : undefined;
      if (refusal !== undefined) {
        this.#pending = undefined;
        return { response: statusBytes(refusal) };
      }
    }
    if (command.ins === INS_GET_RESPONSE && (command.cla & 0x10) === 0) return { response: this.#getResponse(command) };
    this.#pending = undefined;
    try {
      const whole = this.#collect(command);
      return whole === undefined ? { response: statusBytes(SimStatus.success) } : { command, whole };
    } catch (error) {
      return { response: this.#status(error) };
    }
  }

  #respond(answer: SimAnswer, received: { command: SimCommand; whole: SimCommand }): Uint8Array {
    const response = this.#send(
      answer.data ?? new Uint8Array(0),
      answer.statusWord ?? SimStatus.success,
      received.command.ne,
    );
    if (received.whole !== received.command) received.whole.data.fill(0);
    return response;
  }

  #collect(command: SimCommand): SimCommand | undefined {
    const key = `${command.ins}:${command.p1}:${command.p2}`;
    const chain = this.#chain?.key === key ? this.#chain : undefined;
    if (chain === undefined) this.#discardChain();
    if ((command.cla & 0x10) !== 0) {
      const chainable = this.#options.chainableInstructions;
      if (chainable !== undefined && !chainable.has(command.ins)) {
        this.#discardChain();
        throw new CardStatusError(SimStatus.chainingNotSupported, 'this command cannot be chained');
      }
      const current = chain ?? { key, blocks: [], length: 0 };
      current.length += command.data.length;
      current.blocks.push(command.data);
      this.#chain = current;
      if (current.length > this.#maxChainLength) {
        this.#discardChain();
        throw new CardStatusError(SimStatus.wrongLength, 'command chain too long');
      }
      return undefined;
    }
    if (chain === undefined) return command;
    const data = new Uint8Array(chain.length + command.data.length);
    let offset = 0;
    for (const block of [...chain.blocks, command.data]) {
      data.set(block, offset);
      offset += block.length;
    }
    this.#discardChain();
    return { ...command, data };
  }

  #send(data: Uint8Array, statusWord: number, ne: number | undefined): Uint8Array {
    const limit = Math.min(ne ?? 256, this.#options.maxResponseLength ?? Number.POSITIVE_INFINITY);
    if (data.length <= limit) return concat(data, statusWord);
    const rest = data.slice(limit);
    this.#pending = { rest, statusWord };
    return concat(data.subarray(0, limit), 0x6100 | (rest.length > 0xff ? 0 : rest.length));
  }

  #getResponse(command: SimCommand): Uint8Array {
    const pending = this.#pending;
    this.#pending = undefined;
    if (command.p1 !== 0 || command.p2 !== 0) return statusBytes(SimStatus.wrongP1P2);
    if (pending === undefined) return statusBytes(SimStatus.conditionsNotSatisfied);
    return this.#send(pending.rest, pending.statusWord, command.ne);
  }

  #status(error: unknown): Uint8Array {
    if (error instanceof CardStatusError) return statusBytes(error.statusWord);
    const internal = this.#options.internalErrorStatus;
    if (internal !== undefined) return statusBytes(internal);
    throw error;
  }
}

function statusBytes(statusWord: number): Uint8Array {
  return Uint8Array.of((statusWord >> 8) & 0xff, statusWord & 0xff);
}

function concat(data: Uint8Array, statusWord: number): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = (statusWord >> 8) & 0xff;
  out[data.length + 1] = statusWord & 0xff;
  return out;
}
