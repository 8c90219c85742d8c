/**
 * Goal: response XML is well-formed, namespaced and escapes every key safely. Method: render
 * each builder with hostile keys (markup, quotes, control characters), validate and parse it
 * back with fast-xml-parser, and check encoding-type=url.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ObjectInfo } from '../src/backend';
import { escapeXmlText, s3XmlNamespace as s3Namespace } from '../src/xml';
import { deleteResultXml, listObjectsV2Xml, listVersionsXml, locationConstraintXml } from '../src/xml-responses';

const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, processEntities: true, htmlEntities: true });

const object = (key: string): ObjectInfo => ({ key, etag: 'abc', sizeBytes: 3, lastModifiedMs: 0, headers: { system: {}, user: {}, tags: [] }, checksums: { CRC32: 'AAAAAA==' }, partSizesBytes: undefined, versionId: undefined });

test('escapeXmlText escapes markup and writes control characters as references', () => {
  expect(escapeXmlText(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  expect(escapeXmlText('a\u0001b\rc\u007f')).toBe('a&#x1;b&#xD;c&#x7F;');
});

test('ListBucketResult v2 with hostile keys parses back to the same keys', () => {
  const keys = ['<script>', 'a&b', `q"u'o`, 'ü日'];
  const xml = listObjectsV2Xml({
    bucket: 'b',
    prefix: '',
    delimiter: undefined,
    maxKeys: 1000,
    encodingType: undefined,
    continuationToken: undefined,
    nextContinuationToken: undefined,
    startAfter: undefined,
    entries: keys.map((key) => ({ kind: 'object', object: object(key) })),
    isTruncated: false,
    ownerOf: undefined,
  });
  expect(XMLValidator.validate(xml)).toBe(true);
  const parsed = parser.parse(xml) as { ListBucketResult: { '@_xmlns': string; Contents: { Key: string; ETag: string; ChecksumAlgorithm: string }[]; KeyCount: string } };
  expect(parsed.ListBucketResult['@_xmlns']).toBe(s3Namespace);
  expect(parsed.ListBucketResult.Contents.map((c) => c.Key)).toEqual(keys);
  expect(parsed.ListBucketResult.Contents[0]?.ETag).toBe('"abc"');
  expect(parsed.ListBucketResult.Contents[0]?.ChecksumAlgorithm).toBe('CRC32');
  expect(parsed.ListBucketResult.KeyCount).toBe('4');
});

test('listed objects and versions name their checksum algorithm and type (none without a checksum)', () => {
  const entries = [
    { kind: 'object' as const, object: object('full') },
    { kind: 'object' as const, object: { ...object('composite'), checksums: { SHA256: 'c29tZQ==-3' } } },
    { kind: 'object' as const, object: { ...object('plain'), checksums: {} } },
  ];
  const v2 = parser.parse(listObjectsV2Xml({
    bucket: 'b', prefix: '', delimiter: undefined, maxKeys: 1000, encodingType: undefined, continuationToken: undefined, nextContinuationToken: undefined,
    startAfter: undefined, entries, isTruncated: false, ownerOf: undefined,
  })) as { ListBucketResult: { Contents: Array<{ Key: string; ChecksumAlgorithm?: string; ChecksumType?: string }> } };
  expect(v2.ListBucketResult.Contents.map((c) => [c.Key, c.ChecksumAlgorithm, c.ChecksumType])).toEqual([
    ['full', 'CRC32', 'FULL_OBJECT'], ['composite', 'SHA256', 'COMPOSITE'], ['plain', undefined, undefined],
  ]);
  const owner = { id: 'o', displayName: 'o' };
  const versions = parser.parse(listVersionsXml({
    bucket: 'b', prefix: '', delimiter: undefined, maxKeys: 1000, encodingType: undefined, keyMarker: undefined, versionIdMarker: undefined,
    nextKeyMarker: undefined, nextVersionIdMarker: undefined, isTruncated: false, owner, ownerOf: () => owner,
    entries: entries.map((entry) => ({ kind: 'version' as const, object: entry.object, isLatest: true })),
  })) as { ListVersionsResult: { Version: Array<{ Key: string; ChecksumAlgorithm?: string; ChecksumType?: string }> } };
  expect(versions.ListVersionsResult.Version.map((v) => [v.Key, v.ChecksumAlgorithm, v.ChecksumType])).toEqual([
    ['full', 'CRC32', 'FULL_OBJECT'], ['composite', 'SHA256', 'COMPOSITE'], ['plain', undefined, undefined],
  ]);
});

test('encoding-type=url encodes keys and prefixes but keeps slashes', () => {
  const xml = listObjectsV2Xml({
    bucket: 'b',
    prefix: 'dir one/',
    delimiter: '/',
    maxKeys: 2,
    encodingType: 'url',
    continuationToken: undefined,
    nextContinuationToken: 'tok',
    startAfter: undefined,
    entries: [{ kind: 'object', object: object('dir one/a\u0001b') }, { kind: 'prefix', prefix: 'dir one/sub dir/' }],
    isTruncated: true,
    ownerOf: () => ({ id: 'id', displayName: 'name' }),
  });
  expect(xml).toContain('<Key>dir%20one/a%01b</Key>');
  expect(xml).toContain('<Prefix>dir%20one/sub%20dir/</Prefix>');
  expect(xml).toContain('<EncodingType>url</EncodingType>');
  expect(xml).toContain('<Owner><ID>id</ID><DisplayName>name</DisplayName></Owner>');
  expect(xml).toContain('<NextContinuationToken>tok</NextContinuationToken>');
});

test('DeleteResult lists deletions unless quiet; errors always', () => {
  const outcomes = [
    { kind: 'deleted', key: 'a', versionId: undefined, deleteMarkerVersionId: undefined },
    { kind: 'error', key: 'b', versionId: undefined, code: 'InternalError', message: 'x' },
    { kind: 'deleted', key: 'c', versionId: undefined, deleteMarkerVersionId: 'm1' },
    { kind: 'deleted', key: 'd', versionId: 'v1', deleteMarkerVersionId: undefined },
  ] as const;
  expect(deleteResultXml(outcomes, false)).toContain('<Deleted><Key>a</Key></Deleted>');
  expect(deleteResultXml(outcomes, false)).toContain('<Deleted><Key>c</Key><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>m1</DeleteMarkerVersionId></Deleted>');
  expect(deleteResultXml(outcomes, false)).toContain('<Deleted><Key>d</Key><VersionId>v1</VersionId></Deleted>');
  const quiet = deleteResultXml(outcomes, true);
  expect(quiet).not.toContain('<Deleted>');
  expect(quiet).toContain('<Error><Key>b</Key><Code>InternalError</Code><Message>x</Message></Error>');
});

test('LocationConstraint is empty for us-east-1 and the region otherwise', () => {
  expect(locationConstraintXml('us-east-1')).toContain(`<LocationConstraint xmlns="${s3Namespace}"></LocationConstraint>`);
  expect(locationConstraintXml('eu-west-1')).toContain('>eu-west-1</LocationConstraint>');
});
