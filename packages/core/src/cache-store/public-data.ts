/**
 * What the data cache may keep across processes: public data only. Files everyone may read by the
 * minidriver specification's access rules (cardid, cardapps, and in `mscp` the container map, the
 * certificates and the root store), and container data (public key BLOBs, key sizes, container
 * properties), and the plugin entries a plugin declares public. Never PINs, challenges, other plugin entries
 * or any other file.
 *
 * @packageDocumentation
 */
import type { PersistedNamespace } from './entry-file.js';

const PUBLIC_FILE_TAGS = /^(?:\/|mscp\/|\/cardid|\/cardapps|mscp\/cmapfile|mscp\/msroots|mscp\/k[xs]c[0-9a-f]{2})$/;

/**
 * True when the data cache entry `namespace` / `tag` is public and may be persisted. File tags are
 * `directory/name` (`/name` for the root directory); `directory/` is the directory's listing.
 */
export function isPublicCacheEntry(
  namespace: string,
  tag: string,
  publicPluginTags: readonly string[] = [],
): namespace is PersistedNamespace {
  if (namespace === 'container') return true;
  if (namespace === 'plugin') return publicPluginTags.includes(tag);
  return namespace === 'file' && PUBLIC_FILE_TAGS.test(tag);
}
