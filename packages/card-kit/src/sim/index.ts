/**
 * Building blocks for card authors' simulators: an APDU dispatcher with command chaining and 61xx /
 * GET RESPONSE, a PIN try counter, ECDSA over a given digest, the bigint arithmetic behind it, and the
 * status-word error a handler throws.
 *
 * @packageDocumentation
 */
export {
  ApduDispatcher,
  type ApduDispatcherOptions,
  byInstruction,
  type InstructionHandler,
  parseSimCommand,
  type SimAnswer,
  type SimCommand,
  SimStatus,
} from './apdu-dispatcher.js';
export {
  bigIntToBytes,
  bytesToBigInt,
  modInverse,
} from './bigint.js';
export {
  ECDSA_CURVES,
  type EcdsaCurveName,
  ecdsaSignDigest,
} from './ecdsa-digest.js';
export {
  type PinCheckOutcome,
  PinTryCounter,
  timingSafeEqualBytes,
} from './pin-try-counter.js';
export {
  CardStatusError,
  failWith,
  retriesLeftStatus,
} from './status-error.js';
