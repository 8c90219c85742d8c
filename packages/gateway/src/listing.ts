/**
 * Delimiter roll-up for listings, as a pure function over a key-ordered scan, so every backend
 * that can scan keys in order (LevelDB, the metadata state machine, the in-memory test twin)
 * gives the same answers: keys under `prefix`, after `startAfter`; keys that contain the
 * delimiter after the prefix collapse into one common prefix, which counts as one entry.
 */
export type ListedItem<T> = { readonly kind: 'item'; readonly key: string; readonly item: T } | { readonly kind: 'prefix'; readonly prefix: string };

export interface ListingPage<T> {
  readonly entries: readonly ListedItem<T>[];
  readonly isTruncated: boolean;
}

export interface ListingQuery {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  /** Exclusive: only keys after this one. */
  readonly startAfter: string | undefined;
  /** A common prefix already returned on an earlier page: its keys are skipped. */
  readonly skipPrefix: string | undefined;
  readonly maxKeys: number;
}

/**
 * The common prefix of a listing (`prefix`, `delimiter`) that a marker (v1 Marker, v2
 * StartAfter, a key-marker) falls in, if any. A listing returns only entries after the marker,
 * and a group's entry is its common prefix, which sorts at or before any marker inside the group:
 * so the whole group is behind the marker. A v1 NextMarker that is a common prefix ("photos/")
 * is the case clients send every day; a marker deeper inside ("photos/2006/a") is the same rule.
 * The delimiter is looked for after the prefix, as in the roll-up of keys: with prefix "a" and
 * delimiter "a", the marker "a" is a key, not a group.
 */
export function markerCommonPrefix(marker: string | undefined, prefix: string, delimiter: string | undefined): string | undefined {
  if (marker === undefined || delimiter === undefined || delimiter === '' || !marker.startsWith(prefix)) return undefined;
  const index = marker.indexOf(delimiter, prefix.length);
  return index < 0 ? undefined : marker.slice(0, index + delimiter.length);
}

/** `sortedItems` must be in ascending key order (UTF-16 code unit order, like S3's UTF-8 byte order for BMP keys). */
export function listWithDelimiter<T>(sortedItems: Iterable<readonly [string, T]>, query: ListingQuery): ListingPage<T> {
  const entries: ListedItem<T>[] = [];
  let lastPrefix: string | undefined;
  for (const [key, item] of sortedItems) {
    if (!key.startsWith(query.prefix)) continue;
    if (query.startAfter !== undefined && key <= query.startAfter) continue;
    if (query.skipPrefix !== undefined && key.startsWith(query.skipPrefix)) continue;
    let commonPrefix: string | undefined;
    if (query.delimiter !== undefined) {
      const index = key.indexOf(query.delimiter, query.prefix.length);
      if (index >= 0) commonPrefix = key.slice(0, index + query.delimiter.length);
    }
    if (commonPrefix !== undefined && commonPrefix === lastPrefix) continue;
    if (entries.length >= query.maxKeys) return { entries, isTruncated: true };
    if (commonPrefix !== undefined) {
      lastPrefix = commonPrefix;
      entries.push({ kind: 'prefix', prefix: commonPrefix });
    } else {
      entries.push({ kind: 'item', key, item });
    }
  }
  return { entries, isTruncated: false };
}
