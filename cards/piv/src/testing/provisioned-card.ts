/**
 * Test support: a simulated PIV card provisioned the way a user's YubiKey typically is — RSA-2048
 * in 9A, P-256 in 9C and 9D, each with a certificate — built through the PIV card edge itself.
 */
import { createPublicKey } from 'node:crypto';
import { SimTransport } from '@minidriver/sim';
import { DEFAULT_MANAGEMENT_KEY, PivSimulator } from '../../sim/index.js';
import { PivApplication } from '../piv-application.js';
import type { PivPublicKey } from '../piv-objects.js';
import { makeTestCertificate } from './test-certificate.js';

function keyObject(key: PivPublicKey) {
  const encode = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  return key.kind === 'rsa'
    ? createPublicKey({ key: { kty: 'RSA', n: encode(key.modulus), e: encode(key.publicExponent) }, format: 'jwk' })
    : createPublicKey({ key: { kty: 'EC', crv: key.curve, x: encode(key.x), y: encode(key.y) }, format: 'jwk' });
}

/** The slots provisioned and their algorithm ids. */
export const PROVISIONED_SLOTS: readonly { slot: number; algorithmId: number }[] = [
  { slot: 0x9a, algorithmId: 0x07 },
  { slot: 0x9c, algorithmId: 0x11 },
  { slot: 0x9d, algorithmId: 0x11 },
];

/** A new simulator with keys and certificates in 9A, 9C and 9D. */
export async function provisionedCard(seed = 'provisioned'): Promise<PivSimulator> {
  const card = new PivSimulator({ seed });
  const transport = new SimTransport(card);
  const app = new PivApplication(transport);
  await transport.beginTransaction();
  try {
    await app.select();
    await app.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY);
    for (const { slot, algorithmId } of PROVISIONED_SLOTS) {
      const key = await app.generateKey(slot, algorithmId);
      await app.putCertificate(slot, await makeTestCertificate(keyObject(key), `slot ${slot.toString(16)}`));
    }
  } finally {
    await transport.endTransaction('reset');
    await transport.close();
  }
  return card;
}
