/**
 * @packageDocumentation
 * The machinery behind one token (internal): its CardSession, removal tracking (a removed card turns every
 * later call into SCARD_W_REMOVED_CARD and tells the store once), the PIN cache policy of each PIN (normal,
 * timed, none, always-prompt) and authentication through a PIN value or a prompt, with no silent retry.
 */
import type { CardSession } from '@minidriver/core';
import { createPinSet, type PinId, ROLE_ADMIN, ScardError, wipe } from '@minidriver/spec';
import { describeValue } from './options.js';
import {
  adminKeyBytes,
  answerChallenge,
  type PinFacts,
  type PinPrompt,
  type PinSource,
  pinBytes,
  readRetriesLeft,
} from './pins.js';

/** Codes that mean the card (or its reader) is gone. */
const REMOVAL_CODES = ['SCARD_W_REMOVED_CARD', 'SCARD_E_NO_SMARTCARD', 'SCARD_E_READER_UNAVAILABLE'] as const;

/** True when `error` says the card left the reader. */
export function isRemoval(error: unknown): boolean {
  return REMOVAL_CODES.some((code) => ScardError.hasCode(error, code));
}

/**
 * Failures a card leaving the reader can also show up as, depending on where the transmission broke
 * (pcscd through vpcd answers an empty response, a reader may time out): worth asking whether the card is
 * still there before reporting them.
 */
const COMMUNICATION_CODES = [
  'SCARD_F_COMM_ERROR',
  'SCARD_E_COMM_DATA_LOST',
  'SCARD_E_NOT_TRANSACTED',
  'SCARD_E_TIMEOUT',
  'SCARD_E_UNEXPECTED',
  'SCARD_F_INTERNAL_ERROR',
  'SCARD_F_UNKNOWN_ERROR',
  'SCARD_W_UNRESPONSIVE_CARD',
  'SCARD_W_UNPOWERED_CARD',
] as const;

/** True when `error` may be a removal seen from the wire (see COMMUNICATION_CODES). */
export function isCommunicationFailure(error: unknown): boolean {
  return COMMUNICATION_CODES.some((code) => ScardError.hasCode(error, code));
}

/** True when the card refused for lack of a verified PIN. */
export function needsAuthentication(error: unknown): boolean {
  return (
    ScardError.hasCode(error, 'SCARD_W_SECURITY_VIOLATION') ||
    ScardError.hasCode(error, 'SCARD_W_CARD_NOT_AUTHENTICATED')
  );
}

/** Errors the application's own prompt threw: they reach the caller unchanged (not turned into ScardError). */
const promptErrors = new WeakSet<object>();

/** What a core needs from its owner. */
export interface TokenCoreInit {
  readonly session: CardSession;
  readonly readerName: string;
  readonly label: string;
  readonly pins: readonly PinFacts[];
  /** The store's prompt, used when a key operation needs a PIN nobody logged in with a prompt for. */
  readonly prompt: PinPrompt | undefined;
  /** Called once, when the token learns its card is gone. */
  readonly onRemoved: () => void;
  /** Whether the card is still in the reader (asked after a communication failure), when the store can tell. */
  readonly cardPresent?: () => Promise<boolean>;
}

/** The shared state of one token (see the module comment). */
export class TokenCore {
  readonly session: CardSession;
  readonly readerName: string;
  readonly label: string;
  readonly pins: ReadonlyMap<number, PinFacts>;
  private readonly storePrompt: PinPrompt | undefined;
  private readonly onRemoved: () => void;
  private readonly cardPresent: (() => Promise<boolean>) | undefined;
  private isRemoved = false;
  /** Prompts given to login(role, prompt), by PIN id. */
  private readonly prompts = new Map<number, PinPrompt>();
  /** always-prompt PINs verified by login and not yet used by an operation. */
  private readonly armed = new Set<number>();
  /** timed PINs: when their verification expires (ms since epoch). */
  private readonly expiry = new Map<number, number>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Exclusive operations queued or running (a verify-then-use pair must not be interleaved). */
  private exclusiveRunning = 0;

  constructor(init: TokenCoreInit) {
    this.session = init.session;
    this.readerName = init.readerName;
    this.label = init.label;
    this.pins = new Map(init.pins.map((pin) => [pin.id, pin]));
    this.storePrompt = init.prompt;
    this.onRemoved = init.onRemoved;
    this.cardPresent = init.cardPresent;
  }

  /** True once the card was removed (or the store closed the token). */
  get removed(): boolean {
    return this.isRemoved;
  }

