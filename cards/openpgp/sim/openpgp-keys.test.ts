import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AlgorithmId,
  CURVES,
  type KeySlot,
  parseAlgorithmAttributes,
  supportedAttributes,
} from './openpgp-algorithms.js';
import {
  computeSignature,
  decipher,
  exportCardKey,
  generateCardKey,
  importCardKey,
  publicKeyFields,
  restoreCardKey,
} from './openpgp-keys.js';
import { CardStatus } from './openpgp-status.js';

const hashFor = (size: number) => (size >= 64 ? 'sha512' : size >= 48 ? 'sha384' : 'sha256');

describe('openpgp-keys', () => {
  // Checks each curve's order constant: a wrong order gives signatures node:crypto rejects.
  for (const curve of CURVES.filter((candidate) => candidate.order !== undefined)) {
    it(`signs a ${curve.name} hash with ECDSA that node:crypto verifies`, async () => {
      const algorithm = parseAlgorithmAttributes(Uint8Array.of(AlgorithmId.ecdsa, ...curve.oid), 0);
      const key = await generateCardKey(algorithm);
      const message = Buffer.from(`message for ${curve.name}`);
      const hashName = hashFor(curve.size);
      const signature = computeSignature(key, createHash(hashName).update(message).digest());
      expect(signature.length).toBe(curve.size * 2);
      const publicKey = createPublicKey(key.privateKey);
      expect(verifySignature(hashName, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    });
  }

  it('imports a brainpoolP256r1 scalar and answers the same public point as node', async () => {
    const algorithm = parseAlgorithmAttributes(
      Uint8Array.of(0x13, ...CURVES.find((c) => c.name === 'brainpoolP256r1')!.oid),
      0,
    );
    const generated = await generateCardKey(algorithm);
    // SEC 1: 30 { 02 01 01, 04 20 <d>, ... }: the scalar sits at bytes 7..39.
    const scalar = generated.privateKey.export({ format: 'der', type: 'sec1' }).subarray(7, 39);
    const imported = importCardKey(algorithm, new Map([[0x92, Uint8Array.from(scalar)]]));
    expect(publicKeyFields(imported)).toEqual(publicKeyFields(generated));
  });

  it('imports X25519 scalars big-endian (reversed from the native form)', async () => {
    const algorithm = parseAlgorithmAttributes(
      Uint8Array.of(0x12, ...CURVES.find((c) => c.name === 'Curve25519')!.oid),
      1,
    );
    const generated = await generateCardKey(algorithm);
    const native = Buffer.from(generated.privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const imported = importCardKey(algorithm, new Map([[0x92, Uint8Array.from(native).reverse()]]));
    expect(publicKeyFields(imported)).toEqual(publicKeyFields(generated));
  });

  it('round-trips a key through PKCS#8', async () => {
    const algorithm = parseAlgorithmAttributes(
      Uint8Array.of(0x16, ...CURVES.find((c) => c.name === 'Ed25519')!.oid),
      2,
    );
    const key = await generateCardKey(algorithm);
    expect(publicKeyFields(restoreCardKey(algorithm, exportCardKey(key)))).toEqual(publicKeyFields(key));
  });

  it('rejects an RSA cryptogram whose padding is not type 2 (6A80)', async () => {
    const algorithm = parseAlgorithmAttributes(Uint8Array.of(0x01, 0x08, 0x00, 0x00, 0x20, 0x00), 1);
    const key = await generateCardKey(algorithm);
    const bogus = new Uint8Array(257);
    bogus[2] = 1;
    expect(() => decipher(key, bogus)).toThrow(CardStatus);
  });

  it('lists every supported attribute in FA and each parses for its slot', () => {
    for (const slot of [0, 1, 2] as KeySlot[]) {
      for (const attributes of supportedAttributes(slot))
        expect(() => parseAlgorithmAttributes(attributes, slot)).not.toThrow();
    }
  });

  it('parses random attribute bytes to an algorithm or a CardStatus, nothing else (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.constantFrom<KeySlot>(0, 1, 2), (attributes, slot) => {
        try {
          parseAlgorithmAttributes(attributes, slot);
        } catch (error) {
          expect(error).toBeInstanceOf(CardStatus);
        }
      }),
    );
  });
});
