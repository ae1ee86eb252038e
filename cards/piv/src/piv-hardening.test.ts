/**
 * Regression tests of the hostile-input audit (issue #11) for the PIV plugin.
 */
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CardSession,
  interceptTransmit,
  KeySpec,
  ROLE_ADMIN,
  ScardError,
} from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MANAGEMENT_KEY, PivSimulator } from '../sim/index.js';
import { encryptManagementChallenge, plugin } from './index.js';

describe('PIV writeFile bounds (issue #11 item 8)', () => {
  it('refuses a 64 MB certificate file before decoding, compressing or sending anything', async () => {
    let apdus = 0;
    const transport = interceptTransmit(new SimTransport(new PivSimulator({ seed: 'hardening' })), (command, send) => {
      apdus++;
      return send(command);
    });
    const session = await CardSession.open(plugin, transport);
    const challenge = await session.getChallengeEx(ROLE_ADMIN);
    await session.authenticateEx(ROLE_ADMIN, 0, encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, challenge));
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    // Looks like DER (30 84 ...) so that nothing but its size can stop it; zeros gzip to almost nothing.
    const huge = new Uint8Array(64 * 1024 * 1024);
    huge.set([0x30, 0x84, 0x03, 0xff, 0xff, 0xfa]);
    const before = apdus;
    const error = await session.writeFile('mscp', 'kxc00', huge).catch((caught: unknown) => caught);
    expect(ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')).toBe(true);
    expect((error as Error).message).toContain('at most 65535 bytes');
    // The session may read cardcf/freshness, but no certificate object went to the card.
    expect(apdus - before).toBeLessThanOrEqual(2);
  }, 60_000);
});
