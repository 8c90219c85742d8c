/**
 * Goal: the pure request helpers follow S3: Range parsing, conditional-request precedence,
 * user metadata limits, system headers, CompleteMultipartUpload rules, listing roll-up and the
 * XML request parsers. Method: table tests from the S3 API reference, and a property test of
 * the delimiter roll-up against a naive model that pages through every key.
 */
import fc from 'fast-check';
import type { PartInfo } from '../src/backend';
import { evaluateConditions, enforceReadConditions } from '../src/conditional';
import { listWithDelimiter, markerCommonPrefix } from '../src/listing';
import { multipartChecksumOf, planCompletion } from '../src/multipart';
import { computeChecksum } from '../src/checksums';
import { extractObjectHeaders, extractUserMetadata, objectResponseHeaders } from '../src/object-headers';
import { parseCopySourceRange, parseRange } from '../src/range';
import { S3Error } from '../src/s3-errors';
import { parseCompleteMultipartUpload, parseCreateBucketConfiguration, parseDeleteRequest } from '../src/xml-requests';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  throw new Error('expected an S3Error');
}

describe('Range', () => {
  test.each([
    [undefined, 100, { kind: 'whole' }],
    ['bytes=0-9', 100, { kind: 'partial', startByte: 0, endByteInclusive: 9 }],
    ['bytes=90-', 100, { kind: 'partial', startByte: 90, endByteInclusive: 99 }],
    ['bytes=-10', 100, { kind: 'partial', startByte: 90, endByteInclusive: 99 }],
    ['bytes=-1000', 100, { kind: 'partial', startByte: 0, endByteInclusive: 99 }],
    ['bytes=50-5000', 100, { kind: 'partial', startByte: 50, endByteInclusive: 99 }],
    ['bytes=99-99', 100, { kind: 'partial', startByte: 99, endByteInclusive: 99 }],
    ['bytes=0-1,5-6', 100, { kind: 'whole' }],
    ['bytes=9-2', 100, { kind: 'whole' }],
    ['items=0-9', 100, { kind: 'whole' }],
    ['bytes=abc', 100, { kind: 'whole' }],
  ] as const)('%s on %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  test.each([
    ['bytes=100-', 100],
    ['bytes=100-200', 100],
    ['bytes=-0', 100],
    ['bytes=0-', 0],
    ['bytes=-5', 0],
  ])('%s on %i bytes is InvalidRange with Content-Range bytes */size', (header, size) => {
    try {
      parseRange(header, size);
      throw new Error('expected InvalidRange');
    } catch (error) {
      expect(error).toBeInstanceOf(S3Error);
      expect((error as S3Error).code).toBe('InvalidRange');
      expect((error as S3Error).headers['Content-Range']).toBe(`bytes */${size}`);
    }
  });

  test('copy source range must be bytes=a-b inside the source', () => {
    expect(parseCopySourceRange('bytes=0-9', 10)).toEqual({ startByte: 0, endByteInclusive: 9 });
    expect(codeOf(() => parseCopySourceRange('bytes=0-10', 10))).toBe('InvalidRange');
    expect(codeOf(() => parseCopySourceRange('bytes=5-', 10))).toBe('InvalidArgument');
  });
});

describe('conditional requests', () => {
  const object = { etag: 'abc', lastModifiedMs: Date.UTC(2024, 0, 10, 12, 0, 0, 500) };
  const before = new Date(Date.UTC(2024, 0, 9)).toUTCString();
  const after = new Date(Date.UTC(2024, 0, 11)).toUTCString();
  const same = new Date(Date.UTC(2024, 0, 10, 12, 0, 0)).toUTCString();
  const none = { ifMatch: undefined, ifNoneMatch: undefined, ifModifiedSince: undefined, ifUnmodifiedSince: undefined };
  test.each([
    [{}, 'proceed'],
    [{ ifMatch: '"abc"' }, 'proceed'],
    [{ ifMatch: '"xyz", "abc"' }, 'proceed'],
    [{ ifMatch: '*' }, 'proceed'],
    [{ ifMatch: '"xyz"' }, 'precondition-failed'],
    [{ ifUnmodifiedSince: before }, 'precondition-failed'],
    [{ ifUnmodifiedSince: same }, 'proceed'],
    [{ ifMatch: '"abc"', ifUnmodifiedSince: before }, 'proceed'],
    [{ ifNoneMatch: '"abc"' }, 'not-modified'],
    [{ ifNoneMatch: 'W/"abc"' }, 'not-modified'],
    [{ ifNoneMatch: '"xyz"' }, 'proceed'],
    [{ ifModifiedSince: after }, 'not-modified'],
    [{ ifModifiedSince: same }, 'not-modified'],
    [{ ifModifiedSince: before }, 'proceed'],
    [{ ifNoneMatch: '"xyz"', ifModifiedSince: after }, 'proceed'],
    [{ ifNoneMatch: '"abc"', ifModifiedSince: before }, 'not-modified'],
    [{ ifMatch: '"xyz"', ifNoneMatch: '"abc"' }, 'precondition-failed'],
    [{ ifModifiedSince: 'not a date' }, 'proceed'],
  ])('%j -> %s', (headers, expected) => {
    expect(evaluateConditions({ ...none, ...headers }, object)).toBe(expected);
  });

  test('304 carries ETag and Last-Modified', () => {
    try {
      enforceReadConditions({ ...none, ifNoneMatch: '"abc"' }, object);
    } catch (error) {
      expect((error as S3Error).httpStatus).toBe(304);
      expect((error as S3Error).headers['ETag']).toBe('"abc"');
    }
    expect.assertions(2);
  });
});

