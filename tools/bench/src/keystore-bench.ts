/**
 * The key store's cost: sign latency through `Key.signDigest` against the direct `CardSession.signData` call
 * it makes, on the same in-process PIV card and key (P-256 ECDSA and RSA 2048 PKCS #1 v1.5), timed call by call
 * in alternating order; the figure is the ratio of the median latencies; the goal at most 5 % overhead.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { type Key, KeyStore, type Token } from '@minidriver/keystore';
import { Loader } from '@minidriver/loader';
import { CARD_PADDING_INFO_PRESENT, CARD_PADDING_PKCS1 } from '@minidriver/spec';
import { type BenchResult, median } from './result.js';

const CALLS = 3000;
const MANAGEMENT_KEY = '010203040506070801020304050607080102030405060708';

/** Microseconds per call of `operation`, over `calls` sequential calls. */
async function timeCalls(operation: () => Promise<unknown>, calls: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await operation();
  return Number(process.hrtime.bigint() - start) / 1000 / calls;
}

async function compare(label: string, token: Token, key: Key): Promise<BenchResult[]> {
  const digest = new Uint8Array(createHash('sha256').update('keystore bench').digest());
  const rsa = key.algorithm.type === 'rsa';
  const direct = () =>
    token.session.signData({
      version: 2,
      containerIndex: key.container,
      keySpec: key.keySpec,
      signingFlags: rsa ? CARD_PADDING_INFO_PRESENT : 0,
      hashAlgorithmId: 0,
      data: digest,
      ...(rsa ? { paddingType: CARD_PADDING_PKCS1, paddingInfo: { algorithm: 'SHA256' } } : {}),
    });
  const viaKeystore = () => key.signDigest(digest, { hash: 'sha256', format: 'ieee-p1363' });
  // Warm both paths up (JIT, caches) before measuring.
  for (let i = 0; i < 5; i++) {
    await timeCalls(direct, 100);
    await timeCalls(viaKeystore, 100);
  }
  // Call by call, alternating which goes first: a drift of the machine's speed (other processes, GC)
  // weighs on both alike; medians of single calls ignore the spikes.
  const directTimes: number[] = [];
  const keystoreTimes: number[] = [];
  for (let call = 0; call < CALLS; call++) {
    if (call % 2 === 0) {
      directTimes.push(await timeCalls(direct, 1));
      keystoreTimes.push(await timeCalls(viaKeystore, 1));
    } else {
      keystoreTimes.push(await timeCalls(viaKeystore, 1));
      directTimes.push(await timeCalls(direct, 1));
    }
  }
  const ratio = median(keystoreTimes) / median(directTimes);
  return [
    { name: `keystore ${label}: CardSession.signData (median)`, value: median(directTimes), unit: 'µs' },
    { name: `keystore ${label}: Key.signDigest (median)`, value: median(keystoreTimes), unit: 'µs' },
    {
      name: `keystore ${label}: overhead (keystore / direct)`,
      value: ratio,
      unit: 'x',
      goal: '<= 1.05',
      pass: ratio <= 1.05,
    },
  ];
}

export async function benchKeystore(): Promise<BenchResult[]> {
  const loader = new Loader({
    applicationRoot: fileURLToPath(new URL('..', import.meta.url)),
    onWarning: () => undefined,
  });
  const store = await KeyStore.open({ simulators: [new PivSimulator({ seed: 'bench' })], loader });
  try {
    const token = store.tokens[0] as Token;
    await token.login('admin', MANAGEMENT_KEY);
    const ec = await token.generateKey(0, 'p256');
    const rsa = await token.generateKey(2, 'rsa2048');
    await token.login('user', '123456');
    return [...(await compare('sign P-256', token, ec)), ...(await compare('sign RSA 2048', token, rsa))];
  } finally {
    await store.close();
  }
}
