// Goal: tag sets from the x-amz-tagging header are read the way S3 clients write them, S3's
// limits are enforced with InvalidTag, and the stored form reads back exactly (or as no tags
// when damaged, never an exception on a read).
// Method: the pure functions of src/object-tags.ts, fed header strings as Node hands them over
// (latin1, one character per byte).
import { decodeStoredTags, encodeStoredTags, parseTaggingHeader } from '../src/object-tags';
import { S3Error } from '../src/s3-errors';

const asNodeHeader = (utf8: string): string => Buffer.from(utf8, 'utf8').toString('latin1');

function invalidTagMessage(headerValue: string): string {
  try {
    parseTaggingHeader(headerValue);
  } catch (error) {
    if (error instanceof S3Error && error.code === 'InvalidTag') return error.message;
    throw error;
  }
  throw new Error('expected InvalidTag');
}

test('percent-encoded and raw UTF-8 keys and values, "+" as a space, "=" optional, order kept', () => {
  expect(parseTaggingHeader('b=2&a=1')).toEqual([{ key: 'b', value: '2' }, { key: 'a', value: '1' }]);
  expect(parseTaggingHeader('k%C3%A9y=two+words%20here&flag')).toEqual([{ key: 'kéy', value: 'two words here' }, { key: 'flag', value: '' }]);
  expect(parseTaggingHeader(asNodeHeader('ключ=🙂'))).toEqual([{ key: 'ключ', value: '🙂' }]);
  expect(parseTaggingHeader(undefined)).toEqual([]);
  expect(parseTaggingHeader('  ')).toEqual([]);
});

test('limits count Unicode characters: 128 emoji make a valid key, 129 do not', () => {
  expect(parseTaggingHeader(`${encodeURIComponent('🙂'.repeat(128))}=${encodeURIComponent('é'.repeat(256))}`)).toHaveLength(1);
  expect(invalidTagMessage(`${encodeURIComponent('🙂'.repeat(129))}=v`)).toMatch(/TagKey .* too long/);
  expect(invalidTagMessage(`k=${'v'.repeat(257)}`)).toMatch(/TagValue .* too long/);
  expect(invalidTagMessage(Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&'))).toMatch(/greater than 10/);
  expect(invalidTagMessage('a=1&a=2')).toMatch(/same key/);
  expect(invalidTagMessage('AWS:cost=1')).toMatch(/aws:/);
  expect(invalidTagMessage('=value')).toMatch(/TagKey/);
});

test('the stored form round-trips; damaged stored values read as no tags', () => {
  const tags = [{ key: 'a "quoted" key', value: '[1,2]' }, { key: 'é', value: '' }];
  expect(decodeStoredTags(encodeStoredTags(tags))).toEqual(tags);
  for (const damaged of [undefined, '', 'not json', '{"a":1}', '[["only-key"]]', '[[1,2]]']) expect(decodeStoredTags(damaged)).toEqual([]);
});