describe('object headers', () => {
  const lookup = (headers: Record<string, string>) => (name: string) => headers[name];

  test('user metadata: names lower-case without prefix, 2 KB limit over names and values', () => {
    const headers = { 'x-amz-meta-color': 'blue', 'x-amz-meta-size': 'xl', 'content-type': 'a/b' };
    expect(extractUserMetadata(Object.keys(headers), lookup(headers))).toEqual({ color: 'blue', size: 'xl' });
    const exact = { 'x-amz-meta-k': 'v'.repeat(2047) };
    expect(Object.keys(extractUserMetadata(Object.keys(exact), lookup(exact)))).toEqual(['k']);
    const over = { 'x-amz-meta-k': 'v'.repeat(2048) };
    expect(codeOf(() => extractUserMetadata(Object.keys(over), lookup(over)))).toBe('MetadataTooLarge');
    // Header strings are latin1 readings of the wire bytes: 1023 two-byte UTF-8 characters
    // ("é" arrives as the two characters \u00c3\u00a9) are 2046 bytes, within the limit.
    const utf8 = { 'x-amz-meta-k': Buffer.from('é'.repeat(1023), 'utf8').toString('latin1') };
    expect(Object.keys(extractUserMetadata(Object.keys(utf8), lookup(utf8)))).toEqual(['k']);
  });

  test('user metadata named like the catalogue encoding\'s markers is kept; __proto__ is refused, not dropped', () => {
    const markers = { 'x-amz-meta-$b64': 'aGk=', 'x-amz-meta-$esc': 'e' };
    expect(extractUserMetadata(Object.keys(markers), lookup(markers))).toEqual({ $b64: 'aGk=', $esc: 'e' });
    const proto = { 'x-amz-meta-__proto__': 'p' };
    expect(codeOf(() => extractUserMetadata(Object.keys(proto), lookup(proto)))).toBe('InvalidArgument');
  });

  test('system headers are kept; aws-chunked is not a stored content encoding', () => {
    const headers = { 'content-type': 'text/plain', 'content-encoding': 'gzip,aws-chunked', 'cache-control': 'no-cache', expires: 'Thu, 01 Jan 2030 00:00:00 GMT' };
    const extracted = extractObjectHeaders(Object.keys(headers), lookup(headers));
    expect(extracted.system).toEqual({ 'content-type': 'text/plain', 'content-encoding': 'gzip', 'cache-control': 'no-cache', expires: 'Thu, 01 Jan 2030 00:00:00 GMT' });
    const onlyChunked = { 'content-encoding': 'aws-chunked' };
    expect(extractObjectHeaders(Object.keys(onlyChunked), lookup(onlyChunked)).system).toEqual({});
  });

  test('response-* overrides replace stored headers; default content type is binary/octet-stream', () => {
    const stored = { system: { 'content-language': 'en' }, user: { a: '1' }, tags: [] };
    expect(objectResponseHeaders(stored, new Map([['response-content-language', 'fr']]))).toEqual({
      'Content-Type': 'binary/octet-stream',
      'Content-Language': 'fr',
      'x-amz-meta-a': '1',
    });
  });
});

