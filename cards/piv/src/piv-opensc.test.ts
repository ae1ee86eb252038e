/**
 * OpenSC's APDU count for listing the certificates of the same provisioned card, for comparison with
 * this plugin's logon (README.md "APDU counts"): the simulator is served into pcscd through vpcd on
 * "Virtual PCD 00 01" (port 35964, shared with the simulator's own tests through a lock file) and
 * `pkcs15-tool --list-certificates` runs against it. Skipped without pcscd/OpenSC, failing on CI.
 */
import { describeWithTools, runTool, serveVpcdForSuite } from '@minidriver/sim/testing';
import { expect, it } from 'vitest';
import { provisionedCard } from './testing/provisioned-card.js';

const READER = 'Virtual PCD 00 01';

describeWithTools(['pcscd', 'pkcs15-tool'], 'OpenSC on the same simulated card', () => {
  let apdus = 0;

  serveVpcdForSuite(() => provisionedCard(), {
    port: 35964,
    onApdu: () => apdus++,
    // pcscd polls its readers: give it a moment to see the card before OpenSC connects.
    ready: () => new Promise((resolve) => setTimeout(resolve, 1500)),
  });

  it('pkcs15-tool --list-certificates finds the 3 certificates; prints its APDU count', async () => {
    apdus = 0;
    const { code, stdout, output } = await runTool('pkcs15-tool', ['--reader', READER, '--list-certificates'], {
      timeoutMs: 60_000,
    });
    expect(code, output).toBe(0);
    const listed = stdout.split('\n').filter((line) => line.startsWith('X.509 Certificate')).length;
    console.log(`OpenSC pkcs15-tool --list-certificates: ${apdus} APDUs for ${listed} certificates`);
    expect(listed).toBe(3);
    expect(apdus).toBeGreaterThan(0);
  }, 90_000);
});
