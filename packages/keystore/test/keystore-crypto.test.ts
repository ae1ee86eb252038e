/**
 * Every algorithm x padding x format on both simulators, in process (SimTransport): keys generated through
 * the key store, every result verified by node:crypto (see crypto-matrix.ts).
 */
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../src/index.js';
import { exerciseKey, OPENPGP_ABILITIES, PIV_ABILITIES } from './crypto-matrix.js';
import { OPENPGP_PLANS, PIV_PLAN, provision, testLoader, USER_PIN } from './support.js';

const prompt = () => USER_PIN;

describe('keystore crypto matrix, in process', () => {
  it('PIV: RSA 1024-4096 (PKCS #1 v1.5, PSS; OAEP and PKCS #1 decryption), P-256/P-384 ECDSA (DER, P1363) and ECDH', async () => {
    const store = await KeyStore.open({
      simulators: [new PivSimulator({ seed: 'matrix', version: [5, 7, 0] })],
      loader: testLoader(),
      prompt,
    });
    const [token] = store.tokens;
    if (!token) throw new Error('no token');
    await provision(token, PIV_PLAN);
    const keys = await token.keys();
    expect(
      keys.map((key) => `${key.container}:${key.algorithm.type}${key.algorithm.bits}:${key.usages.join('+')}`),
    ).toEqual([
      '0:rsa2048:sign+decrypt',
      '1:ec256:sign',
      '2:ec384:derive',
      '3:ec384:sign',
      '4:rsa1024:sign+decrypt',
      '5:rsa3072:sign+decrypt',
      '6:rsa4096:sign+decrypt',
      '7:ec256:derive',
    ]);
    const done: string[] = [];
    for (const key of keys) done.push(...(await exerciseKey(key, PIV_ABILITIES)));
    expect(done).toContain('rsa4096#6 sign sha512 pss');
    expect(done).toContain('ec384#3 sign sha1 ieee-p1363');
    expect(done).toContain('ec256#7 derive');
    expect(done).toContain('rsa1024#4 decrypt oaep sha256');
    await store.close();
  });

  it('OpenPGP: RSA 2048-4096 (PKCS #1 v1.5; PSS and OAEP refused as unsupported), P-256/384/521 ECDSA and ECDH', async () => {
    const store = await KeyStore.open({ simulators: [new OpenPgpSimulator()], loader: testLoader(), prompt });
    const [token] = store.tokens;
    if (!token) throw new Error('no token');
    const done: string[] = [];
    for (const plan of OPENPGP_PLANS) {
      await provision(token, plan);
      const keys = (await token.keys()).filter((key) => plan.some((entry) => entry.container === key.container));
      expect(keys).toHaveLength(plan.length);
      for (const key of keys) done.push(...(await exerciseKey(key, OPENPGP_ABILITIES)));
    }
    expect(done).toContain('rsa4096#2 sign sha256 pkcs1');
    expect(done).toContain('rsa3072#1 decrypt pkcs1');
    expect(done).toContain('rsa3072#1 sign unsupported');
    expect(done).toContain('ec521#0 sign sha512 der');
    expect(done).toContain('ec521#1 derive');
    expect(done).toContain('rsa2048#0 sign sha1 pss unsupported');
    await store.close();
  });
});