  /** Marks the token gone (idempotent): later calls fail with SCARD_W_REMOVED_CARD; the store is told once. */
  markRemoved(): void {
    if (this.isRemoved) return;
    this.isRemoved = true;
    this.prompts.clear();
    this.armed.clear();
    this.expiry.clear();
    this.onRemoved();
  }

  /** SCARD_W_REMOVED_CARD when the token is gone. */
  requirePresent(): void {
    if (this.isRemoved) {
      throw new ScardError('SCARD_W_REMOVED_CARD', `the card in "${this.readerName}" was removed`);
    }
  }

  /**
   * Runs `work` against the card: refused at once when the token is gone; a removal seen during the work
   * marks the token removed (and the store emits token-removed) before the error is thrown.
   */
  async guard<T>(work: () => Promise<T>): Promise<T> {
    this.requirePresent();
    try {
      return await work();
    } catch (error) {
      if (isRemoval(error)) this.markRemoved();
      else if (isCommunicationFailure(error) && this.cardPresent && !(await this.cardPresent().catch(() => true))) {
        this.markRemoved();
        throw new ScardError(
          'SCARD_W_REMOVED_CARD',
          `the card in "${this.readerName}" was removed during the operation`,
          {
            cause: error,
          },
        );
      }
      if (typeof error === 'object' && error !== null && promptErrors.has(error)) throw error;
      throw ScardError.from(error);
    }
  }

  /** Runs `work` exclusively among this token's authenticated operations (a verify and its use stay together). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    this.exclusiveRunning++;
    const run = this.queue.then(() => this.guard(work));
    this.queue = run.catch(() => undefined);
    void this.queue.then(() => {
      this.exclusiveRunning--;
    });
    return run;
  }

  /** The facts of PIN `id`, or SCARD_E_INVALID_PARAMETER when the card has no such PIN. */
  pin(id: number): PinFacts {
    const facts = this.pins.get(id);
    if (!facts) throw new ScardError('SCARD_E_INVALID_PARAMETER', `the card has no PIN ${id}`);
    return facts;
  }

