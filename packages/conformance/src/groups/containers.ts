/**
 * Group 5 — key containers (docs/spec/minidriver.md §5.4, §5.5, §9.1, §11 "Containers and crypto"): create each planned
 * container, read its public key BLOBs back as node:crypto keys, check key sizes and cmapfile, delete.
 */

import { keyBlobInfo } from '@minidriver/card-kit';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CardProperty,
  ContainerProperty,
  isEcdhKeySpec,
  isPinInSet,
  isRsaKeySpec,
  KeySpec,
} from '@minidriver/spec';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { check, closeRig, must, mustFail, type Rig } from '../harness.js';
import type { ConformanceOptions } from '../options.js';
import {
  blobOf,
  type CreatedContainer,
  deleteContainerIfSupported,
  keySpecName,
  openProvisionedRig,
  readContainerMap,
} from '../provision.js';

const CURVE_NAMES: Record<number, string> = { 256: 'prime256v1', 384: 'secp384r1', 521: 'secp521r1' };

/** An index none of the planned containers uses (for "empty container" checks). */
export function emptyIndexOf(options: ConformanceOptions): number {
  const used = new Set(options.containers.map((container) => container.index));
  for (let index = 0; index < 256; index++) if (!used.has(index)) return index;
  return 255;
}

export function defineContainerTests(options: ConformanceOptions): void {
  describe('key containers (docs/spec/minidriver.md §5.4, §9.1)', () => {
    let rig: Rig;
    let created: Map<number, CreatedContainer>;

    beforeAll(async () => {
      ({ rig, created } = await openProvisionedRig(options));
    });
    afterAll(() => closeRig(rig));

    it('CARD_CAPABILITIES.fKeyGen agrees with the planned containers; no key generation is SCARD_E_UNSUPPORTED_FEATURE (docs/spec/minidriver.md §3.2, §5.4.1)', async () => {
      const capabilities = await must(
        rig.session.queryCapabilities(),
        'docs/spec/minidriver.md §5.1.3 CardQueryCapabilities',
      );
      if (options.containers.some((container) => container.generate)) {
        check(
          capabilities.keyGeneration,
          'docs/spec/minidriver.md §3.2 a card that generated keys reports fKeyGen = TRUE',
        );
      } else if (!capabilities.keyGeneration) {
        const plan = options.containers[0] as (typeof options.containers)[number];
        const size = isRsaKeySpec(plan.keySpec) ? plan.keySize : 0;
        await mustFail(
          rig.session.createContainer(emptyIndexOf(options), CARD_CREATE_CONTAINER_KEY_GEN, plan.keySpec, size),
          'SCARD_E_UNSUPPORTED_FEATURE',
          'docs/spec/minidriver.md §3.2/§5.4.1 CardCreateContainer(KEY_GEN) on a card with fKeyGen = FALSE',
        );
      }
    });

    for (const plan of options.containers) {
      const what = `container ${plan.index} (${keySpecName(plan.keySpec)}${plan.keySize ? ` ${plan.keySize}` : ''}, ${plan.generate ? 'generated' : 'imported'})`;
      it(`${what}: CONTAINER_INFO holds a valid public key of the planned kind (docs/spec/minidriver.md §5.4.4, §9.1)`, async () => {
        const container = created.get(plan.index) as CreatedContainer;
        const info = await must(
          rig.session.getContainerInfo(plan.index),
          `docs/spec/minidriver.md §5.4.4 CardGetContainerInfo(${plan.index})`,
        );
        const blob = blobOf(info, plan.keySpec) as Uint8Array;
        const blobInfo = keyBlobInfo(blob);
        const details = container.publicKey.asymmetricKeyDetails;
        if (isRsaKeySpec(plan.keySpec)) {
          check(
            container.publicKey.asymmetricKeyType === 'rsa',
            `docs/spec/minidriver.md §9.1.1 ${what} holds an RSA PUBLICKEYBLOB`,
            `it holds ${blobInfo.algorithm}`,
          );
          check(
            details?.modulusLength === plan.keySize,
            `docs/spec/minidriver.md §9.1.1 ${what} has a ${plan.keySize}-bit modulus`,
            `it has ${details?.modulusLength}`,
          );
        } else {
          const bits = [256, 384, 521][(plan.keySpec - 3) % 3] as number;
          check(
            container.publicKey.asymmetricKeyType === 'ec',
            `docs/spec/minidriver.md §9.1.2 ${what} holds an ECC key BLOB`,
            `it holds ${blobInfo.algorithm}`,
          );
          check(
            details?.namedCurve === CURVE_NAMES[bits],
            `docs/spec/minidriver.md §9.1.2 ${what} is on the P-${bits} curve`,
            `it is on ${details?.namedCurve}`,
          );
          check(
            blobInfo.algorithm === (isEcdhKeySpec(plan.keySpec) ? 'ECDH' : 'ECDSA'),
            `docs/spec/minidriver.md §9.1.2 ${what}'s BLOB magic says ${isEcdhKeySpec(plan.keySpec) ? 'ECDH' : 'ECDSA'}`,
            `it says ${blobInfo.algorithm}`,
          );
        }
        if (container.privateKey) {
          const expected = container.privateKey.export({ format: 'jwk' });
          const actual = container.publicKey.export({ format: 'jwk' });
          check(
            expected.n === actual.n && expected.x === actual.x && expected.y === actual.y,
            `docs/spec/minidriver.md §5.4.1 ${what}: the card reports the public key of the imported private key`,
          );
        }
        if (rig.session.version >= 6) {
          const pinId = await must(
            rig.session.getContainerProperty(plan.index, ContainerProperty.CCP_PIN_IDENTIFIER),
            `docs/spec/minidriver.md §7.2 CCP_PIN_IDENTIFIER of ${what}`,
          );
          const list = await must(
            rig.session.getProperty(CardProperty.CP_CARD_LIST_PINS),
            'docs/spec/minidriver.md §7.1 CP_CARD_LIST_PINS',
          );
          check(
            isPinInSet(list, pinId),
            `docs/spec/minidriver.md §7.2 the PIN protecting ${what} is in CP_CARD_LIST_PINS`,
            `PIN ${pinId}, list 0x${list.toString(16)}`,
          );
        }
      });

      if (isRsaKeySpec(plan.keySpec)) {
        it(`${what}: CardQueryKeySizes covers its size (docs/spec/minidriver.md §5.5.1)`, async () => {
          const sizes = await must(
            rig.session.queryKeySizes(plan.keySpec),
            `docs/spec/minidriver.md §5.5.1 CardQueryKeySizes(${keySpecName(plan.keySpec)})`,
          );
          check(
            sizes.minimumBitLength <= plan.keySize && plan.keySize <= sizes.maximumBitLength,
            `docs/spec/minidriver.md §5.5.1 CARD_KEY_SIZES of ${keySpecName(plan.keySpec)} covers ${plan.keySize}`,
            JSON.stringify(sizes),
          );
        });
      }
    }

    it('CardGetContainerInfo of an empty index is SCARD_E_NO_KEY_CONTAINER (docs/spec/minidriver.md §5.4.4, §11)', async () => {
      const index = emptyIndexOf(options);
      await mustFail(
        rig.session.getContainerInfo(index),
        'SCARD_E_NO_KEY_CONTAINER',
        `docs/spec/minidriver.md §11 CardGetContainerInfo(${index}) of an empty container`,
      );
    });

    it('CardSignData with CARD_BUFFER_SIZE_ONLY answers the signature size (docs/spec/minidriver.md §5.6.1, §9.3)', async () => {
      for (const plan of options.containers) {
        if (isEcdhKeySpec(plan.keySpec) || plan.keySpec === KeySpec.AT_KEYEXCHANGE) continue;
        const result = await must(
          rig.session.signData({
            version: 1,
            containerIndex: plan.index,
            keySpec: plan.keySpec,
            signingFlags: 0x20000000,
            hashAlgorithmId: 0x800c,
            data: new Uint8Array(32),
          }),
          `docs/spec/minidriver.md §5.6.1 CardSignData(CARD_BUFFER_SIZE_ONLY) on container ${plan.index}`,
        );
        const expected = isRsaKeySpec(plan.keySpec)
          ? plan.keySize / 8
          : ({ 3: 64, 4: 96, 5: 132 } as Record<number, number>)[plan.keySpec];
        check(
          result.size === expected && result.signature === undefined,
          `docs/spec/minidriver.md §9.3 the size-only answer of container ${plan.index} is ${expected} bytes and no signature`,
          `size ${result.size}`,
        );
      }
    });

    it('deleting a container empties it and its cmapfile record (docs/spec/minidriver.md §5.4.3, §10 step 17)', async () => {
      const plan = options.containers[options.containers.length - 1] as (typeof options.containers)[number];
      if (!(await deleteContainerIfSupported(rig.session, plan.index))) return;
      await mustFail(
        rig.session.getContainerInfo(plan.index),
        'SCARD_E_NO_KEY_CONTAINER',
        `docs/spec/minidriver.md §5.4.3 container ${plan.index} is empty after CardDeleteContainer`,
      );
      const records = await readContainerMap(rig.session);
      check(
        ((records[plan.index]?.flags ?? 0) & 1) === 0,
        `docs/spec/minidriver.md §10 step 17 the cmapfile record of deleted container ${plan.index} is no longer valid`,
      );
      await must(
        rig.session.deleteContainer(plan.index),
        `docs/spec/minidriver.md §5.4.3 CardDeleteContainer of an already empty index ${plan.index} succeeds`,
      );
    });
  });
}
