/**
 * Goal: POST policies are read and enforced as S3 does: a malformed document (bad base64 or JSON,
 * element names in the wrong case, an expiration that is not ISO 8601 UTC, an unknown operator,
 * a bad content-length-range, an empty condition) is InvalidPolicyDocument; an expired policy, a
 * failed condition, or a form field no condition names (the bucket included) is AccessDenied
 * "Invalid according to Policy"; field names match case-insensitively, values exactly.
 * Method: the pure functions, with policies built here and a fixed clock.
 */
import { checkPostPolicy, parsePostPolicy } from '../src/post-policy';
import { S3Error } from '../src/s3-errors';

const nowMs = Date.UTC(2026, 10, 23, 12, 0, 0);
const encode = (document: unknown): string => Buffer.from(JSON.stringify(document), 'utf8').toString('base64');
const later = '2026-11-23T13:00:00Z';

function errorOf(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof S3Error) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an S3 error');
}

const baseConditions = [{ bucket: 'photos' }, ['starts-with', '$key', 'user/'], ['content-length-range', 10, 1000]];
const baseFields = (): Map<string, string> => new Map([['bucket', 'photos'], ['key', 'user/a.jpg'], ['policy', 'p'], ['x-amz-signature', 's']]);

test('a well-formed policy is parsed; expiration forms and fractional seconds', () => {
  const policy = parsePostPolicy(encode({ expiration: '2026-11-23T13:00:00.123Z', conditions: baseConditions }));
  expect(policy.expirationMs).toBe(Date.UTC(2026, 10, 23, 13, 0, 0, 123));
  expect(policy.conditions.map((c) => c.kind)).toEqual(['eq', 'starts-with', 'content-length-range']);
  expect(checkPostPolicy(policy, baseFields(), nowMs)).toEqual({ minBytes: 10, maxBytes: 1000 });
});

test('malformed documents are InvalidPolicyDocument', () => {
  const invalid = (document: unknown): string => errorOf(() => parsePostPolicy(typeof document === 'string' ? document : encode(document))).code;
  expect(invalid('not base64!')).toBe('InvalidPolicyDocument');
  expect(invalid(Buffer.from('{not json').toString('base64'))).toBe('InvalidPolicyDocument');
  expect(invalid([1, 2])).toBe('InvalidPolicyDocument');
  expect(invalid({ EXPIRATION: later, conditions: baseConditions })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later, CONDITIONS: baseConditions })).toBe('InvalidPolicyDocument');
  expect(invalid({ conditions: baseConditions })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: '2026-11-23 13:00:00.123456+00:00', conditions: baseConditions })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: 'Mon, 23 Nov 2026 13:00:00 GMT', conditions: baseConditions })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: '2026-02-30T13:00:00Z', conditions: baseConditions })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later, conditions: [{}] })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later, conditions: [{ a: '1', b: '2' }] })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later, conditions: [['ends-with', '$key', 'x']] })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later, conditions: [['eq', 'key', 'x']] })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later, conditions: [['content-length-range', 0]] })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later, conditions: [['content-length-range', -1, 0]] })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later, conditions: [['content-length-range', 10, 1]] })).toBe('InvalidPolicyDocument');
  expect(invalid({ expiration: later, conditions: 'all' })).toBe('InvalidPolicyDocument');
});

test('expiry, failed conditions and extra fields are AccessDenied "Invalid according to Policy"', () => {
  const policy = (conditions: unknown[], expiration = later) => parsePostPolicy(encode({ expiration, conditions }));
  const check = (conditions: unknown[], fields: Map<string, string>, expiration = later) => errorOf(() => checkPostPolicy(policy(conditions, expiration), fields, nowMs));

  expect(check(baseConditions, baseFields(), '2026-11-23T11:59:59Z')).toEqual({ code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.' });
  expect(check(baseConditions, new Map([...baseFields(), ['bucket', 'other']]))).toEqual({
    code: 'AccessDenied',
    message: 'Invalid according to Policy: Policy Condition failed: {"bucket":"photos"}',
  });
  expect(check(baseConditions, new Map([...baseFields(), ['key', 'admin/a.jpg']])).message).toContain('["starts-with","$key","user/"]');
  // A policy without a bucket condition: the bucket is an input the policy does not allow.
  expect(check(baseConditions.slice(1), baseFields())).toEqual({ code: 'AccessDenied', message: 'Invalid according to Policy: Extra input fields: bucket' });
  expect(check(baseConditions, new Map([...baseFields(), ['x-amz-meta-tag', 'v']])).message).toBe('Invalid according to Policy: Extra input fields: x-amz-meta-tag');
  // A condition on a field the form lacks compares against "": starts-with "" passes, "bar" fails.
  expect(check([...baseConditions, ['starts-with', '$x-amz-meta-foo', 'bar']], baseFields()).code).toBe('AccessDenied');
  expect(check([...baseConditions, ['eq', '$x-amz-meta-foo', '']], new Map([...baseFields(), ['x-amz-meta-foo', 'barclamp']])).code).toBe('AccessDenied');
});

test('names are case-insensitive, values exact; x-ignore-* and signature fields need no condition; ranges narrow', () => {
  const policy = parsePostPolicy(encode({
    expiration: later,
    conditions: [
      { bUcKeT: 'photos' }, ['StArTs-WiTh', '$KeY', 'user/'], { AcL: 'private' }, ['starts-with', '$Content-Type', 'image/'],
      ['starts-with', '$x-amz-meta-any', ''], ['content-length-range', 0, 500], ['content-length-range', 100, 2000], { success_action_status: 201 },
    ],
  }));
  const fields = new Map([
    ...baseFields(), ['acl', 'private'], ['content-type', 'image/png, image/jpeg'], ['x-ignore-tracking', '1'], ['awsaccesskeyid', 'AK'], ['signature', 'sig'],
    ['success_action_status', '201'],
  ]);
  expect(checkPostPolicy(policy, fields, nowMs)).toEqual({ minBytes: 100, maxBytes: 500 });
  // Values are case-sensitive, and every comma-separated Content-Type must match.
  expect(errorOf(() => checkPostPolicy(policy, new Map([...fields, ['acl', 'PRIVATE']]), nowMs)).code).toBe('AccessDenied');
  expect(errorOf(() => checkPostPolicy(policy, new Map([...fields, ['content-type', 'image/png, text/html']]), nowMs)).code).toBe('AccessDenied');
});
