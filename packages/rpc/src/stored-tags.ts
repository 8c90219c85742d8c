/**
 * How an object version's tags are stored: in its system metadata under `x-tessera-tags`, a JSON
 * list of [key, value] pairs in the order given. The gateway writes and serves them; the healer
 * reads them to match lifecycle rules with tag filters.
 */
export const tagsMetadataKey = 'x-tessera-tags';

export interface StoredTag {
  readonly key: string;
  readonly value: string;
}

/** The stored form: a JSON list of [key, value] pairs (order kept, as S3 returns it). */
export function encodeStoredTags(tags: readonly StoredTag[]): string {
  return JSON.stringify(tags.map((tag) => [tag.key, tag.value]));
}

/** Reads the stored form back; anything unreadable is no tags (a read never fails on it). */
export function decodeStoredTags(stored: string | undefined): readonly StoredTag[] {
  if (stored === undefined || stored === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const tags: StoredTag[] = [];
  for (const pair of parsed) {
    if (Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string') tags.push({ key: pair[0], value: pair[1] });
  }
  return tags;
}
