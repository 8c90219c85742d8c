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
