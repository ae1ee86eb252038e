/**
 * Group 6 — cryptography checked against node:crypto (docs/spec/minidriver.md §5.6, §8.1, §9.2, §9.3): RSA signatures
 * (PKCS #1 v1.5 and PSS, little-endian → reversed before verifying), ECDSA r‖s (→ DER), RSA decryption
 * of node:crypto ciphertexts (PKCS #1, OAEP, raw), ECDH agreement + HASH KDF against node's ECDH.
 */
import {
  constants,
  createHash,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  verify,
} from 'node:crypto';
import { ecdsaRawToDer, encodeWideString, keyObjectToPublicKeyBlob } from '@minidriver/card-kit';
import type { CardSession } from '@minidriver/core';
import {
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_NONE,
  CARD_PADDING_OAEP,
  CARD_PADDING_PKCS1,
  CARD_PADDING_PSS,
  CalgHash,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  isRsaKeySpec,
  KdfBufferType,
  KeySpec,
  reverseBytes,
} from '@minidriver/spec';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { authenticateForWrites, check, checkBytesEqual, closeRig, must, mustFail, type Rig } from '../harness.js';
import type { ConformanceOptions, ContainerPlan } from '../options.js';
import { type CreatedContainer, keySpecName, openProvisionedRig } from '../provision.js';

const MESSAGE = new TextEncoder().encode('minidriver conformance: sign me');
const HASH_OF_CURVE: Record<number, { node: string; calg: number }> = {
  3: { node: 'sha256', calg: CalgHash.CALG_SHA_256 },
  4: { node: 'sha384', calg: CalgHash.CALG_SHA_384 },
  5: { node: 'sha512', calg: CalgHash.CALG_SHA_512 },
};

function sha(name: string, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(name).update(data).digest());
}

/** The hash a container signs with: SHA-256 for RSA, the curve's own for ECDSA (docs/spec/minidriver.md §5.6.1). */
function hashOf(keySpec: number): { node: string; calg: number } {
  return isRsaKeySpec(keySpec)
    ? { node: 'sha256', calg: CalgHash.CALG_SHA_256 }
    : (HASH_OF_CURVE[keySpec] as { node: string; calg: number });
}

/** CardSignData (version 1, no padding info) of the hash of MESSAGE with the key of `plan`'s container. */
function signMessage(session: CardSession, plan: ContainerPlan) {
  const hash = hashOf(plan.keySpec);
  return session.signData({
    version: 1,
    containerIndex: plan.index,
    keySpec: plan.keySpec,
    signingFlags: 0,
    hashAlgorithmId: hash.calg,
    data: sha(hash.node, MESSAGE),
  });
}

