import { ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KEY_ALGORITHM_NAMES, keySpecFor, parseKeyAlgorithm, usagesOfKeySpec } from './algorithms.js';
import { checkDecryptOptions, checkSignOptions } from './operation-options.js';
import { adminKeyBytes, answerChallenge, pinBytes } from './pins.js';

/** Runs `parse` and says whether it accepted, or threw SCARD_E_INVALID_PARAMETER (anything else fails). */
function acceptsOrRefuses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch (error) {
    expect(ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER'), String(error)).toBe(true);
    return false;
  }
}

describe('key algorithms', () => {
  it('parses every name and its object form to the same algorithm', () => {
    expect(KEY_ALGORITHM_NAMES.map((name) => parseKeyAlgorithm(name))).toEqual([
      { type: 'rsa', bits: 1024 },
      { type: 'rsa', bits: 2048 },
      { type: 'rsa', bits: 3072 },
      { type: 'rsa', bits: 4096 },
      { type: 'ec', curve: 'P-256', bits: 256 },
      { type: 'ec', curve: 'P-384', bits: 384 },
      { type: 'ec', curve: 'P-521', bits: 521 },
    ]);
    expect(parseKeyAlgorithm({ type: 'ec', curve: 'P-384' })).toEqual({ type: 'ec', curve: 'P-384', bits: 384 });
    expect(parseKeyAlgorithm({ type: 'rsa', bits: 3072 })).toEqual({ type: 'rsa', bits: 3072 });
  });

  it('maps algorithm and usage to the key spec the minidriver takes, and back to usages', () => {
    expect(keySpecFor(parseKeyAlgorithm('rsa2048'), 'sign')).toEqual({ keySpec: 2, keySize: 2048 });
    expect(keySpecFor(parseKeyAlgorithm('rsa2048'), 'decrypt')).toEqual({ keySpec: 1, keySize: 2048 });
    expect(keySpecFor(parseKeyAlgorithm('p384'), 'sign')).toEqual({ keySpec: 4, keySize: 0 });
    expect(keySpecFor(parseKeyAlgorithm('p521'), 'derive')).toEqual({ keySpec: 8, keySize: 0 });
    expect([1, 2, 3, 6, 9].map((spec) => usagesOfKeySpec(spec))).toEqual([
      ['sign', 'decrypt'],
      ['sign'],
      ['sign'],
      ['derive'],
      [],
    ]);
    expect(() => keySpecFor(parseKeyAlgorithm('p256'), 'decrypt')).toThrow(/cannot decrypt/);
    expect(() => keySpecFor(parseKeyAlgorithm('rsa1024'), 'derive')).toThrow(/cannot derive/);
  });

  it('accepts only the algorithms it knows, refusing anything else with SCARD_E_INVALID_PARAMETER', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.anything(),
          fc.record({ type: fc.constantFrom('rsa', 'ec'), bits: fc.integer(), curve: fc.string() }),
        ),
        (value) => {
          if (acceptsOrRefuses(() => parseKeyAlgorithm(value))) {
            const parsed = parseKeyAlgorithm(value);
            expect(parsed.type === 'rsa' ? [1024, 2048, 3072, 4096] : [256, 384, 521]).toContain(parsed.bits);
          }
        },
      ),
    );
  });
});

describe('operation options', () => {
  it('applies the defaults of node:crypto', () => {
    expect(checkSignOptions(undefined, 'rsa')).toEqual({
      hash: 'sha256',
      padding: 'pkcs1',
      saltLength: undefined,
      format: 'der',
    });
    expect(checkSignOptions({ padding: 'pss', hash: 'sha384' }, 'rsa')).toMatchObject({ saltLength: 48 });
    expect(checkSignOptions({ format: 'ieee-p1363' }, 'ec')).toMatchObject({
      padding: undefined,
      format: 'ieee-p1363',
    });
    expect(checkDecryptOptions(undefined)).toEqual({ padding: 'oaep', hash: 'sha1', label: undefined });
    expect(checkDecryptOptions({ padding: 'pkcs1' })).toMatchObject({ padding: 'pkcs1' });
  });

  it('never lets an unknown member or value through, and never throws anything but INVALID_PARAMETER', () => {
    const member = fc.constantFrom('hash', 'padding', 'saltLength', 'format', 'label', 'other', '__proto__');
    const value = fc.oneof(
      fc.constantFrom('sha1', 'sha256', 'sha512', 'md5', 'pkcs1', 'pss', 'oaep', 'der', 'ieee-p1363', 'raw'),
      fc.integer({ min: -5, max: 100 }),
      fc.anything(),
    );
    fc.assert(
      fc.property(fc.dictionary(member, value), fc.constantFrom('rsa' as const, 'ec' as const), (options, keyType) => {
        if (acceptsOrRefuses(() => checkSignOptions(options, keyType))) {
          for (const key of Object.keys(options)) expect(['hash', 'padding', 'saltLength', 'format']).toContain(key);
        }
        if (acceptsOrRefuses(() => checkDecryptOptions(options))) {
          for (const key of Object.keys(options)) expect(['hash', 'padding', 'label']).toContain(key);
        }
      }),
    );
  });
});

describe('PIN values', () => {
  it('sends a string PIN as UTF-8 and copies bytes', () => {
    expect([...pinBytes('12é')]).toEqual([0x31, 0x32, 0xc3, 0xa9]);
    const given = Uint8Array.of(1, 2);
    const copy = pinBytes(given);
    copy[0] = 9;
    expect(given[0]).toBe(1);
    expect(() => pinBytes('')).toThrow(ScardError);
  });

  it('answers an 8-byte challenge with 3DES-ECB (known answer)', () => {
    // Keying option 3 (K1 = K2 = K3) is single DES: the classic worked example K = 133457799BBCDFF1,
    // P = 0123456789ABCDEF → C = 85E813540F0AB405.
    const key = adminKeyBytes('133457799BBCDFF1 133457799BBCDFF1:133457799BBCDFF1');
    const challenge = Uint8Array.from(Buffer.from('0123456789abcdef', 'hex'));
    expect(Buffer.from(answerChallenge(key, challenge)).toString('hex')).toBe('85e813540f0ab405');
    expect(answerChallenge(new Uint8Array(16), new Uint8Array(16))).toHaveLength(16);
    expect(() => adminKeyBytes('xyz')).toThrow(ScardError);
    expect(() => answerChallenge(key, new Uint8Array(5))).toThrow(ScardError);
  });
});

describe('hostile option values', () => {
  it('a value whose toString is not callable is refused with SCARD_E_INVALID_PARAMETER, not a TypeError', () => {
    const hostile = { toString: 0 };
    for (const parse of [
      () => checkSignOptions({ hash: hostile }, 'rsa'),
      () => checkSignOptions({ padding: 'pss', saltLength: hostile }, 'rsa'),
      () => checkDecryptOptions({ padding: hostile }),
      () => parseKeyAlgorithm({ type: 'rsa', bits: hostile }),
      () => parseKeyAlgorithm({ type: 'ec', curve: hostile }),
      () => parseKeyAlgorithm({ type: hostile }),
    ]) {
      expect(acceptsOrRefuses(parse)).toBe(false);
    }
  });
});
