/**
 * Entry points added by CARD_DATA version 5 (docs/spec/minidriver.md §3.1 slots 42-43).
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import type { MinidriverV4 } from './minidriver-v4.js';
import type { DeriveKeyRequest } from './structures.js';

export interface MinidriverV5 extends MinidriverV4 {
  /** CardDeriveKey: derive key material from an agreement's secret with a KDF (docs/spec/minidriver.md §5.6.4). */
  deriveKey?(request: DeriveKeyRequest): Promise<Uint8Array>;
  /** CardDestroyDHAgreement: zeroise and forget an agreement. */
  destroyDHAgreement?(agreementIndex: number): Promise<void>;
}
