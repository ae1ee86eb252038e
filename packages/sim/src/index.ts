/**
 * `@minidriver/sim` — the simulator host: the SimulatedCard interface, an in-memory Transport,
 * the vpcd bridge that puts a simulated card into pcscd, fault injection and an APDU recorder.
 *
 * @packageDocumentation
 */

export * from './card-process.js';
export * from './faults.js';
export * from './file-lock.js';
export * from './persistence.js';
export * from './recorder.js';
export * from './replay.js';
export * from './sim-transport.js';
export * from './simulated-card.js';
export * from './testing.js';
export * from './unknown-card.js';
export * from './vpcd.js';
