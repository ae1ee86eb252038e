/**
 * @packageDocumentation
 * The card's side of admin-key authentication with GENERAL AUTHENTICATE (docs/spec/gids.md §4.4): mutual
 * authentication (host challenge R1 of 16 bytes; the card answers R2; the host proves itself with
 * 3DES-CBC(R2 ‖ R1 ‖ Z1 ‖ 80) and the card answers 3DES-CBC(R1 ‖ R2 ‖ Z2 ‖ 80)), and external authentication
 * (empty challenge request; the card answers an 8-byte challenge; the host returns its 3DES encryption).
 * 3DES is CBC with a zero IV and no padding, as OpenSC and GidsApplet implement it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { failWith, timingSafeEqualBytes } from '@minidriver/card-kit/sim';
import { SW } from '@minidriver/iso7816';

/** A 3-key 3DES key (24 bytes). */
export const ADMIN_KEY_LENGTH = 24;

type Pending =
  | { readonly kind: 'none' }
  | { readonly kind: 'external'; readonly challenge: Uint8Array }
  | { readonly kind: 'mutual'; readonly hostChallenge: Uint8Array; readonly cardChallenge: Uint8Array };

/** 3DES-CBC, zero IV, no padding. */
export function tripleDesCbc(key: Uint8Array, data: Uint8Array, direction: 'encrypt' | 'decrypt'): Uint8Array {
  const iv = Buffer.alloc(8);
  const cipher =
    direction === 'encrypt'
      ? createCipheriv('des-ede3-cbc', key, iv).setAutoPadding(false)
      : createDecipheriv('des-ede3-cbc', key, iv).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

/** The state machine of one authentication with the admin key. */
export class AdminAuthentication {
  #pending: Pending = { kind: 'none' };
  authenticated = false;

  /** Forgets any challenge and the authenticated state (VERIFY 82, reset, failed attempt). */
  reset(): void {
    this.#clearPending();
    this.authenticated = false;
  }

  /**
   * Step 1 (`7C { 81 L challenge }`): 16 bytes start a mutual authentication, 0 bytes ask for an external
   * authentication challenge. Returns the card's `7C { 81 L challenge }`.
   */
  challenge(hostChallenge: Uint8Array): Uint8Array {
    this.reset();
    if (hostChallenge.length === 16) {
      const cardChallenge = new Uint8Array(randomBytes(16));
      this.#pending = { kind: 'mutual', hostChallenge: Uint8Array.from(hostChallenge), cardChallenge };
      return Uint8Array.of(0x7c, 0x12, 0x81, 0x10, ...cardChallenge);
    }
    if (hostChallenge.length === 0) {
      const challenge = new Uint8Array(randomBytes(8));
      this.#pending = { kind: 'external', challenge };
      return Uint8Array.of(0x7c, 0x0a, 0x81, 0x08, ...challenge);
    }
    return failWith(SW.INCORRECT_DATA);
  }

  /** Step 2 (`7C { 82 L response }`) with the admin key; returns the card's answer (empty for external). */
  respond(response: Uint8Array, key: Uint8Array): Uint8Array {
    const pending = this.#pending;
    if (pending.kind === 'none') return failWith(SW.CONDITIONS_NOT_SATISFIED);
    try {
      return this.#verify(pending, response, key);
    } finally {
      this.#clearPending();
    }
  }

  #verify(pending: Exclude<Pending, { kind: 'none' }>, response: Uint8Array, key: Uint8Array): Uint8Array {
    if (pending.kind === 'external') {
      if (response.length !== 8) return failWith(SW.SECURITY_STATUS_NOT_SATISFIED);
      const expected = tripleDesCbc(key, pending.challenge, 'encrypt');
      if (!timingSafeEqualBytes(expected, response)) return failWith(SW.SECURITY_STATUS_NOT_SATISFIED);
      this.authenticated = true;
      return new Uint8Array(0);
    }
    if (response.length !== 40) return failWith(SW.SECURITY_STATUS_NOT_SATISFIED);
    const plain = tripleDesCbc(key, response, 'decrypt');
    const proven =
      timingSafeEqualBytes(plain.subarray(0, 16), pending.cardChallenge) &&
      timingSafeEqualBytes(plain.subarray(16, 32), pending.hostChallenge) &&
      plain[39] === 0x80;
    plain.fill(0);
    if (!proven) return failWith(SW.SECURITY_STATUS_NOT_SATISFIED);
    const answer = new Uint8Array(40);
    answer.set(pending.hostChallenge, 0);
    answer.set(pending.cardChallenge, 16);
    answer.set(randomBytes(7), 32);
    answer[39] = 0x80;
    this.authenticated = true;
    return Uint8Array.of(0x7c, 0x2a, 0x82, 0x28, ...tripleDesCbc(key, answer, 'encrypt'));
  }

  #clearPending(): void {
    if (this.#pending.kind === 'external') this.#pending.challenge.fill(0);
    if (this.#pending.kind === 'mutual') {
      this.#pending.hostChallenge.fill(0);
      this.#pending.cardChallenge.fill(0);
    }
    this.#pending = { kind: 'none' };
  }
}
