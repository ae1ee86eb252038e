/**
 * PW1, PW3 and the Resetting Code of the OpenPGP card: values, retry counters and the volatile
 * access states (docs/spec/openpgp.md §3.4, §4.1, §4.2). Pure state; the simulator maps commands onto it.
 */
import { timingSafeEqual } from 'node:crypto';
import { CardStatus, OpenPgpStatus, requireCondition, retriesStatus } from './openpgp-status.js';

/** Retries every PIN gets after a successful verification or a reset. */
export const PIN_RETRIES = 3;
/** Maximum PIN length announced in C4 bytes 2-4 (the card accepts UTF-8 PINs up to this many bytes). */
export const PIN_MAX_LENGTH = 127;
const PW1_MIN_LENGTH = 6;
const PW3_MIN_LENGTH = 8;
const RESET_CODE_MIN_LENGTH = 8;

/** The VERIFY references: `81` PW1 for signing, `82` PW1 for everything else, `83` PW3. */
export type PinReference = 0x81 | 0x82 | 0x83;

/** The persistent PIN state, JSON-serialisable (PIN values as hex). */
export interface PinsSnapshot {
  pw1: string;
  pw3: string;
  resetCode: string | null;
  pw1Retries: number;
  pw3Retries: number;
  resetCodeRetries: number;
}

function encodePin(pin: string): Uint8Array {
  return new TextEncoder().encode(pin);
}

function pinsEqual(stored: Uint8Array, presented: Uint8Array): boolean {
  // timingSafeEqual needs equal lengths; a length mismatch is a wrong PIN anyway.
  if (stored.length !== presented.length) return false;
  return timingSafeEqual(stored, presented);
}

/** PW1, PW3 and the Resetting Code with their counters, plus which references are verified now. */
export class OpenPgpPins {
  private pw1: Uint8Array;
  private pw3: Uint8Array;
  private resetCode: Uint8Array | null = null;
  private pw1Retries = PIN_RETRIES;
  private pw3Retries = PIN_RETRIES;
  private resetCodeRetries = 0;
  private readonly verified = new Set<PinReference>();

  constructor(pw1 = '123456', pw3 = '12345678', resetCode?: string) {
    this.pw1 = encodePin(pw1);
    this.pw3 = encodePin(pw3);
    if (resetCode !== undefined) {
      this.resetCode = encodePin(resetCode);
      this.resetCodeRetries = PIN_RETRIES;
    }
  }

  /** Whether the access state of `reference` is granted. */
  isVerified(reference: PinReference): boolean {
    return this.verified.has(reference);
  }

  /** Drops one access state (`VERIFY FF`, or a PSO:CDS when PW1 is valid for one signature only). */
  clearVerified(reference: PinReference): void {
    this.verified.delete(reference);
  }

  /** Drops every access state (power off, reset, reselection). */
  clearAllVerified(): void {
    this.verified.clear();
  }

  /** Retries left: PW1, Resetting Code, PW3 (C4 bytes 5-7). */
  retriesLeft(): { pw1: number; resetCode: number; pw3: number } {
    return { pw1: this.pw1Retries, resetCode: this.resetCodeRetries, pw3: this.pw3Retries };
  }

  /** VERIFY with data: checks the PIN, updates the counter and the access state; throws the SW on failure. */
  verify(reference: PinReference, presented: Uint8Array): void {
    const isAdmin = reference === 0x83;
    requireCondition((isAdmin ? this.pw3Retries : this.pw1Retries) > 0, OpenPgpStatus.authenticationMethodBlocked);
    const minimum = isAdmin ? PW3_MIN_LENGTH : PW1_MIN_LENGTH;
    requireCondition(presented.length >= minimum && presented.length <= PIN_MAX_LENGTH, OpenPgpStatus.wrongLength);
    if (!pinsEqual(isAdmin ? this.pw3 : this.pw1, presented)) {
      this.verified.delete(reference);
      if (isAdmin) this.pw3Retries -= 1;
      else this.pw1Retries -= 1;
      throw new CardStatus(OpenPgpStatus.securityStatusNotSatisfied);
    }
    if (isAdmin) this.pw3Retries = PIN_RETRIES;
    else this.pw1Retries = PIN_RETRIES;
    this.verified.add(reference);
  }

  /** VERIFY without data: `9000` when verified, else `63Cx` with the tries left (thrown). */
  checkVerified(reference: PinReference): void {
    if (this.verified.has(reference)) return;
    throw new CardStatus(retriesStatus(reference === 0x83 ? this.pw3Retries : this.pw1Retries));
  }

