/**
 * @packageDocumentation
 * CK_MECHANISM on the wire (protocol version 0): the type as a uint32, then the parameter. Mechanisms
 * without parameters carry a NULL byte array; the RSA PSS family carries CK_RSA_PKCS_PSS_PARAMS as three
 * uint64; OAEP carries CK_RSA_PKCS_OAEP_PARAMS as three uint64 and the source data; ECDH1 derivation
 * carries CK_ECDH1_DERIVE_PARAMS as the KDF (uint64), the shared data and the public data; any other
 * parameter is an opaque byte array. The type 0xffffffff is the NULL mechanism (cancel an operation).
 * Source: `p11_rpc_buffer_get_mechanism` in p11-kit's `p11-kit/rpc-message.c`.
 */
import { CKM } from '../pkcs11/constants.js';
import type { WireReader } from './wire.js';

/** CK_RSA_PKCS_PSS_PARAMS. */
export interface PssParameters {
  readonly kind: 'pss';
  readonly hashAlg: number;
  readonly mgf: number;
  readonly saltLength: number;
}

/** CK_RSA_PKCS_OAEP_PARAMS. */
export interface OaepParameters {
  readonly kind: 'oaep';
  readonly hashAlg: number;
  readonly mgf: number;
  readonly source: number;
  readonly sourceData: Uint8Array | null;
}

/** CK_ECDH1_DERIVE_PARAMS. */
export interface Ecdh1DeriveParameters {
  readonly kind: 'ecdh1';
  readonly kdf: number;
  readonly sharedData: Uint8Array | null;
  readonly publicData: Uint8Array | null;
}

/** Any other parameter, as the bytes the client sent (null: none). */
export interface OpaqueParameters {
  readonly kind: 'opaque';
  readonly bytes: Uint8Array | null;
}

export type MechanismParameters = PssParameters | OaepParameters | Ecdh1DeriveParameters | OpaqueParameters;

/** A decoded CK_MECHANISM; `type` null is the NULL mechanism. */
export interface Mechanism {
  readonly type: number | null;
  readonly parameters: MechanismParameters;
}

const NULL_MECHANISM = 0xffffffff;

const PSS_MECHANISMS = new Set<number>([
  CKM.RSA_PKCS_PSS,
  CKM.SHA1_RSA_PKCS_PSS,
  CKM.SHA224_RSA_PKCS_PSS,
  CKM.SHA256_RSA_PKCS_PSS,
  CKM.SHA384_RSA_PKCS_PSS,
  CKM.SHA512_RSA_PKCS_PSS,
]);

/** Reads a CK_MECHANISM. */
export function readMechanism(reader: WireReader): Mechanism {
  const type = reader.uint32();
  if (type === NULL_MECHANISM) return { type: null, parameters: { kind: 'opaque', bytes: null } };
  if (PSS_MECHANISMS.has(type)) {
    return {
      type,
      parameters: { kind: 'pss', hashAlg: reader.uint64(), mgf: reader.uint64(), saltLength: reader.uint64() },
    };
  }
  if (type === CKM.RSA_PKCS_OAEP) {
    return {
      type,
      parameters: {
        kind: 'oaep',
        hashAlg: reader.uint64(),
        mgf: reader.uint64(),
        source: reader.uint64(),
        sourceData: reader.byteArray(),
      },
    };
  }
  if (type === CKM.ECDH1_DERIVE) {
    return {
      type,
      parameters: {
        kind: 'ecdh1',
        kdf: reader.uint64(),
        sharedData: reader.byteArray(),
        publicData: reader.byteArray(),
      },
    };
  }
  return { type, parameters: { kind: 'opaque', bytes: reader.byteArray() } };
}
