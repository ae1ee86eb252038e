/**
 * The cardcf freshness check (docs/spec/minidriver.md §4.8): compare the card's counters with the copy a cache was built
 * against and drop what changed. Counters are compared for equality only (they wrap).
 *
 * @packageDocumentation
 */
import type { CardCacheFile } from '@minidriver/spec';
import type { CardDataCache, FreshnessCategory } from './data-cache.js';

/** The counters that differ between two cardcf contents; all three when either is unknown. */
export function changedCategories(
  previous: CardCacheFile | undefined,
  current: CardCacheFile | undefined,
): FreshnessCategory[] {
  if (
    previous === undefined ||
    current === undefined ||
    previous.version !== current.version ||
    !sameTrailing(previous.trailing, current.trailing)
  ) {
    // Trailing bytes are a plugin's witness of the card's state (or older counters): any change of them
    // may mean anything changed.
    return ['pins', 'containers', 'files'];
  }
  const changed: FreshnessCategory[] = [];
  if (previous.pinsFreshness !== current.pinsFreshness) changed.push('pins');
  if (previous.containersFreshness !== current.containersFreshness) changed.push('containers');
  if (previous.filesFreshness !== current.filesFreshness) changed.push('files');
  return changed;
}

function sameTrailing(left: Uint8Array | undefined, right: Uint8Array | undefined): boolean {
  const a = left ?? new Uint8Array(0);
  const b = right ?? new Uint8Array(0);
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/**
 * Brings `cache` in line with the card's cardcf `current`: drops the categories whose counter changed,
 * and all plugin entries on any change (the conservative reading of docs/spec/minidriver.md §4.8). Returns what was dropped.
 */
export function applyFreshness(cache: CardDataCache, current: CardCacheFile): FreshnessCategory[] {
  const changed = changedCategories(cache.freshness, current);
  for (const category of changed) cache.dropCategory(category);
  if (changed.length > 0) cache.dropNamespace('plugin');
  cache.freshness = current;
  return changed;
}
