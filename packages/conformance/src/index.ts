/**
 * `@minidriver/conformance` — the vitest conformance suite every minidriver plugin runs against its
 * simulator: version negotiation, parameter checks, PIN semantics, the logical file system, containers,
 * cryptography verified with node:crypto, the data cache and card removal mid-operation.
 *
 * @packageDocumentation
 */

export { ConformanceFailure } from './harness.js';
export { baseCspLogon } from './logon.js';
export {
  type AdminCredential,
  type ConformanceCredentials,
  type ConformanceOptions,
  type ContainerPlan,
  type CryptoCapabilities,
  type UnblockCredential,
  validateConformanceOptions,
} from './options.js';
export { defineConformanceSuite } from './suite.js';
