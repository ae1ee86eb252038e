/**
 * @module @minidriver/sim — the simulator host: the SimulatedCard interface, an in-memory Transport,
 * the vpcd bridge that puts a simulated card into pcscd, fault injection and an APDU recorder.
 */
export * from './simulated-card.js';
