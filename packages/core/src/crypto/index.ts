/**
 * @module Software cryptography of the caller's side of the minidriver interface: byte order, PKCS #1
 * and PSS signature padding (pfnCspPadData), PKCS #1 / OAEP unpadding (pfnCspUnpadData), ECDSA signature
 * forms, the CNG key derivation functions of CardDeriveKey, and a small DER writer, PEM armour and X.509
 * certificate builder for certificates a card's key signs.
 */
export * from './byte-order.js';
export * from './decryption-padding.js';
export * from './der.js';
export * from './ecdsa.js';
export { DIGEST_INFO_PREFIX, hashAlgorithmFromCalg } from './hash.js';
export { concatKdf, deriveKeyFromSecret, TLS_PRF_OUTPUT_LENGTH, tlsPrf } from './kdf.js';
export * from './pem.js';
export * from './signature-padding.js';
export * from './x509-certificate.js';
