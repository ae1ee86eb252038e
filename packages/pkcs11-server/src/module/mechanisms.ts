/**
 * @packageDocumentation
 * The mechanisms a key offers and what each one asks of the keystore. RSA keys that sign offer PKCS #1
 * v1.5 and PSS, raw (the caller hashed) and hashed (SHA-1/256/384/512); RSA keys that decrypt offer PKCS #1
 * v1.5 and OAEP; EC keys that sign offer ECDSA raw and hashed (signatures are `r ‖ s`, as PKCS #11
 * requires); EC keys that derive offer ECDH1 with the null KDF.
 */

import type { HashName } from '@minidriver/keystore';
import { CKF_MECHANISM, CKG, CKM, CKR } from '../pkcs11/constants.js';
import { check, Pkcs11Error } from '../pkcs11/errors.js';
import type { Mechanism } from '../rpc/mechanism.js';
import type { TokenKey } from './token-source.js';

const RSA_SIGN: readonly number[] = [
  CKM.RSA_PKCS,
  CKM.SHA1_RSA_PKCS,
  CKM.SHA256_RSA_PKCS,
  CKM.SHA384_RSA_PKCS,
  CKM.SHA512_RSA_PKCS,
  CKM.RSA_PKCS_PSS,
  CKM.SHA1_RSA_PKCS_PSS,
  CKM.SHA256_RSA_PKCS_PSS,
  CKM.SHA384_RSA_PKCS_PSS,
  CKM.SHA512_RSA_PKCS_PSS,
];
const PSS_HASHED = new Set<number>([
  CKM.SHA1_RSA_PKCS_PSS,
  CKM.SHA256_RSA_PKCS_PSS,
  CKM.SHA384_RSA_PKCS_PSS,
  CKM.SHA512_RSA_PKCS_PSS,
]);
const RSA_DECRYPT: readonly number[] = [CKM.RSA_PKCS, CKM.RSA_PKCS_OAEP];
const EC_SIGN: readonly number[] = [CKM.ECDSA, CKM.ECDSA_SHA1, CKM.ECDSA_SHA256, CKM.ECDSA_SHA384, CKM.ECDSA_SHA512];
const EC_DERIVE: readonly number[] = [CKM.ECDH1_DERIVE];

/** The hash of each hashing mechanism. */
const HASHED: Readonly<Record<number, HashName>> = {
  [CKM.SHA1_RSA_PKCS]: 'sha1',
  [CKM.SHA256_RSA_PKCS]: 'sha256',
  [CKM.SHA384_RSA_PKCS]: 'sha384',
  [CKM.SHA512_RSA_PKCS]: 'sha512',
  [CKM.SHA1_RSA_PKCS_PSS]: 'sha1',
  [CKM.SHA256_RSA_PKCS_PSS]: 'sha256',
  [CKM.SHA384_RSA_PKCS_PSS]: 'sha384',
  [CKM.SHA512_RSA_PKCS_PSS]: 'sha512',
  [CKM.ECDSA_SHA1]: 'sha1',
  [CKM.ECDSA_SHA256]: 'sha256',
  [CKM.ECDSA_SHA384]: 'sha384',
  [CKM.ECDSA_SHA512]: 'sha512',
};

/** The hash of a PSS/OAEP hashAlg, with the MGF1 that goes with it. */
const HASH_OF_CKM: Readonly<Record<number, { hash: HashName; mgf: number }>> = {
  [CKM.SHA_1]: { hash: 'sha1', mgf: CKG.MGF1_SHA1 },
  [CKM.SHA256]: { hash: 'sha256', mgf: CKG.MGF1_SHA256 },
  [CKM.SHA384]: { hash: 'sha384', mgf: CKG.MGF1_SHA384 },
  [CKM.SHA512]: { hash: 'sha512', mgf: CKG.MGF1_SHA512 },
};

const HASH_BY_LENGTH: Readonly<Record<number, HashName>> = { 20: 'sha1', 32: 'sha256', 48: 'sha384', 64: 'sha512' };

