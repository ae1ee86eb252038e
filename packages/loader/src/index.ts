/**
 * Picks the right card plugin from the card's ATR: reads plugin manifests (checked against the JSON
 * Schema shipped as `@minidriver/loader/manifest.schema.json`) without importing plugin code, resolves
 * the ATR through an index (exact hash + masked trie), falls back to AID probing, applies a trust
 * policy, and imports only the plugin it chose.
 *
 * @packageDocumentation
 */

export { type ProbeOutcome, type ProbeStep, planProbe, probeAids } from './aid-probe.js';
export { findApplicationRoot } from './application-root.js';
export { AtrIndex, type AtrIndexEntry } from './atr-index.js';
export { type AtrPattern, describeAtrPattern, parseManifestAtr, patternMatches } from './atr-pattern.js';
export {
  type CardDatabase,
  type CardDatabaseEntry,
  DEFAULT_CARD_DATABASE,
  loadCardDatabase,
  parseCardDatabase,
  patternsFromDatabaseAtr,
} from './card-database.js';
export { findPackageDir } from './discovery.js';
export {
  getDefaultLoader,
  type Identification,
  identify,
  type LoadedSimulator,
  Loader,
  type LoaderOptions,
  type MatchedPattern,
  type OpenCardOptions,
  openCard,
  type PluginInfo,
  type Resolution,
  type SimulatorInfo,
} from './loader.js';
export { MANIFEST_SCHEMA, type ValidatedManifest, validateManifest } from './manifest.js';
export { errorNamingPackage } from './plugin-guard.js';
export type { LoaderWarning, PluginModule, PluginSource } from './plugin-record.js';
export { computePluginIntegrity, type TrustedPackage, type TrustPolicy } from './trust.js';
