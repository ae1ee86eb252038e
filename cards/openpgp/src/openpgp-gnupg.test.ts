/**
 * Keys generated through the plugin are complete OpenPGP keys: GnuPG (an independent implementation)
 * parses the v4 public-key packet of each generated key and derives the same key id as the fingerprint the
 * plugin wrote to C7/C8/C9. Runs `gpg --list-packets` offline (no card, no pcscd); skipped when gpg is
 * missing, and fails then under CI=true.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { CARD_CREATE_CONTAINER_KEY_GEN, concatBytes, KeySpec } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { OpenPgpSimulator } from '../sim/index.js';
import { plugin } from './index.js';
import { curveOid, encodePublicKeyPacket } from './openpgp-objects.js';

const gpgAvailable = spawnSync('gpg', ['--version']).status === 0;
if (!gpgAvailable && process.env['CI'] === 'true') throw new Error('OpenPGP/GnuPG test: gpg is missing (CI=true)');
const suite = gpgAvailable ? describe : describe.skip;

/** The key id gpg reads from a public-key packet (tag 6). */
function gnupgKeyId(packetBody: Uint8Array): string {
  const home = mkdtempSync(join(tmpdir(), 'openpgp-plugin-gpg-'));
  try {
    const file = join(home, 'key.pgp');
    const length = packetBody.length;
    writeFileSync(file, concatBytes(Uint8Array.of(0x99, length >> 8, length & 0xff), packetBody));
    const result = spawnSync('gpg', ['--homedir', home, '--list-packets', file], { encoding: 'utf8', timeout: 60_000 });
    const match = /keyid: ([0-9A-F]{16})/.exec(result.stdout ?? '');
    if (!match) throw new Error(`gpg did not parse the key: ${result.stderr}`);
    return (match[1] as string).toLowerCase();
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const coordinate = (value: unknown) => new Uint8Array(Buffer.from(value as string, 'base64url'));

suite('generated keys as GnuPG sees them', () => {
  it('RSA 2048 (SIG), ECDH P-256 (DEC) and ECDSA P-384 (AUT): key id = last 8 bytes of the card fingerprint', async () => {
    const card = new OpenPgpSimulator();
    const session = await CardSession.open(plugin, new SimTransport(card), { version: 7 });
    await session.authenticatePin('admin', new TextEncoder().encode('12345678'));
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048);
    await session.createContainer(1, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDHE_P256, 0);
    await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P384, 0);
    const state = card.saveState().dataObjects;
    for (const slot of [0, 1, 2] as const) {
      const info = await session.getContainerInfo(slot);
      const blob = (slot === 1 ? info.keyExchangePublicKey : info.signaturePublicKey) as Uint8Array;
      const jwk = publicKeyBlobToKeyObject(blob).export({ format: 'jwk' });
      const time = Number.parseInt(state.generationTimes[slot] as string, 16);
      const body =
        slot === 0
          ? encodePublicKeyPacket(
              { kind: 'rsa', modulusBits: 2048, exponentBits: 32, importFormat: 0 },
              { kind: 'rsa', modulus: coordinate(jwk.n), publicExponent: coordinate(jwk.e) },
              time,
            )
          : encodePublicKeyPacket(
              {
                kind: 'ecc',
                algorithmId: slot === 1 ? 0x12 : 0x13,
                curve: slot === 1 ? 'P-256' : 'P-384',
                oid: curveOid(slot === 1 ? 'P-256' : 'P-384'),
              },
              { kind: 'ecc', point: concatBytes(Uint8Array.of(4), coordinate(jwk.x), coordinate(jwk.y)) },
              time,
            );
      const fingerprint = state.fingerprints[slot] as string;
      expect(gnupgKeyId(body)).toBe(fingerprint.slice(-16));
    }
    await session.close();
  });
});
