import type { ApduTraceEntry } from '@minidriver/spec';
import {
  createSecretApduTracker,
  fromHex,
  redactCommand,
  redactResponse,
  secretPartsOf,
  toHex,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { CardSession } from './card-session.js';
import { DataCacheStore } from './data-cache.js';
import { createTestPlugin, MemoryCard, MemoryTransport } from './testing/memory-card.js';

// redactCommand itself is tested beside it (packages/spec/src/redact.test.ts); here: what a traced session shows.
describe('APDU trace redaction', () => {
  it('a traced session shows every APDU and never the PIN', async () => {
    const entries: ApduTraceEntry[] = [];
    const card = new MemoryCard();
    const session = await CardSession.open(createTestPlugin(), new MemoryTransport(card), {
      cache: new DataCacheStore(),
      trace: (entry) => entries.push(entry),
    });
    await session.authenticatePin('user', new TextEncoder().encode('123456'));
    expect(entries.length).toBe(card.commands.length);
    const verify = entries.find((entry) => entry.command[1] === 0x20)!;
    expect(verify.redacted).toBe(true);
    expect(toHex(verify.command)).toBe('0020008006000000000000');
    expect(toHex(verify.response!)).toBe('9000');
    expect(entries.some((entry) => toHex(entry.command).includes('313233343536'))).toBe(false);
  });
});

describe('plugin-declared secret APDUs (issue #11 items 5, 6)', () => {
  const rules = [
    { ins: 0xff, p1: 0xff, data: true },
    { ins: 0x2a, p1: 0x80, p2: 0x86, response: true },
  ];

  it('redacts the data of a declared command, matched on INS and the given P1/P2 only', () => {
    const setKey = fromHex('00 ff ff ff 03 aa bb cc');
    expect(redactCommand(setKey, rules)).toEqual({ command: fromHex('00 ff ff ff 03 00 00 00'), redacted: true });
    expect(redactCommand(fromHex('00 ff 00 ff 01 aa'), rules).redacted).toBe(false);
    expect(redactCommand(setKey).redacted).toBe(false);
    expect(secretPartsOf(fromHex('00 2a 80 86 02 01 02 00'), rules)).toEqual({ data: false, response: true });
    expect(secretPartsOf(fromHex('00 84 00 00 08'))).toEqual({ data: false, response: true });
    expect(toHex(redactResponse(fromHex('01 02 03 90 00')))).toBe('0000009000');
  });

  it('the GET RESPONSE answers that continue a secret response are secret too', () => {
    const tracker = createSecretApduTracker(rules);
    expect(tracker.classify(fromHex('00 2a 80 86 02 01 02 00')).response).toBe(true);
    tracker.settle(fromHex('aa 61 10'));
    expect(tracker.classify(fromHex('00 c0 00 00 10')).response).toBe(true);
    tracker.settle(fromHex('bb 90 00'));
    expect(tracker.classify(fromHex('00 c0 00 00 10')).response).toBe(false);
    tracker.settle(fromHex('90 00'));
    expect(tracker.classify(fromHex('00 ca 00 6e 00')).response).toBe(false);
  });
});