/** DigestInfo prefixes (RFC 8017 §9.2 note 1): CKM_RSA_PKCS signs DigestInfo ‖ hash. */
const DIGEST_INFO: readonly { hash: HashName; prefix: Buffer }[] = [
  { hash: 'sha1', prefix: Buffer.from('3021300906052b0e03021a05000414', 'hex') },
  { hash: 'sha256', prefix: Buffer.from('3031300d060960864801650304020105000420', 'hex') },
  { hash: 'sha384', prefix: Buffer.from('3041300d060960864801650304020205000430', 'hex') },
  { hash: 'sha512', prefix: Buffer.from('3051300d060960864801650304020305000440', 'hex') },
];

/** The mechanisms of one key. */
export function mechanismsOfKey(key: TokenKey): number[] {
  const list: number[] = [];
  const rsa = key.algorithm.type === 'rsa';
  if (key.usages.includes('sign')) list.push(...(rsa ? RSA_SIGN : EC_SIGN));
  if (key.usages.includes('decrypt') && rsa) list.push(...RSA_DECRYPT);
  if (key.usages.includes('derive') && !rsa) list.push(...EC_DERIVE);
  return list;
}

/** CK_MECHANISM_INFO of a mechanism over the given keys: key sizes in bits and flags. */
export function mechanismInfo(
  mechanism: number,
  keys: readonly TokenKey[],
): { min: number; max: number; flags: number } {
  const users = keys.filter((key) => mechanismsOfKey(key).includes(mechanism));
  if (users.length === 0) throw new Pkcs11Error(CKR.MECHANISM_INVALID);
  const sizes = users.map((key) => key.algorithm.bits);
  let flags = CKF_MECHANISM.HW;
  if (RSA_SIGN.includes(mechanism) || EC_SIGN.includes(mechanism)) {
    if (users.some((key) => key.usages.includes('sign'))) flags |= CKF_MECHANISM.SIGN;
  }
  if (RSA_DECRYPT.includes(mechanism) && users.some((key) => key.usages.includes('decrypt'))) {
    flags |= CKF_MECHANISM.DECRYPT;
  }
  if (mechanism === CKM.ECDH1_DERIVE) flags |= CKF_MECHANISM.DERIVE;
  if (users[0]?.algorithm.type === 'ec')
    flags |= CKF_MECHANISM.EC_F_P | CKF_MECHANISM.EC_NAMEDCURVE | CKF_MECHANISM.EC_UNCOMPRESSED;
  return { min: Math.min(...sizes), max: Math.max(...sizes), flags };
}

/** Checks a mechanism's parameters and that the key offers it for `usage`. */
export function checkMechanism(key: TokenKey, mechanism: Mechanism, usage: 'sign' | 'decrypt' | 'derive'): number {
  const type = mechanism.type;
  check(type !== null, CKR.MECHANISM_INVALID);
  const offered =
    usage === 'sign'
      ? key.algorithm.type === 'rsa'
        ? RSA_SIGN
        : EC_SIGN
      : usage === 'decrypt'
        ? key.algorithm.type === 'rsa'
          ? RSA_DECRYPT
          : []
        : key.algorithm.type === 'ec'
          ? EC_DERIVE
          : [];
  if (!offered.includes(type)) {
    const known = [...RSA_SIGN, ...RSA_DECRYPT, ...EC_SIGN, ...EC_DERIVE].includes(type);
    throw new Pkcs11Error(known ? CKR.KEY_TYPE_INCONSISTENT : CKR.MECHANISM_INVALID);
  }
  check(key.usages.includes(usage), CKR.KEY_FUNCTION_NOT_PERMITTED);
  return type;
}

