/**
 * Enrollment as the Base CSP does it (docs/spec/minidriver.md §10 steps 12-17): create each planned container (on-card
 * generation or import of a node:crypto key), read its public key, and keep `mscp/cmapfile` in step
 * (write the record when the card did not). Also the node:crypto views of container keys.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  CONTAINER_MAP_RECORD_SIZE,
  decodeContainerMap,
  encodeContainerMap,
  encodeEccPrivateKeyBlob,
  encodeRsaPrivateKeyBlob,
  keyBlobInfo,
  publicKeyBlobToKeyObject,
} from '@minidriver/card-kit';
import type { CardSession } from '@minidriver/core';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_CREATE_CONTAINER_KEY_IMPORT,
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  type ContainerInfo,
  type ContainerMapRecord,
  eccKeySpecBits,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  isRsaKeySpec,
  KeySpec,
} from '@minidriver/spec';
import { authenticateForWrites, check, closeRig, must, mustFail, openRig, type Rig } from './harness.js';
import type { ConformanceOptions, ContainerPlan } from './options.js';

/** What the suite knows about a created container. */
export interface CreatedContainer {
  readonly plan: ContainerPlan;
  /** The public key the card reports (CardGetContainerInfo). */
  readonly publicKey: KeyObject;
  /** The private key, for imported containers only. */
  readonly privateKey?: KeyObject;
}

const CURVE_OF: Record<256 | 384 | 521, string> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };

/** The half of CONTAINER_INFO that holds the key of `keySpec` (docs/spec/minidriver.md §3.6). */
export function blobOf(info: ContainerInfo, keySpec: number): Uint8Array | undefined {
  return keySpec === KeySpec.AT_SIGNATURE || isEcdsaKeySpec(keySpec)
    ? info.signaturePublicKey
    : info.keyExchangePublicKey;
}

/** A readable name of a key spec, for messages. */
export function keySpecName(keySpec: number): string {
  const entry = Object.entries(KeySpec).find(([, value]) => value === keySpec);
  return entry ? entry[0] : `key spec ${keySpec}`;
}

function base64UrlBytes(text: string | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(text ?? '', 'base64url'));
}

/** A fresh private key for `plan` and its PRIVATEKEYBLOB / BCRYPT_ECCKEY_BLOB (docs/spec/minidriver.md §9.1.3, §9.1.4). */
export function makeImportKey(plan: ContainerPlan): { privateKey: KeyObject; blob: Uint8Array } {
  if (isRsaKeySpec(plan.keySpec)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: plan.keySize });
    const jwk = privateKey.export({ format: 'jwk' });
    const blob = encodeRsaPrivateKeyBlob(
      {
        modulus: base64UrlBytes(jwk.n),
        publicExponent: base64UrlBytes(jwk.e),
        privateExponent: base64UrlBytes(jwk.d),
        prime1: base64UrlBytes(jwk.p),
        prime2: base64UrlBytes(jwk.q),
        exponent1: base64UrlBytes(jwk.dp),
        exponent2: base64UrlBytes(jwk.dq),
        coefficient: base64UrlBytes(jwk.qi),
      },
      plan.keySpec === KeySpec.AT_SIGNATURE ? 'signature' : 'keyExchange',
    );
    return { privateKey, blob };
  }
  const bits = eccKeySpecBits(plan.keySpec) as 256 | 384 | 521;
  const curve = CURVE_OF[bits] as 'P-256' | 'P-384' | 'P-521';
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const jwk = privateKey.export({ format: 'jwk' });
  const blob = encodeEccPrivateKeyBlob(
    { curve, x: base64UrlBytes(jwk.x), y: base64UrlBytes(jwk.y), d: base64UrlBytes(jwk.d) },
    isEcdhKeySpec(plan.keySpec) ? 'ecdh' : 'ecdsa',
  );
  return { privateKey, blob };
}

/** Reads `mscp/cmapfile` and decodes it, checking the 86-byte record rule (docs/spec/minidriver.md §3.7, §11). */
export async function readContainerMap(session: CardSession): Promise<ContainerMapRecord[]> {
  const bytes = await must(
    session.readFile('mscp', 'cmapfile'),
    'docs/spec/minidriver.md §4.3 CardReadFile("mscp", "cmapfile")',
  );
  check(
    bytes.length % CONTAINER_MAP_RECORD_SIZE === 0,
    'docs/spec/minidriver.md §3.7/§11 mscp/cmapfile is a multiple of 86 bytes',
    `it has ${bytes.length}`,
  );
  return decodeContainerMap(bytes);
}

/** The key sizes a cmapfile record of a container holding `info` must carry (docs/spec/minidriver.md §3.7). */
export function expectedRecordSizes(info: ContainerInfo): { signature: number; keyExchange: number } {
  return {
    signature: info.signaturePublicKey ? keyBlobInfo(info.signaturePublicKey).bits : 0,
    keyExchange: info.keyExchangePublicKey ? keyBlobInfo(info.keyExchangePublicKey).bits : 0,
  };
}

/**
 * Makes the cmapfile record of `index` valid with the container's key sizes (docs/spec/minidriver.md §10 step 15), unless the
 * card already keeps it so. A card that refuses the write fails with the rule's name.
 */
