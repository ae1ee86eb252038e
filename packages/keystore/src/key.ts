/**
 * @packageDocumentation
 * A private key on a token: its public half as a node:crypto KeyObject, its certificate, and the private
 * key operations with inputs and outputs in the formats node:crypto and OpenSSL use (RSA big-endian, ECDSA
 * DER or IEEE P1363, ECDH secret = the x-coordinate big-endian), whatever byte order the minidriver speaks.
 */
import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { ecdsaRawToDer, keyObjectToPublicKeyBlob } from '@minidriver/card-kit';
import {
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_OAEP,
  CARD_PADDING_PKCS1,
  CARD_PADDING_PSS,
  KeySpec,
  reverseBytes,
  ScardError,
  wipe,
} from '@minidriver/spec';
import type { KeyAlgorithm, KeyUsage } from './algorithms.js';
import {
  CNG_HASH_NAMES,
  checkDecryptOptions,
  checkSignOptions,
  type DecryptOptions,
  HASH_BYTES,
  type SignOptions,
} from './operation-options.js';
import { checkBytes } from './options.js';
import type { PinRole } from './pins.js';
import type { TokenCore } from './token-core.js';

/** What a key is built from (internal): its public fields (documented on {@link Key}) and its token. */
export type KeyInit = Pick<
  Key,
  | 'container'
  | 'containerName'
  | 'defaultContainer'
  | 'keySpec'
  | 'algorithm'
  | 'usages'
  | 'publicKey'
  | 'certificate'
  | 'certificateFile'
  | 'pinId'
  | 'pinRole'
> & { readonly core: TokenCore };

/** The RFC 5280 §4.2.1.2 method (1) key identifier: SHA-1 of the subjectPublicKey BIT STRING's value. */
export function keyIdentifier(publicKey: KeyObject): string {
  let bits: Uint8Array;
  if (publicKey.asymmetricKeyType === 'rsa') {
    bits = new Uint8Array(publicKey.export({ type: 'pkcs1', format: 'der' }));
  } else {
    const jwk = publicKey.export({ format: 'jwk' });
    const x = Buffer.from(jwk.x ?? '', 'base64url');
    const y = Buffer.from(jwk.y ?? '', 'base64url');
    bits = new Uint8Array([0x04, ...x, ...y]);
  }
  return createHash('sha1').update(bits).digest('hex');
}

/**
 * One key of a token: container `container`, one half of it (`keySpec`). Every operation checks the key's
 * usages and its options before any APDU (SCARD_E_INVALID_PARAMETER), runs under the PIN cache policy of
 * the PIN protecting the key, and fails with SCARD_W_REMOVED_CARD when the card left.
 */
export class Key {
  /** Hex SHA-1 of the public key (RFC 5280 key identifier, method 1): stable across sessions, matches the certificate's SKI when the issuer used that method. */
  readonly id: string;
  /** The container index on the card (docs/spec/minidriver.md §4.3). */
  readonly container: number;
  /** The container's name in the card's container map (usually a GUID). */
  readonly containerName: string;
  /** The container map marks this container as the card's default one. */
  readonly defaultContainer: boolean;
  /** The minidriver key spec (AT_KEYEXCHANGE, AT_SIGNATURE, AT_ECDSA_*, AT_ECDHE_*). */
  readonly keySpec: number;
  readonly algorithm: KeyAlgorithm;
  /** What the key may do: RSA key exchange keys sign and decrypt, RSA signature and ECDSA keys sign, ECDH keys derive. */
  readonly usages: readonly KeyUsage[];
  /** The public key. */
  readonly publicKey: KeyObject;
  /** The certificate stored with the key (whose public key is this key's), or undefined. */
  readonly certificate: X509Certificate | undefined;
  /** Where the key's certificate is (or would be) stored: `mscp/kscNN` (signature half) or `mscp/kxcNN`. */
  readonly certificateFile: string;
  /** The PIN that protects the key (CCP_PIN_IDENTIFIER) and its role name. */
  readonly pinId: number;
  readonly pinRole: PinRole;
  private readonly core: TokenCore;

  /** @internal Keys come from `Token.keys()`. */
  constructor(init: KeyInit) {
    this.core = init.core;
    this.container = init.container;
    this.containerName = init.containerName;
    this.defaultContainer = init.defaultContainer;
    this.keySpec = init.keySpec;
    this.algorithm = init.algorithm;
    this.usages = Object.freeze([...init.usages]);
    this.publicKey = init.publicKey;
    this.certificate = init.certificate;
    this.certificateFile = init.certificateFile;
    this.pinId = init.pinId;
    this.pinRole = init.pinRole;
    this.id = keyIdentifier(init.publicKey);
  }

  /**
   * Signs `data`: hashes it with `options.hash` (default sha256) and signs the digest (see {@link signDigest}).
   * The result verifies with `crypto.verify(hash, data, { key: publicKey, padding, saltLength, dsaEncoding }, signature)`.
   */
  async sign(data: Uint8Array, options?: SignOptions): Promise<Uint8Array> {
    this.requireUsage('sign');
    const checked = checkSignOptions(options, this.algorithm.type);
    const digest = new Uint8Array(createHash(checked.hash).update(checkBytes(data, 'data')).digest());
    return this.signChecked(digest, checked);
  }

