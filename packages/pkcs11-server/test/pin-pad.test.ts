/**
 * A PIN-pad reader (the simulated part 10 reader of @minidriver/sim around the PIV simulator, in process):
 * the token says CKF_PROTECTED_AUTHENTICATION_PATH, and pkcs11-tool logs in with a NULL PIN that the
 * reader's keypad supplies.
 */
import { PivSimulator } from '@minidriver/card-piv/sim';
import { KeyStore } from '@minidriver/keystore';
import { SimTransport } from '@minidriver/sim';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PIV_MANAGEMENT_KEY, provision, type ServedCard, serveStore, testLoader, USER_PIN } from './card-support.js';
import { describeWithClient, pkcs11Tool } from './client-support.js';

describeWithClient(['pkcs11-tool'], 'PIN-pad reader through our p11-kit server', () => {
  let served: ServedCard;
  const typed: string[] = [];

  beforeAll(async () => {
    const card = new PivSimulator({ seed: 'pkcs11-server pin pad' });
    await provision(card, PIV_MANAGEMENT_KEY, [{ container: 0, algorithm: 'rsa2048', certificate: true }]);
    const transport = new SimTransport(card, {
      pinPad: {
        enterPin: async (prompt) => {
          typed.push(prompt);
          return USER_PIN;
        },
      },
    });
    served = await serveStore(KeyStore.open({ transports: [transport], loader: testLoader() }));
  }, 120_000);

  afterAll(async () => {
    await served?.close();
  });

  it('-L shows the protected authentication path; --login without a PIN verifies on the pad', async () => {
    expect((await pkcs11Tool(served.socketPath, '-L')).output).toMatch(/token flags\s+:.*PIN pad present/);
    const objects = await pkcs11Tool(served.socketPath, '--login', '-O');
    expect(objects.code, objects.output).toBe(0);
    expect(objects.output).toContain('Private Key Object');
    expect(typed).toEqual(['verify']);
  });
});
