/**
 * @packageDocumentation
 * PINs as applications see them: a role name per PIN id, its type, purpose and cache policy from the
 * card's PIN_INFO (docs/spec/minidriver.md §3.8, §5.7), tries left from the vendor property
 * `minidriver:PIN Retries Left`, and the bytes a secret becomes for CardAuthenticateEx (a PIN as UTF-8, an
 * admin key answering the card's challenge).
 */
import { createCipheriv } from 'node:crypto';
import type { CardSession } from '@minidriver/core';
import {
  CARD_DATA_VALUE_UNKNOWN,
  CardProperty,
  PinCachePolicyType,
  type PinId,
  type PinInfo,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
  wipe,
} from '@minidriver/spec';
import { isAbsent } from './absent.js';

/** How the PIN is entered: typed by the application, on the reader's PIN pad, or as a challenge/response key. */
export type PinType = 'alphanumeric' | 'external' | 'challenge-response' | 'empty';

/** What the card says the PIN is for (SECRET_PURPOSE). */
export type PinPurpose =
  | 'authentication'
  | 'signature'
  | 'encryption'
  | 'non-repudiation'
  | 'administrator'
  | 'primary'
  | 'unblock';

/**
 * How long a verified PIN lasts (PIN_CACHE_POLICY): `normal` until logout or reset; `timed` for `seconds`;
 * `none` the application must not keep the PIN (the card still keeps its state); `always-prompt` the PIN is
 * asked before every private key operation.
 */
export type PinCachePolicy =
  | { readonly type: 'normal' }
  | { readonly type: 'timed'; readonly seconds: number }
  | { readonly type: 'none' }
  | { readonly type: 'always-prompt' };

/**
 * A PIN role name: `user` (PIN 1) and `admin` (PIN 2) always; the card's other PINs by purpose
 * (`signature`, `unblock`, `encryption`, `authentication`, `non-repudiation`), else `pin<N>`.
 */
export type PinRole = 'user' | 'admin' | 'signature' | 'unblock' | (string & {});

/** One PIN of a token. */
export interface PinDescription {
  /** The minidriver PIN id (1 = user, 2 = admin, 3..7 card-defined). */
  readonly id: number;
  readonly role: PinRole;
  readonly type: PinType;
  readonly purpose: PinPurpose;
  readonly cachePolicy: PinCachePolicy;
  /** PIN_INFO_REQUIRE_SECURE_ENTRY: the card wants the PIN typed on a PIN pad. */
  readonly secureEntry: boolean;
  /** The ids of the PINs that unblock (reset) this one (PIN_INFO's unblock permission); empty when none. */
  readonly unblockedBy: readonly number[];
  /** Tries left, when the card tells without spending one; undefined otherwise. */
  readonly retriesLeft: number | undefined;
  /** The card holds this PIN verified for this token (CP_CARD_AUTHENTICATED_STATE). */
  readonly verified: boolean;
}

/** What a {@link PinPrompt} is asked for. */
export interface PinRequest {
  /** The token's label and reader, to show the user which card asks. */
  readonly tokenLabel: string;
  readonly readerName: string;
  readonly role: PinRole;
  readonly pinId: number;
  readonly type: PinType;
  /** Tries left when the card tells (before this attempt). */
  readonly retriesLeft: number | undefined;
  /** `login` for Token.login, `operation` when a key operation needs the PIN (cache policy or card refusal). */
  readonly reason: 'login' | 'operation';
}

/**
 * Asks the user for a PIN. Returns the PIN (a string is sent as UTF-8; for a challenge/response role the
 * admin key as bytes or hex), or undefined to cancel (SCARD_W_CANCELLED_BY_USER). It is called once per
 * need: after a wrong PIN the error is thrown, never retried. An error the prompt throws reaches the caller
 * of the operation unchanged.
 */
export type PinPrompt = (
  request: PinRequest,
) => string | Uint8Array | undefined | Promise<string | Uint8Array | undefined>;

/** A PIN value or a prompt, as `Token.login` takes it. */
export type PinSource = string | Uint8Array | PinPrompt;

const TYPE_NAMES: Readonly<Record<number, PinType>> = {
  [SecretType.AlphaNumericPinType]: 'alphanumeric',
  [SecretType.ExternalPinType]: 'external',
  [SecretType.ChallengeResponsePinType]: 'challenge-response',
  [SecretType.EmptyPinType]: 'empty',
};

const PURPOSE_NAMES: Readonly<Record<number, PinPurpose>> = {
  [SecretPurpose.AuthenticationPin]: 'authentication',
  [SecretPurpose.DigitalSignaturePin]: 'signature',
  [SecretPurpose.EncryptionPin]: 'encryption',
  [SecretPurpose.NonRepudiationPin]: 'non-repudiation',
  [SecretPurpose.AdministratorPin]: 'administrator',
  [SecretPurpose.PrimaryCardPin]: 'primary',
  [SecretPurpose.UnblockOnlyPin]: 'unblock',
};

/** The role name of PIN `id` with `purpose` (see {@link PinRole}). */
export function roleOfPin(id: number, purpose: PinPurpose | undefined): PinRole {
  if (id === ROLE_USER) return 'user';
  if (id === ROLE_ADMIN) return 'admin';
  if (purpose === 'signature' || purpose === 'unblock' || purpose === 'encryption') return purpose;
  if (purpose === 'authentication' || purpose === 'non-repudiation') return purpose;
  return `pin${id}`;
}

/** The static part of a PIN (PIN_INFO), as a token reads it once: a {@link PinDescription} without its state. */
export type PinFacts = Omit<PinDescription, 'id' | 'retriesLeft' | 'verified'> & { readonly id: PinId };

