/**
 * Group 9 — the policies @minidriver/card-kit unifies and the exactness rules of the session, each an
 * assertion a plugin fails if it departs from it. Policies of a card whose logical file system is the
 * kit's (`kitFileSystem` true): cmapfile is EveryoneReadUserWriteAc and a write
 * of it must agree with the keys; cardcf writes must be a cache file; bytes written to a certificate file
 * that are no certificate are SCARD_E_INVALID_PARAMETER; and for every card: DH agreements are wiped on
 * deauthentication, cRetryCount ≠ 0 is SCARD_E_UNSUPPORTED_FEATURE (unless the card declares otherwise),
 * the signature PIN is PIN 4 and an unblock-only PIN is PIN 3. Exactness (cardmod.h,
 * docs/spec/minidriver.md §5): CardSetProperty of an unknown name, CardQueryKeySizes(0), CARD_DERIVE_KEY
 * version 0, unknown padding types, the ROLE_EVERYONE bit of CardDeauthenticateEx, cmapfile flags.
 */
import { decodeContainerMap, encodeContainerMap, SIGNATURE_PIN_ID, UNBLOCK_PIN_ID } from '@minidriver/card-kit';
import {
  CARD_PADDING_INFO_PRESENT,
  CardProperty,
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  createPinSet,
  FileAccessCondition,
  isEcdhKeySpec,
  isPinInSet,
  KeySpec,
  PIN_CHANGE_FLAG_CHANGEPIN,
  ROLE_EVERYONE,
  ROLE_USER,
  SecretPurpose,
} from '@minidriver/spec';
import { afterEach, describe, it } from 'vitest';
import { authenticateForWrites, check, closeRig, must, mustFail, openRig, type Rig, userPinOf } from '../harness.js';
import type { ConformanceOptions, ContainerPlan } from '../options.js';
import { blobOf, createContainer } from '../provision.js';

function ecdhPlan(options: ConformanceOptions): ContainerPlan | undefined {
  return options.containers.find((plan) => isEcdhKeySpec(plan.keySpec)) ?? options.ecdhContainer;
}

