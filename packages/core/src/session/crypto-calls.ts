import { ScardError, wipe } from '@minidriver/spec';
import {
  type CardDeriveKeyInfo,
  type CardDhAgreementInfo,
  type CardRsaDecryptInfo,
  type CardSigningInfo,
  normaliseAgreementInfo,
  normaliseDecryptInfo,
  normaliseDeriveKeyInfo,
  normaliseSigningInfo,
} from './crypto-requests.js';
import { checkContainerIndex, checkZeroFlags } from './parameters.js';
import { keyOf, type SessionCore } from './session-core.js';

/**
 * CardSignData with a spec-shaped CARD_SIGNING_INFO (checks of docs/spec/minidriver.md §5.6.1, matrix of docs/spec/minidriver.md §9.3). With
 * CARD_BUFFER_SIZE_ONLY the session answers the size from the container's public key (cached) and the
 * plugin is not asked to sign. RSA signatures are little-endian, ECDSA `r || s` big-endian.
 */
export function signData(core: SessionCore, info: CardSigningInfo): Promise<{ signature?: Uint8Array; size: number }> {
  return core.pipeline.call(
    'signData',
    () => normaliseSigningInfo(info),
    async (minidriver, { request, sizeOnly }) => {
      if (sizeOnly) {
        const key = await keyOf(core, minidriver, request.containerIndex, request.keySpec);
        const bytes = Math.ceil(key.bits / 8);
        return { size: key.algorithm === 'RSA' ? bytes : 2 * bytes };
      }
      const signature = new Uint8Array(await minidriver.signData(request));
      return { signature, size: signature.length };
    },
    { checkSlot: false },
  );
}

/**
 * CardRSADecrypt with a spec-shaped CARD_RSA_DECRYPT_INFO (docs/spec/minidriver.md §5.6.2, §9.2): version 1 is refused with
 * CARD_DATA 7 and means "raw block" below it; input shorter than the modulus → SCARD_E_INSUFFICIENT_BUFFER,
 * longer → SCARD_E_INVALID_PARAMETER. Returns the result little-endian (raw block or unpadded message).
 */
export function rsaDecrypt(core: SessionCore, info: CardRsaDecryptInfo): Promise<Uint8Array> {
  return core.pipeline.call(
    'rsaDecrypt',
    () => normaliseDecryptInfo(info, core.version),
    async (minidriver, request) => {
      const key = await keyOf(core, minidriver, request.containerIndex, request.keySpec);
      const modulusBytes = Math.ceil(key.bits / 8);
      if (request.data.length < modulusBytes) {
        throw new ScardError(
          'SCARD_E_INSUFFICIENT_BUFFER',
          `cbData ${request.data.length} is below the modulus length ${modulusBytes}`,
        );
      }
      if (request.data.length > modulusBytes) {
        throw new ScardError(
          'SCARD_E_INVALID_PARAMETER',
          `cbData ${request.data.length} is above the modulus length ${modulusBytes}`,
        );
      }
      return new Uint8Array(await minidriver.rsaDecrypt!(request));
    },
  );
}

/** CardConstructDHAgreement: returns the agreement index the plugin keeps. */
export function constructDHAgreement(core: SessionCore, info: CardDhAgreementInfo): Promise<number> {
  return core.pipeline.call(
    'constructDHAgreement',
    () => normaliseAgreementInfo(info, core.version),
    (minidriver, request) => minidriver.constructDHAgreement!(request),
  );
}

/**
 * CardDeriveKey: the derived bytes, or with CARD_BUFFER_SIZE_ONLY only their size (the plugin derives and
 * the session wipes the bytes: the size of some KDFs depends on their parameters).
 */
export function deriveKey(
  core: SessionCore,
  info: CardDeriveKeyInfo,
): Promise<{ derivedKey?: Uint8Array; size: number }> {
  return core.pipeline.call(
    'deriveKey',
    () => normaliseDeriveKeyInfo(info),
    async (minidriver, { request, sizeOnly }) => {
      const derived = await minidriver.deriveKey!(request);
      const size = derived.length;
      if (sizeOnly) {
        wipe(derived);
        return { size };
      }
      const derivedKey = new Uint8Array(derived);
      wipe(derived);
      return { derivedKey, size };
    },
  );
}

/** CardDestroyDHAgreement: `flags` must be 0. */
export function destroyDHAgreement(core: SessionCore, agreementIndex: number, flags = 0): Promise<void> {
  return core.pipeline.call(
    'destroyDHAgreement',
    () => {
      const index = checkContainerIndex(agreementIndex);
      checkZeroFlags(flags);
      return index;
    },
    (minidriver, index) => minidriver.destroyDHAgreement!(index),
  );
}