/** PIN_INFO turned into {@link PinFacts}. */
export function pinFactsOf(id: PinId, info: PinInfo): PinFacts {
  const purpose = PURPOSE_NAMES[info.purpose] ?? 'authentication';
  const policy = info.cachePolicy;
  const cachePolicy: PinCachePolicy =
    policy.type === PinCachePolicyType.PinCacheTimed
      ? { type: 'timed', seconds: policy.info }
      : policy.type === PinCachePolicyType.PinCacheNone
        ? { type: 'none' }
        : policy.type === PinCachePolicyType.PinCacheAlwaysPrompt
          ? { type: 'always-prompt' }
          : { type: 'normal' };
  return {
    id,
    role: roleOfPin(id, purpose),
    type: TYPE_NAMES[info.pinType] ?? 'alphanumeric',
    purpose,
    cachePolicy,
    secureEntry: (info.flags & 1) !== 0,
    unblockedBy: [1, 2, 3, 4, 5, 6, 7].filter((other) => (info.unblockPermission & (1 << other)) !== 0),
  };
}

/** Reads the PINs the card lists (CP_CARD_LIST_PINS; user and admin when it cannot say) and their PIN_INFO. */
export async function readPinFacts(session: CardSession): Promise<PinFacts[]> {
  let list = (1 << ROLE_USER) | (1 << ROLE_ADMIN);
  try {
    list = await session.getProperty(CardProperty.CP_CARD_LIST_PINS);
  } catch (error) {
    if (!isAbsent(error)) throw error;
  }
  const facts: PinFacts[] = [];
  for (let id = 1; id < 8; id++) {
    if ((list & (1 << id)) === 0) continue;
    try {
      facts.push(pinFactsOf(id as PinId, await session.getProperty(CardProperty.CP_CARD_PIN_INFO, id)));
    } catch (error) {
      if (!isAbsent(error)) throw error;
      facts.push({
        id: id as PinId,
        role: roleOfPin(id, undefined),
        type: id === ROLE_ADMIN ? 'challenge-response' : 'alphanumeric',
        purpose: id === ROLE_ADMIN ? 'administrator' : 'primary',
        cachePolicy: { type: 'normal' },
        secureEntry: false,
        unblockedBy: [],
      });
    }
  }
  return facts;
}

/** Tries left on PIN `id`, or undefined when the card (or an older plugin) cannot say. */
export async function readRetriesLeft(session: CardSession, id: number): Promise<number | undefined> {
  try {
    const left = await session.getProperty(CardProperty.CP_PIN_RETRIES_LEFT, id);
    return left === CARD_DATA_VALUE_UNKNOWN ? undefined : left;
  } catch (error) {
    if (isAbsent(error)) return undefined;
    throw error;
  }
}

/** The PINs the card holds verified (CP_CARD_AUTHENTICATED_STATE), or the session's own record. */
export async function readAuthenticatedState(session: CardSession): Promise<number> {
  try {
    return await session.getProperty(CardProperty.CP_CARD_AUTHENTICATED_STATE);
  } catch (error) {
    if (isAbsent(error)) return session.authenticatedPins;
    throw error;
  }
}

/** A PIN value as the bytes of CardAuthenticateEx: a string as UTF-8, bytes copied. Empty → SCARD_E_INVALID_PARAMETER. */
export function pinBytes(value: string | Uint8Array): Uint8Array {
  if (typeof value === 'string') {
    if (value.length === 0) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the PIN is empty');
    return new Uint8Array(Buffer.from(value, 'utf8'));
  }
  if (!(value instanceof Uint8Array) || value.length === 0) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the PIN must be a non-empty string or Uint8Array');
  }
  return new Uint8Array(value);
}

/** An admin key given as bytes or hex (spaces and colons allowed). Not hex → SCARD_E_INVALID_PARAMETER. */
export function adminKeyBytes(value: string | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length === 0) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the admin key is empty');
    return new Uint8Array(value);
  }
  const hex = typeof value === 'string' ? value.replace(/[\s:]/g, '') : '';
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'a challenge/response admin key must be bytes or hex');
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * The response to an admin-key challenge (docs/spec/minidriver.md §5.2.4, §6.6): the challenge encrypted with
 * the key — 3DES-ECB for an 8-byte challenge, AES-ECB (128/192/256 by key length) for a 16-byte one, 3DES-CBC
 * with a zero IV for a longer multiple of 8 (the GIDS mutual-authentication block).
 */
export function answerChallenge(key: Uint8Array, challenge: Uint8Array): Uint8Array {
  const algorithm =
    challenge.length === 8
      ? 'des-ede3-ecb'
      : challenge.length === 16
        ? `aes-${key.length * 8}-ecb`
        : challenge.length > 16 && challenge.length % 8 === 0
          ? 'des-ede3-cbc'
          : undefined;
  if (algorithm === undefined) {
    throw new ScardError('SCARD_E_UNEXPECTED', `a ${challenge.length}-byte admin challenge is not 3DES or AES`);
  }
  let cipher: ReturnType<typeof createCipheriv>;
  try {
    cipher = createCipheriv(algorithm, key, algorithm === 'des-ede3-cbc' ? Buffer.alloc(8) : null);
  } catch {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `the admin key does not fit ${algorithm} (${key.length} bytes)`);
  }
  cipher.setAutoPadding(false);
  const head = cipher.update(challenge);
  const tail = cipher.final();
  const response = new Uint8Array(head.length + tail.length);
  response.set(head, 0);
  response.set(tail, head.length);
  wipe(head, tail);
  return response;
}
