/**
 * @packageDocumentation
 * The PKCS #11 objects of a token, built from its keys: for each key a private key object, a public key
 * object and (when the key has one) a certificate object, all three with the same CKA_ID (the key id) and
 * CKA_LABEL; plus the session's derived secret keys. Each object answers attribute queries by type; a
 * type it does not have is undefined (CKR_ATTRIBUTE_TYPE_INVALID), and the secret parts of private keys
 * are never present.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { derElement } from '@minidriver/core';
import { decodeTlvOne, encodeTlvNode, type TlvNode } from '@minidriver/iso7816';
import { CK_UNAVAILABLE_INFORMATION, CKA, CKC, CKK, CKM, CKO } from '../pkcs11/constants.js';
import type { AttributeValue } from '../rpc/attributes.js';
import type { TokenKey } from './token-source.js';

/** The kinds of object a token shows. */
export type ObjectKind = 'private' | 'public' | 'certificate' | 'secret';

/** One PKCS #11 object: its kind, the key behind it (none for a derived secret), and its attributes. */
export interface Pkcs11Object {
  readonly kind: ObjectKind;
  readonly key: TokenKey | undefined;
  readonly attributes: ReadonlyMap<number, AttributeValue>;
  /** Attributes that exist but whose value is never revealed (CKR_ATTRIBUTE_SENSITIVE). */
  readonly sensitive: ReadonlySet<number>;
}

/** DER OBJECT IDENTIFIER of each named curve (RFC 5480 §2.1.1.1), as CKA_EC_PARAMS holds it. */
export const CURVE_OIDS: Readonly<Record<number, Uint8Array>> = {
  256: Uint8Array.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
  384: Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]),
  521: Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]),
};

const TRUE = 1;
const FALSE = 0;

const bytes = (base64url: string | undefined) => new Uint8Array(Buffer.from(base64url ?? '', 'base64url'));

/** The public parts of a key: RSA modulus and exponent, or EC parameters and point. */
function publicKeyAttributes(key: TokenKey): [number, AttributeValue][] {
  const jwk = key.publicKey.export({ format: 'jwk' });
  const spki = new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' }));
  if (key.algorithm.type === 'rsa') {
    return [
      [CKA.KEY_TYPE, CKK.RSA],
      [CKA.MODULUS, bytes(jwk.n)],
      [CKA.MODULUS_BITS, key.algorithm.bits],
      [CKA.PUBLIC_EXPONENT, bytes(jwk.e)],
      [CKA.PUBLIC_KEY_INFO, spki],
    ];
  }
  return [
    [CKA.KEY_TYPE, CKK.EC],
    [CKA.EC_PARAMS, CURVE_OIDS[key.algorithm.bits] ?? new Uint8Array(0)],
    [CKA.EC_POINT, ecPoint(key.publicKey)],
    [CKA.PUBLIC_KEY_INFO, spki],
  ];
}

/** CKA_EC_POINT: the uncompressed point in a DER OCTET STRING (PKCS #11 curr docs/spec/minidriver.md §2.3.3). */
export function ecPoint(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  return derElement(0x04, Uint8Array.of(0x04), bytes(jwk.x), bytes(jwk.y));
}

/** The DER parts of a certificate PKCS #11 exposes: subject, issuer and serial number. */
export function certificateNames(certificate: X509Certificate): {
  subject: Uint8Array;
  issuer: Uint8Array;
  serial: Uint8Array;
} {
  const tbs = decodeTlvOne(new Uint8Array(certificate.raw)).children?.[0]?.children ?? [];
  const fields = tbs[0]?.tag === 0xa0 ? tbs.slice(1) : tbs;
  const der = (node: TlvNode | undefined) => (node === undefined ? new Uint8Array(0) : encodeTlvNode(node));
  return { serial: der(fields[0]), issuer: der(fields[2]), subject: der(fields[4]) };
}

/** The label of a key's objects: the certificate's common name, else the key's algorithm and container. */
export function keyLabel(key: TokenKey): string {
  const commonName = key.certificate?.subject
    .split('\n')
    .find((part) => part.startsWith('CN='))
    ?.slice(3);
  return commonName ?? `${key.algorithm.type.toUpperCase()} ${key.algorithm.bits} key ${key.container}`;
}

/** CKA_ID of a key's objects: the key id (hex SHA-1 of the public key) as bytes. */
export function keyObjectId(key: TokenKey): Uint8Array {
  return new Uint8Array(Buffer.from(key.id, 'hex'));
}

