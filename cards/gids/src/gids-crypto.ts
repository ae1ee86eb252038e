/**
 * The private-key operations of the GIDS plugin (docs/spec/gids.md §4.3): CardSignData (RSA PKCS #1 v1.5
 * padded by the card from a DigestInfo, PSS and raw blocks padded by the session, ECDSA over the host's hash),
 * CardRSADecrypt (raw decipherment, the padding removed on the host so OAEP with any hash works) and the ECDH
 * agreements, kept in the kit's {@link DhAgreements}.
 *
 * @packageDocumentation
 */
import {
  cardEcdsaRawSignature,
  cardRsaBlock,
  DhAgreements,
  DIGEST_INFO_PREFIX,
  type EccCurve,
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
  type RsaDecryptRequest,
  reverseBytes,
  ScardError,
  type SignDataRequest,
  wipe,
} from '@minidriver/spec';
import type { GidsApplication } from './gids-application.js';
import { AlgorithmUse } from './gids-commands.js';
import type { ContainerKey, GidsContainers } from './gids-containers.js';
import type { KeyRole } from './gids-key-files.js';

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/** The cryptographic entry points of one GIDS context. */
export class GidsCrypto implements KitCryptoEntryPoints {
  readonly #context: CardContext;
  readonly #app: GidsApplication;
  readonly #containers: GidsContainers;
  /** The agreements of this context (one wipe policy, @minidriver/card-kit). */
  readonly agreements = new DhAgreements();

  constructor(context: CardContext, app: GidsApplication, containers: GidsContainers) {
    this.#context = context;
    this.#app = app;
    this.#containers = containers;
  }

  async #key(index: number, roles: readonly KeyRole[], what: string): Promise<ContainerKey> {
    const key = await this.#containers.key(index);
    if (!roles.includes(key.role))
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} has no ${what}`);
    return key;
  }

  /** CardSignData: RSA little-endian (the modulus length), ECDSA `r ‖ s`. */
  async signData(request: SignDataRequest): Promise<Uint8Array> {
    if (isEcdhKeySpec(request.keySpec)) invalid('an ECDH key cannot sign');
    if (isRsaKeySpec(request.keySpec)) return this.#signRsa(request);
    const key = await this.#key(request.containerIndex, ['ecdsa'], 'ECDSA key');
    if (key.bits !== eccKeySpecBits(request.keySpec)) {
      throw new ScardError(
        'SCARD_E_NO_KEY_CONTAINER',
        `container ${request.containerIndex} has no ECDSA key of that curve`,
      );
    }
    const signature = await this.#app.sign(
      key.keyReference,
      AlgorithmUse.signHashOffCard | key.mechanism,
      request.data,
    );
    return cardEcdsaRawSignature(signature, Math.ceil(key.bits / 8));
  }

  async #signRsa(request: SignDataRequest): Promise<Uint8Array> {
    const wanted: KeyRole = request.keySpec === KeySpec.AT_SIGNATURE ? 'signature' : 'keyExchange';
    const key = await this.#key(request.containerIndex, [wanted], `${wanted} RSA key`);
    const modulusBytes = key.bits / 8;
    const padding = request.padding;
    let signature: Uint8Array;
    if (padding.type === 'pkcs1') {
      // The card pads PKCS #1 v1.5 itself (algorithm 5x): it gets the DigestInfo.
      const prefix = padding.hashAlgorithm === null ? new Uint8Array(0) : DIGEST_INFO_PREFIX[padding.hashAlgorithm];
      const digestInfo = Uint8Array.from([...prefix, ...request.data]);
      if (digestInfo.length > modulusBytes - 11) invalid('the data is too long for the key');
      signature = await this.#app.sign(key.keyReference, AlgorithmUse.signPkcs1 | key.mechanism, digestInfo);
    } else {
      const block = this.#context.padData(request, modulusBytes);
      try {
        signature = await this.#app.sign(key.keyReference, AlgorithmUse.signHashOffCard | key.mechanism, block);
      } finally {
        wipe(block);
      }
    }
    return reverseBytes(cardRsaBlock(signature, modulusBytes, 'signature'));
  }

  /** CardRSADecrypt: raw decipherment on the card (algorithm 0x), the padding removed on the host. */
  async rsaDecrypt(request: RsaDecryptRequest): Promise<Uint8Array> {
    if (request.keySpec !== KeySpec.AT_KEYEXCHANGE) invalid('RSA decryption needs AT_KEYEXCHANGE');
    const key = await this.#key(request.containerIndex, ['keyExchange'], 'RSA key-exchange key');
    const modulusBytes = key.bits / 8;
    const ciphertext = rsaCiphertextForCard(request.data, modulusBytes);
    let answer: Uint8Array;
    try {
      answer = await this.#app.decipher(key.keyReference, AlgorithmUse.raw | key.mechanism, ciphertext);
    } catch (error) {
      if (ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER'))
        invalid('the ciphertext is not smaller than the modulus');
      throw error;
    }
    return rsaDecryptAnswer(answer, modulusBytes, request.padding, (raw, padding) =>
      this.#context.unpadData(raw, padding),
    );
  }

  /** CardConstructDHAgreement: the card's ECDH (PSO DECIPHER with the peer point) kept as an agreement. */
  async constructDHAgreement(request: DhAgreementRequest): Promise<number> {
    const key = await this.#key(request.containerIndex, ['ecdh'], 'ECDH key');
    // A key of another size than P-256/384/521 fails the peer's curve check.
    const point = ecdhPeerPoint(request.publicKey, `P-${key.bits}` as EccCurve);
    const secret = await this.#app.decipher(key.keyReference, AlgorithmUse.raw | key.mechanism, point);
    return this.agreements.add(secret);
  }
}
