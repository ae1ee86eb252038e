/**
 * @module Test support: a real X.509 certificate (DER) for any public key, signed by a throwaway P-256
 * issuer with node:crypto, so tests can write certificates for keys generated on the simulated card.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

function length(value: number): number[] {
  if (value < 0x80) return [value];
  if (value < 0x100) return [0x81, value];
  return [0x82, value >>> 8, value & 0xff];
}

function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Uint8Array.from([tag, ...length(body.length), ...body]);
}

const sequence = (...parts: Uint8Array[]): Uint8Array => der(0x30, ...parts);
const oid = (bytes: number[]): Uint8Array => der(0x06, Uint8Array.from(bytes));
const ECDSA_WITH_SHA256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const COMMON_NAME = [0x55, 0x04, 0x03];

function name(commonName: string): Uint8Array {
  return sequence(der(0x31, sequence(oid(COMMON_NAME), der(0x0c, Buffer.from(commonName, 'utf8')))));
}

/** A DER certificate for `subjectKey`, CN = `commonName`, signed by a fresh issuer key. */
export function makeTestCertificate(subjectKey: KeyObject, commonName = 'PIV test'): Uint8Array {
  const issuer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const algorithm = sequence(oid(ECDSA_WITH_SHA256));
  const tbs = sequence(
    der(0xa0, der(0x02, Uint8Array.of(2))),
    der(0x02, Uint8Array.of(0x01, 0x23, 0x45)),
    algorithm,
    name('PIV test issuer'),
    sequence(der(0x17, Buffer.from('250101000000Z')), der(0x17, Buffer.from('350101000000Z'))),
    name(commonName),
    new Uint8Array(subjectKey.export({ type: 'spki', format: 'der' })),
  );
  const signature = sign('sha256', tbs, issuer);
  return sequence(tbs, algorithm, der(0x03, Uint8Array.of(0), signature));
}