  /** The PIN of a role name or id. */
  pinOfRole(role: unknown): PinFacts {
    if (typeof role === 'number') return this.pin(role);
    for (const facts of this.pins.values()) if (facts.role === role) return facts;
    const known = [...this.pins.values()].map((facts) => facts.role).join(', ');
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `unknown PIN role "${describeValue(role)}" (${known})`);
  }

  /** Token.login: verifies now; remembers a prompt for later needs; arms an always-prompt PIN for one use. */
  login(facts: PinFacts, source: PinSource | undefined): Promise<void> {
    return this.exclusive(async () => {
      if (typeof source === 'function') this.prompts.set(facts.id, source);
      else this.prompts.delete(facts.id);
      await this.verify(facts, source, 'login');
    });
  }

  /** Token.logout: forgets prompts and deauthenticates the PINs (all the card has verified when `facts` is undefined). */
  logout(facts: PinFacts | undefined): Promise<void> {
    return this.exclusive(async () => {
      const ids = facts ? [facts.id] : [...this.pins.keys()];
      for (const id of ids) {
        this.prompts.delete(id);
        this.armed.delete(id);
        this.expiry.delete(id);
      }
      const set = facts ? createPinSet(facts.id) : 0xfe;
      await this.session.deauthenticateEx(set);
    });
  }

  /**
   * Runs a private key operation protected by PIN `pinId`, honouring its cache policy:
   * - always-prompt: the PIN is verified right before the operation (by the prompt), unless a login armed it;
   * - timed: an expired verification is dropped (deauthenticated) first;
   * - otherwise the operation runs; if the card refuses for lack of the PIN and a prompt is known, the PIN is
   *   asked once, verified, and the operation runs once more. A wrong PIN is thrown, never retried.
   */
  withPin<T>(pinId: number, operation: () => Promise<T>): Promise<T> {
    const facts = this.pins.get(pinId);
    const policy = facts?.cachePolicy.type;
    const expired = policy === 'timed' && (this.expiry.get(pinId) ?? Number.POSITIVE_INFINITY) <= Date.now();
    if (facts === undefined || (policy !== 'always-prompt' && !expired && this.exclusiveRunning === 0)) {
      // Nothing to verify first, and no verify-then-use pair in flight: the operation runs at once; a refusal
      // for lack of the PIN takes the exclusive way (prompt, verify, once more).
      return this.guard(operation).catch((error: unknown) => {
        if (facts === undefined || !needsAuthentication(error) || this.promptFor(pinId) === undefined) throw error;
        return this.exclusive(() => this.verifiedOperation(facts, operation));
      });
    }
    return this.exclusive(() => this.verifiedOperation(facts, operation));
  }

  private async verifiedOperation<T>(facts: PinFacts, operation: () => Promise<T>): Promise<T> {
    const pinId = facts.id;
    const policy = facts.cachePolicy;
    if (policy.type === 'timed') {
      const until = this.expiry.get(pinId);
      if (until !== undefined && Date.now() >= until) {
        this.expiry.delete(pinId);
        await this.session.deauthenticateEx(createPinSet(facts.id)).catch((error: unknown) => {
          if (isRemoval(error)) throw error;
        });
      }
    }
    if (policy.type === 'always-prompt') {
      if (this.armed.has(pinId)) this.armed.delete(pinId);
      else await this.verifyByPrompt(facts);
      return operation();
    }
    try {
      return await operation();
    } catch (error) {
      if (!needsAuthentication(error) || this.promptFor(pinId) === undefined) throw error;
    }
    await this.verifyByPrompt(facts);
    return operation();
  }

  /** Runs an admin operation (key generation, certificate writes): as {@link withPin} for the admin role. */
  withAdmin<T>(operation: () => Promise<T>): Promise<T> {
    return this.withPin(ROLE_ADMIN, operation);
  }

  private promptFor(pinId: number): PinPrompt | undefined {
    return this.prompts.get(pinId) ?? this.storePrompt;
  }

  private async verifyByPrompt(facts: PinFacts): Promise<void> {
    if (facts.type === 'external') {
      await this.verify(facts, undefined, 'operation');
      return;
    }
    const prompt = this.promptFor(facts.id);
    if (prompt === undefined) {
      const why =
        facts.cachePolicy.type === 'always-prompt'
          ? `PIN "${facts.role}" is asked before every use (PIN cache policy always-prompt): log in again right before, or log in with a prompt`
          : `PIN "${facts.role}" is not verified: call login("${facts.role}", pin) first`;
      throw new ScardError('SCARD_W_CARD_NOT_AUTHENTICATED', why);
    }
    await this.verify(facts, prompt, 'operation');
  }

  /** Verifies `facts` with a value, a prompt (asked once), or nothing (PIN pad / empty PIN). */
  private async verify(facts: PinFacts, source: PinSource | undefined, reason: 'login' | 'operation'): Promise<void> {
    let value: string | Uint8Array | undefined;
    if (typeof source === 'function') {
      if (facts.type === 'external' || facts.type === 'empty') value = undefined;
      else {
        const retriesLeft = await readRetriesLeft(this.session, facts.id);
        try {
          value = await source({
            tokenLabel: this.label,
            readerName: this.readerName,
            role: facts.role,
            pinId: facts.id,
            type: facts.type,
            retriesLeft,
            reason,
          });
        } catch (error) {
          if (typeof error === 'object' && error !== null && !ScardError.isInstance(error)) promptErrors.add(error);
          throw error;
        }
        if (value === undefined || value === null) {
          throw new ScardError('SCARD_W_CANCELLED_BY_USER', `the PIN prompt for "${facts.role}" was cancelled`);
        }
      }
    } else {
      value = source;
    }
    if (facts.type === 'challenge-response') {
      if (value === undefined) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', `"${facts.role}" needs its admin key (bytes or hex)`);
      }
      const key = adminKeyBytes(value);
      try {
        const challenge = await this.session.getChallengeEx(facts.id);
        const response = answerChallenge(key, challenge);
        try {
          await this.session.authenticateEx(facts.id, 0, response);
        } finally {
          wipe(response);
        }
      } finally {
        wipe(key);
      }
    } else if (facts.type === 'external' || facts.type === 'empty') {
      // The reader's PIN pad takes the PIN (or there is none): CardAuthenticateEx without PIN data.
      if (value !== undefined) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', `"${facts.role}" is entered on the reader's PIN pad`);
      }
      await this.session.authenticateEx(facts.id, 0);
    } else {
      if (value === undefined)
        throw new ScardError('SCARD_E_INVALID_PARAMETER', `the PIN for "${facts.role}" is missing`);
      const bytes = pinBytes(value);
      try {
        await this.session.authenticateEx(facts.id, 0, bytes);
      } finally {
        wipe(bytes);
      }
    }
    if (value instanceof Uint8Array && typeof source === 'function') wipe(value);
    if (facts.cachePolicy.type === 'always-prompt' && reason === 'login') this.armed.add(facts.id);
    if (facts.cachePolicy.type === 'timed') this.expiry.set(facts.id, Date.now() + facts.cachePolicy.seconds * 1000);
  }
}

/** PIN ids as the contract types them. */
export function asPinId(id: number): PinId {
  return id as PinId;
}
