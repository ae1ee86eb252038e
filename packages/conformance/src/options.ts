/**
 * What a card package tells the conformance suite about its card. Cards differ legitimately (a PIV
 * card unblocks with a PUK and generates keys only after management-key authentication; an OpenPGP card
 * has fixed key slots), so the options describe the card honestly, and every capability declared absent
 * is asserted to answer SCARD_E_UNSUPPORTED_FEATURE rather than skipped.
 */
import type { CardSession } from '@minidriver/core';
import type { SimulatedCard } from '@minidriver/sim';
import type { MinidriverPlugin } from '@minidriver/spec';

/** How the user PIN is unblocked (docs/spec/minidriver.md §5.2.4, §6.8). */
export type UnblockCredential =
  /** With a PUK-type secret (`CARD_AUTHENTICATE_PIN_PIN`), as PIV and OpenPGP cards do. */
  | { readonly kind: 'puk'; readonly puk: Uint8Array }
  /** With the response to an admin challenge (`CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE`, docs/spec/minidriver.md §6.6). */
  | { readonly kind: 'admin-response'; readonly respond: (challenge: Uint8Array) => Uint8Array }
  /**
   * With another PIN through CardChangeAuthenticatorEx(PIN_CHANGE_FLAG_UNBLOCK, pinId, pin, ROLE_USER, …)
   * (docs/spec/minidriver.md §5.2.9), e.g. an OpenPGP card's PW3 (ROLE_ADMIN) or resetting code.
   */
  | { readonly kind: 'pin-id'; readonly pinId: number; readonly pin: Uint8Array };

/** How the administrator authenticates (docs/spec/minidriver.md §6.6). */
export type AdminCredential =
  /** CardGetChallenge + CardAuthenticateChallenge; `respond` computes the response (e.g. 3DES-ECB). */
  | {
      readonly kind: 'challenge-response';
      readonly respond: (challenge: Uint8Array) => Uint8Array;
      /**
       * Lets the suite change the admin key (CardChangeAuthenticatorEx on the admin role) and prove which key
       * the card holds afterwards: the factory key and a response function for any key.
       */
      readonly keyChange?: {
        readonly key: Uint8Array;
        readonly respondWith: (key: Uint8Array, challenge: Uint8Array) => Uint8Array;
      };
    }
  /** CardAuthenticatePin("admin", pin). */
  | { readonly kind: 'pin'; readonly pin: Uint8Array };

/** The secrets of a fresh simulated card. */
export interface ConformanceCredentials {
  /** The user PIN (ROLE_USER) of a fresh card. */
  readonly userPin: Uint8Array;
  /** A PIN the card rejects (default: the user PIN with its last byte changed). */
  readonly wrongPin?: Uint8Array;
  /** How to unblock the user PIN; absent = the card cannot, and CardUnblockPin must be SCARD_E_UNSUPPORTED_FEATURE. */
  readonly unblock?: UnblockCredential;
  /** How the admin authenticates; absent = no admin role, and CardGetChallenge must be SCARD_E_UNSUPPORTED_FEATURE. */
  readonly admin?: AdminCredential;
}

/** A container the suite creates on a fresh card (docs/spec/minidriver.md §5.4.1). */
export interface ContainerPlan {
  /** Container index 0..255. */
  readonly index: number;
  /** AT_KEYEXCHANGE (1), AT_SIGNATURE (2), AT_ECDSA_P256..P521 (3-5) or AT_ECDHE_P256..P521 (6-8). */
  readonly keySpec: number;
  /** Bits for RSA, 0 for ECC (the spec's rule for CARD_CREATE_CONTAINER_KEY_GEN). */
  readonly keySize: number;
  /** True: CARD_CREATE_CONTAINER_KEY_GEN on the card. False: the suite imports a key made with node:crypto. */
  readonly generate: boolean;
  /**
   * False when the card cannot sign with this key (an OpenPGP decryption key): CardSignData must then be
   * SCARD_E_UNSUPPORTED_FEATURE. Default true (docs/spec/minidriver.md §5.6.1: both halves of a container sign).
   */
  readonly canSign?: boolean;
}

/** Optional cryptographic mechanisms: a mechanism declared absent must be SCARD_E_UNSUPPORTED_FEATURE. */
export interface CryptoCapabilities {
  /** CardSignData with CARD_PADDING_PSS (default true: every RSA card can, through pfnCspPadData and raw RSA). */
  readonly pss?: boolean;
  /** CardRSADecrypt with CARD_PADDING_OAEP (default true). */
  readonly oaep?: boolean;
  /**
   * CardRSADecrypt with CARD_PADDING_NONE (default true): true = any block is returned exactly as decrypted;
   * 'pkcs1-only' = the card removes PKCS #1 padding itself and rebuilds a valid type 02 block around the
   * message, as docs/spec/minidriver.md §5.6.2 requires of such cards; false = SCARD_E_UNSUPPORTED_FEATURE.
   */
  readonly rawDecrypt?: boolean | 'pkcs1-only';
}