async function registerContainer(session: CardSession, index: number, info: ContainerInfo): Promise<void> {
  const records = await readContainerMap(session);
  const record = records[index];
  if (record !== undefined && (record.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0) return;
  const sizes = expectedRecordSizes(info);
  const hasDefault = records.some((entry) => (entry.flags & CONTAINER_MAP_DEFAULT_CONTAINER) !== 0);
  const next = [...records];
  while (next.length <= index) next.push({ guid: '', flags: 0, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 0 });
  next[index] = {
    guid: `{c0f0c0f0-0000-4000-8000-${index.toString(16).padStart(12, '0')}}`,
    flags: CONTAINER_MAP_VALID_CONTAINER | (hasDefault ? 0 : CONTAINER_MAP_DEFAULT_CONTAINER),
    signatureKeySizeBits: sizes.signature,
    keyExchangeKeySizeBits: sizes.keyExchange,
  };
  await must(
    session.writeFile('mscp', 'cmapfile', encodeContainerMap(next)),
    `docs/spec/minidriver.md §10 step 15: the card neither listed container ${index} in mscp/cmapfile nor let the caller write its record`,
  );
}

/** Clears the cmapfile record of a deleted container when the card did not (docs/spec/minidriver.md §10 step 17). */
export async function unregisterContainer(session: CardSession, index: number): Promise<void> {
  const records = await readContainerMap(session);
  const record = records[index];
  if (record === undefined || (record.flags & CONTAINER_MAP_VALID_CONTAINER) === 0) return;
  const next = [...records];
  next[index] = { guid: '', flags: 0, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 0 };
  await must(
    session.writeFile('mscp', 'cmapfile', encodeContainerMap(next)),
    `docs/spec/minidriver.md §10 step 17: the card kept container ${index} in mscp/cmapfile after CardDeleteContainer and refused the caller's update`,
  );
}

/** Creates one planned container and returns its keys. The session must be authenticated. */
export async function createContainer(session: CardSession, plan: ContainerPlan): Promise<CreatedContainer> {
  const what = `container ${plan.index} (${keySpecName(plan.keySpec)}${plan.keySize ? ` ${plan.keySize} bits` : ''})`;
  let privateKey: KeyObject | undefined;
  if (plan.generate) {
    await must(
      session.createContainer(plan.index, CARD_CREATE_CONTAINER_KEY_GEN, plan.keySpec, plan.keySize),
      `docs/spec/minidriver.md §5.4.1 CardCreateContainer(KEY_GEN) of ${what}`,
    );
  } else {
    const key = makeImportKey(plan);
    privateKey = key.privateKey;
    await must(
      session.createContainer(plan.index, CARD_CREATE_CONTAINER_KEY_IMPORT, plan.keySpec, 0, key.blob),
      `docs/spec/minidriver.md §5.4.1 CardCreateContainer(KEY_IMPORT) of ${what}`,
    );
  }
  const info = await must(
    session.getContainerInfo(plan.index),
    `docs/spec/minidriver.md §5.4.4 CardGetContainerInfo of the new ${what}`,
  );
  const blob = blobOf(info, plan.keySpec);
  check(
    blob !== undefined,
    `docs/spec/minidriver.md §3.6 CONTAINER_INFO of ${what} holds the key of its key spec`,
    'that half is empty',
  );
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyBlobToKeyObject(blob);
  } catch (error) {
    throw new Error(
      `docs/spec/minidriver.md §9.1 the public key BLOB of ${what} is not a valid key BLOB: ${String(error)}`,
    );
  }
  await registerContainer(session, plan.index, info);
  return privateKey ? { plan, publicKey, privateKey } : { plan, publicKey };
}

/** Creates every planned container. */
export async function createContainers(
  session: CardSession,
  plans: readonly ContainerPlan[],
): Promise<Map<number, CreatedContainer>> {
  const created = new Map<number, CreatedContainer>();
  for (const plan of plans) created.set(plan.index, await createContainer(session, plan));
  return created;
}

/** A rig on a fresh card, authenticated for writes, with every planned container created (closed again if that fails). */
export async function openProvisionedRig(
  options: ConformanceOptions,
): Promise<{ rig: Rig; created: Map<number, CreatedContainer> }> {
  const rig = await openRig(options);
  try {
    await authenticateForWrites(options, rig.session);
    return { rig, created: await createContainers(rig.session, options.containers) };
  } catch (error) {
    await closeRig(rig);
    throw error;
  }
}

/**
 * CardDeleteContainer(`index`), then the cmapfile clean-up the caller owes when the card did not do it
 * (docs/spec/minidriver.md §5.4.3, §10 step 17). False when the card answers SCARD_E_UNSUPPORTED_FEATURE
 * (nothing deleted); any other failure fails the suite.
 */
export async function deleteContainerIfSupported(session: CardSession, index: number): Promise<boolean> {
  try {
    await session.deleteContainer(index);
  } catch (error) {
    await mustFail(
      Promise.reject(error),
      'SCARD_E_UNSUPPORTED_FEATURE',
      `docs/spec/minidriver.md §5.4.3 CardDeleteContainer(${index}) may only fail as unsupported`,
    );
    return false;
  }
  await unregisterContainer(session, index);
  return true;
}
