/**
 * The DH agreements of one card context (docs/spec/minidriver.md §5.6.4, §5.6.5): the secrets
 * CardConstructDHAgreement computed on the card, indexed 0..255, for CardDeriveKey and
 * CardDestroyDHAgreement.
 *
 * @packageDocumentation
 */
import { type DeriveKeyRequest, ScardError, wipe } from '@minidriver/spec';
import { deriveKeyFromSecret } from '../crypto/kdf.js';

/** Agreement indexes are a BYTE. */
const MAX_AGREEMENTS = 256;

/**
 * The agreements table, with one wipe policy for every plugin: secrets are zeroed and forgotten on
 * CardDestroyDHAgreement, on every deauthentication (the secrets were computed under the user's
 * authentication and must not outlive it) and on CardDeleteContext. A plugin calls {@link clear} from
 * its deauthenticateEx and deleteContext.
 */
export class DhAgreements {
  readonly #secrets = new Map<number, Uint8Array>();

  /** Keeps `secret` (taken over, not copied) and returns its index; SCARD_E_NO_MEMORY when 256 are open. */
  add(secret: Uint8Array): number {
    for (let index = 0; index < MAX_AGREEMENTS; index++) {
      if (!this.#secrets.has(index)) {
        this.#secrets.set(index, secret);
        return index;
      }
    }
    wipe(secret);
    throw new ScardError('SCARD_E_NO_MEMORY', `all ${MAX_AGREEMENTS} agreement slots are in use`);
  }

  #secret(index: number): Uint8Array {
    const secret = this.#secrets.get(index);
    if (secret === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', `agreement ${index} does not exist`);
    return secret;
  }

  /** CardDeriveKey on agreement `request.agreementIndex` (SCARD_E_INVALID_PARAMETER when it does not exist). */
  derive(request: DeriveKeyRequest): Uint8Array {
    return deriveKeyFromSecret(this.#secret(request.agreementIndex), request);
  }

  /** CardDestroyDHAgreement: wipes and forgets one agreement (SCARD_E_INVALID_PARAMETER when absent). */
  destroy(index: number): void {
    wipe(this.#secret(index));
    this.#secrets.delete(index);
  }

  /** Wipes and forgets every agreement (deauthentication, CardDeleteContext). */
  clear(): void {
    for (const secret of this.#secrets.values()) wipe(secret);
    this.#secrets.clear();
  }

  /** How many agreements are open. */
  get size(): number {
    return this.#secrets.size;
  }
}
