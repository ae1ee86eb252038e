/**
 * @module The cardcf freshness check (§4.8): compare the card's counters with the copy a cache was built
 * against and drop what changed. Counters are compared for equality only (they wrap).
 */
import type { CardCacheFile } from '../contract/structures.js';
import type { CardDataCache, FreshnessCategory } from './data-cache.js';

/** The counters that differ between two cardcf contents; all three when either is unknown. */
export function changedCategories(
  previous: CardCacheFile | undefined,
  current: CardCacheFile | undefined,
): FreshnessCategory[] {
  if (previous === undefined || current === undefined || previous.version !== current.version) {
    return ['pins', 'containers', 'files'];
  }
  const changed: FreshnessCategory[] = [];
  if (previous.pinsFreshness !== current.pinsFreshness) changed.push('pins');
  if (previous.containersFreshness !== current.containersFreshness) changed.push('containers');
  if (previous.filesFreshness !== current.filesFreshness) changed.push('files');
  return changed;
}

/**
 * Brings `cache` in line with the card's cardcf `current`: drops the categories whose counter changed,
 * and all plugin entries on any change (the conservative reading of §4.8). Returns what was dropped.
 */
export function applyFreshness(cache: CardDataCache, current: CardCacheFile): FreshnessCategory[] {
  const changed = changedCategories(cache.freshness, current);
  for (const category of changed) cache.dropCategory(category);
  if (changed.length > 0) cache.dropNamespace('plugin');
  cache.freshness = current;
  return changed;
}
