import { createHash } from 'node:crypto';
import { fromHex, ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayCard, recordReplayFixture, validateReplayFixture } from './replay.js';
import { SimTransport } from './sim-transport.js';
import type { SimulatedCard } from './simulated-card.js';

/** A card that answers every command with the first 8 bytes of its SHA-256, and VERIFY 123456 with 9000. */
class HashingCard implements SimulatedCard {
  readonly name = 'Hashing';
  readonly atr = fromHex('3b 02 14 50');
  powerOn(): void {}
  powerOff(): void {}
  reset(): void {}
  process(command: Uint8Array): Uint8Array {
    if (command[1] === 0x20) return toHex(command.subarray(5)) === '313233343536' ? fromHex('9000') : fromHex('63c2');
    return Uint8Array.of(...createHash('sha256').update(command).digest().subarray(0, 8), 0x90, 0x00);
  }
}

const VERIFY = fromHex('00 20 00 80 06 31 32 33 34 35 36');
const GET_DATA = fromHex('00 ca 01 02 00');
const SECRET_KEY_UPLOAD = fromHex('00 db 3f ff 04 de ad be ef');

async function conversation(transport: { transmit(command: Uint8Array): Promise<Uint8Array> }) {
  return [
    toHex(await transport.transmit(GET_DATA)),
    toHex(await transport.transmit(VERIFY)),
    toHex(await transport.transmit(SECRET_KEY_UPLOAD)),
    toHex(await transport.transmit(fromHex('00 ca 01 03 00'))),
  ];
}

describe('replay fixtures', () => {
  it('record a conversation without its secrets and replay it exactly', async () => {
    const rules = [{ ins: 0xdb, data: true }];
    const recording = recordReplayFixture(new SimTransport(new HashingCard()), { rules, description: 'hashing' });
    const answers = await conversation(recording.transport);
    const fixture = JSON.parse(JSON.stringify(recording.fixture()));
    expect(fixture.atr).toBe('3b021450');
    expect(fixture.exchanges).toHaveLength(4);
    expect(JSON.stringify(fixture)).not.toContain('313233343536'); // the PIN
    expect(JSON.stringify(fixture)).not.toContain('deadbeef'); // the declared secret
    expect(fixture.exchanges[1].command).toBe('0020008006000000000000');

    const card = new ReplayCard(fixture, { rules });
    expect(card.name).toBe('hashing');
    expect(await conversation(new SimTransport(card))).toEqual(answers);
    expect(() => card.assertComplete()).not.toThrow();
  });

  it('answers 6F00 from the first divergence on, and assertComplete says where', async () => {
    const recording = recordReplayFixture(new SimTransport(new HashingCard()));
    await conversation(recording.transport);
    const card = new ReplayCard(recording.fixture());
    const transport = new SimTransport(card);
    await transport.transmit(GET_DATA);
    expect(toHex(await transport.transmit(fromHex('00 ca 09 09 00')))).toBe('6f00');
    expect(toHex(await transport.transmit(VERIFY))).toBe('6f00');
    expect(card.divergence).toBe(
      `exchange 2: expected ${recording.fixture().exchanges[1]?.command}, received 00ca090900`,
    );
    expect(() => card.assertComplete()).toThrow(/the replay diverged from the recording: exchange 2/);
  });

  it('a replay that stops early is not complete', async () => {
    const recording = recordReplayFixture(new SimTransport(new HashingCard()));
    await conversation(recording.transport);
    const card = new ReplayCard(recording.fixture());
    await new SimTransport(card).transmit(GET_DATA);
    expect(() => card.assertComplete()).toThrow('the replay stopped after 1 of 4 recorded exchanges');
  });

  it.each([
    ['not an object', [], /not an object/],
    ['version', { version: 2, atr: '3b00', exchanges: [] }, /version 2/],
    ['atr', { version: 1, atr: 'zz', exchanges: [] }, /atr is not hex/],
    ['exchanges', { version: 1, atr: '3b00', exchanges: {} }, /exchanges must be an array/],
    [
      'short command',
      { version: 1, atr: '3b00', exchanges: [{ command: '00', response: '9000' }] },
      /command has 1 bytes/,
    ],
  ])('refuses a fixture with a bad %s', (_label, value, message) => {
    expect(() => validateReplayFixture(value)).toThrow(message);
  });

  it('never throws anything but ScardError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          validateReplayFixture(value);
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
    );
  });
});
