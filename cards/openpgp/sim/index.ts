/**
 * @module `@minidriver/card-openpgp/sim` — a faithful OpenPGP card 3.4 simulator, for in-process tests
 * and, through `serveVpcd` from `@minidriver/sim`, for real clients (GnuPG, OpenSC) via pcscd.
 */
export { OpenPgpSimulator, type OpenPgpSimulatorOptions } from './openpgp-simulator.js';
export type { OpenPgpCardState } from './openpgp-state.js';
export { OPENPGP_V3_ATR, OPENPGP_AID_PREFIX, buildAid } from './openpgp-atr.js';
export { encodeRsaAttributes, encodeEccAttributes, AlgorithmId, CURVES, type CurveInfo } from './openpgp-algorithms.js';