/** The PSS options for the keystore from CK_RSA_PKCS_PSS_PARAMS; `hashed` is the mechanism's own hash. */
function pssOptions(
  mechanism: Mechanism,
  hashed: HashName | undefined,
): { hash: HashName; padding: 'pss'; saltLength: number } {
  const parameters = mechanism.parameters;
  check(parameters.kind === 'pss', CKR.MECHANISM_PARAM_INVALID, 'PSS needs CK_RSA_PKCS_PSS_PARAMS');
  const hash = HASH_OF_CKM[parameters.hashAlg];
  check(hash !== undefined, CKR.MECHANISM_PARAM_INVALID, 'unsupported PSS hash');
  check(hash.mgf === parameters.mgf, CKR.MECHANISM_PARAM_INVALID, 'MGF1 must use the PSS hash');
  check(
    hashed === undefined || hashed === hash.hash,
    CKR.MECHANISM_PARAM_INVALID,
    'PSS hash differs from the mechanism',
  );
  check(parameters.saltLength <= 0xffff, CKR.MECHANISM_PARAM_INVALID);
  return { hash: hash.hash, padding: 'pss', saltLength: parameters.saltLength };
}

/** Signs `data` with `key` under `mechanism` (checked by {@link checkMechanism}); returns the PKCS #11 form. */
export async function signWith(key: TokenKey, mechanism: Mechanism, data: Uint8Array): Promise<Uint8Array> {
  const type = mechanism.type as number;
  const hashed = HASHED[type];
  if (key.algorithm.type === 'ec') {
    if (hashed !== undefined) return key.sign(data, { hash: hashed, format: 'ieee-p1363' });
    const hash = HASH_BY_LENGTH[data.length];
    check(hash !== undefined, CKR.DATA_LEN_RANGE, 'CKM_ECDSA takes a SHA-1/256/384/512 digest');
    return key.signDigest(data, { hash, format: 'ieee-p1363' });
  }
  if (type === CKM.RSA_PKCS) {
    const match = DIGEST_INFO.find(
      ({ prefix }) => data.length > prefix.length && Buffer.from(data.subarray(0, prefix.length)).equals(prefix),
    );
    check(match !== undefined, CKR.DATA_INVALID, 'CKM_RSA_PKCS signs a SHA-1/256/384/512 DigestInfo');
    check(data.length === match.prefix.length + (match.prefix.at(-1) as number), CKR.DATA_LEN_RANGE);
    return key.signDigest(data.subarray(match.prefix.length), { hash: match.hash, padding: 'pkcs1' });
  }
  if (type === CKM.RSA_PKCS_PSS) {
    const options = pssOptions(mechanism, undefined);
    check(HASH_BY_LENGTH[data.length] === options.hash, CKR.DATA_LEN_RANGE, 'the digest length is not the PSS hash');
    return key.signDigest(data, options);
  }
  if (hashed !== undefined && PSS_HASHED.has(type)) return key.sign(data, pssOptions(mechanism, hashed));
  check(hashed !== undefined, CKR.MECHANISM_INVALID);
  return key.sign(data, { hash: hashed, padding: 'pkcs1' });
}

/** Decrypts with `key` under `mechanism` (checked by {@link checkMechanism}). */
export async function decryptWith(key: TokenKey, mechanism: Mechanism, data: Uint8Array): Promise<Uint8Array> {
  if (mechanism.type === CKM.RSA_PKCS) return key.decrypt(data, { padding: 'pkcs1' });
  const parameters = mechanism.parameters;
  check(parameters.kind === 'oaep', CKR.MECHANISM_PARAM_INVALID, 'OAEP needs CK_RSA_PKCS_OAEP_PARAMS');
  const hash = HASH_OF_CKM[parameters.hashAlg];
  check(hash !== undefined && hash.mgf === parameters.mgf, CKR.MECHANISM_PARAM_INVALID, 'unsupported OAEP hash');
  const label = parameters.sourceData ?? undefined;
  return key.decrypt(data, {
    padding: 'oaep',
    hash: hash.hash,
    ...(label !== undefined && label.length > 0 ? { label } : {}),
  });
}

/** The signature length a key produces (for a C_Sign length query). */
export function signatureLength(key: TokenKey): number {
  return key.algorithm.type === 'rsa' ? key.algorithm.bits / 8 : 2 * Math.ceil(key.algorithm.bits / 8);
}
