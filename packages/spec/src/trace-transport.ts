/**
 * A Transport wrapper that shows every APDU to a trace hook, with secrets redacted by the one redactor
 * (`redactCommand`, `redactResponse`, the ISO rules and the plugin's `secretApdus`). Used by CardSession's
 * trace option and by the simulator host's replay recorder.
 *
 * @packageDocumentation
 */
import { createSecretApduTracker, redactCommand, redactResponse } from './redact.js';
import { type ApduTraceHook, interceptTransmit, type SecretApdu, type Transport } from './transport.js';

/**
 * Wraps `transport` so that `hook` sees every exchange (command and response redacted under the ISO rules
 * and `rules`, error, duration). A hook that throws never disturbs the card conversation.
 */
export function traceTransport(
  transport: Transport,
  hook: ApduTraceHook,
  rules: readonly SecretApdu[] = [],
): Transport {
  const tracker = createSecretApduTracker(rules);
  const report = (entry: Parameters<ApduTraceHook>[0]): void => {
    try {
      hook(entry);
    } catch {
      // A faulty trace hook must not break the card conversation.
    }
  };
  return interceptTransmit(transport, async (command, send) => {
    const parts = tracker.classify(command);
    const shown = redactCommand(command, rules, parts);
    const started = performance.now();
    try {
      const response = await send(command);
      tracker.settle(response);
      const responseRedacted = parts.response && response.length > 2;
      report({
        ...shown,
        response: responseRedacted ? redactResponse(response) : new Uint8Array(response),
        ...(responseRedacted ? { responseRedacted } : {}),
        durationMs: performance.now() - started,
      });
      return response;
    } catch (error) {
      tracker.settle(undefined);
      report({ ...shown, error, durationMs: performance.now() - started });
      throw error;
    }
  });
}
