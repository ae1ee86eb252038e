/**
 * The private-key operations of the OpenPGP plugin (docs/spec/openpgp.md §6.2): CardSignData with the
 * signature key (PSO:CDS) or the authentication key (INTERNAL AUTHENTICATE) — the card applies PKCS #1
 * v1.5 itself, so the plugin sends DigestInfo — CardRSADecrypt with the decryption key (PSO:DECIPHER,
 * which removes the padding), and ECDH with the decryption key.
 *
 * @packageDocumentation
 */
import { randomFillSync } from 'node:crypto';
import {
  cardEcdsaRawSignature,
  cardRsaBlock,
  DhAgreements,
  DIGEST_INFO_PREFIX,
  ecdhPeerPoint,
  type KitCryptoEntryPoints,
} from '@minidriver/card-kit';
import {
  type DhAgreementRequest,
  type RsaDecryptRequest,
  reverseBytes,
  ScardError,
  type SignDataRequest,
  wipe,
} from '@minidriver/spec';
import type { OpenPgpApplication } from './openpgp-application.js';
import { COORDINATE_BYTES, exposedAlgorithm, requireContainer } from './openpgp-containers.js';
import { OpenPgpAlgorithmId } from './openpgp-objects.js';

function unsupported(feature: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `OpenPGP: ${feature} is not supported`);
}

/** `00 02 <non-zero random filler> 00 <message>` of modulus length. */
function rebuildPkcs1Type2(message: Uint8Array, modulusBytes: number): Uint8Array {
  const fillerLength = modulusBytes - 3 - message.length;
  if (fillerLength < 8) throw new ScardError('SCARD_E_COMM_DATA_LOST', 'OpenPGP: the decrypted message is too long');
  const block = new Uint8Array(modulusBytes);
  block[1] = 0x02;
  const filler = block.subarray(2, 2 + fillerLength);
  randomFillSync(filler);
  for (let index = 0; index < filler.length; index++) {
    while (filler[index] === 0) filler[index] = randomFillSync(new Uint8Array(1))[0] ?? 1;
  }
  block.set(message, 3 + fillerLength);
  return block;
}

/** The cryptographic entry points of the OpenPGP plugin. */
export class OpenPgpCrypto implements KitCryptoEntryPoints {
  readonly #app: OpenPgpApplication;
  /** The agreements of this context (one wipe policy, @minidriver/card-kit). */
  readonly agreements = new DhAgreements();

  constructor(app: OpenPgpApplication) {
    this.#app = app;
  }

  async signData(request: SignDataRequest): Promise<Uint8Array> {
    const slot = requireContainer(request.containerIndex);
    if (slot === 1) unsupported('signing with the decryption key (container 1)');
    const data = await this.#app.readApplicationData();
    const algorithm = exposedAlgorithm(data, slot);
    const sign = (input: Uint8Array) =>
      slot === 0 ? this.#app.computeSignature(input) : this.#app.internalAuthenticate(input);
    if (algorithm.kind === 'ecc') {
      return cardEcdsaRawSignature(await sign(request.data), COORDINATE_BYTES[algorithm.curve]);
    }
    const padding = request.padding;
    if (padding.type !== 'pkcs1') {
      unsupported(`${padding.type === 'pss' ? 'PSS' : 'raw RSA'} signatures (the card always applies PKCS #1 v1.5)`);
    }
    const input =
      padding.hashAlgorithm === null
        ? request.data.slice()
        : new Uint8Array([...DIGEST_INFO_PREFIX[padding.hashAlgorithm], ...request.data]);
    const signature = await sign(input);
    return reverseBytes(cardRsaBlock(signature, algorithm.modulusBits / 8, 'RSA signature'));
  }

  async rsaDecrypt(request: RsaDecryptRequest): Promise<Uint8Array> {
    const slot = requireContainer(request.containerIndex);
    if (slot !== 1) unsupported(`RSA decryption with container ${slot} (only the decryption key, container 1)`);
    const data = await this.#app.readApplicationData();
    const algorithm = exposedAlgorithm(data, slot);
    if (algorithm.kind !== 'rsa') throw new ScardError('SCARD_E_NO_KEY_CONTAINER', 'container 1 holds no RSA key');
    if (request.padding.type === 'oaep') unsupported('OAEP decryption (the card removes PKCS #1 v1.5 padding itself)');
    const modulusBytes = algorithm.modulusBits / 8;
    const message = await this.#app.decipherRsa(reverseBytes(request.data));
    try {
      if (request.padding.type === 'pkcs1') return reverseBytes(message);
      return reverseBytes(rebuildPkcs1Type2(message, modulusBytes));
    } finally {
      wipe(message);
    }
  }

  async constructDHAgreement(request: DhAgreementRequest): Promise<number> {
    const slot = requireContainer(request.containerIndex);
    const data = await this.#app.readApplicationData();
    const algorithm = exposedAlgorithm(data, slot);
    if (slot !== 1 || algorithm.kind !== 'ecc' || algorithm.algorithmId !== OpenPgpAlgorithmId.ecdh) {
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${slot} holds no ECDH key`);
    }
    return this.agreements.add(await this.#app.agreeEcdh(ecdhPeerPoint(request.publicKey, algorithm.curve)));
  }
}