  /**
   * Signs a digest computed by the caller (its length must be the hash's). RSA: PKCS #1 v1.5 (default) or
   * PSS, big-endian. EC: DER (default) or IEEE P1363 `r ‖ s`.
   */
  async signDigest(digest: Uint8Array, options?: SignOptions): Promise<Uint8Array> {
    this.requireUsage('sign');
    const checked = checkSignOptions(options, this.algorithm.type);
    const bytes = checkBytes(digest, 'digest');
    if (bytes.length !== HASH_BYTES[checked.hash]) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `a ${checked.hash} digest has ${HASH_BYTES[checked.hash]} bytes, not ${bytes.length}`,
      );
    }
    return this.signChecked(new Uint8Array(bytes), checked);
  }

  private async signChecked(digest: Uint8Array, options: ReturnType<typeof checkSignOptions>): Promise<Uint8Array> {
    const rsa = this.algorithm.type === 'rsa';
    const pss = options.padding === 'pss';
    const { signature } = await this.core.withPin(this.pinId, () =>
      this.core.session.signData({
        version: 2,
        containerIndex: this.container,
        keySpec: this.keySpec,
        signingFlags: rsa ? CARD_PADDING_INFO_PRESENT : 0,
        hashAlgorithmId: 0,
        data: digest,
        ...(rsa
          ? {
              paddingType: pss ? CARD_PADDING_PSS : CARD_PADDING_PKCS1,
              paddingInfo: pss
                ? { algorithm: CNG_HASH_NAMES[options.hash], saltLength: options.saltLength ?? 0 }
                : { algorithm: CNG_HASH_NAMES[options.hash] },
            }
          : {}),
      }),
    );
    if (signature === undefined) throw new ScardError('SCARD_E_UNEXPECTED', 'the card returned no signature');
    // CardSignData answers RSA little-endian (CryptoAPI order) and ECDSA as big-endian r ‖ s.
    if (rsa) return reverseBytes(signature);
    return options.format === 'der' ? ecdsaRawToDer(signature) : signature;
  }

  /**
   * Decrypts an RSA ciphertext (big-endian, the modulus length, as node's publicEncrypt and OpenSSL write
   * it) with OAEP (default; hash default sha1) or PKCS #1 v1.5 padding. The caller should wipe the result.
   */
  async decrypt(ciphertext: Uint8Array, options?: DecryptOptions): Promise<Uint8Array> {
    this.requireUsage('decrypt');
    const checked = checkDecryptOptions(options);
    const bytes = checkBytes(ciphertext, 'ciphertext');
    const modulusBytes = Math.ceil(this.algorithm.bits / 8);
    if (bytes.length !== modulusBytes) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `the ciphertext has ${bytes.length} bytes; an RSA ${this.algorithm.bits} ciphertext has ${modulusBytes}`,
      );
    }
    const littleEndian = await this.core.withPin(this.pinId, () =>
      this.core.session.rsaDecrypt({
        version: 2,
        containerIndex: this.container,
        keySpec: KeySpec.AT_KEYEXCHANGE,
        data: reverseBytes(bytes),
        paddingType: checked.padding === 'oaep' ? CARD_PADDING_OAEP : CARD_PADDING_PKCS1,
        ...(checked.padding === 'oaep'
          ? {
              paddingInfo: {
                algorithm: CNG_HASH_NAMES[checked.hash],
                ...(checked.label === undefined ? {} : { label: checked.label }),
              },
            }
          : {}),
      }),
    );
    try {
      return reverseBytes(littleEndian);
    } finally {
      wipe(littleEndian);
    }
  }

  /**
   * ECDH with `peerPublicKey` (an EC KeyObject on this key's curve): returns the shared secret Z, the
   * x-coordinate big-endian, exactly what `crypto.diffieHellman` and OpenSSL's ECDH return. The caller
   * should wipe it.
   */
  async deriveSharedSecret(peerPublicKey: KeyObject): Promise<Uint8Array> {
    this.requireUsage('derive');
    const peer = peerPublicKey as KeyObject | undefined;
    if (
      peer === null ||
      typeof peer !== 'object' ||
      typeof peer.asymmetricKeyType !== 'string' ||
      peer.type === 'secret'
    ) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the peer public key must be a node:crypto KeyObject');
    }
    const curve = peer.asymmetricKeyDetails?.namedCurve;
    const wanted = this.algorithm.type === 'ec' ? this.algorithm.curve : undefined;
    const curveNames: Readonly<Record<string, string>> = {
      prime256v1: 'P-256',
      secp384r1: 'P-384',
      secp521r1: 'P-521',
    };
    if (peer.asymmetricKeyType !== 'ec' || curve === undefined || curveNames[curve] !== wanted) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `the peer key is not an EC ${wanted} key`);
    }
    const blob = keyObjectToPublicKeyBlob(peer, 'keyExchange');
    const session = this.core.session;
    const derived = await this.core.withPin(this.pinId, async () => {
      const agreement = await session.constructDHAgreement({
        version: 2,
        containerIndex: this.container,
        publicKey: blob,
      });
      try {
        // TRUNCATE hands back Z as CNG's BCRYPT_KDF_RAW_SECRET does: little-endian.
        return await session.deriveKey({ version: 2, flags: 0, kdf: 'TRUNCATE', agreementIndex: agreement });
      } finally {
        await session.destroyDHAgreement(agreement).catch(() => undefined);
      }
    });
    if (derived.derivedKey === undefined) throw new ScardError('SCARD_E_UNEXPECTED', 'the card derived nothing');
    try {
      return reverseBytes(derived.derivedKey);
    } finally {
      wipe(derived.derivedKey);
    }
  }

  /** Throws SCARD_E_INVALID_PARAMETER when the key's usages do not include `usage` (before any APDU). */
  private requireUsage(usage: KeyUsage): void {
    this.core.requirePresent();
    if (!this.usages.includes(usage)) {
      const what = this.algorithm.type === 'rsa' ? `RSA ${this.algorithm.bits}` : `EC ${this.algorithm.curve}`;
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `key ${this.id.slice(0, 8)} (container ${this.container}, ${what}) cannot ${usage}: its usages are ${this.usages.join(', ') || 'none'}`,
      );
    }
  }
}