  /** CHANGE REFERENCE DATA: `data` = old PIN ‖ new PIN, split at the stored PIN's length. */
  change(reference: 0x81 | 0x83, data: Uint8Array): void {
    const isAdmin = reference === 0x83;
    const stored = isAdmin ? this.pw3 : this.pw1;
    requireCondition((isAdmin ? this.pw3Retries : this.pw1Retries) > 0, OpenPgpStatus.authenticationMethodBlocked);
    requireCondition(data.length > stored.length, OpenPgpStatus.wrongLength);
    const old = data.subarray(0, stored.length);
    const next = data.slice(stored.length);
    if (!pinsEqual(stored, old)) {
      if (isAdmin) this.pw3Retries -= 1;
      else this.pw1Retries -= 1;
      throw new CardStatus(OpenPgpStatus.securityStatusNotSatisfied);
    }
    const minimum = isAdmin ? PW3_MIN_LENGTH : PW1_MIN_LENGTH;
    requireCondition(next.length >= minimum && next.length <= PIN_MAX_LENGTH, OpenPgpStatus.wrongLength);
    stored.fill(0);
    if (isAdmin) {
      this.pw3 = next;
      this.pw3Retries = PIN_RETRIES;
    } else {
      this.pw1 = next;
      this.pw1Retries = PIN_RETRIES;
    }
  }

  /** RESET RETRY COUNTER P1=00: `data` = Resetting Code ‖ new PW1. */
  resetWithResetCode(data: Uint8Array): void {
    const resetCode = this.resetCode;
    requireCondition(resetCode !== null && this.resetCodeRetries > 0, OpenPgpStatus.securityStatusNotSatisfied);
    requireCondition(data.length > resetCode.length, OpenPgpStatus.wrongLength);
    if (!pinsEqual(resetCode, data.subarray(0, resetCode.length))) {
      this.resetCodeRetries -= 1;
      throw new CardStatus(OpenPgpStatus.securityStatusNotSatisfied);
    }
    this.resetCodeRetries = PIN_RETRIES;
    this.setPw1(data.slice(resetCode.length));
  }

  /** RESET RETRY COUNTER P1=02 (PW3 verified): sets a new PW1 and unblocks it. */
  resetByAdmin(newPw1: Uint8Array): void {
    requireCondition(this.verified.has(0x83), OpenPgpStatus.securityStatusNotSatisfied);
    this.setPw1(newPw1.slice());
  }

  /** PUT DATA D3: sets the Resetting Code (empty value deletes it). */
  setResetCode(value: Uint8Array): void {
    this.resetCode?.fill(0);
    if (value.length === 0) {
      this.resetCode = null;
      this.resetCodeRetries = 0;
      return;
    }
    requireCondition(
      value.length >= RESET_CODE_MIN_LENGTH && value.length <= PIN_MAX_LENGTH,
      OpenPgpStatus.wrongLength,
    );
    this.resetCode = value.slice();
    this.resetCodeRetries = PIN_RETRIES;
  }

  /** Whether PW3 is blocked (TERMINATE DF is then allowed without PW3). */
  isAdminBlocked(): boolean {
    return this.pw3Retries === 0;
  }

  /** The persistent part, for saveState. */
  toSnapshot(): PinsSnapshot {
    return {
      pw1: Buffer.from(this.pw1).toString('hex'),
      pw3: Buffer.from(this.pw3).toString('hex'),
      resetCode: this.resetCode ? Buffer.from(this.resetCode).toString('hex') : null,
      pw1Retries: this.pw1Retries,
      pw3Retries: this.pw3Retries,
      resetCodeRetries: this.resetCodeRetries,
    };
  }

  /** Restores a snapshot made by toSnapshot (access states start cleared). */
  static fromSnapshot(snapshot: PinsSnapshot): OpenPgpPins {
    const pins = new OpenPgpPins();
    pins.pw1 = Uint8Array.from(Buffer.from(snapshot.pw1, 'hex'));
    pins.pw3 = Uint8Array.from(Buffer.from(snapshot.pw3, 'hex'));
    pins.resetCode = snapshot.resetCode === null ? null : Uint8Array.from(Buffer.from(snapshot.resetCode, 'hex'));
    pins.pw1Retries = snapshot.pw1Retries;
    pins.pw3Retries = snapshot.pw3Retries;
    pins.resetCodeRetries = snapshot.resetCodeRetries;
    return pins;
  }

  private setPw1(value: Uint8Array): void {
    requireCondition(value.length >= PW1_MIN_LENGTH && value.length <= PIN_MAX_LENGTH, OpenPgpStatus.wrongLength);
    this.pw1.fill(0);
    this.pw1 = value;
    this.pw1Retries = PIN_RETRIES;
  }
}
