/**
 * @packageDocumentation
 * The one JSON shape of "the plugin chosen for this card", the same in `identify`, `info` and `demo`.
 */
import type { Resolution } from '@minidriver/loader';

/** The plugin the loader chose, as every `--json` document shows it. */
export interface PluginJson {
  /** The npm package (`@minidriver/card-piv`). */
  readonly package: string;
  /** The plugin's name (`PIV`). */
  readonly name: string;
  /** The card's name from the manifest entry that matched (`YubiKey 5`). */
  readonly card: string;
  /** How it was chosen (`atr` or `aid`). */
  readonly method: string;
  /** Why, in words. */
  readonly reason: string;
}

/** The JSON form of a loader resolution. */
export function pluginJson(resolution: Resolution): PluginJson {
  return {
    package: resolution.packageName,
    name: resolution.pluginName,
    card: resolution.cardName,
    method: resolution.method,
    reason: resolution.reason,
  };
}
