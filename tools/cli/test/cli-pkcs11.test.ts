/**
 * `minidriver pkcs11 serve` on the built-in simulated card (no pcscd): the export line first on stdout,
 * a socket only the user can open, pkcs11-tool through p11-kit-client.so sees the token, SIGTERM stops it
 * and removes the socket.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithTools } from '@minidriver/sim/testing';
import { beforeAll, expect, it } from 'vitest';
import { pkcs11Tool, socketOf, startServe } from './pkcs11-serve-support.js';
import { ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';

describeWithTools(['pkcs11-tool'], 'minidriver pkcs11 serve (simulated card)', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('serves the --sim card until SIGTERM, printing the line to export', async () => {
    const stateDirectory = temporaryStateDirectory();
    const socketPath = join(stateDirectory, 'pkcs11.sock');
    const serve = await startServe(['--sim', 'piv', 'pkcs11', 'serve', '--socket', socketPath], stateDirectory);
    try {
      expect(serve.exportLine).toBe(`P11_KIT_SERVER_ADDRESS=unix:path=${socketPath}; export P11_KIT_SERVER_ADDRESS;`);
      expect(statSync(socketOf(serve.exportLine)).mode & 0o777).toBe(0o600);
      const listed = await pkcs11Tool(socketPath, '-L');
      expect(listed.output).toMatch(/Slot 0 \(0x1\): Simulated PIV/);
      expect(listed.output).toMatch(/token model\s+: PIV/);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    expect(serve.output()).toContain('stopped (SIGTERM)');
    expect(existsSync(socketPath)).toBe(false);
  }, 120_000);

  it('refuses an unknown action and a socket path that is not a socket', async () => {
    const stateDirectory = temporaryStateDirectory();
    const unknown = await runCli(['--sim', 'piv', 'pkcs11', 'start'], { stateDirectory });
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('unknown pkcs11 action "start"');
    const notSocket = await runCli(['--sim', 'piv', 'pkcs11', 'serve', '--socket', join(stateDirectory)], {
      stateDirectory,
    });
    expect(notSocket.status).not.toBe(0);
    expect(notSocket.stderr).toMatch(/is not a socket|EADDRINUSE|exists/);
  }, 120_000);
});
