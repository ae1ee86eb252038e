/**
 * The `pcsclite` adapter against the real npm binding, through pcscd and vpcd (reader "Virtual PCD 00 00").
 * `pcsclite` is an optional peer of this package and its native build needs Node's headers, so the repo
 * installs it only as an optional dependency of tools/bench; the test loads it from there and skips with a
 * reason when it could not be built locally. On CI (`CI=true`) both pcscd and the built binding are
 * required: .ci/run gives node-gyp the local Node headers (npm_config_nodedir), so it builds offline.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { acquireVpcdPortLock, pcscdRunning, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { ScardError, toHex } from '@minidriver/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PcscliteReader, type PcscliteTransport, wrapPcscliteReader } from '../src/index.js';
import { COUNTER_CARD_ATR, CounterCard } from './support/counter-card.js';

const READER = 'Virtual PCD 00 00';
const PORT = 35963;

type PcscliteFactory = () => NodeJS.EventEmitter & { close(): void };

function loadPcsclite(): PcscliteFactory | string {
  try {
    const benchPackage = fileURLToPath(new URL('../../../tools/bench/package.json', import.meta.url));
    return createRequire(benchPackage)('pcsclite') as PcscliteFactory;
  } catch (error) {
    return `pcsclite could not be loaded (its native build is optional): ${error instanceof Error ? error.message : String(error)}`;
  }
}

const pcsclite = loadPcsclite();
const available = pcscdRunning();
if (!available && process.env.CI === 'true') throw new Error('pcscd is not running, and CI requires the PC/SC tests');
if (typeof pcsclite === 'string' && process.env.CI === 'true') {
  throw new Error(`${pcsclite}; CI requires the pcsclite adapter tests (see npm_config_nodedir in .ci/run)`);
}
const skipReason = !available ? 'pcscd is not running' : typeof pcsclite === 'string' ? pcsclite : undefined;
if (skipReason) console.warn(`skipping the pcsclite adapter tests: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('wrapPcscliteReader (pcsclite npm binding → Transport)', () => {
  const card = new CounterCard();
  let server: VpcdServer;
  let releaseLock: (() => void) | undefined;
  let pcsc: ReturnType<PcscliteFactory>;
  let transport: PcscliteTransport;

  beforeAll(async () => {
    releaseLock = await acquireVpcdPortLock(PORT);
    server = serveVpcd(card, { port: PORT });
    await server.connected;
    pcsc = (pcsclite as PcscliteFactory)();
    pcsc.on('error', () => undefined);
    const reader = await new Promise<PcscliteReader & NodeJS.EventEmitter>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pcsclite did not report reader "${READER}"`)), 15_000);
      pcsc.on('reader', (candidate: PcscliteReader & NodeJS.EventEmitter) => {
        candidate.on('error', () => undefined);
        if (candidate.name !== READER) return;
        // Connect once pcsclite sees OUR card present: the previous test file's card may still be in the
        // reader until pcscd notices its removal.
        candidate.on('status', (status: { state: number; atr?: Buffer }) => {
          const present = (status.state & 0x20) /* SCARD_STATE_PRESENT */ !== 0;
          if (present && status.atr && toHex(new Uint8Array(status.atr)) === toHex(COUNTER_CARD_ATR)) {
            clearTimeout(timer);
            resolve(candidate);
          }
        });
      });
    });
    transport = await wrapPcscliteReader(reader);
  }, 360_000);

  afterAll(async () => {
    await transport?.close();
    pcsc?.close();
    await server?.close();
    releaseLock?.();
  });

  it('reports the reader, the ATR and the protocol', () => {
    expect(transport.readerName).toBe(READER);
    expect(toHex(transport.atr)).toBe(toHex(COUNTER_CARD_ATR));
    expect(['T0', 'T1']).toContain(transport.protocol);
    expect(transport.features).toEqual({}); // vpcd has no PIN pad
  });

  it('transmits inside an in-process transaction', async () => {
    await transport.beginTransaction();
    await transport.transmit(Uint8Array.of(0x00, 0xda, 0x00, 0x00, 0x04, 0, 0, 0, 41));
    const response = await transport.transmit(Uint8Array.of(0x00, 0xca, 0x00, 0x00, 0x04));
    await transport.endTransaction('leave');
    expect(toHex(response)).toBe('000000299000');
    expect(card.counter).toBe(41);
  });

  it('queues a second in-process transaction until the first ends', async () => {
    const order: string[] = [];
    await transport.beginTransaction();
    const second = transport.beginTransaction().then(() => order.push('second began'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('first ends');
    await transport.endTransaction('leave');
    await second;
    await transport.endTransaction('leave');
    expect(order).toEqual(['first ends', 'second began']);
  });

  it('refuses a disposition it cannot honour without a real transaction', async () => {
    await transport.beginTransaction();
    const error = await transport.endTransaction('reset').catch((caught: unknown) => caught);
    expect(ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE')).toBe(true);
    await transport.endTransaction('leave').catch(() => undefined);
  });
});
