/**
 * OpenSC's APDU count for listing the certificates of the same provisioned card, for comparison with
 * this plugin's logon (README.md "APDU counts"): the simulator is served into pcscd through vpcd on
 * "Virtual PCD 00 01" (port 35964, shared with the simulator's own tests through a lock file) and
 * `pkcs15-tool --list-certificates` runs against it. Skipped without pcscd/OpenSC, failing on CI.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { acquireVpcdPortLock, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { describeWithTools } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { provisionedCard } from './testing/provisioned-card.js';

const READER = 'Virtual PCD 00 01';

describeWithTools(['pcscd', 'pkcs15-tool'], 'OpenSC on the same simulated card', () => {
  let releaseLock: (() => void) | undefined;
  let server: VpcdServer | undefined;
  let apdus = 0;

  beforeAll(async () => {
    releaseLock = await acquireVpcdPortLock(35964);
    const card = await provisionedCard();
    server = serveVpcd(card, { port: 35964, onApdu: () => apdus++ });
    await server.connected;
    // pcscd polls its readers: give it a moment to see the card before OpenSC connects.
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    releaseLock?.();
  });

  it('pkcs15-tool --list-certificates finds the 3 certificates; prints its APDU count', async () => {
    apdus = 0;
    const { stdout } = await promisify(execFile)('pkcs15-tool', ['--reader', READER, '--list-certificates'], {
      timeout: 60_000,
    });
    const listed = stdout.split('\n').filter((line) => line.startsWith('X.509 Certificate')).length;
    console.log(`OpenSC pkcs15-tool --list-certificates: ${apdus} APDUs for ${listed} certificates`);
    expect(listed).toBe(3);
    expect(apdus).toBeGreaterThan(0);
  }, 90_000);
});
