import { fromHex, ScardError, type Transport } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { ApduRecorder, recordingTransport, UNLABELLED_OPERATION } from './recorder.js';
import { SimTransport } from './sim-transport.js';
import { UnknownCard } from './unknown-card.js';

describe('ApduRecorder', () => {
  it('counts APDUs and bytes per operation, nested operations count toward the innermost', () => {
    const recorder = new ApduRecorder();
    recorder.record(fromHex('00A4040000'), fromHex('9000'));
    recorder.begin('login');
    recorder.record(fromHex('0020008008 3132333435363738'), fromHex('9000'));
    recorder.begin('sign');
    recorder.record(fromHex('0087070C00'), fromHex('0102039000'));
    recorder.record(fromHex('00C0000000'), fromHex('9000'));
    recorder.end();
    recorder.end();
    recorder.end(); // an extra end is harmless
    expect(recorder.stats()).toEqual([
      { operation: UNLABELLED_OPERATION, apdus: 1, bytesSent: 5, bytesReceived: 2 },
      { operation: 'login', apdus: 1, bytesSent: 13, bytesReceived: 2 },
      { operation: 'sign', apdus: 2, bytesSent: 10, bytesReceived: 7 },
    ]);
    expect(recorder.totals()).toEqual({ apdus: 4, bytesSent: 28, bytesReceived: 11 });
    expect(recorder.statsOf('nothing')).toEqual({ operation: 'nothing', apdus: 0, bytesSent: 0, bytesReceived: 0 });
    recorder.reset();
    expect(recorder.stats()).toEqual([]);
    expect(recorder.currentOperation).toBe(UNLABELLED_OPERATION);
  });

  it('measure ends the operation even when the action throws', async () => {
    const recorder = new ApduRecorder();
    await expect(
      recorder.measure('failing', () => {
        throw new Error('x');
      }),
    ).rejects.toThrow('x');
    expect(recorder.currentOperation).toBe(UNLABELLED_OPERATION);
  });
});

describe('recordingTransport', () => {
  it('records every successful transmit and passes everything else through', async () => {
    const recorder = new ApduRecorder();
    const inner = new SimTransport(new UnknownCard(), { readerName: 'Sim', faults: { removeBeforeApdu: 3 } });
    const transport: Transport = recordingTransport(inner, recorder);
    expect(transport.readerName).toBe('Sim');
    expect(transport.atr).toEqual(inner.atr);
    const events: string[] = [];
    transport.onEvent?.((event) => events.push(event.type));
    await recorder.measure('probe', async () => {
      expect(await transport.transmit(fromHex('00A4040003A00000'))).toEqual(fromHex('6A82'));
      expect(await transport.transmit(fromHex('00CA000000'))).toEqual(fromHex('6D00'));
    });
    await expect(transport.transmit(fromHex('00CA000000'))).rejects.toSatisfy((error) =>
      ScardError.hasCode(error, 'SCARD_W_REMOVED_CARD'),
    );
    expect(events).toEqual(['removed']);
    expect(recorder.stats()).toEqual([{ operation: 'probe', apdus: 2, bytesSent: 13, bytesReceived: 4 }]);
    await transport.close();
    await expect(inner.transmit(fromHex('00CA000000'))).rejects.toSatisfy((error) =>
      ScardError.hasCode(error, 'SCARD_E_INVALID_HANDLE'),
    );
  });
});
