// Goal: ListObjects (v1 and v2) over the LevelDB layout returns exactly what S3 semantics say.
// Method: fast-check generates key sets (with '/', multi-byte UTF-8, NUL and astral characters)
// and list parameters; the real listObjects over a real LevelDB is compared with a naive
// reference that sorts every key in UTF-8 byte order and groups by delimiter, page by page.
import fc from 'fast-check';
import { listObjects } from '../src/list-objects';
import type { ListObjectsPage } from '../src/list-objects';
import type { TempCatalogue } from './helpers';
import { openTempCatalogue, putInline } from './helpers';

let cat: TempCatalogue;
beforeAll(async () => {
  cat = await openTempCatalogue();
});
afterAll(async () => {
  await cat.close();
});

const utf8Compare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * The naive reference: every item of the listing (a key, or a common prefix once) in UTF-8
 * order, then only those after startAfter. S3 returns the entries after the marker, and a
 * group's entry is its common prefix: a marker that is a common prefix, or falls inside one
 * ("a/b" with delimiter "/"), puts that group behind it.
 */
function naiveItems(keys: readonly string[], prefix: string, delimiter: string, startAfter: string): { kind: 'key' | 'prefix'; value: string }[] {
  const sorted = [...new Set(keys)].sort(utf8Compare);
  const items: { kind: 'key' | 'prefix'; value: string }[] = [];
  for (const key of sorted) {
    if (!key.startsWith(prefix)) continue;
    const at = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    if (at >= 0) {
      const commonPrefix = key.slice(0, at + delimiter.length);
      const last = items[items.length - 1];
      if (last?.kind !== 'prefix' || last.value !== commonPrefix) items.push({ kind: 'prefix', value: commonPrefix });
    } else {
      items.push({ kind: 'key', value: key });
    }
  }
  return startAfter === '' ? items : items.filter((item) => utf8Compare(item.value, startAfter) > 0);
}

function pageItems(page: ListObjectsPage): { kind: 'key' | 'prefix'; value: string }[] {
  // Merge keys and common prefixes back into one ordered sequence.
  const all = [...page.objects.map((o) => ({ kind: 'key' as const, value: o.key })), ...page.commonPrefixes.map((p) => ({ kind: 'prefix' as const, value: p }))];
  return all.sort((a, b) => utf8Compare(a.value, b.value));
}

const alphabet = fc.constantFrom('a', 'b', '/', '-', 'é', '😀', '\u0000', 'z', '.');
const keyArb = fc.array(alphabet, { minLength: 1, maxLength: 6 }).map((chars) => chars.join(''));
let bucketCounter = 0;

describe('listObjects against a naive reference', () => {
  test('property: pages of v2 (continuation) and v1 (marker) both equal the reference', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(keyArb, { maxLength: 40 }),
        fc.constantFrom('', 'a', 'a/', '/', 'é', 'b'),
        fc.constantFrom('', '/', 'é', '-', 'a/'),
        fc.oneof(fc.constant(''), keyArb),
        fc.integer({ min: 1, max: 7 }),
        async (keys, prefix, delimiter, startAfter, maxKeys) => {
          const bucket = `list-${bucketCounter++}`;
          await cat.machine.applyDirect([{ type: 'createBucket', bucket, owner: 'o', createdAtMs: 1 }, ...keys.map((key) => putInline(bucket, key))]);
          const expected = naiveItems(keys, prefix, delimiter, startAfter);

          // v2: continuation tokens.
          const v2: { kind: 'key' | 'prefix'; value: string }[] = [];
          let token = '';
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThan(100);
            const page = await listObjects(cat.db, { bucket, prefix, delimiter, startAfter, continuationToken: token, maxKeys });
            const items = pageItems(page);
            expect(items.length).toBeLessThanOrEqual(maxKeys);
            expect(items).toEqual(expected.slice(v2.length, v2.length + items.length));
            v2.push(...items);
            if (!page.isTruncated) break;
            expect(items.length).toBe(maxKeys);
            token = page.nextContinuationToken ?? '';
          }
          expect(v2).toEqual(expected);

          // v1: NextMarker as the next Marker.
          const v1: { kind: 'key' | 'prefix'; value: string }[] = [];
          let marker = startAfter;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThan(100);
            const page = await listObjects(cat.db, { bucket, prefix, delimiter, startAfter: marker, continuationToken: '', maxKeys });
            v1.push(...pageItems(page));
            if (!page.isTruncated) break;
            marker = page.nextMarker ?? '';
          }
          expect(v1).toEqual(expected);
        },
      ),
      { numRuns: 120 },
    );
  });

  test('a marker in a group puts the group behind it; a delimiter inside the prefix does not make one', async () => {
    await cat.machine.applyDirect([
      { type: 'createBucket', bucket: 'markers', owner: 'o', createdAtMs: 1 },
      ...['a', 'a%', 'aab', 'ab', 'photos/2006/a', 'photos/2007/b', 'photos/x', 'q'].map((key) => putInline('markers', key)),
    ]);
    const list = async (prefix: string, delimiter: string, startAfter: string): Promise<string[]> =>
      pageItems(await listObjects(cat.db, { bucket: 'markers', prefix, delimiter, startAfter, continuationToken: '', maxKeys: 100 })).map((i) => i.value);
    // Deep inside "photos/": the group was listed before the marker, so only what follows it.
    expect(await list('', '/', 'photos/2006/a')).toEqual(['q']);
    expect(await list('', '/', 'photos/')).toEqual(['q']);
    expect(await list('photos/', '/', 'photos/2006/a')).toEqual(['photos/2007/', 'photos/x']);
    // Prefix "a", delimiter "a": the marker "a" ends with the delimiter but holds none after the
    // prefix, so it is a key, and what follows it is listed.
    expect(await list('a', 'a', 'a')).toEqual(['a%', 'aa', 'ab']);
  });

  test('maxKeys 0 and > 1000; other buckets never leak in', async () => {
    await cat.machine.applyDirect([
      { type: 'createBucket', bucket: 'aaa', owner: 'o', createdAtMs: 1 },
      { type: 'createBucket', bucket: 'aaaa', owner: 'o', createdAtMs: 1 },
      putInline('aaa', 'k1'),
      putInline('aaaa', 'k2'),
    ]);
    const none = await listObjects(cat.db, { bucket: 'aaa', prefix: '', delimiter: '', startAfter: '', continuationToken: '', maxKeys: 0 });
    expect([none.objects.length, none.isTruncated]).toEqual([0, false]);
    const all = await listObjects(cat.db, { bucket: 'aaa', prefix: '', delimiter: '', startAfter: '', continuationToken: '', maxKeys: 5000 });
    expect(all.objects.map((o) => o.key)).toEqual(['k1']);
  });

  test('a delimiter group of 5,000 keys is skipped with one seek (a page of 2 returns the group and the next key)', async () => {
    const commands = [{ type: 'createBucket' as const, bucket: 'wide', owner: 'o', createdAtMs: 1 }];
    await cat.machine.applyDirect(commands);
    await cat.machine.applyDirect(Array.from({ length: 5000 }, (_, i) => putInline('wide', `dir/${String(i).padStart(5, '0')}`)));
    await cat.machine.applyDirect([putInline('wide', 'file')]);
    const page = await listObjects(cat.db, { bucket: 'wide', prefix: '', delimiter: '/', startAfter: '', continuationToken: '', maxKeys: 2 });
    expect(page.commonPrefixes).toEqual(['dir/']);
    expect(page.objects.map((o) => o.key)).toEqual(['file']);
    expect(page.isTruncated).toBe(false);
  });
});
