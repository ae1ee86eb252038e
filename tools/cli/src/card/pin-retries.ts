/**
 * @module Retries left on a PIN. The minidriver contract has no "retries left" query (a wrong PIN reports
 * them in SCARD_W_WRONG_CHV), so the CLI asks the card the ISO 7816-4 way: VERIFY with no data for the
 * PIN's reference answers 63Cx (x tries left) or 9000 (already verified), consuming no try. The
 * reference of each PIN is card-specific, hence the table by plugin name.
 */
import { ScardError, type Transport } from '@minidriver/core';

/** VERIFY references by plugin name and minidriver PIN id. */
const PIN_REFERENCES: Readonly<Record<string, Readonly<Record<number, number>>>> = {
  // PIV: the application PIN (80) backs both the user PIN and the "PIN always" signature PIN.
  PIV: { 1: 0x80, 4: 0x80 },
  // OpenPGP card 3.4: PW1 for signing (81), PW1 for decryption (82), PW3 admin (83).
  OpenPGP: { 1: 0x82, 2: 0x83, 3: 0x81 },
};

/** What the card said about a PIN. */
export type PinStatus =
  | { readonly state: 'verified' }
  | { readonly state: 'retries'; readonly retriesLeft: number }
  | { readonly state: 'unknown' };

/** Asks the card how many tries a PIN has left (inside one transaction on `transport`). */
export async function readPinStatus(transport: Transport, pluginName: string, pinId: number): Promise<PinStatus> {
  const reference = PIN_REFERENCES[pluginName]?.[pinId];
  if (reference === undefined) return { state: 'unknown' };
  await transport.beginTransaction();
  try {
    const response = await transport.transmit(Uint8Array.of(0x00, 0x20, 0x00, reference));
    const statusWord = ((response[response.length - 2] ?? 0) << 8) | (response[response.length - 1] ?? 0);
    if (statusWord === 0x9000) return { state: 'verified' };
    if ((statusWord & 0xfff0) === 0x63c0) return { state: 'retries', retriesLeft: statusWord & 0x0f };
    if (statusWord === 0x6983) return { state: 'retries', retriesLeft: 0 };
    return { state: 'unknown' };
  } catch (error) {
    if (ScardError.isInstance(error)) return { state: 'unknown' };
    throw error;
  } finally {
    await transport.endTransaction('leave').catch(() => undefined);
  }
}

/** "3 retries left", "verified", "blocked" or "?". */
export function describePinStatus(status: PinStatus): string {
  if (status.state === 'verified') return 'verified';
  if (status.state === 'unknown') return '?';
  return status.retriesLeft === 0
    ? 'blocked'
    : `${status.retriesLeft} ${status.retriesLeft === 1 ? 'retry' : 'retries'} left`;
}
