/**
 * `@minidriver/card-openpgp/sim` — a faithful OpenPGP card 3.4 simulator, for in-process tests
 * and, through `serveVpcd` from `@minidriver/sim`, for real clients (GnuPG, OpenSC) via pcscd.
 *
 * @packageDocumentation
 */

export { AlgorithmId, CURVES, type CurveInfo, encodeEccAttributes, encodeRsaAttributes } from './openpgp-algorithms.js';
export { buildAid, OPENPGP_AID_PREFIX, OPENPGP_V3_ATR } from './openpgp-atr.js';
export { OpenPgpSimulator, type OpenPgpSimulatorOptions } from './openpgp-simulator.js';
export type { OpenPgpCardState } from './openpgp-state.js';
