/**
 * @packageDocumentation
 * Reading a token's keys through the contract (internal): the valid containers of `mscp/cmapfile`, each
 * container's public key BLOBs (CardGetContainerInfo), the PIN protecting it (CCP_PIN_IDENTIFIER), and the
 * certificates of `mscp/kscNN` / `mscp/kxcNN` (raw DER or the Base CSP's compressed form), kept only when
 * they certify the key they sit with.
 */
import { X509Certificate } from 'node:crypto';
import {
  type CertificateFileKind,
  certificateFileName,
  decodeCertificateFile,
  decodeContainerMap,
  keyBlobInfo,
  parseCertificateFileName,
  publicKeyBlobToKeyObject,
} from '@minidriver/card-kit';
import type { CardSession } from '@minidriver/core';
import {
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  type ContainerInfo,
  ContainerProperty,
  isEcdhKeySpec,
  KeySpec,
  LogicalName,
  ROLE_USER,
  ScardError,
} from '@minidriver/spec';
import { isAbsent, readOptional } from './absent.js';
import { curveOfBits, type KeyAlgorithm, usagesOfKeySpec } from './algorithms.js';
import { Key } from './key.js';
import { roleOfPin } from './pins.js';
import type { TokenCore } from './token-core.js';

/** The certificate file kind of a key spec: `kxc` for the key exchange half, `ksc` for the signature half. */
export function certificateKindOf(keySpec: number): CertificateFileKind {
  return keySpec === KeySpec.AT_KEYEXCHANGE || isEcdhKeySpec(keySpec) ? 'kxc' : 'ksc';
}

function keySpecOf(half: 'signature' | 'keyExchange', algorithm: 'RSA' | 'ECDSA' | 'ECDH', bits: number): number {
  if (algorithm === 'RSA') return half === 'signature' ? KeySpec.AT_SIGNATURE : KeySpec.AT_KEYEXCHANGE;
  const offset = bits === 384 ? 1 : bits === 521 ? 2 : 0;
  return (algorithm === 'ECDSA' ? KeySpec.AT_ECDSA_P256 : KeySpec.AT_ECDHE_P256) + offset;
}

/** Every certificate file of `mscp`, decoded, by `<kind><container>`; unreadable ones are left out. */
async function readCertificates(session: CardSession): Promise<Map<string, X509Certificate>> {
  const certificates = new Map<string, X509Certificate>();
  let names: string[];
  try {
    names = await session.enumFiles(LogicalName.BASE_CSP_DIR);
  } catch (error) {
    if (isAbsent(error)) return certificates;
    throw error;
  }
  for (const name of names) {
    const parsed = parseCertificateFileName(name);
    if (!parsed) continue;
    let bytes: Uint8Array;
    try {
      bytes = await session.readFile(LogicalName.BASE_CSP_DIR, name);
    } catch (error) {
      if (isAbsent(error) || ScardError.hasCode(error, 'SCARD_E_COMM_DATA_LOST')) continue;
      throw error;
    }
    if (bytes.length === 0) continue;
    try {
      certificates.set(`${parsed.kind}${parsed.containerIndex}`, new X509Certificate(decodeCertificateFile(bytes)));
    } catch {
      // A certificate file that does not hold a certificate: the key is listed without one.
    }
  }
  return certificates;
}

async function pinOfContainer(session: CardSession, index: number): Promise<number> {
  return (
    (await readOptional(() => session.getContainerProperty(index, ContainerProperty.CCP_PIN_IDENTIFIER))) ?? ROLE_USER
  );
}

/**
 * Reads every key of the token (see the module comment), signature half first in each container, in one
 * card transaction: cmapfile, the listing, the certificates and the containers read the same card objects,
 * which the session then reads once whatever its cache mode (CardSession.transaction).
 */
export function listKeys(core: TokenCore): Promise<Key[]> {
  return core.session.transaction(() => readKeys(core));
}

async function readKeys(core: TokenCore): Promise<Key[]> {
  const session = core.session;
  const records = decodeContainerMap(await session.readFile(LogicalName.BASE_CSP_DIR, LogicalName.CONTAINER_MAP_FILE));
  const certificates = await readCertificates(session);
  const keys: Key[] = [];
  for (const [index, record] of records.entries()) {
    if ((record.flags & CONTAINER_MAP_VALID_CONTAINER) === 0) continue;
    let info: ContainerInfo;
    try {
      info = await session.getContainerInfo(index);
    } catch (error) {
      if (ScardError.hasCode(error, 'SCARD_E_NO_KEY_CONTAINER')) continue;
      throw error;
    }
    const pinId = await pinOfContainer(session, index);
    const pinRole = core.pins.get(pinId)?.role ?? roleOfPin(pinId, undefined);
    for (const [half, blob] of [
      ['signature', info.signaturePublicKey],
      ['keyExchange', info.keyExchangePublicKey],
    ] as const) {
      if (blob === undefined) continue;
      const { algorithm: blobAlgorithm, bits } = keyBlobInfo(blob);
      const keySpec = keySpecOf(half, blobAlgorithm, bits);
      const publicKey = publicKeyBlobToKeyObject(blob);
      const curve = curveOfBits(bits);
      const algorithm: KeyAlgorithm =
        blobAlgorithm === 'RSA' || curve === undefined ? { type: 'rsa', bits } : { type: 'ec', curve, bits };
      const certificate = certificates.get(`${certificateKindOf(keySpec)}${index}`);
      keys.push(
        new Key({
          core,
          container: index,
          containerName: record.guid,
          defaultContainer: (record.flags & CONTAINER_MAP_DEFAULT_CONTAINER) !== 0,
          keySpec,
          algorithm,
          usages: usagesOfKeySpec(keySpec),
          publicKey,
          certificate: certificate?.publicKey.equals(publicKey) ? certificate : undefined,
          certificateFile: `${LogicalName.BASE_CSP_DIR}/${certificateFileName(certificateKindOf(keySpec), index)}`,
          pinId,
          pinRole,
        }),
      );
    }
  }
  return keys;
}