/** Options of {@link defineConformanceSuite}. */
export interface ConformanceOptions {
  /** Names the describe block, e.g. "PIV". */
  readonly name: string;
  /** The plugin under test. */
  readonly plugin: MinidriverPlugin;
  /** A fresh simulated card in its factory state; called once per test group (or more). */
  readonly createCard: () => SimulatedCard;
  /** The secrets of a fresh card. */
  readonly credentials: ConformanceCredentials;
  /** The containers the suite creates (at least one; the first of each algorithm is used for crypto tests). */
  readonly containers: readonly ContainerPlan[];
  /**
   * True when the card stores arbitrary files in `mscp` (CardCreateFile / CardWriteFile / CardDeleteFile of
   * any name). False (default): creating a file must answer SCARD_E_UNSUPPORTED_FEATURE.
   */
  readonly writableFiles?: boolean;
  /**
   * A container whose certificate file (`mscp/kxcNN` or `kscNN`) the card can store: used for the file-write,
   * cache-invalidation and removal tests. Must be one of `containers`.
   */
  readonly certificateContainer?: number;
  /**
   * A generated container the card can regenerate with another algorithm (RSA ↔ ECC): the fault tests
   * interrupt that change and check that no certificate is left for a key the container no longer holds.
   */
  readonly algorithmChange?: { readonly index: number; readonly keySpec: number; readonly keySize: number };
  /** Optional crypto mechanisms (defaults: all supported). */
  readonly crypto?: CryptoCapabilities;
  /**
   * Called on an open session before containers are created or certificates written (e.g. authenticate
   * the admin / management key). The suite authenticates the user PIN itself, after `prepare`.
   */
  readonly prepare?: (session: CardSession) => Promise<void>;
  /**
   * True when the card's logical file system is @minidriver/card-kit's VirtualFileSystem (synthesised from
   * the card's objects): the kit's file policies (cmapfile access condition and write policy, cardcf
   * writes, certificate bytes) are then asserted.
   */
  readonly kitFileSystem?: boolean;
  /**
   * An ECDH container the policy group may create on a fresh card to check the DH-agreement wipe policy,
   * when none of `containers` is an ECDH key. Absent and no ECDH container: that check is skipped.
   */
  readonly ecdhContainer?: ContainerPlan;
  /**
   * True when the card can set a new PIN retry limit (cRetryCount ≠ 0) while changing a PIN. False
   * (default): the kit's policy, SCARD_E_UNSUPPORTED_FEATURE.
   */
  readonly retryCountChange?: boolean;
  /** Key generation is slow on some simulators: the per-test timeout in ms (default 60 000). */
  readonly timeoutMs?: number;
}

/** Checks the options themselves, so a wrong description fails with a clear message and not a puzzle. */
export function validateConformanceOptions(options: ConformanceOptions): void {
  const problems: string[] = [];
  if (typeof options?.name !== 'string' || options.name.length === 0) problems.push('name is missing');
  if (typeof options?.plugin?.acquireContext !== 'function') problems.push('plugin is not a MinidriverPlugin');
  if (typeof options?.createCard !== 'function') problems.push('createCard is not a function');
  if (!(options?.credentials?.userPin instanceof Uint8Array)) problems.push('credentials.userPin is missing');
  if (!Array.isArray(options?.containers) || options.containers.length === 0) {
    problems.push('containers must list at least one container to create');
  } else {
    const seen = new Set<number>();
    for (const container of options.containers) {
      if (!Number.isInteger(container.index) || container.index < 0 || container.index > 255)
        problems.push(`container index ${container.index} is not 0..255`);
      if (seen.has(container.index)) problems.push(`container index ${container.index} is listed twice`);
      seen.add(container.index);
      if (!Number.isInteger(container.keySpec) || container.keySpec < 1 || container.keySpec > 8)
        problems.push(`container ${container.index}: keySpec ${container.keySpec} is not AT_* 1..8`);
    }
    const change = options.algorithmChange;
    if (change !== undefined && !options.containers.some((plan) => plan.index === change.index && plan.generate))
      problems.push(`algorithmChange container ${change.index} is not a generated one of containers`);
    if (options.certificateContainer !== undefined && !seen.has(options.certificateContainer))
      problems.push(`certificateContainer ${options.certificateContainer} is not one of containers`);
  }
  if (problems.length > 0) {
    throw new Error(`defineConformanceSuite: invalid options: ${problems.join('; ')}`);
  }
}