export function defineCryptoTests(options: ConformanceOptions): void {
  const signs = (plan: ContainerPlan) => plan.canSign !== false;
  const rsaSigners = options.containers.filter((plan) => isRsaKeySpec(plan.keySpec) && signs(plan));
  const nonSigners = options.containers.filter((plan) => !signs(plan) && !isEcdhKeySpec(plan.keySpec));
  const rsaDecrypters = options.containers.filter((plan) => plan.keySpec === KeySpec.AT_KEYEXCHANGE);
  const ecdsaSigners = options.containers.filter((plan) => isEcdsaKeySpec(plan.keySpec) && signs(plan));
  const ecdhKeys = options.containers.filter((plan) => isEcdhKeySpec(plan.keySpec));
  const capabilities = { pss: true, oaep: true, rawDecrypt: true, ...options.crypto };

  describe('cryptography verified with node:crypto (docs/spec/minidriver.md §5.6, §8, §9)', () => {
    let rig: Rig;
    let created: Map<number, CreatedContainer>;

    beforeAll(async () => {
      ({ rig, created } = await openProvisionedRig(options));
    });
    afterAll(() => closeRig(rig));

    const keyOf = (plan: ContainerPlan) => (created.get(plan.index) as CreatedContainer).publicKey;

    for (const plan of rsaSigners) {
      const what = `container ${plan.index} (${keySpecName(plan.keySpec)} ${plan.keySize})`;
      it(`${what}: PKCS #1 v1.5 SHA-256 signatures verify after reversing the byte order (docs/spec/minidriver.md §5.6.1, §8.1)`, async () => {
        const hash = sha('sha256', MESSAGE);
        for (const [form, info] of [
          [
            'version 1, aiHashAlg CALG_SHA_256',
            {
              version: 1,
              containerIndex: plan.index,
              keySpec: plan.keySpec,
              signingFlags: 0,
              hashAlgorithmId: CalgHash.CALG_SHA_256,
              data: hash,
            },
          ],
          [
            'version 2, CARD_PADDING_PKCS1 SHA256',
            {
              version: 2,
              containerIndex: plan.index,
              keySpec: plan.keySpec,
              signingFlags: CARD_PADDING_INFO_PRESENT,
              hashAlgorithmId: 0,
              data: hash,
              paddingType: CARD_PADDING_PKCS1,
              paddingInfo: { algorithm: 'SHA256' },
            },
          ],
        ] as const) {
          const { signature, size } = await must(
            rig.session.signData(info),
            `docs/spec/minidriver.md §5.6.1 CardSignData (${form}) with ${what}`,
          );
          check(
            signature !== undefined && signature.length === plan.keySize / 8 && size === signature.length,
            `docs/spec/minidriver.md §5.6.1 the RSA signature (${form}) is modulus-long`,
            `it has ${signature?.length} bytes`,
          );
          const valid = verify(
            'sha256',
            MESSAGE,
            { key: keyOf(plan), padding: constants.RSA_PKCS1_PADDING },
            reverseBytes(signature),
          );
          check(
            valid,
            `docs/spec/minidriver.md §5.6.1/§8.1 the signature (${form}), reversed from little-endian, verifies with the container's public key`,
          );
        }
      });

      /** CardSignData of SHA-256(MESSAGE) with PSS (salt length 32) and this container's key. */
      const signPss = () =>
        rig.session.signData({
          version: 2,
          containerIndex: plan.index,
          keySpec: plan.keySpec,
          signingFlags: CARD_PADDING_INFO_PRESENT,
          hashAlgorithmId: 0,
          data: sha('sha256', MESSAGE),
          paddingType: CARD_PADDING_PSS,
          paddingInfo: { algorithm: 'SHA256', saltLength: 32 },
        });
      if (capabilities.pss) {
        it(`${what}: PSS SHA-256 signatures verify (docs/spec/minidriver.md §5.6.1, §9.3)`, async () => {
          const { signature } = await must(signPss(), `docs/spec/minidriver.md §5.6.1 CardSignData (PSS) with ${what}`);
          const valid = verify(
            'sha256',
            MESSAGE,
            { key: keyOf(plan), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
            reverseBytes(signature as Uint8Array),
          );
          check(valid, 'docs/spec/minidriver.md §9.3 the PSS signature, reversed, verifies with salt length 32');
        });
      } else {
        it(`${what}: the card declares no PSS: CARD_PADDING_PSS is SCARD_E_UNSUPPORTED_FEATURE (docs/spec/minidriver.md §9.3)`, async () => {
          await mustFail(
            signPss(),
            'SCARD_E_UNSUPPORTED_FEATURE',
            'docs/spec/minidriver.md §9.3 CardSignData with PSS on a card without PSS',
          );
        });
      }
    }

    for (const plan of nonSigners) {
      it(`container ${plan.index} (${keySpecName(plan.keySpec)}) is declared unable to sign: CardSignData is SCARD_E_UNSUPPORTED_FEATURE (docs/spec/minidriver.md §5.6.1)`, async () => {
        await mustFail(
          signMessage(rig.session, plan),
          'SCARD_E_UNSUPPORTED_FEATURE',
          `docs/spec/minidriver.md §5.6.1 CardSignData with container ${plan.index}, which the card cannot sign with`,
        );
      });
    }

    for (const plan of ecdsaSigners) {
      const what = `container ${plan.index} (${keySpecName(plan.keySpec)})`;
      it(`${what}: ECDSA r‖s signatures verify as DER (docs/spec/minidriver.md §5.6.1, §8.1)`, async () => {
        const hash = hashOf(plan.keySpec);
        const { signature } = await must(
          signMessage(rig.session, plan),
          `docs/spec/minidriver.md §5.6.1 CardSignData with ${what}`,
        );
        const coordinate = { 3: 32, 4: 48, 5: 66 }[plan.keySpec as 3 | 4 | 5];
        check(
          signature !== undefined && signature.length === 2 * coordinate,
          `docs/spec/minidriver.md §5.6.1 an ECDSA signature is r‖s, ${2 * coordinate} bytes`,
          `it has ${signature?.length}`,
        );
        const valid = verify(hash.node, MESSAGE, keyOf(plan), ecdsaRawToDer(signature));
        check(
          valid,
          "docs/spec/minidriver.md §5.6.1 the r‖s signature (big-endian), as DER, verifies with the container's public key",
        );
      });
    }

    for (const plan of rsaDecrypters) {
      const what = `container ${plan.index} (AT_KEYEXCHANGE ${plan.keySize})`;
      const modulusBytes = plan.keySize / 8;
      /** node:crypto's encryption of `message` to this container's key (big-endian). */
      const encrypt = (message: Uint8Array, padding: number, oaepHash?: string) =>
        new Uint8Array(
          publicEncrypt({ key: keyOf(plan), padding, ...(oaepHash === undefined ? {} : { oaepHash }) }, message),
        );
      /**
       * CardRSADecrypt with this container, big-endian in and out: the minidriver takes the ciphertext and
       * gives the plaintext little-endian (docs/spec/minidriver.md §5.6.2), so both are reversed here.
       */
      const decrypt = (ciphertext: Uint8Array, paddingType: number, paddingInfo?: { algorithm: string }) =>
        rig.session
          .rsaDecrypt({
            version: 2,
            containerIndex: plan.index,
            keySpec: KeySpec.AT_KEYEXCHANGE,
            data: reverseBytes(ciphertext),
            paddingType,
            ...(paddingInfo === undefined ? {} : { paddingInfo }),
          })
          .then(reverseBytes);
      it(`${what}: PKCS #1 v1.5 ciphertexts from node:crypto decrypt (docs/spec/minidriver.md §5.6.2, §9.2)`, async () => {
        const secret = new Uint8Array(randomBytes(32));
        const ciphertext = encrypt(secret, constants.RSA_PKCS1_PADDING);
        const plain = await must(
          decrypt(ciphertext, CARD_PADDING_PKCS1),
          `docs/spec/minidriver.md §5.6.2 CardRSADecrypt (PKCS1) with ${what}`,
        );
        checkBytesEqual(
          plain,
          secret,
          'docs/spec/minidriver.md §5.6.2 PKCS1 decryption returns the plaintext, byte-reversed',
        );
      });

      if (capabilities.oaep) {
        it(`${what}: OAEP SHA-256 ciphertexts decrypt (docs/spec/minidriver.md §5.6.2)`, async () => {
          const secret = new Uint8Array(randomBytes(32));
          const ciphertext = encrypt(secret, constants.RSA_PKCS1_OAEP_PADDING, 'sha256');
          const plain = await must(
            decrypt(ciphertext, CARD_PADDING_OAEP, { algorithm: 'SHA256' }),
            `docs/spec/minidriver.md §5.6.2 CardRSADecrypt (OAEP SHA256) with ${what}`,
          );
          checkBytesEqual(
            plain,
            secret,
            'docs/spec/minidriver.md §5.6.2 OAEP decryption returns the plaintext, byte-reversed',
          );
        });
      } else {
        it(`${what}: the card declares no OAEP: CARD_PADDING_OAEP is SCARD_E_UNSUPPORTED_FEATURE (docs/spec/minidriver.md §5.6.2 check 8)`, async () => {
          await mustFail(
            decrypt(new Uint8Array(modulusBytes).fill(1), CARD_PADDING_OAEP, { algorithm: 'SHA256' }),
            'SCARD_E_UNSUPPORTED_FEATURE',
            'docs/spec/minidriver.md §5.6.2 check 8',
          );
        });
      }

      if (capabilities.rawDecrypt === true) {
        it(`${what}: raw (CARD_PADDING_NONE) decryption returns the whole block (docs/spec/minidriver.md §5.6.2)`, async () => {
          const block = new Uint8Array(modulusBytes);
          block.set(randomBytes(modulusBytes - 1), 1);
          const ciphertext = encrypt(block, constants.RSA_NO_PADDING);
          const raw = await must(
            decrypt(ciphertext, CARD_PADDING_NONE),
            `docs/spec/minidriver.md §5.6.2 CardRSADecrypt (NONE) with ${what}`,
          );
          checkBytesEqual(
            raw,
            block,
            'docs/spec/minidriver.md §5.6.2 raw decryption returns the modulus-long block, byte-reversed',
          );
        });
      } else if (capabilities.rawDecrypt === 'pkcs1-only') {
        it(`${what}: raw (CARD_PADDING_NONE) decryption returns a valid type 02 block around the message (docs/spec/minidriver.md §5.6.2)`, async () => {
          const secret = new Uint8Array(randomBytes(32));
          const ciphertext = encrypt(secret, constants.RSA_PKCS1_PADDING);
          const block = await must(
            decrypt(ciphertext, CARD_PADDING_NONE),
            `docs/spec/minidriver.md §5.6.2 CardRSADecrypt (NONE) with ${what}`,
          );
          const separator = block.indexOf(0, 2);
          check(
            block.length === modulusBytes && block[0] === 0 && block[1] === 2 && separator >= 10,
            'docs/spec/minidriver.md §5.6.2 a card that removes padding itself must rebuild a valid type 02 block (00 02 <≥8 non-zero bytes> 00 <message>)',
            `got ${block.length} bytes starting ${Buffer.from(block.subarray(0, 3)).toString('hex')}, separator at ${separator}`,
          );
          checkBytesEqual(
            block.subarray(separator + 1),
            secret,
            'docs/spec/minidriver.md §5.6.2 the rebuilt type 02 block carries the plaintext',
          );
        });
      } else {
        it(`${what}: the card declares no raw decryption: CARD_PADDING_NONE is SCARD_E_UNSUPPORTED_FEATURE (docs/spec/minidriver.md §5.6.2 check 8)`, async () => {
          await mustFail(
            decrypt(new Uint8Array(modulusBytes).fill(1), CARD_PADDING_NONE),
            'SCARD_E_UNSUPPORTED_FEATURE',
            'docs/spec/minidriver.md §5.6.2 check 8',
          );
        });
      }

      it(`${what}: a ciphertext one byte short is SCARD_E_INSUFFICIENT_BUFFER (docs/spec/minidriver.md §5.6.2 check 6, docs/spec/minidriver.md §11)`, async () => {
        await mustFail(
          decrypt(new Uint8Array(modulusBytes - 1).fill(1), CARD_PADDING_PKCS1),
          'SCARD_E_INSUFFICIENT_BUFFER',
          'docs/spec/minidriver.md §5.6.2 check 6',
        );
      });
    }

    for (const plan of ecdhKeys) {
      const what = `container ${plan.index} (${keySpecName(plan.keySpec)})`;
      it(`${what}: ECDH + HASH(SHA256) equals node:crypto's, and a destroyed agreement is gone (docs/spec/minidriver.md §5.6.3-§5.6.5, §11)`, async () => {
        const curve = { 6: 'P-256', 7: 'P-384', 8: 'P-521' }[plan.keySpec as 6 | 7 | 8];
        const peer = generateKeyPairSync('ec', { namedCurve: curve });
        const agreement = await must(
          rig.session.constructDHAgreement({
            version: 2,
            containerIndex: plan.index,
            publicKey: keyObjectToPublicKeyBlob(peer.publicKey, 'keyExchange'),
          }),
          `docs/spec/minidriver.md §5.6.3 CardConstructDHAgreement with ${what}`,
        );
        const parameters = [{ type: KdfBufferType.KDF_HASH_ALGORITHM, value: encodeWideString('SHA256') }];
        const derived = await must(
          rig.session.deriveKey({ version: 2, flags: 0, kdf: 'HASH', agreementIndex: agreement, parameters }),
          'docs/spec/minidriver.md §5.6.4 CardDeriveKey(HASH, SHA256)',
        );
        const secret = diffieHellman({ privateKey: peer.privateKey, publicKey: keyOf(plan) });
        checkBytesEqual(
          derived.derivedKey as Uint8Array,
          sha('sha256', secret),
          "docs/spec/minidriver.md §5.6.4/§11 the derived key equals SHA-256 of node:crypto's ECDH secret",
        );
        await must(rig.session.destroyDHAgreement(agreement), 'docs/spec/minidriver.md §5.6.5 CardDestroyDHAgreement');
        await mustFail(
          rig.session.deriveKey({ version: 2, flags: 0, kdf: 'HASH', agreementIndex: agreement, parameters }),
          'SCARD_E_INVALID_PARAMETER',
          'docs/spec/minidriver.md §11 CardDeriveKey after CardDestroyDHAgreement',
        );
      });
    }

    it('after CardDeauthenticateEx a private-key operation is SCARD_W_SECURITY_VIOLATION (docs/spec/minidriver.md §5.2.10, §11)', async () => {
      const plan = [...rsaSigners, ...ecdsaSigners][0];
      if (plan === undefined || rig.session.version < 6) return;
      await must(rig.session.deauthenticateEx(0xff), 'docs/spec/minidriver.md §5.2.10 CardDeauthenticateEx(0xFF)');
      try {
        await mustFail(
          signMessage(rig.session, plan),
          'SCARD_W_SECURITY_VIOLATION',
          `docs/spec/minidriver.md §11 CardSignData with container ${plan.index} after CardDeauthenticateEx`,
        );
      } finally {
        await authenticateForWrites(options, rig.session);
      }
    });
  });
}
