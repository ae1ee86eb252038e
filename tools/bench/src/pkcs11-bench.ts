/**
 * `pkcs11-tool --sign` through p11-kit-client.so and our p11-kit server versus through OpenSC's
 * opensc-pkcs11.so, on the same simulated PIV card served into pcscd through vpcd ("Virtual PCD 00 01",
 * port 35964): median wall time of one pkcs11-tool run (log in, find the key, sign SHA256-RSA-PKCS with
 * RSA-2048) and the APDUs the card received per run. Goals: time ratio <= 1.2, APDUs no more than OpenSC.
 * Our server is long-lived (as `minidriver pkcs11 serve` is), so after its first run it knows the card.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { createSelfSignedCertificate } from '@minidriver/core';
import { KeyStore } from '@minidriver/keystore';
import { KeyStoreSource, Pkcs11Server } from '@minidriver/pkcs11-server';
import { acquireVpcdPortLock, serveVpcd } from '@minidriver/sim';
import { progress, withDeadline } from './deadline.js';
import { type BenchResult, median } from './result.js';

const READER = 'Virtual PCD 00 01';
const PORT = 35964;
const RUNS = 9;
const PIN = '123456';
const MANAGEMENT_KEY = '010203040506070801020304050607080102030405060708';
const P11_KIT_CLIENT = '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so';
const OPENSC_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const STEP_TIMEOUT_MS = 60_000;

function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'pkcs11-tool',
      args,
      { timeout: STEP_TIMEOUT_MS, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** A PIV simulator with an RSA-2048 key and its self-signed certificate in 9A (what OpenSC finds keys by). */
async function provisionedCard(): Promise<PivSimulator> {
  const card = new PivSimulator({ seed: 'pkcs11 bench' });
  const store = await KeyStore.open({ simulators: [card] });
  try {
    const token = store.tokens[0];
    if (!token) throw new Error('the simulated PIV card did not open');
    await token.login('admin', MANAGEMENT_KEY);
    const key = await token.generateKey(0, 'rsa2048');
    await token.login('user', PIN);
    const certificate = await createSelfSignedCertificate({
      publicKey: key.publicKey,
      commonName: 'bench',
      sign: (tbs) => key.sign(tbs, { hash: 'sha256' }),
    });
    await token.importCertificate(0, certificate);
  } finally {
    await store.close();
  }
  return card;
}

/** Runs `sign` RUNS times (after one warm-up run), returns median milliseconds and median APDUs per run. */
async function measure(label: string, sign: () => Promise<{ code: number; output: string }>, apdus: () => number) {
  const times: number[] = [];
  const counts: number[] = [];
  for (let index = 0; index <= RUNS; index++) {
    const before = apdus();
    const start = process.hrtime.bigint();
    const result = await sign();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.code !== 0) throw new Error(`${label}: pkcs11-tool --sign failed: ${result.output.trim()}`);
    if (index === 0) continue; // warm-up
    times.push(elapsed);
    counts.push(apdus() - before);
  }
  progress(`${label}: ${median(times).toFixed(0)} ms, ${median(counts)} APDUs per run`);
  return { ms: median(times), apdus: median(counts) };
}

/** The comparison (needs pcscd with vpcd, pkcs11-tool, p11-kit-client.so and OpenSC's module). */
export async function benchPkcs11(): Promise<BenchResult[]> {
  for (const path of [P11_KIT_CLIENT, OPENSC_MODULE]) if (!existsSync(path)) throw new Error(`needs ${path}`);
  const directory = await mkdtemp(join(tmpdir(), 'pkcs11-bench-'));
  const data = join(directory, 'data');
  await writeFile(data, 'benchmark data');
  progress(`waiting for vpcd port ${PORT} (tests serving cards there take turns with the benchmark)`);
  const releaseLock = await acquireVpcdPortLock(PORT, 10 * 60_000);
  let count = 0;
  const card = await provisionedCard();
  const vpcd = serveVpcd(card, { port: PORT, onApdu: () => count++ });
  try {
    await withDeadline(vpcd.connected, STEP_TIMEOUT_MS, `pcscd's vpcd did not accept port ${PORT}`);
    const store = await KeyStore.open({ readers: [READER] });
    const token = await store.waitForToken({ reader: READER, timeoutMs: STEP_TIMEOUT_MS });
    const [key] = await token.keys();
    if (!key) throw new Error('the served card shows no key');
    const socketPath = join(directory, 'pkcs11');
    const server = await Pkcs11Server.listen({ socketPath, source: new KeyStoreSource(store) });
    const ours = await measure(
      'p11-kit-client.so + our server',
      () =>
        run(
          [
            '--module',
            P11_KIT_CLIENT,
            '--login',
            '--pin',
            PIN,
            '--sign',
            '-m',
            'SHA256-RSA-PKCS',
            '--id',
            key.id,
            '-i',
            data,
            '-o',
            join(directory, 'sig1'),
          ],
          { P11_KIT_SERVER_ADDRESS: `unix:path=${socketPath}` },
        ),
      () => count,
    );
    await server.close();
    await store.close();
    // OpenSC reads the card afresh in every process; 9A is its key id 01.
    const openscSlot = await run(['--module', OPENSC_MODULE, '--list-slots']);
    const slot = /Slot (\d+) \(0x[0-9a-f]+\): Virtual PCD 00 01/.exec(openscSlot.output)?.[1];
    if (slot === undefined) throw new Error(`OpenSC lists no slot for ${READER}: ${openscSlot.output}`);
    const opensc = await measure(
      'opensc-pkcs11.so',
      () =>
        run([
          '--module',
          OPENSC_MODULE,
          '--slot-index',
          slot,
          '--login',
          '--pin',
          PIN,
          '--sign',
          '-m',
          'SHA256-RSA-PKCS',
          '--id',
          '01',
          '-i',
          data,
          '-o',
          join(directory, 'sig2'),
        ]),
      () => count,
    );
    const ratio = ours.ms / opensc.ms;
    return [
      {
        name: 'pkcs11-tool --sign via our p11-kit server',
        value: ours.ms,
        unit: 'ms',
        note: `${ours.apdus} APDUs per run`,
      },
      {
        name: 'pkcs11-tool --sign via opensc-pkcs11.so',
        value: opensc.ms,
        unit: 'ms',
        note: `${opensc.apdus} APDUs per run`,
      },
      { name: 'pkcs11 sign: ours / OpenSC time', value: ratio, unit: 'x', goal: '<= 1.2', pass: ratio <= 1.2 },
      {
        name: 'pkcs11 sign: ours / OpenSC APDUs',
        value: ours.apdus,
        unit: `APDUs vs ${opensc.apdus}`,
        goal: `<= ${opensc.apdus}`,
        pass: ours.apdus <= opensc.apdus,
      },
    ];
  } finally {
    await vpcd.close();
    releaseLock();
    await rm(directory, { recursive: true, force: true });
  }
}