describe('CompleteMultipartUpload rules', () => {
  const mib = 1024 * 1024;
  const part = (partNumber: number, sizeBytes: number): PartInfo => ({ partNumber, etag: `etag${partNumber}`.padEnd(32, '0'), sizeBytes, lastModifiedMs: 0, checksums: {} });
  const uploaded = new Map([1, 2, 3, 5].map((n) => [n, part(n, n === 5 ? 10 : 5 * mib)]));
  const req = (n: number) => ({ partNumber: n, etag: `"${`etag${n}`.padEnd(32, '0')}"`, checksums: {} });

  test('valid selection: a subset in ascending order, last part may be small', () => {
    const plan = planCompletion([req(1), req(3), req(5)], uploaded, undefined);
    expect(plan.selection.map((p) => p.partNumber)).toEqual([1, 3, 5]);
    expect(plan.sizeBytes).toBe(10 * mib + 10);
    expect(plan.etag).toMatch(/^[0-9a-f]{32}-3$/);
  });

  test('order, unknown parts, wrong ETags and small middle parts are refused', () => {
    expect(codeOf(() => planCompletion([req(2), req(1)], uploaded, undefined))).toBe('InvalidPartOrder');
    expect(codeOf(() => planCompletion([req(1), req(1)], uploaded, undefined))).toBe('InvalidPartOrder');
    // A part named twice with a stale ETag first: the order is judged before any ETag.
    expect(codeOf(() => planCompletion([{ ...req(1), etag: '"stale"' }, req(1)], uploaded, undefined))).toBe('InvalidPartOrder');
    expect(codeOf(() => planCompletion([req(1), { ...req(2), etag: '"stale"' }, req(2)], uploaded, undefined))).toBe('InvalidPartOrder');
    expect(codeOf(() => planCompletion([req(1), req(4)], uploaded, undefined))).toBe('InvalidPart');
    expect(codeOf(() => planCompletion([{ ...req(1), etag: '"0"' }], uploaded, undefined))).toBe('InvalidPart');
    expect(codeOf(() => planCompletion([req(5), { partNumber: 6, etag: 'x', checksums: {} }], new Map([[5, part(5, 10)], [6, { ...part(6, 10), etag: 'x' }]]), undefined))).toBe('EntityTooSmall');
    expect(codeOf(() => planCompletion([], uploaded, undefined))).toBe('MalformedXML');
  });
});

describe('multipart checksum type', () => {
  test('defaults and refusals follow S3', () => {
    expect(multipartChecksumOf('CRC32', undefined)).toEqual({ algorithm: 'CRC32', type: 'COMPOSITE' });
    expect(multipartChecksumOf('CRC64NVME', undefined)).toEqual({ algorithm: 'CRC64NVME', type: 'FULL_OBJECT' });
    expect(multipartChecksumOf('CRC32C', 'full_object')).toEqual({ algorithm: 'CRC32C', type: 'FULL_OBJECT' });
    expect(multipartChecksumOf(undefined, undefined)).toBeUndefined();
    expect(codeOf(() => multipartChecksumOf('SHA256', 'FULL_OBJECT'))).toBe('InvalidRequest');
    expect(codeOf(() => multipartChecksumOf('CRC64NVME', 'COMPOSITE'))).toBe('InvalidRequest');
    expect(codeOf(() => multipartChecksumOf(undefined, 'COMPOSITE'))).toBe('InvalidRequest');
  });

  test('FULL_OBJECT combines part CRCs into the CRC of the whole object', () => {
    const data = [Buffer.alloc(5 * 1024 * 1024, 3), Buffer.from('last part')];
    const infos = new Map(data.map((bytes, index) => [index + 1, { partNumber: index + 1, etag: `e${index}`, sizeBytes: bytes.length, lastModifiedMs: 0, checksums: { CRC32C: computeChecksum('CRC32C', bytes) } }]));
    const plan = planCompletion([{ partNumber: 1, etag: 'e0', checksums: {} }, { partNumber: 2, etag: 'e1', checksums: {} }], infos, { algorithm: 'CRC32C', type: 'FULL_OBJECT' });
    expect(plan.checksums).toEqual({ CRC32C: computeChecksum('CRC32C', Buffer.concat(data)) });
  });
});

