/**
 * The private-key operations of the PIV plugin (docs/spec/piv.md §6.6, §10.6): CardSignData (RSA with the
 * session's padding, ECDSA over the hash truncated or padded to the field size), CardRSADecrypt (raw RSA
 * then the session's unpadding), and the ECDH agreements with their KDFs.
 *
 * @packageDocumentation
 */
import {
  cardEcdsaDerSignature,
  cardRsaBlock,
  DhAgreements,
  ecdhPeerPoint,
  type KitCryptoEntryPoints,
  rsaCiphertextForCard,
  rsaDecryptAnswer,
} from '@minidriver/card-kit';
import {
  type CardContext,
  type DhAgreementRequest,
  eccKeySpecBits,
  isEcdhKeySpec,
  isRsaKeySpec,
  KeySpec,
  leftPad,
  type RsaDecryptRequest,
  reverseBytes,
  ScardError,
  type SignDataRequest,
  wipe,
} from '@minidriver/spec';
import type { PivAuthentication } from './piv-authentication.js';
import type { PivCardState } from './piv-card-state.js';
import { PinPolicy } from './piv-commands.js';
import { algorithmIdOfKey } from './piv-objects.js';

function noKey(message: string): never {
  throw new ScardError('SCARD_E_NO_KEY_CONTAINER', message);
}

/** The cryptographic entry points of the PIV plugin. */
export class PivCrypto implements KitCryptoEntryPoints {
  readonly #context: CardContext;
  readonly #state: PivCardState;
  readonly #auth: PivAuthentication;
  /** The agreements of this context (one wipe policy, @minidriver/card-kit). */
  readonly agreements = new DhAgreements();

  constructor(context: CardContext, state: PivCardState, auth: PivAuthentication) {
    this.#context = context;
    this.#state = state;
    this.#auth = auth;
  }

  async signData(request: SignDataRequest): Promise<Uint8Array> {
    if (isEcdhKeySpec(request.keySpec)) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'an ECDH key cannot sign');
    const { slot, state, half } = await this.#state.containerKey(request.containerIndex);
    const key = state.publicKey;
    const algorithmId = algorithmIdOfKey(key);
    let result: Uint8Array;
    if (isRsaKeySpec(request.keySpec)) {
      const wanted = request.keySpec === KeySpec.AT_SIGNATURE ? 'signature' : 'keyExchange';
      if (key.kind !== 'rsa' || half !== wanted) noKey(`container ${request.containerIndex} has no ${wanted} RSA key`);
      const modulusBytes = key.bits / 8;
      const block = this.#context.padData(request, modulusBytes);
      try {
        const signature = await this.#state.app.authenticateWithKey(slot, algorithmId, block);
        result = reverseBytes(cardRsaBlock(signature, modulusBytes, 'RSA signature'));
      } finally {
        wipe(block);
      }
    } else {
      if (key.kind !== 'ecc' || half !== 'signature' || eccKeySpecBits(request.keySpec) !== key.bits) {
        noKey(`container ${request.containerIndex} has no ECDSA key of that curve`);
      }
      const size = key.bits / 8;
      // ECDSA input: the hash truncated to (or left-padded to) the field size (docs/spec/piv.md §6.6).
      const input = request.data.length >= size ? request.data.slice(0, size) : leftPad(request.data, size);
      const der = await this.#state.app.authenticateWithKey(slot, algorithmId, input);
      result = cardEcdsaDerSignature(der, size);
    }
    if (slot === 0x9c || state.pinPolicy === PinPolicy.always) this.#auth.spendSignaturePin();
    return result;
  }

  async rsaDecrypt(request: RsaDecryptRequest): Promise<Uint8Array> {
    if (request.keySpec !== KeySpec.AT_KEYEXCHANGE) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'RSA decryption needs AT_KEYEXCHANGE');
    }
    const { slot, state, half } = await this.#state.containerKey(request.containerIndex);
    const key = state.publicKey;
    if (key.kind !== 'rsa' || half !== 'keyExchange') {
      noKey(`container ${request.containerIndex} has no RSA key-exchange key`);
    }
    const modulusBytes = key.bits / 8;
    const ciphertext = rsaCiphertextForCard(request.data, modulusBytes);
    if (Buffer.compare(Buffer.from(ciphertext), Buffer.from(leftPad(key.modulus, modulusBytes))) >= 0) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the ciphertext is not smaller than the modulus');
    }
    const answer = await this.#state.app.authenticateWithKey(slot, algorithmIdOfKey(key), ciphertext);
    return rsaDecryptAnswer(answer, modulusBytes, request.padding, (raw, padding) =>
      this.#context.unpadData(raw, padding),
    );
  }

  async constructDHAgreement(request: DhAgreementRequest): Promise<number> {
    const { slot, state, half } = await this.#state.containerKey(request.containerIndex);
    const key = state.publicKey;
    if (key.kind !== 'ecc' || half !== 'keyExchange') noKey(`container ${request.containerIndex} has no ECDH key`);
    const point = ecdhPeerPoint(request.publicKey, key.curve);
    const secret = await this.#state.app.calculateSecret(slot, algorithmIdOfKey(key), point);
    return this.agreements.add(secret);
  }
}