/** The objects one key yields: private key, public key, and certificate when there is one. */
export function objectsOfKey(key: TokenKey, alwaysAuthenticate: boolean): Pkcs11Object[] {
  const id = keyObjectId(key);
  const label = new TextEncoder().encode(keyLabel(key));
  const names = key.certificate ? certificateNames(key.certificate) : undefined;
  const subject = names?.subject ?? new Uint8Array(0);
  const signs = key.usages.includes('sign');
  const decrypts = key.usages.includes('decrypt');
  const derives = key.usages.includes('derive');
  const common: [number, AttributeValue][] = [
    [CKA.TOKEN, TRUE],
    [CKA.MODIFIABLE, FALSE],
    [CKA.COPYABLE, FALSE],
    [CKA.DESTROYABLE, FALSE],
    [CKA.LABEL, label],
    [CKA.ID, id],
  ];
  const keyCommon: [number, AttributeValue][] = [
    ...common,
    [CKA.SUBJECT, subject],
    [CKA.START_DATE, new Uint8Array(0)],
    [CKA.END_DATE, new Uint8Array(0)],
    [CKA.DERIVE, derives ? TRUE : FALSE],
    [CKA.LOCAL, FALSE],
    [CKA.KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION],
    ...publicKeyAttributes(key),
  ];
  const privateKey: Pkcs11Object = {
    kind: 'private',
    key,
    attributes: new Map<number, AttributeValue>([
      [CKA.CLASS, CKO.PRIVATE_KEY],
      // A private object: listed only after C_Login (as OpenSC does), so that programs log in before using it.
      [CKA.PRIVATE, TRUE],
      ...keyCommon,
      [CKA.SENSITIVE, TRUE],
      [CKA.DECRYPT, decrypts ? TRUE : FALSE],
      [CKA.SIGN, signs ? TRUE : FALSE],
      [CKA.SIGN_RECOVER, FALSE],
      [CKA.UNWRAP, FALSE],
      [CKA.EXTRACTABLE, FALSE],
      [CKA.ALWAYS_SENSITIVE, TRUE],
      [CKA.NEVER_EXTRACTABLE, TRUE],
      [CKA.WRAP_WITH_TRUSTED, FALSE],
      [CKA.ALWAYS_AUTHENTICATE, alwaysAuthenticate ? TRUE : FALSE],
    ]),
    sensitive:
      key.algorithm.type === 'rsa'
        ? new Set<number>([
            CKA.PRIVATE_EXPONENT,
            CKA.PRIME_1,
            CKA.PRIME_2,
            CKA.EXPONENT_1,
            CKA.EXPONENT_2,
            CKA.COEFFICIENT,
          ])
        : new Set<number>([CKA.VALUE]),
  };
  const publicKey: Pkcs11Object = {
    kind: 'public',
    key,
    attributes: new Map<number, AttributeValue>([
      [CKA.CLASS, CKO.PUBLIC_KEY],
      [CKA.PRIVATE, FALSE],
      ...keyCommon,
      [CKA.ENCRYPT, decrypts ? TRUE : FALSE],
      [CKA.VERIFY, signs ? TRUE : FALSE],
      [CKA.VERIFY_RECOVER, FALSE],
      [CKA.WRAP, FALSE],
      [CKA.TRUSTED, FALSE],
    ]),
    sensitive: new Set(),
  };
  const objects = [privateKey, publicKey];
  if (key.certificate !== undefined && names !== undefined) {
    objects.push({
      kind: 'certificate',
      key,
      attributes: new Map<number, AttributeValue>([
        [CKA.CLASS, CKO.CERTIFICATE],
        [CKA.PRIVATE, FALSE],
        ...common,
        [CKA.CERTIFICATE_TYPE, CKC.X_509],
        [CKA.TRUSTED, FALSE],
        [CKA.CERTIFICATE_CATEGORY, 0],
        [CKA.SUBJECT, names.subject],
        [CKA.ISSUER, names.issuer],
        [CKA.SERIAL_NUMBER, names.serial],
        [CKA.VALUE, new Uint8Array(key.certificate.raw)],
        [CKA.START_DATE, new Uint8Array(0)],
        [CKA.END_DATE, new Uint8Array(0)],
      ]),
      sensitive: new Set(),
    });
  }
  return objects;
}

/** A session object holding a derived secret (C_DeriveKey with CKM_ECDH1_DERIVE). */
export function secretKeyObject(value: Uint8Array, label: Uint8Array, id: Uint8Array): Pkcs11Object {
  return {
    kind: 'secret',
    key: undefined,
    attributes: new Map<number, AttributeValue>([
      [CKA.CLASS, CKO.SECRET_KEY],
      [CKA.TOKEN, FALSE],
      [CKA.PRIVATE, FALSE],
      [CKA.MODIFIABLE, FALSE],
      [CKA.LABEL, label],
      [CKA.ID, id],
      [CKA.KEY_TYPE, CKK.GENERIC_SECRET],
      [CKA.VALUE, value],
      [CKA.VALUE_LEN, value.length],
      [CKA.SENSITIVE, FALSE],
      [CKA.EXTRACTABLE, TRUE],
      [CKA.DERIVE, FALSE],
      [CKA.LOCAL, TRUE],
      [CKA.KEY_GEN_MECHANISM, CKM.ECDH1_DERIVE],
      [CKA.ENCRYPT, FALSE],
      [CKA.DECRYPT, FALSE],
      [CKA.SIGN, FALSE],
      [CKA.VERIFY, FALSE],
    ]),
    sensitive: new Set(),
  };
}

/** True when every attribute of the template has the object's value (C_FindObjectsInit matching). */
export function matchesTemplate(
  object: Pkcs11Object,
  template: readonly { type: number; value: AttributeValue | undefined }[],
): boolean {
  return template.every(({ type, value }) => {
    const own = object.attributes.get(type);
    if (own === undefined || value === undefined) return false;
    if (typeof own === 'number' || typeof value === 'number') return own === value;
    if (own instanceof Uint8Array && value instanceof Uint8Array) return Buffer.from(own).equals(value);
    return false;
  });
}
