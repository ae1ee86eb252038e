/**
 * The algorithm x padding x format matrix (not exported): every operation a key's usages allow, with every
 * option, verified by node:crypto — signatures with crypto.verify, decryption of what crypto.publicEncrypt
 * wrote, ECDH against crypto.diffieHellman. What the card cannot do must fail with
 * SCARD_E_UNSUPPORTED_FEATURE, never produce a wrong result.
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
import { ScardError } from '@minidriver/spec';
import { expect } from 'vitest';
import { HASH_NAMES, type Key } from '../src/index.js';
import { HASH_BYTES } from '../src/operation-options.js';

/** What a card can do beyond PKCS #1 v1.5 / ECDSA / ECDH. */
export interface CardAbilities {
  readonly pss: boolean;
  readonly oaep: boolean;
  /** Keys whose `sign` usage the card refuses (SCARD_E_UNSUPPORTED_FEATURE): an OpenPGP decryption key. */
  readonly cannotSign?: (key: Key) => boolean;
}

const MESSAGE = new TextEncoder().encode('minidriver keystore: the quick brown fox');

async function expectUnsupported(operation: Promise<unknown>): Promise<void> {
  const error = await operation.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE'), String(error)).toBe(true);
}

/** Runs every combination on `key`; returns the combinations checked (for the test's own count). */
export async function exerciseKey(key: Key, abilities: CardAbilities): Promise<string[]> {
  const done: string[] = [];
  const name = `${key.algorithm.type}${key.algorithm.bits}#${key.container}`;
  if (key.usages.includes('sign') && abilities.cannotSign?.(key)) {
    await expectUnsupported(key.sign(MESSAGE, { hash: 'sha256' }));
    done.push(`${name} sign unsupported`);
  } else if (key.usages.includes('sign')) {
    for (const hash of HASH_NAMES) {
      if (key.algorithm.type === 'rsa') {
        const pkcs1 = await key.sign(MESSAGE, { hash, padding: 'pkcs1' });
        expect(pkcs1.length).toBe(key.algorithm.bits / 8);
        expect(verify(hash, MESSAGE, { key: key.publicKey, padding: constants.RSA_PKCS1_PADDING }, pkcs1)).toBe(true);
        const digest = new Uint8Array(createHash(hash).update(MESSAGE).digest());
        const fromDigest = await key.signDigest(digest, { hash });
        // PKCS #1 v1.5 is deterministic: signing the digest gives the same bytes.
        expect(Buffer.from(fromDigest).equals(Buffer.from(pkcs1))).toBe(true);
        done.push(`${name} sign ${hash} pkcs1`);
        if (abilities.pss && HASH_BYTES[hash] * 2 + 2 > key.algorithm.bits / 8) {
          // RFC 8017 §9.1.1: emLen >= hLen + sLen + 2, with sLen = hLen: too big for this modulus.
          const error = await key.sign(MESSAGE, { hash, padding: 'pss' }).catch((caught: unknown) => caught);
          expect(ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')).toBe(true);
          done.push(`${name} sign ${hash} pss does not fit`);
        } else if (abilities.pss) {
          const pss = await key.sign(MESSAGE, { hash, padding: 'pss' });
          const options = {
            key: key.publicKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          };
          expect(verify(hash, MESSAGE, options, pss)).toBe(true);
          done.push(`${name} sign ${hash} pss`);
        } else {
          await expectUnsupported(key.sign(MESSAGE, { hash, padding: 'pss' }));
          done.push(`${name} sign ${hash} pss unsupported`);
        }
      } else {
        for (const format of ['der', 'ieee-p1363'] as const) {
          const signature = await key.sign(MESSAGE, { hash, format });
          expect(verify(hash, MESSAGE, { key: key.publicKey, dsaEncoding: format }, signature)).toBe(true);
          if (format === 'ieee-p1363') expect(signature.length).toBe(2 * Math.ceil(key.algorithm.bits / 8));
          else expect(signature[0]).toBe(0x30);
          done.push(`${name} sign ${hash} ${format}`);
        }
        const digest = new Uint8Array(createHash(hash).update(MESSAGE).digest());
        const fromDigest = await key.signDigest(digest, { hash });
        expect(verify(hash, MESSAGE, key.publicKey, fromDigest)).toBe(true);
      }
    }
  }
  if (key.usages.includes('decrypt')) {
    const secret = randomBytes(32);
    const pkcs1 = publicEncrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
    expect(Buffer.from(await key.decrypt(pkcs1, { padding: 'pkcs1' })).equals(secret)).toBe(true);
    done.push(`${name} decrypt pkcs1`);
    for (const hash of ['sha1', 'sha256'] as const) {
      const label = hash === 'sha256' ? new TextEncoder().encode('label') : undefined;
      const oaep = publicEncrypt(
        {
          key: key.publicKey,
          padding: constants.RSA_PKCS1_OAEP_PADDING,
          oaepHash: hash,
          ...(label ? { oaepLabel: label } : {}),
        },
        secret,
      );
      const operation = key.decrypt(oaep, { padding: 'oaep', hash, ...(label ? { label } : {}) });
      if (abilities.oaep) {
        expect(Buffer.from(await operation).equals(secret)).toBe(true);
        done.push(`${name} decrypt oaep ${hash}`);
      } else {
        await expectUnsupported(operation);
        done.push(`${name} decrypt oaep ${hash} unsupported`);
      }
    }
  }
  if (key.usages.includes('derive') && key.algorithm.type === 'ec') {
    const peer = generateKeyPairSync('ec', { namedCurve: key.algorithm.curve });
    const secret = await key.deriveSharedSecret(peer.publicKey);
    const expected = diffieHellman({ privateKey: peer.privateKey, publicKey: key.publicKey });
    expect(Buffer.from(secret).equals(expected)).toBe(true);
    done.push(`${name} derive`);
  }
  return done;
}

/** PIV: every padding (the host pads). */
export const PIV_ABILITIES: CardAbilities = { pss: true, oaep: true };

/** OpenPGP: the card pads PKCS #1 v1.5 itself (no PSS, no OAEP) and its decryption key does not sign. */
export const OPENPGP_ABILITIES: CardAbilities = { pss: false, oaep: false, cannotSign: (key) => key.container === 1 };
