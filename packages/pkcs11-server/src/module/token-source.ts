/**
 * @packageDocumentation
 * What the PKCS #11 layer uses of @minidriver/keystore, as structural types: the reader list with each
 * reader's token, and of a token its PINs, keys and key operations. `@minidriver/keystore`'s KeyStore,
 * Token and Key satisfy these; keeping the seam explicit shows exactly which part of the keystore each
 * PKCS #11 call reaches.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';

/** The hashes keys sign with (node:crypto names). */
export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** One PIN of a token (the fields the token info flags and C_Login need). */
export interface TokenPin {
  readonly id: number;
  readonly role: string;
  readonly type: string;
  readonly cachePolicy: { readonly type: string };
  readonly secureEntry: boolean;
  readonly retriesLeft: number | undefined;
}

/** A key of a token. */
export interface TokenKey {
  readonly id: string;
  readonly container: number;
  readonly algorithm: { readonly type: 'rsa' | 'ec'; readonly bits: number };
  readonly usages: readonly string[];
  readonly publicKey: KeyObject;
  readonly certificate: X509Certificate | undefined;
  readonly pinId: number;
  sign(data: Uint8Array, options?: object): Promise<Uint8Array>;
  signDigest(digest: Uint8Array, options?: object): Promise<Uint8Array>;
  decrypt(ciphertext: Uint8Array, options?: object): Promise<Uint8Array>;
  deriveSharedSecret(peerPublicKey: KeyObject): Promise<Uint8Array>;
}

/** A card in a reader, as the keystore opened it. */
export interface Token {
  readonly label: string;
  readonly serial: string;
  readonly readerName: string;
  readonly readOnly: boolean;
  /** The plugin's name (the token model). */
  readonly model: string;
  readonly removed: boolean;
  pins(): Promise<readonly TokenPin[]>;
  keys(): Promise<readonly TokenKey[]>;
  login(role: string, pin: Uint8Array): Promise<void>;
  logout(): Promise<void>;
  generateKey(container: number, algorithm: object, usage: string): Promise<TokenKey>;
  importCertificate(container: number, der: Uint8Array): Promise<void>;
}

/** One reader (one PKCS #11 slot) and the token in it, if any. */
export interface Reader {
  readonly name: string;
  /** The reader has a PIN pad (PIN verification on the reader). */
  readonly pinPad: boolean;
  readonly token: Token | undefined;
}

/** The readers the server offers as slots. */
export interface TokenSource {
  readers(): readonly Reader[];
}
