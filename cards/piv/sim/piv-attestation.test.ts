/**
 * The simulator's YubiKey ATTEST (F9): the certificate of a generated key, issued by the F9 key whose
 * certificate is object 5FFF01, with Yubico's firmware, serial and policy extensions, byte for byte.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MANAGEMENT_KEY } from './piv-management-key.js';
import { PivSimulator } from './piv-simulator.js';
import { authenticateManagementKey, exchange, hex, toHexString } from './piv-test-helpers.js';

function generate(card: PivSimulator, slot: number, template: string): Uint8Array {
  const reply = exchange(card, 0x47, 0x00, slot, hex(template));
  expect(reply.statusWord).toBe(0x9000);
  return reply.data;
}

function extensionValue(certificate: Uint8Array, oid: string): string | undefined {
  // The extnValue OCTET STRING follows the OID (no critical flag on Yubico's extensions).
  const encodedOid = hex(
    {
      '1.3.6.1.4.1.41482.3.3': '060a2b0601040182c40a0303',
      '1.3.6.1.4.1.41482.3.7': '060a2b0601040182c40a0307',
      '1.3.6.1.4.1.41482.3.8': '060a2b0601040182c40a0308',
      '1.3.6.1.4.1.41482.3.9': '060a2b0601040182c40a0309',
    }[oid] as string,
  );
  const text = toHexString(certificate);
  const at = text.indexOf(toHexString(encodedOid));
  if (at < 0) return undefined;
  const rest = text.slice(at + encodedOid.length * 2);
  expect(rest.slice(0, 2)).toBe('04');
  const length = Number.parseInt(rest.slice(2, 4), 16);
  return rest.slice(4, 4 + length * 2);
}

describe('PIV simulator ATTEST (F9)', () => {
  it('attests a generated key: subject, issuer, public key, signature by F9, firmware/serial/policy extensions', () => {
    const card = new PivSimulator({ serial: 12345678, version: [5, 4, 3] });
    expect(exchange(card, 0xa4, 0x04, 0x00, hex('a000000308')).statusWord).toBe(0x9000);
    expect(authenticateManagementKey(card, 0x03, DEFAULT_MANAGEMENT_KEY)).toBe(0x9000);
    // GENERATE 9A, P-256, PIN policy always (03), touch policy cached (03).
    generate(card, 0x9a, 'ac09800111aa0103ab0103');
    const reply = exchange(card, 0xf9, 0x9a, 0x00);
    expect(reply.statusWord).toBe(0x9000);
    const attestation = new X509Certificate(reply.data);
    expect(attestation.subject).toBe('CN=YubiKey PIV Attestation 9a');
    expect(attestation.issuer).toBe('CN=minidriver simulated PIV Attestation');
    // The issuer's certificate is object 5FFF01 (53 { 70 cert 71 00 }), and its key signed the attestation.
    const object = exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fff01'));
    expect(object.statusWord).toBe(0x9000);
    const issuerDer = object.data.subarray(object.data[1] === 0x82 ? 4 : object.data[1] === 0x81 ? 3 : 2);
    const issuer = new X509Certificate(issuerDer.subarray(issuerDer[1] === 0x82 ? 4 : 3, -3));
    expect(attestation.verify(issuer.publicKey)).toBe(true);
    expect(issuer.verify(issuer.publicKey)).toBe(true);
    expect(extensionValue(reply.data, '1.3.6.1.4.1.41482.3.3')).toBe('050403');
    expect(extensionValue(reply.data, '1.3.6.1.4.1.41482.3.7')).toBe('020400bc614e');
    expect(extensionValue(reply.data, '1.3.6.1.4.1.41482.3.8')).toBe('0303');
    expect(extensionValue(reply.data, '1.3.6.1.4.1.41482.3.9')).toBe('01');
    // The attested public key is the slot's (GET METADATA 9A answers the same point).
    const metadata = exchange(card, 0xf7, 0x00, 0x9a);
    const point = toHexString(metadata.data).split('8641')[1]?.slice(0, 130);
    const spki = attestation.publicKey.export({ type: 'spki', format: 'der' }).toString('hex');
    expect(spki.endsWith(point as string)).toBe(true);
  });

  it('refuses an imported key (6A80), an empty slot (6A88) and a non-key slot (6A86)', () => {
    const card = new PivSimulator();
    exchange(card, 0xa4, 0x04, 0x00, hex('a000000308'));
    expect(authenticateManagementKey(card, 0x03, DEFAULT_MANAGEMENT_KEY)).toBe(0x9000);
    expect(exchange(card, 0xfe, 0x11, 0x9c, hex(`0620${'11'.repeat(32)}`)).statusWord).toBe(0x9000);
    expect(exchange(card, 0xf9, 0x9c, 0x00).statusWord).toBe(0x6a80);
    expect(exchange(card, 0xf9, 0x9d, 0x00).statusWord).toBe(0x6a88);
    expect(exchange(card, 0xf9, 0x80, 0x00).statusWord).toBe(0x6a86);
  });

  it('keeps the attestation key across a reset and in its saved state', () => {
    const card = new PivSimulator();
    exchange(card, 0xa4, 0x04, 0x00, hex('a000000308'));
    authenticateManagementKey(card, 0x03, DEFAULT_MANAGEMENT_KEY);
    generate(card, 0x9e, 'ac03800111');
    const issuerObject = (simulator: PivSimulator) =>
      toHexString(exchange(simulator, 0xcb, 0x3f, 0xff, hex('5c035fff01')).data);
    expect(exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fff01')).statusWord).toBe(0x6a82);
    const first = new X509Certificate(exchange(card, 0xf9, 0x9e, 0x00).data);
    const f9Certificate = issuerObject(card);
    const restored = new PivSimulator();
    restored.loadState(card.saveState());
    exchange(restored, 0xa4, 0x04, 0x00, hex('a000000308'));
    expect(issuerObject(restored)).toBe(f9Certificate);
    const second = new X509Certificate(exchange(restored, 0xf9, 0x9e, 0x00).data);
    expect(second.publicKey.equals(first.publicKey)).toBe(true);
    // Block PIN and PUK, RESET: keys and certificates go, the attestation key stays.
    for (let i = 0; i < 3; i++) exchange(restored, 0x20, 0x00, 0x80, hex('ffffffffffffffff'));
    for (let i = 0; i < 3; i++) exchange(restored, 0x2c, 0x00, 0x80, hex('ffffffffffffffff3132333435363738'));
    expect(exchange(restored, 0xfb, 0x00, 0x00).statusWord).toBe(0x9000);
    expect(exchange(restored, 0xf9, 0x9e, 0x00).statusWord).toBe(0x6a88);
    expect(issuerObject(restored)).toBe(f9Certificate);
  });
});