describe('listing roll-up', () => {
  test('delimiter groups keys into common prefixes; pagination visits each entry once (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[ab/]{1,5}$/), { maxLength: 30 }),
        fc.constantFrom('', 'a', 'b/', 'a/'),
        fc.constantFrom(undefined, '/'),
        fc.integer({ min: 1, max: 5 }),
        (keys, prefix, delimiter, maxKeys) => {
          const sorted = [...keys].sort().map((key) => [key, key] as const);
          const expected = new Set<string>();
          for (const [key] of sorted) {
            if (!key.startsWith(prefix)) continue;
            const index = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length);
            expected.add(index >= 0 ? `P:${key.slice(0, index + 1)}` : `K:${key}`);
          }
          const seen: string[] = [];
          let startAfter: string | undefined;
          let skipPrefix: string | undefined;
          for (let guard = 0; guard < 100; guard += 1) {
            const page = listWithDelimiter(sorted, { prefix, delimiter, startAfter, skipPrefix, maxKeys });
            for (const entry of page.entries) seen.push(entry.kind === 'item' ? `K:${entry.key}` : `P:${entry.prefix}`);
            const last = page.entries[page.entries.length - 1];
            if (!page.isTruncated || last === undefined) break;
            startAfter = last.kind === 'item' ? last.key : last.prefix;
            skipPrefix = last.kind === 'item' ? undefined : last.prefix;
          }
          expect(seen).toEqual([...expected]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('markerCommonPrefix', () => {
  test.each([
    ['photos/', '', '/', 'photos/'],
    ['photos/2006/a', '', '/', 'photos/'],
    ['photos/2006/a', 'photos/', '/', 'photos/2006/'],
    ['photos/', 'photos/', '/', undefined],
    ['a', 'a', 'a', undefined],
    ['aab', 'a', 'a', 'aa'],
    ['x//y', '', '//', 'x//'],
    ['b/1', 'c', '/', undefined],
    ['b/1', '', undefined, undefined],
    [undefined, '', '/', undefined],
  ])('marker %p, prefix %p, delimiter %p: %p', (marker, prefix, delimiter, expected) => {
    expect(markerCommonPrefix(marker, prefix, delimiter)).toBe(expected);
  });
});

describe('XML request bodies', () => {
  test('CompleteMultipartUpload parts, with checksums and whitespace', () => {
    const xml = `<?xml version="1.0"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Part><PartNumber> 1 </PartNumber><ETag>"a"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
      <Part><ETag>&quot;b&quot;</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>`;
    expect(parseCompleteMultipartUpload(Buffer.from(xml))).toEqual([
      { partNumber: 1, etag: '"a"', checksums: { CRC32: 'AAAAAA==' } },
      { partNumber: 2, etag: '"b"', checksums: {} },
    ]);
    expect(codeOf(() => parseCompleteMultipartUpload(Buffer.from('<CompleteMultipartUpload></CompleteMultipartUpload>')))).toBe('MalformedXML');
    expect(codeOf(() => parseCompleteMultipartUpload(Buffer.from('<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>')))).toBe('MalformedXML');
    expect(codeOf(() => parseCompleteMultipartUpload(Buffer.alloc(5 * 1024 * 1024, 32)))).toBe('MaxMessageLengthExceeded');
  });

  test('Delete keeps keys byte-exact (spaces, entities, control characters) and reads Quiet', () => {
    const xml = '<Delete><Quiet>true</Quiet><Object><Key> a&amp;b&#x1;&lt;c </Key></Object><Object><Key>k</Key><VersionId>null</VersionId></Object></Delete>';
    expect(parseDeleteRequest(Buffer.from(xml))).toEqual({
      quiet: true,
      objects: [
        { key: ' a&b\u0001<c ', versionId: undefined },
        { key: 'k', versionId: 'null' },
      ],
    });
    expect(codeOf(() => parseDeleteRequest(Buffer.from('<Delete><Object><NoKey/></Object></Delete>')))).toBe('MalformedXML');
    expect(codeOf(() => parseDeleteRequest(Buffer.from('<Delete></Delete>')))).toBe('MalformedXML');
    expect(codeOf(() => parseDeleteRequest(Buffer.from('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&e;</Key></Object></Delete>')))).toMatch(/MalformedXML/);
  });

  test('CreateBucketConfiguration', () => {
    expect(parseCreateBucketConfiguration(Buffer.alloc(0))).toBeUndefined();
    expect(parseCreateBucketConfiguration(Buffer.from('<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>'))).toBe('eu-west-1');
    expect(parseCreateBucketConfiguration(Buffer.from('<CreateBucketConfiguration/>'))).toBeUndefined();
    expect(codeOf(() => parseCreateBucketConfiguration(Buffer.from('<Wrong/>')))).toBe('MalformedXML');
  });
});