export function definePolicyTests(options: ConformanceOptions): void {
  describe('unified policies and exactness (@minidriver/card-kit, cardmod.h)', () => {
    let rig: Rig | undefined;
    afterEach(async () => {
      await closeRig(rig);
      rig = undefined;
    });

    const onKitFileSystem = options.kitFileSystem === true ? it : undefined;
    const ifRetryLimitFixed = options.retryCountChange === true ? undefined : it;
    const withEcdh = ecdhPlan(options) === undefined ? undefined : it;

    onKitFileSystem?.('cmapfile: EveryoneReadUserWriteAc, consistent writes only', async () => {
      rig = await openRig(options);
      const info = await must(
        rig.session.getFileInfo('mscp', 'cmapfile'),
        'docs/spec/minidriver.md §5.3.8 CardGetFileInfo(mscp/cmapfile)',
      );
      check(
        info.accessCondition === FileAccessCondition.EveryoneReadUserWriteAc,
        'card-kit policy: mscp/cmapfile is EveryoneReadUserWriteAc (docs/spec/minidriver.md §4.2)',
        `got access condition ${info.accessCondition}`,
      );
      const current = await must(
        rig.session.readFile('mscp', 'cmapfile'),
        'docs/spec/minidriver.md §5.3.4 CardReadFile(mscp/cmapfile)',
      );
      await must(
        rig.session.writeFile('mscp', 'cmapfile', current),
        'card-kit policy: writing back the cmapfile the card synthesised is accepted',
      );
      const records = decodeContainerMap(current);
      const empty = records.findIndex((record) => (record.flags & CONTAINER_MAP_VALID_CONTAINER) === 0);
      const lying = [...records];
      const index = empty < 0 ? records.length : empty;
      lying[index] = { guid: 'no-such-key', flags: 1, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 2048 };
      await mustFail(
        rig.session.writeFile('mscp', 'cmapfile', encodeContainerMap(lying)),
        'SCARD_E_INVALID_PARAMETER',
        'card-kit policy: a cmapfile write that disagrees with the card keys is SCARD_E_INVALID_PARAMETER',
      );
    });

    onKitFileSystem?.('cardcf and certificate writes follow the one policy', async () => {
      rig = await openRig(options);
      await mustFail(
        rig.session.writeFile(null, 'cardcf', new Uint8Array(5)),
        'SCARD_E_INVALID_PARAMETER',
        'card-kit policy: a cardcf write that is not a cache file (5 bytes) is SCARD_E_INVALID_PARAMETER',
      );
      const index = options.certificateContainer ?? options.containers[0]!.index;
      for (const kind of ['ksc', 'kxc']) {
        const name = `${kind}${index.toString(16).padStart(2, '0')}`;
        await mustFail(
          rig.session.writeFile('mscp', name, Uint8Array.of(0x02, 0x03, 0x04)),
          ['SCARD_E_INVALID_PARAMETER'],
          `card-kit policy: bytes written to mscp/${name} that are no certificate are SCARD_E_INVALID_PARAMETER`,
        );
      }
    });

    it('the signature PIN is PIN 4 and an unblock-only PIN is PIN 3 (one value on every card)', async () => {
      rig = await openRig(options);
      const pins = await must(
        rig.session.getProperty(CardProperty.CP_CARD_LIST_PINS),
        'docs/spec/minidriver.md §7.1 CP_CARD_LIST_PINS',
      );
      for (let id = 1; id < 8; id++) {
        if (!isPinInSet(pins, id)) continue;
        const info = await must(
          rig.session.getProperty(CardProperty.CP_CARD_PIN_INFO, id),
          `docs/spec/minidriver.md §7.1 PIN_INFO of PIN ${id}`,
        );
        if (info.purpose === SecretPurpose.DigitalSignaturePin) {
          check(id === SIGNATURE_PIN_ID, 'card-kit policy: a DigitalSignaturePin is PIN 4', `it is PIN ${id}`);
        }
        if (info.purpose === SecretPurpose.UnblockOnlyPin) {
          check(id === UNBLOCK_PIN_ID, 'card-kit policy: an UnblockOnlyPin is PIN 3', `it is PIN ${id}`);
        }
      }
    });

    ifRetryLimitFixed?.('cRetryCount other than 0 is SCARD_E_UNSUPPORTED_FEATURE', async () => {
      rig = await openRig(options);
      await mustFail(
        rig.session.changeAuthenticatorEx(
          PIN_CHANGE_FLAG_CHANGEPIN,
          ROLE_USER,
          userPinOf(options),
          ROLE_USER,
          userPinOf(options),
          5,
        ),
        'SCARD_E_UNSUPPORTED_FEATURE',
        'card-kit policy: CardChangeAuthenticatorEx with cRetryCount 5 on a card that cannot set it',
      );
    });

    withEcdh?.('DH agreements are wiped on deauthentication', async () => {
      rig = await openRig(options);
      const plan = ecdhPlan(options)!;
      await authenticateForWrites(options, rig.session);
      const created = await createContainer(rig.session, plan);
      const peer = blobOf(await rig.session.getContainerInfo(plan.index), plan.keySpec)!;
      check(created.publicKey !== undefined, 'the ECDH container exists');
      await must(
        rig.session.authenticatePin('user', userPinOf(options)),
        'docs/spec/minidriver.md §5.2.1 CardAuthenticatePin("user")',
      );
      const agreement = await must(
        rig.session.constructDHAgreement({ version: 2, containerIndex: plan.index, flags: 0, publicKey: peer }),
        'docs/spec/minidriver.md §5.6.3 CardConstructDHAgreement with the container own public key as the peer',
      );
      await must(
        rig.session.deauthenticateEx(createPinSet(ROLE_USER)),
        'docs/spec/minidriver.md §5.2.10 CardDeauthenticateEx({ROLE_USER})',
      );
      await mustFail(
        rig.session.deriveKey({ version: 2, agreementIndex: agreement, kdf: 'HASH', flags: 0, parameters: [] }),
        'SCARD_E_INVALID_PARAMETER',
        'card-kit policy: an agreement does not outlive the deauthentication it was computed under',
      );
    });

    it('exactness: unknown properties, key spec 0, CARD_DERIVE_KEY v0, padding types, ROLE_EVERYONE', async () => {
      rig = await openRig(options);
      const session = rig.session;
      await mustFail(
        session.setProperty('No Such Property' as never, 0 as never),
        'SCARD_E_UNSUPPORTED_FEATURE',
        'cardmod.h CardSetProperty: a property the card does not know is SCARD_E_UNSUPPORTED_FEATURE',
      );
      for (const keySpec of [0, 9]) {
        await mustFail(
          session.queryKeySizes(keySpec),
          'SCARD_E_INVALID_PARAMETER',
          `cardmod.h CardQueryKeySizes: dwKeySpec ${keySpec} is no AT_* key spec`,
        );
      }
      await mustFail(
        session.deriveKey({ version: 0, agreementIndex: 200, kdf: 'HASH', flags: 0, parameters: [] }),
        ['SCARD_E_INVALID_PARAMETER', 'SCARD_E_UNSUPPORTED_FEATURE'],
        'docs/spec/minidriver.md §1.6 CARD_DERIVE_KEY dwVersion 0 counts as 1 (the missing agreement is the error, not the version)',
      );
      const index = options.containers[0]!.index;
      await mustFail(
        session.signData({
          version: 2,
          containerIndex: index,
          keySpec: KeySpec.AT_SIGNATURE,
          signingFlags: CARD_PADDING_INFO_PRESENT,
          hashAlgorithmId: 0,
          paddingType: 0x10,
          data: new Uint8Array(32),
        }),
        'SCARD_E_INVALID_PARAMETER',
        'cardmod.h CardSignData: an unknown dwPaddingType is SCARD_E_INVALID_PARAMETER',
      );
      await mustFail(
        session.rsaDecrypt({
          version: 2,
          containerIndex: index,
          keySpec: KeySpec.AT_KEYEXCHANGE,
          paddingType: 0x10,
          data: new Uint8Array(256),
        }),
        // A plugin without CardRSADecrypt answers UNSUPPORTED_FEATURE before any parameter check.
        ['SCARD_E_INVALID_PARAMETER', 'SCARD_E_UNSUPPORTED_FEATURE'],
        'cardmod.h CardRSADecrypt: an unknown dwPaddingType is SCARD_E_INVALID_PARAMETER, as in CardSignData',
      );
      await must(
        session.authenticatePin('user', userPinOf(options)),
        'docs/spec/minidriver.md §5.2.1 CardAuthenticatePin("user")',
      );
      await must(
        session.deauthenticateEx(createPinSet(ROLE_EVERYONE)),
        'docs/spec/minidriver.md §5.2.10 CardDeauthenticateEx({ROLE_EVERYONE})',
      );
      check(
        isPinInSet(session.authenticatedPins, ROLE_USER),
        'cardmod.h PIN_SET: the ROLE_EVERYONE bit of CardDeauthenticateEx is ignored, the user stays authenticated',
      );
      const map = decodeContainerMap(
        await must(session.readFile('mscp', 'cmapfile'), 'docs/spec/minidriver.md §5.3.4 cmapfile'),
      );
      for (const [position, record] of map.entries()) {
        check(
          (record.flags & ~3) === 0 &&
            ((record.flags & CONTAINER_MAP_DEFAULT_CONTAINER) === 0 ||
              (record.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0) &&
            !record.guid.includes('\\'),
          'cardmod.h CONTAINER_MAP_RECORD: no reserved flag, DEFAULT only with VALID, no "\\" in a name',
          `record ${position}`,
        );
      }
    });
  });
}
