/**
 * A reference for S3 listings and a randomized comparison with a running gateway: random keys
 * (multi-byte UTF-8, '+', ' ', '%', a byte-order mark, repeated delimiters), random prefix /
 * delimiter / max-keys / marker, every page followed to the end, v1 (Marker, NextMarker) and v2
 * (StartAfter, continuation tokens). The reference is S3's rule written naively: every item of
 * the listing (a key, or a common prefix once) in UTF-8 byte order, then only the items after
 * the marker.
 */
import { ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SeededRandom } from '@tessera/common';

export type ListingItem = readonly ['key' | 'prefix', string];

const utf8Compare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export function referenceListing(keys: readonly string[], prefix: string, delimiter: string | undefined, marker: string | undefined): ListingItem[] {
  const items: ListingItem[] = [];
  for (const key of [...new Set(keys)].sort(utf8Compare)) {
    if (!key.startsWith(prefix)) continue;
    const at = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length);
    if (at < 0) {
      items.push(['key', key]);
      continue;
    }
    const commonPrefix = key.slice(0, at + (delimiter ?? '').length);
    const last = items[items.length - 1];
    if (last?.[0] !== 'prefix' || last[1] !== commonPrefix) items.push(['prefix', commonPrefix]);
  }
  return marker === undefined ? items : items.filter(([, value]) => utf8Compare(value, marker) > 0);
}

interface ListedPage {
  readonly Contents?: ReadonlyArray<{ readonly Key?: string }>;
  readonly CommonPrefixes?: ReadonlyArray<{ readonly Prefix?: string }>;
}

function itemsOf(page: ListedPage): ListingItem[] {
  const items: ListingItem[] = [
    ...(page.Contents ?? []).map((c): ListingItem => ['key', c.Key ?? '']),
    ...(page.CommonPrefixes ?? []).map((p): ListingItem => ['prefix', p.Prefix ?? '']),
  ];
  return items.sort((a, b) => utf8Compare(a[1], b[1]));
}

export interface ListingMismatch {
  readonly api: 'v1' | 'v2';
  readonly query: { readonly prefix: string; readonly delimiter: string | undefined; readonly maxKeys: number; readonly marker: string | undefined };
  readonly expected: ListingItem[];
  readonly listed: ListingItem[];
}

const alphabet = ['a', 'b', '/', '-', '.', '+', ' ', '%', 'é', '~', 'z', '日', '//', '\uFEFF'];

/** Writes `keyCount` random keys into `bucket` (which must exist) and returns them. */
export async function writeRandomKeys(s3: S3Client, bucket: string, seed: number, keyCount: number): Promise<string[]> {
  const random = new SeededRandom(seed);
  const keys = new Set<string>();
  while (keys.size < keyCount) {
    const length = 1 + random.nextInt(6);
    keys.add(Array.from({ length }, () => alphabet[random.nextInt(alphabet.length)] ?? 'a').join(''));
  }
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  return [...keys];
}

/** `queryCount` random listings, every page followed, v1 and v2; the mismatches found. */
export async function compareListings(s3: S3Client, bucket: string, keys: readonly string[], seed: number, queryCount: number): Promise<ListingMismatch[]> {
  const random = new SeededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[random.nextInt(values.length)] as T;
  const mismatches: ListingMismatch[] = [];
  for (let i = 0; i < queryCount; i += 1) {
    const prefix = pick(['', '', 'a', 'a/', 'b', '/', 'é', '%', '+']);
    const delimiter = pick([undefined, undefined, '/', 'a', '//', 'b/', '+', '日']);
    const maxKeys = pick([1, 2, 3, 5, 1000]);
    const marker = pick([undefined, undefined, pick(keys), pick(keys), 'a', 'b/', prefix === '' ? undefined : prefix]);
    const query = { prefix, delimiter, maxKeys, marker };
    const expected = referenceListing(keys, prefix, delimiter, marker);

    const v2: ListingItem[] = [];
    let token: string | undefined;
    for (let pages = 0; pages < 200; pages += 1) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, MaxKeys: maxKeys, StartAfter: marker, ContinuationToken: token }));
      v2.push(...itemsOf(page));
      token = page.NextContinuationToken;
      if (page.IsTruncated !== true || token === undefined) break;
    }
    if (JSON.stringify(v2) !== JSON.stringify(expected)) mismatches.push({ api: 'v2', query, expected, listed: v2 });

    const v1: ListingItem[] = [];
    let nextMarker = marker;
    for (let pages = 0; pages < 200; pages += 1) {
      const page = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, MaxKeys: maxKeys, Marker: nextMarker }));
      const items = itemsOf(page);
      v1.push(...items);
      if (page.IsTruncated !== true) break;
      nextMarker = page.NextMarker ?? items[items.length - 1]?.[1];
    }
    if (JSON.stringify(v1) !== JSON.stringify(expected)) mismatches.push({ api: 'v1', query, expected, listed: v1 });
  }
  return mismatches;
}
