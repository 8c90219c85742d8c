/**
 * Goal: bucket policies are read as S3 reads them (a malformed document, an unknown field or
 * operator, an action or resource that cannot apply, a principal Tessera cannot name, a condition
 * value of the wrong kind: all MalformedPolicy with a message naming the problem) and evaluated with
 * IAM's rules (explicit deny wins; Not* elements; case-insensitive actions and case-sensitive
 * resources; every condition family, IfExists, Null, absent keys, ForAnyValue/ForAllValues).
 * Method: the pure functions, with policies built here as objects and serialized, and requests
 * built by a helper; a seeded fast-check property compares the wildcard matching (StringLike and
 * Resource) with a naive recursive matcher.
 */
import fc from 'fast-check';
import type { BucketPolicy, PolicyRequest } from '../src/bucket-policy';
import { bucketPolicyActions, bucketPolicyMaxBytes, evaluateBucketPolicy, isPolicyPublic, parseBucketPolicy, principalKeyIds } from '../src/bucket-policy';
import { S3Error } from '../src/s3-errors';

const bucket = 'photos';
const alice = 'AKIAALICE0001';
const bob = 'AKIABOB0002';
const objects = 'arn:aws:s3:::photos/*';

type Statement = Record<string, unknown>;

/** A statement that lets alice read the bucket's objects; `overrides` set or (undefined) remove fields. */
function statement(overrides: Statement = {}): Statement {
  const base: Statement = { Effect: 'Allow', Principal: { AWS: alice }, Action: 's3:GetObject', Resource: objects };
  return Object.fromEntries(Object.entries({ ...base, ...overrides }).filter(([, value]) => value !== undefined));
}

function policyOf(statements: Statement | Statement[]): BucketPolicy {
  return parseBucketPolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), bucket);
}

interface RequestOptions {
  readonly principal?: string;
  readonly action?: string;
  readonly key?: string;
  readonly resource?: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

function requestOf(options: RequestOptions = {}): PolicyRequest {
  const context = new Map(Object.entries(options.context ?? {}).map(([key, value]) => [key.toLowerCase(), typeof value === 'string' ? [value] : value]));
  return {
    principal: options.principal ?? alice,
    action: options.action ?? 's3:GetObject',
    resource: options.resource ?? `arn:aws:s3:::photos/${options.key ?? 'a.jpg'}`,
    context,
  };
}

const decide = (statements: Statement | Statement[], options: RequestOptions = {}) => evaluateBucketPolicy(policyOf(statements), requestOf(options));

function errorOf(run: () => unknown): S3Error {
  try {
    run();
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error('expected an S3 error');
}

/** The MalformedPolicy message for a raw text or a document (serialized here). */
function malformedMessage(document: unknown): string {
  const error = errorOf(() => parseBucketPolicy(typeof document === 'string' ? document : JSON.stringify(document), bucket));
  expect(error.code).toBe('MalformedPolicy');
  expect(error.httpStatus).toBe(400);
  return error.message;
}

const withStatement = (overrides: Statement): unknown => ({ Version: '2012-10-17', Statement: statement(overrides) });
const withCondition = (condition: unknown): unknown => withStatement({ Condition: condition });

describe('parseBucketPolicy: well-formed policies', () => {
  test('a typical policy: one statement object, normalized to arrays', () => {
    const policy = policyOf(statement({ Sid: 'ReadPhotos' }));
    expect(policy.version).toBe('2012-10-17');
    expect(policy.statements).toHaveLength(1);
    const [only] = policy.statements;
    expect(only?.sid).toBe('ReadPhotos');
    expect(only?.effect).toBe('Allow');
    expect(only?.principals).toEqual({ negated: false, anyone: false, keyIds: [alice] });
    expect(only?.actions.negated).toBe(false);
    expect(only?.actions.patterns.map((pattern) => pattern.source)).toEqual(['s3:GetObject']);
    expect(only?.resources.patterns.map((pattern) => pattern.source)).toEqual([objects]);
    expect(only?.conditions).toEqual([]);
  });

  test('arrays of statements, actions, resources and principals; Version defaults to 2008-10-17', () => {
    const text = JSON.stringify({
      Id: 'PolicyForPhotos',
      Statement: [
        statement({ Sid: 'A', Action: ['s3:GetObject', 's3:PutObject'], Resource: ['arn:aws:s3:::photos', objects] }),
        statement({ Sid: 'B', Effect: 'Deny', Principal: { AWS: [alice, bob], CanonicalUser: 'AKIACAROL003' }, Action: 's3:DeleteObject' }),
        statement({ Sid: '' }),
        statement({ Sid: '' }),
        statement(),
      ],
    });
    const policy = parseBucketPolicy(text, bucket);
    expect(policy.version).toBe('2008-10-17');
    expect(policy.statements.map((s) => s.sid)).toEqual(['A', 'B', '', '', undefined]);
    expect(policy.statements[0]?.actions.patterns).toHaveLength(2);
    expect(policy.statements[0]?.resources.patterns).toHaveLength(2);
    expect(policy.statements[1]?.principals.keyIds).toEqual([alice, bob, 'AKIACAROL003']);
  });

  test('both versions, wildcard buckets in Resource, any bucket in NotResource, condition keys lower-cased', () => {
    const text = (version: string) => JSON.stringify({ Version: version, Statement: statement() });
    expect(parseBucketPolicy(text('2008-10-17'), bucket).version).toBe('2008-10-17');
    expect(parseBucketPolicy(text('2012-10-17'), bucket).version).toBe('2012-10-17');
    for (const resource of ['*', 'arn:aws:s3:::*', 'arn:aws:s3:::pho*/x', 'arn:aws:s3:::photo?', 'arn:aws:s3:::*/public/*']) {
      expect(() => policyOf(statement({ Resource: resource }))).not.toThrow();
    }
    expect(() => policyOf(statement({ Resource: undefined, NotResource: 'arn:aws:s3:::videos/*' }))).not.toThrow();
    const policy = policyOf(statement({ Condition: { StringEquals: { 'S3:Prefix': 'home/' }, Bool: { 'aws:SecureTransport': true }, NumericLessThan: { 's3:max-keys': 10 } } }));
    expect(policy.statements[0]?.conditions.map((c) => [c.operator, c.key, c.values])).toEqual([
      ['StringEquals', 's3:prefix', ['home/']],
      ['Bool', 'aws:securetransport', ['true']],
      ['NumericLessThan', 's3:max-keys', ['10']],
    ]);
  });

  test('the size limit is in UTF-8 bytes and checked before parsing', () => {
    const sized = (id: string) => JSON.stringify({ Id: id, Statement: statement() });
    const baseBytes = Buffer.byteLength(sized(''));
    expect(() => parseBucketPolicy(sized('x'.repeat(bucketPolicyMaxBytes - baseBytes)), bucket)).not.toThrow();
    expect(malformedMessage(sized('x'.repeat(bucketPolicyMaxBytes - baseBytes + 1)))).toBe('Policy exceeds the maximum allowed document size.');
    // Fewer characters than the limit, but more bytes: 'é' is two bytes.
    const accented = sized('é'.repeat(bucketPolicyMaxBytes - baseBytes));
    expect(accented.length).toBeLessThanOrEqual(bucketPolicyMaxBytes);
    expect(malformedMessage(accented)).toContain('maximum allowed document size');
    expect(malformedMessage(`{${' '.repeat(bucketPolicyMaxBytes)}`)).toContain('maximum allowed document size');
  });
});

describe('parseBucketPolicy: malformed policies are MalformedPolicy', () => {
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ['bad JSON', '{"Statement": ', 'valid JSON'],
    ['empty text', '', 'valid JSON'],
    ['an array', '[1]', 'valid JSON'],
    ['a string', '"policy"', 'valid JSON'],
    ['null', 'null', 'valid JSON'],
    ['unknown top-level field', { Statement: statement(), Foo: 1 }, 'Unknown field Foo'],
    ['top-level field in the wrong case', { version: '2012-10-17', Statement: statement() }, 'Unknown field version'],
    ['missing Statement', { Version: '2012-10-17' }, 'Missing required field Statement'],
    ['empty Statement array', { Statement: [] }, 'non-empty'],
    ['a statement that is not an object', { Statement: ['Allow'] }, 'JSON object'],
    ['unknown Version', { Version: '2020-01-01', Statement: statement() }, 'Version'],
    ['Version not a string', { Version: 2012, Statement: statement() }, 'Version'],
    ['Id not a string', { Id: 7, Statement: statement() }, 'Id must be a string'],
    ['unknown statement field', withStatement({ Principals: '*' }), 'Unknown field Principals'],
    ['missing Effect', withStatement({ Effect: undefined }), 'Missing required field Effect'],
    ['missing Principal', withStatement({ Principal: undefined }), 'Missing required field Principal'],
    ['missing Action', withStatement({ Action: undefined }), 'Missing required field Action'],
    ['missing Resource', withStatement({ Resource: undefined }), 'Missing required field Resource'],
    ['both Principal and NotPrincipal', withStatement({ NotPrincipal: '*' }), 'both Principal and NotPrincipal'],
    ['both Action and NotAction', withStatement({ NotAction: 's3:PutObject' }), 'both Action and NotAction'],
    ['both Resource and NotResource', withStatement({ NotResource: objects }), 'both Resource and NotResource'],
    ['bad effect', withStatement({ Effect: 'allow' }), 'Invalid effect: allow'],
    ['Sid not a string', withStatement({ Sid: 1 }), 'Sid must be a string'],
    ['duplicate Sids', { Statement: [statement({ Sid: 'S' }), statement({ Sid: 'S' })] }, 'must be unique: S'],
    ['unknown action', withStatement({ Action: 's3:GetObjects' }), 'Policy has invalid action: s3:GetObjects'],
    ['action without the s3: prefix', withStatement({ Action: 'GetObject' }), 'Policy has invalid action: GetObject'],
    ['action of another service', withStatement({ Action: 'iam:GetUser' }), 'Policy has invalid action: iam:GetUser'],
    ['bare s3: prefix', withStatement({ Action: 's3:' }), 'Policy has invalid action: s3:'],
    ['wildcard action matching nothing', withStatement({ Action: ['s3:GetObject', 's3:Frob*'] }), 'Policy has invalid action: s3:Frob*'],
    ['empty action array', withStatement({ Action: [] }), 'Action must be a string or a non-empty array'],
    ['non-string action', withStatement({ Action: [1] }), 'Action must be a string or a non-empty array'],
    ['resource of another bucket', withStatement({ Resource: 'arn:aws:s3:::videos/*' }), 'Policy has invalid resource: arn:aws:s3:::videos/*'],
    ['resource of a longer bucket name', withStatement({ Resource: 'arn:aws:s3:::photos-old' }), 'Policy has invalid resource'],
    ['wildcard resource of other buckets', withStatement({ Resource: 'arn:aws:s3:::vid*/x' }), 'Policy has invalid resource'],
    ['non-ARN resource', withStatement({ Resource: 'photos/*' }), 'Policy has invalid resource: photos/*'],
    ['ARN of another service', withStatement({ Resource: 'arn:aws:sqs:::photos' }), 'Policy has invalid resource'],
    ['ARN without a bucket', withStatement({ Resource: 'arn:aws:s3:::' }), 'Policy has invalid resource'],
    ['non-ARN NotResource', withStatement({ Resource: undefined, NotResource: 'videos' }), 'Policy has invalid resource: videos'],
    ['principal as a bare key id string', withStatement({ Principal: alice }), 'Invalid principal in policy'],
    ['principal kind Service', withStatement({ Principal: { Service: 's3.amazonaws.com' } }), 'Invalid principal in policy: Service'],
    ['principal kind Federated', withStatement({ Principal: { Federated: 'cognito-identity.amazonaws.com' } }), 'Invalid principal in policy: Federated'],
    ['empty principal object', withStatement({ Principal: {} }), 'Invalid principal in policy'],
    ['role ARN', withStatement({ Principal: { AWS: 'arn:aws:iam::123456789012:role/reader' } }), 'Invalid principal in policy: arn:aws:iam::123456789012:role/reader'],
    ['key id with punctuation', withStatement({ Principal: { AWS: 'AKIA-ALICE' } }), 'Invalid principal in policy: AKIA-ALICE'],
    ['key id too short', withStatement({ Principal: { AWS: 'AK' } }), 'Invalid principal in policy'],
    ['partial wildcard principal', withStatement({ Principal: { AWS: 'AKIA*' } }), 'Invalid principal in policy: AKIA*'],
    ['ARN as CanonicalUser', withStatement({ Principal: { CanonicalUser: `arn:aws:iam::${alice}:root` } }), 'Invalid principal in policy'],
    ['condition not an object', withCondition(['StringEquals']), 'Condition must be an object'],
    ['unknown condition operator', withCondition({ StringEqualz: { 's3:prefix': 'a' } }), 'Invalid Condition type : StringEqualz'],
    ['operator in the wrong case', withCondition({ stringequals: { 's3:prefix': 'a' } }), 'Invalid Condition type : stringequals'],
    ['Null with IfExists', withCondition({ NullIfExists: { 's3:prefix': 'true' } }), 'Invalid Condition type : NullIfExists'],
    ['qualified Bool', withCondition({ 'ForAnyValue:Bool': { 'aws:securetransport': 'true' } }), 'Invalid Condition type : ForAnyValue:Bool'],
    ['unknown qualifier', withCondition({ 'ForSomeValues:StringEquals': { 's3:prefix': 'a' } }), 'Invalid Condition type'],
    ['Arn operators are not supported', withCondition({ ArnLike: { 'aws:sourcearn': 'arn:*' } }), 'Invalid Condition type : ArnLike'],
    ['operator block not an object', withCondition({ StringEquals: ['s3:prefix', 'a'] }), 'StringEquals must map condition keys'],
    ['null condition value', withCondition({ StringEquals: { 's3:prefix': null } }), 'Invalid Condition value for StringEquals s3:prefix'],
    ['empty condition value array', withCondition({ StringEquals: { 's3:prefix': [] } }), 'Invalid Condition value'],
    ['object condition value', withCondition({ StringEquals: { 's3:prefix': { a: 1 } } }), 'Invalid Condition value'],
    ['bad number', withCondition({ NumericLessThan: { 's3:max-keys': 'ten' } }), '"ten" is not a number'],
    ['bad number in an array', withCondition({ NumericEquals: { 's3:max-keys': [1, '2x'] } }), '"2x" is not a number'],
    ['bad date', withCondition({ DateLessThan: { 'aws:currenttime': 'yesterday' } }), '"yesterday" is not an ISO 8601 date'],
    ['impossible date', withCondition({ DateGreaterThan: { 'aws:currenttime': '2026-02-30T00:00:00Z' } }), 'is not an ISO 8601 date'],
    ['impossible time', withCondition({ DateEquals: { 'aws:currenttime': '2026-01-01T24:00:00Z' } }), 'is not an ISO 8601 date'],
    ['prefix too long for IPv4', withCondition({ IpAddress: { 'aws:sourceip': '10.0.0.0/33' } }), 'is not an IP address or CIDR block'],
    ['IPv4 octet too large', withCondition({ NotIpAddress: { 'aws:sourceip': '300.1.1.1' } }), 'is not an IP address or CIDR block'],
    ['two :: in IPv6', withCondition({ IpAddress: { 'aws:sourceip': 'fe80::1::2' } }), 'is not an IP address or CIDR block'],
    ['IPv6 prefix too long', withCondition({ IpAddress: { 'aws:sourceip': '2001:db8::/129' } }), 'is not an IP address or CIDR block'],
    ['bad Bool', withCondition({ Bool: { 'aws:securetransport': 'yes' } }), '"yes" is not true or false'],
    ['bad Null', withCondition({ Null: { 's3:prefix': 'maybe' } }), '"maybe" is not true or false'],
  ];

  test.each(cases)('%s', (_name, document, fragment) => {
    expect(malformedMessage(document)).toContain(fragment);
  });
});

describe('evaluateBucketPolicy: principals, actions, resources', () => {
  test('allow, and none for another key, action or resource', () => {
    expect(decide(statement())).toBe('allow');
    expect(decide(statement(), { principal: bob })).toBe('none');
    expect(decide(statement(), { action: 's3:PutObject' })).toBe('none');
    expect(decide(statement(), { resource: 'arn:aws:s3:::photos' })).toBe('none');
    expect(decide(statement(), { resource: 'arn:aws:s3:::photosx/a.jpg' })).toBe('none');
  });

  test('an applicable Deny wins over any Allow, in either order', () => {
    const allowAll = statement({ Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::photos', objects] });
    const denyAliceDelete = statement({ Effect: 'Deny', Action: 's3:DeleteObject' });
    for (const statements of [[allowAll, denyAliceDelete], [denyAliceDelete, allowAll]]) {
      expect(decide(statements, { action: 's3:DeleteObject' })).toBe('deny');
      expect(decide(statements, { action: 's3:DeleteObject', principal: bob })).toBe('allow');
      expect(decide(statements, { action: 's3:GetObject' })).toBe('allow');
    }
    expect(decide(denyAliceDelete, { action: 's3:GetObject' })).toBe('none');
  });

  test('NotPrincipal applies to every key it does not name', () => {
    const denyAllButAlice = statement({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: alice }, Action: 's3:*' });
    expect(decide(denyAllButAlice, { principal: bob })).toBe('deny');
    expect(decide(denyAllButAlice, { principal: alice })).toBe('none');
    expect(decide(statement({ Principal: undefined, NotPrincipal: '*' }), { principal: bob })).toBe('none');
  });

  test('NotAction applies to every action it does not match', () => {
    const allowButDeletes = statement({ Action: undefined, NotAction: ['s3:Delete*', 's3:PutBucketPolicy'] });
    expect(decide(allowButDeletes, { action: 's3:GetObject' })).toBe('allow');
    expect(decide(allowButDeletes, { action: 's3:PutObjectTagging' })).toBe('allow');
    expect(decide(allowButDeletes, { action: 's3:DeleteObject' })).toBe('none');
    expect(decide(allowButDeletes, { action: 's3:DeleteObjectVersion' })).toBe('none');
    expect(decide(allowButDeletes, { action: 's3:putbucketpolicy' })).toBe('none');
  });

  test('NotResource applies to every resource it does not match', () => {
    const denyOutsidePublic = statement({ Effect: 'Deny', Resource: undefined, NotResource: ['arn:aws:s3:::photos/public/*', 'arn:aws:s3:::other/*'] });
    expect(decide(denyOutsidePublic, { key: 'private/x.jpg' })).toBe('deny');
    expect(decide(denyOutsidePublic, { resource: 'arn:aws:s3:::photos' })).toBe('deny');
    expect(decide(denyOutsidePublic, { key: 'public/x.jpg' })).toBe('none');
  });

  test('actions match case-insensitively, with * and ? wildcards', () => {
    expect(decide(statement({ Action: 'S3:getobject' }), { action: 's3:GetObject' })).toBe('allow');
    expect(decide(statement({ Action: 's3:GetObject' }), { action: 'S3:GETOBJECT' })).toBe('allow');
    const getters = statement({ Action: 's3:Get*' });
    expect(decide(getters, { action: 's3:GetObjectTagging' })).toBe('allow');
    expect(decide(getters, { action: 's3:GetBucketCORS' })).toBe('allow');
    expect(decide(getters, { action: 's3:PutObject' })).toBe('none');
    const oneChar = statement({ Action: 's3:?etObject' });
    expect(decide(oneChar, { action: 's3:GetObject' })).toBe('allow');
    expect(decide(oneChar, { action: 's3:GetObjectAcl' })).toBe('none');
    expect(decide(statement({ Action: 's3:*Object' }), { action: 's3:DeleteObject' })).toBe('allow');
    expect(decide(statement({ Action: '*' }), { action: 's3:PutBucketVersioning' })).toBe('allow');
    expect(decide(statement({ Action: 's3:*' }), { action: 's3:ListBucket' })).toBe('allow');
  });

  test('resources match case-sensitively; * spans "/", ? is one character', () => {
    const homeDocs = statement({ Resource: 'arn:aws:s3:::photos/home/*/docs/*' });
    expect(decide(homeDocs, { key: 'home/alice/docs/2026/a.txt' })).toBe('allow');
    expect(decide(homeDocs, { key: 'home/alice/team/docs/a.txt' })).toBe('allow');
    expect(decide(homeDocs, { key: 'home/docs/a.txt' })).toBe('none');
    const numbered = statement({ Resource: 'arn:aws:s3:::photos/img-???.jpg' });
    expect(decide(numbered, { key: 'img-001.jpg' })).toBe('allow');
    expect(decide(numbered, { key: 'img-ü/1.jpg' })).toBe('allow');
    expect(decide(numbered, { key: 'img-0001.jpg' })).toBe('none');
    expect(decide(numbered, { key: 'img-01.jpg' })).toBe('none');
    expect(decide(statement({ Resource: 'arn:aws:s3:::photos/Public/*' }), { key: 'public/a.jpg' })).toBe('none');
    const bucketOnly = statement({ Action: 's3:ListBucket', Resource: 'arn:aws:s3:::photos' });
    expect(decide(bucketOnly, { action: 's3:ListBucket', resource: 'arn:aws:s3:::photos' })).toBe('allow');
    expect(decide(bucketOnly, { action: 's3:ListBucket', key: 'a' })).toBe('none');
    expect(decide(statement({ Resource: '*' }), { key: 'any/thing' })).toBe('allow');
    expect(decide(statement({ Resource: 'arn:aws:s3:::*' }), { resource: 'arn:aws:s3:::photos' })).toBe('allow');
  });

  test('${*}, ${?}, ${$} are literal characters', () => {
    const star = statement({ Resource: 'arn:aws:s3:::photos/literal${*}star' });
    expect(decide(star, { key: 'literal*star' })).toBe('allow');
    expect(decide(star, { key: 'literalXstar' })).toBe('none');
    const question = statement({ Resource: 'arn:aws:s3:::photos/what${?}' });
    expect(decide(question, { key: 'what?' })).toBe('allow');
    expect(decide(question, { key: 'whatX' })).toBe('none');
    expect(decide(statement({ Resource: 'arn:aws:s3:::photos/${$}5' }), { key: '$5' })).toBe('allow');
  });

  test('policy variables in Resource: each key gets its own home prefix; no value, no match', () => {
    const home = statement({ Principal: '*', Resource: 'arn:aws:s3:::photos/home/${aws:username}/*' });
    expect(decide(home, { key: `home/${alice}/a.jpg`, context: { 'aws:username': alice } })).toBe('allow');
    expect(decide(home, { principal: bob, key: `home/${alice}/a.jpg`, context: { 'aws:username': bob } })).toBe('none');
    expect(decide(home, { principal: bob, key: `home/${bob}/b.jpg`, context: { 'aws:username': bob } })).toBe('allow');
    // The variable's name is case-insensitive; a missing or multi-valued key matches nothing.
    expect(decide(statement({ Resource: 'arn:aws:s3:::photos/${AWS:UserName}/*' }), { key: `${alice}/x`, context: { 'aws:username': alice } })).toBe('allow');
    expect(decide(home, { key: 'home//a.jpg' })).toBe('none');
    expect(decide(home, { key: 'home/a/x', context: { 'aws:username': ['a', 'b'] } })).toBe('none');
    // Under NotResource, an unresolved variable names nothing, so the statement covers everything.
    const notHome = statement({ Effect: 'Deny', Resource: undefined, NotResource: 'arn:aws:s3:::photos/home/${aws:username}/*' });
    expect(decide(notHome, { key: `home/${alice}/a`, context: { 'aws:username': alice } })).toBe('none');
    expect(decide(notHome, { key: 'elsewhere', context: { 'aws:username': alice } })).toBe('deny');
    expect(decide(notHome, { key: `home/${alice}/a` })).toBe('deny');
  });

  test('a substituted value is literal text, and a default stands in for a missing key', () => {
    const home = statement({ Resource: 'arn:aws:s3:::photos/home/${aws:username}/*' });
    expect(decide(home, { key: 'home/x/a', context: { 'aws:username': '*' } })).toBe('none');
    expect(decide(home, { key: 'home/*/a', context: { 'aws:username': '*' } })).toBe('allow');
    const withDefault = statement({ Resource: "arn:aws:s3:::photos/${s3:prefix, 'shared'}/*" });
    expect(decide(withDefault, { key: 'shared/a' })).toBe('allow');
    expect(decide(withDefault, { key: 'shared/a', context: { 's3:prefix': 'mine' } })).toBe('none');
    expect(decide(withDefault, { key: 'mine/a', context: { 's3:prefix': 'mine' } })).toBe('allow');
    const quoted = statement({ Resource: "arn:aws:s3:::photos/${ aws:referer , 'it''s' }" });
    expect(decide(quoted, { key: "it's" })).toBe('allow');
  });

  test('variables stay literal text in a 2008-10-17 policy, and a $ that opens no variable is itself', () => {
    const old = parseBucketPolicy(JSON.stringify({ Version: '2008-10-17', Statement: statement({ Resource: 'arn:aws:s3:::photos/${aws:username}/*' }) }), bucket);
    expect(evaluateBucketPolicy(old, requestOf({ key: `${alice}/a`, context: { 'aws:username': alice } }))).toBe('none');
    expect(evaluateBucketPolicy(old, requestOf({ key: '${aws:username}/a', context: { 'aws:username': alice } }))).toBe('allow');
    expect(old.contextKeys.size).toBe(0);
    expect(decide(statement({ Resource: 'arn:aws:s3:::photos/${not a variable}' }), { key: '${not a variable}' })).toBe('allow');
    expect(decide(statement({ Resource: 'arn:aws:s3:::photos/$5-${' }), { key: '$5-${' })).toBe('allow');
  });

  test('a variable in the bucket part of a Resource is accepted and resolved per request', () => {
    const policy = policyOf(statement({ Resource: 'arn:aws:s3:::${aws:username}/*' }));
    expect(evaluateBucketPolicy(policy, requestOf({ resource: `arn:aws:s3:::${alice}/k`, context: { 'aws:username': alice } }))).toBe('allow');
    expect(evaluateBucketPolicy(policy, requestOf({ resource: 'arn:aws:s3:::photos/k', context: { 'aws:username': alice } }))).toBe('none');
  });

  test('principal forms: bare id, user ARN, root ARN, "*", {"AWS": "*"}, CanonicalUser', () => {
    const forms: ReadonlyArray<readonly [unknown, boolean]> = [
      [{ AWS: alice }, false],
      [{ AWS: `arn:aws:iam::123456789012:user/${alice}` }, false],
      [{ AWS: `arn:aws:iam::123456789012:user/division/team/${alice}` }, false],
      [{ AWS: `arn:aws:iam::${alice}:root` }, false],
      [{ AWS: [bob, alice] }, false],
      [{ CanonicalUser: alice }, false],
      ['*', true],
      [{ AWS: '*' }, true],
      [{ AWS: ['*'] }, true],
    ];
    for (const [principal, everyone] of forms) {
      const policyStatement = statement({ Principal: principal });
      expect(decide(policyStatement, { principal: alice })).toBe('allow');
      expect(decide(policyStatement, { principal: 'AKIACAROL003' })).toBe(everyone ? 'allow' : 'none');
    }
    // A user ARN names the user (the key), not the account; a root ARN names the account (the key).
    expect(decide(statement({ Principal: { AWS: `arn:aws:iam::${alice}:user/${bob}` } }), { principal: alice })).toBe('none');
    expect(decide(statement({ Principal: { AWS: `arn:aws:iam::${bob}:root` } }), { principal: alice })).toBe('none');
    // Key ids compare exactly.
    expect(decide(statement(), { principal: alice.toLowerCase() })).toBe('none');
  });
});

describe('evaluateBucketPolicy: conditions', () => {
  const conditioned = (condition: unknown, context?: RequestOptions['context']) => decide(statement({ Condition: condition }), context === undefined ? {} : { context });

  test('string operators: exact, ignoring case, like; several values OR, several keys and operators AND', () => {
    expect(conditioned({ StringEquals: { 's3:prefix': 'home/' } }, { 's3:prefix': 'home/' })).toBe('allow');
    expect(conditioned({ StringEquals: { 's3:prefix': 'home/' } }, { 's3:prefix': 'Home/' })).toBe('none');
    expect(conditioned({ StringEquals: { 's3:prefix': ['docs/', 'home/'] } }, { 's3:prefix': 'home/' })).toBe('allow');
    expect(conditioned({ StringEqualsIgnoreCase: { 's3:prefix': 'HOME/' } }, { 's3:prefix': 'home/' })).toBe('allow');
    expect(conditioned({ StringNotEquals: { 's3:prefix': 'home/' } }, { 's3:prefix': 'docs/' })).toBe('allow');
    expect(conditioned({ StringNotEquals: { 's3:prefix': ['docs/', 'home/'] } }, { 's3:prefix': 'home/' })).toBe('none');
    expect(conditioned({ StringNotEqualsIgnoreCase: { 's3:prefix': 'HOME/' } }, { 's3:prefix': 'home/' })).toBe('none');
    expect(conditioned({ StringLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'home/alice/' })).toBe('allow');
    expect(conditioned({ StringLike: { 's3:prefix': 'home/?' } }, { 's3:prefix': 'home/ab' })).toBe('none');
    expect(conditioned({ StringLike: { 's3:prefix': 'Home/*' } }, { 's3:prefix': 'home/a' })).toBe('none');
    expect(conditioned({ StringLike: { 's3:prefix': 'a${*}' } }, { 's3:prefix': 'a*' })).toBe('allow');
    expect(conditioned({ StringLike: { 's3:prefix': 'a${*}' } }, { 's3:prefix': 'ab' })).toBe('none');
    expect(conditioned({ StringNotLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'docs/' })).toBe('allow');
    expect(conditioned({ StringNotLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'home/a' })).toBe('none');
    const twoKeys = { StringEquals: { 's3:prefix': 'home/', 's3:delimiter': '/' } };
    expect(conditioned(twoKeys, { 's3:prefix': 'home/', 's3:delimiter': '/' })).toBe('allow');
    expect(conditioned(twoKeys, { 's3:prefix': 'home/', 's3:delimiter': '-' })).toBe('none');
    const twoOperators = { StringEquals: { 's3:prefix': 'home/' }, Bool: { 'aws:securetransport': 'true' } };
    expect(conditioned(twoOperators, { 's3:prefix': 'home/', 'aws:securetransport': 'true' })).toBe('allow');
    expect(conditioned(twoOperators, { 's3:prefix': 'home/', 'aws:securetransport': 'false' })).toBe('none');
    // Condition keys are case-insensitive in the policy; numbers and booleans become strings.
    expect(conditioned({ StringEquals: { 'S3:PREFIX': 'home/' } }, { 's3:prefix': 'home/' })).toBe('allow');
    expect(conditioned({ StringEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': '10' })).toBe('allow');
  });

  test('a key absent from the request: false for positive operators, true for negated ones (IAM)', () => {
    expect(conditioned({ StringEquals: { 's3:prefix': 'home/' } })).toBe('none');
    expect(conditioned({ StringLike: { 's3:prefix': '*' } })).toBe('none');
    expect(conditioned({ NumericLessThan: { 's3:max-keys': 10 } })).toBe('none');
    expect(conditioned({ IpAddress: { 'aws:sourceip': '0.0.0.0/0' } })).toBe('none');
    expect(conditioned({ Bool: { 'aws:securetransport': 'false' } })).toBe('none');
    expect(conditioned({ StringNotEquals: { 's3:prefix': 'home/' } })).toBe('allow');
    expect(conditioned({ StringNotEqualsIgnoreCase: { 's3:prefix': 'home/' } })).toBe('allow');
    expect(conditioned({ StringNotLike: { 's3:prefix': 'home/*' } })).toBe('allow');
    expect(conditioned({ NumericNotEquals: { 's3:max-keys': 10 } })).toBe('allow');
    expect(conditioned({ DateNotEquals: { 'aws:currenttime': '2026-01-01T00:00:00Z' } })).toBe('allow');
    expect(conditioned({ NotIpAddress: { 'aws:sourceip': '10.0.0.0/8' } })).toBe('allow');
    // An empty value list counts as absent.
    expect(conditioned({ StringEquals: { 's3:prefix': '' } }, { 's3:prefix': [] })).toBe('none');
  });

  test('IfExists holds when the key is absent, and checks it when present', () => {
    const ifExists = { StringEqualsIfExists: { 's3:x-amz-acl': 'private' } };
    expect(conditioned(ifExists)).toBe('allow');
    expect(conditioned(ifExists, { 's3:x-amz-acl': 'private' })).toBe('allow');
    expect(conditioned(ifExists, { 's3:x-amz-acl': 'public-read' })).toBe('none');
    expect(conditioned({ NumericLessThanEqualsIfExists: { 's3:max-keys': 100 } })).toBe('allow');
    expect(conditioned({ NumericLessThanEqualsIfExists: { 's3:max-keys': 100 } }, { 's3:max-keys': '101' })).toBe('none');
    expect(conditioned({ IpAddressIfExists: { 'aws:sourceip': '10.0.0.0/8' } })).toBe('allow');
    expect(conditioned({ BoolIfExists: { 'aws:securetransport': 'true' } })).toBe('allow');
    expect(conditioned({ StringNotLikeIfExists: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'home/a' })).toBe('none');
  });

  test('Null: "true" holds when the key is absent, "false" when it is present', () => {
    expect(conditioned({ Null: { 's3:x-amz-server-side-encryption': 'true' } })).toBe('allow');
    expect(conditioned({ Null: { 's3:x-amz-server-side-encryption': 'true' } }, { 's3:x-amz-server-side-encryption': 'AES256' })).toBe('none');
    expect(conditioned({ Null: { 's3:x-amz-server-side-encryption': false } }, { 's3:x-amz-server-side-encryption': 'AES256' })).toBe('allow');
    expect(conditioned({ Null: { 's3:x-amz-server-side-encryption': 'False' } })).toBe('none');
  });

  test('ForAnyValue and ForAllValues over multi-valued keys, and absent keys', () => {
    const anyOf = { 'ForAnyValue:StringEquals': { 's3:requestobjecttagkeys': ['project', 'owner'] } };
    expect(conditioned(anyOf, { 's3:requestobjecttagkeys': ['color', 'owner'] })).toBe('allow');
    expect(conditioned(anyOf, { 's3:requestobjecttagkeys': ['color'] })).toBe('none');
    expect(conditioned(anyOf)).toBe('none');
    const allOf = { 'ForAllValues:StringEquals': { 's3:requestobjecttagkeys': ['project', 'owner'] } };
    expect(conditioned(allOf, { 's3:requestobjecttagkeys': ['project', 'owner'] })).toBe('allow');
    expect(conditioned(allOf, { 's3:requestobjecttagkeys': ['project', 'color'] })).toBe('none');
    expect(conditioned(allOf)).toBe('allow');
    // Negated under a qualifier: each request value matches none of the policy values (IAM's
    // ForAllValues:StringNotLike example: key1:legal no match, key2:audit match, absent match).
    const allNotLike = { 'ForAllValues:StringNotLike': { 'aws:tagkeys': 'key1*' } };
    expect(conditioned(allNotLike, { 'aws:tagkeys': ['key1:legal'] })).toBe('none');
    expect(conditioned(allNotLike, { 'aws:tagkeys': ['key1:hr', 'key1:personnel'] })).toBe('none');
    expect(conditioned(allNotLike, { 'aws:tagkeys': ['key2:audit'] })).toBe('allow');
    expect(conditioned(allNotLike)).toBe('allow');
    const anyNotEquals = { 'ForAnyValue:StringNotEquals': { 'aws:tagkeys': 'a' } };
    expect(conditioned(anyNotEquals, { 'aws:tagkeys': ['a', 'b'] })).toBe('allow');
    expect(conditioned(anyNotEquals, { 'aws:tagkeys': ['a'] })).toBe('none');
    expect(conditioned(anyNotEquals)).toBe('none');
    expect(conditioned({ 'ForAnyValue:StringLikeIfExists': { 'aws:tagkeys': 'x*' } })).toBe('allow');
    expect(conditioned({ 'ForAnyValue:NumericGreaterThan': { 's3:values': 5 } }, { 's3:values': ['1', '9'] })).toBe('allow');
    expect(conditioned({ 'ForAllValues:IpAddress': { 'aws:sourceip': '10.0.0.0/8' } }, { 'aws:sourceip': ['10.1.2.3', '11.0.0.1'] })).toBe('none');
  });

  test('without a qualifier, any request value matching any policy value is enough', () => {
    expect(conditioned({ StringEquals: { 'aws:tagkeys': 'b' } }, { 'aws:tagkeys': ['a', 'b'] })).toBe('allow');
    expect(conditioned({ StringNotEquals: { 'aws:tagkeys': 'b' } }, { 'aws:tagkeys': ['a', 'b'] })).toBe('none');
  });

  test('IpAddress and NotIpAddress: IPv4 and IPv6 CIDR blocks, single addresses, IPv4-mapped IPv6', () => {
    const v4 = { IpAddress: { 'aws:sourceip': ['192.0.2.0/24', '203.0.113.7'] } };
    expect(conditioned(v4, { 'aws:sourceip': '192.0.2.200' })).toBe('allow');
    expect(conditioned(v4, { 'aws:sourceip': '192.0.3.1' })).toBe('none');
    expect(conditioned(v4, { 'aws:sourceip': '203.0.113.7' })).toBe('allow');
    expect(conditioned(v4, { 'aws:sourceip': '203.0.113.8' })).toBe('none');
    expect(conditioned(v4, { 'aws:sourceip': '::ffff:192.0.2.9' })).toBe('allow');
    expect(conditioned(v4, { 'aws:sourceip': 'not-an-address' })).toBe('none');
    expect(conditioned({ IpAddress: { 'aws:sourceip': '10.1.2.3/8' } }, { 'aws:sourceip': '10.200.0.1' })).toBe('allow');
    expect(conditioned({ IpAddress: { 'aws:sourceip': '0.0.0.0/0' } }, { 'aws:sourceip': '8.8.8.8' })).toBe('allow');
    expect(conditioned({ IpAddress: { 'aws:sourceip': '0.0.0.0/0' } }, { 'aws:sourceip': '2001:db8::1' })).toBe('none');
    const v6 = { IpAddress: { 'aws:sourceip': '2001:DB8:1234:5678::/64' } };
    expect(conditioned(v6, { 'aws:sourceip': '2001:db8:1234:5678:abcd::1' })).toBe('allow');
    expect(conditioned(v6, { 'aws:sourceip': '2001:db8:1234:5679::1' })).toBe('none');
    expect(conditioned(v6, { 'aws:sourceip': '192.0.2.1' })).toBe('none');
    expect(conditioned({ IpAddress: { 'aws:sourceip': '::1' } }, { 'aws:sourceip': '0:0:0:0:0:0:0:1' })).toBe('allow');
    expect(conditioned({ IpAddress: { 'aws:sourceip': '::ffff:10.0.0.0/104' } }, { 'aws:sourceip': '10.9.9.9' })).toBe('allow');
    expect(conditioned({ IpAddress: { 'aws:sourceip': '2001:db8::/32' } }, { 'aws:sourceip': '2001:db8::192.0.2.1' })).toBe('allow');
    const notV4 = { NotIpAddress: { 'aws:sourceip': '10.0.0.0/8' } };
    expect(conditioned(notV4, { 'aws:sourceip': '10.0.0.1' })).toBe('none');
    expect(conditioned(notV4, { 'aws:sourceip': '192.0.2.1' })).toBe('allow');
  });

  test('dates compare as instants: ISO 8601 with zones, date only, epoch seconds', () => {
    const before = { DateLessThan: { 'aws:currenttime': '2026-06-01T00:00:00Z' } };
    expect(conditioned(before, { 'aws:currenttime': '2026-05-31T23:59:59Z' })).toBe('allow');
    expect(conditioned(before, { 'aws:currenttime': '2026-06-01T00:00:00Z' })).toBe('none');
    expect(conditioned(before, { 'aws:currenttime': '2026-06-01T01:00:00+02:00' })).toBe('allow');
    expect(conditioned(before, { 'aws:currenttime': String(Date.UTC(2026, 4, 1) / 1000) })).toBe('allow');
    expect(conditioned(before, { 'aws:currenttime': 'soon' })).toBe('none');
    expect(conditioned({ DateLessThanEquals: { 'aws:currenttime': '2026-06-01' } }, { 'aws:currenttime': '2026-06-01T00:00:00.000Z' })).toBe('allow');
    expect(conditioned({ DateGreaterThan: { 'aws:currenttime': 1_780_000_000 } }, { 'aws:currenttime': '2026-06-01T00:00:00Z' })).toBe('allow');
    expect(conditioned({ DateGreaterThanEquals: { 'aws:currenttime': '2026-06-01T00:00:00Z' } }, { 'aws:currenttime': '2026-05-31T23:00:00-01:00' })).toBe('allow');
    expect(conditioned({ DateEquals: { 'aws:epochtime': '2026-01-01T00:00:00Z' } }, { 'aws:epochtime': String(Date.UTC(2026, 0, 1) / 1000) })).toBe('allow');
    expect(conditioned({ DateNotEquals: { 'aws:currenttime': '2026-01-01T00:00:00Z' } }, { 'aws:currenttime': '2026-01-01T00:00:00.000Z' })).toBe('none');
  });

  test('numbers compare numerically (s3:max-keys)', () => {
    const atMost100 = { NumericLessThanEquals: { 's3:max-keys': '100' } };
    expect(conditioned(atMost100, { 's3:max-keys': '50' })).toBe('allow');
    expect(conditioned(atMost100, { 's3:max-keys': '100' })).toBe('allow');
    expect(conditioned(atMost100, { 's3:max-keys': '1000' })).toBe('none');
    expect(conditioned(atMost100, { 's3:max-keys': 'lots' })).toBe('none');
    expect(conditioned({ NumericLessThan: { 's3:max-keys': 100 } }, { 's3:max-keys': '100' })).toBe('none');
    expect(conditioned({ NumericGreaterThan: { 's3:max-keys': 9 } }, { 's3:max-keys': '10' })).toBe('allow');
    expect(conditioned({ NumericGreaterThanEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': '10' })).toBe('allow');
    expect(conditioned({ NumericEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10.0' })).toBe('allow');
    expect(conditioned({ NumericNotEquals: { 's3:max-keys': [10, 20] } }, { 's3:max-keys': '20' })).toBe('none');
    expect(conditioned({ NumericNotEquals: { 's3:max-keys': [10, 20] } }, { 's3:max-keys': '30' })).toBe('allow');
  });

  test('Bool compares "true"/"false" ignoring case; the usual deny-insecure-transport policy', () => {
    const denyInsecure = statement({ Sid: 'DenyInsecure', Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const policy = [statement({ Sid: 'Read' }), denyInsecure];
    expect(decide(policy, { context: { 'aws:securetransport': 'false' } })).toBe('deny');
    expect(decide(policy, { context: { 'aws:securetransport': 'FALSE' } })).toBe('deny');
    expect(decide(policy, { context: { 'aws:securetransport': 'true' } })).toBe('allow');
    expect(decide(policy)).toBe('allow');
  });
});

describe('evaluateBucketPolicy: policy variables in conditions, tag keys, contextKeys', () => {
  test('String* condition values resolve variables', () => {
    const ownPrefix = statement({ Action: 's3:ListBucket', Resource: 'arn:aws:s3:::photos', Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*', ''] } } });
    const list = (prefix: string, user = alice) => decide(ownPrefix, { principal: user, action: 's3:ListBucket', resource: 'arn:aws:s3:::photos', context: { 's3:prefix': prefix, 'aws:username': user } });
    expect(list(`home/${alice}/2026/`)).toBe('allow');
    expect(list(`home/${bob}/`)).toBe('none');
    expect(list('')).toBe('allow');
    const equals = statement({ Condition: { StringEquals: { 'aws:Referer': ['https://${aws:username}.example', 'https://static.example'] } } });
    expect(decide(equals, { context: { 'aws:referer': `https://${alice}.example`, 'aws:username': alice } })).toBe('allow');
    expect(decide(equals, { context: { 'aws:referer': 'https://static.example', 'aws:username': alice } })).toBe('allow');
    expect(decide(equals, { context: { 'aws:referer': `https://${bob}.example`, 'aws:username': alice } })).toBe('none');
    const ignoringCase = statement({ Condition: { StringEqualsIgnoreCase: { 'aws:Referer': 'HTTPS://${aws:username}' } } });
    expect(decide(ignoringCase, { context: { 'aws:referer': `https://${alice.toLowerCase()}`, 'aws:username': alice } })).toBe('allow');
    // StringNotEquals against a variable without a value: nothing equals it, so the condition holds.
    const notEquals = statement({ Condition: { StringNotEquals: { 'aws:Referer': '${aws:userid}' } } });
    expect(decide(notEquals, { context: { 'aws:referer': 'x' } })).toBe('allow');
    expect(decide(notEquals, { context: { 'aws:referer': alice, 'aws:userid': alice } })).toBe('none');
  });

  test('s3:ExistingObjectTag/<key> and s3:RequestObjectTag/<key>, s3:RequestObjectTagKeys (s3-tests cases)', () => {
    const tagged = statement({ Principal: { AWS: bob }, Condition: { StringEquals: { 's3:ExistingObjectTag/security': 'public' } } });
    const read = (context: RequestOptions['context']) => decide(tagged, { principal: bob, context });
    expect(read({ 's3:existingobjecttag/security': 'public' })).toBe('allow');
    expect(read({ 's3:existingobjecttag/security': 'private' })).toBe('none');
    expect(read({ 's3:existingobjecttag/security1': 'public' })).toBe('none');
    expect(read({})).toBe('none');
    const put = statement({
      Principal: { AWS: bob },
      Action: 's3:PutObject',
      Condition: { StringEquals: { 's3:RequestObjectTag/security': 'public' }, 'ForAllValues:StringLike': { 's3:RequestObjectTagKeys': ['security', 'team*'] } },
    });
    const write = (context: RequestOptions['context']) => decide(put, { principal: bob, action: 's3:PutObject', context });
    expect(write({ 's3:requestobjecttag/security': 'public', 's3:requestobjecttagkeys': ['security'] })).toBe('allow');
    expect(write({ 's3:requestobjecttag/security': 'public', 's3:requestobjecttagkeys': ['security', 'teamA'] })).toBe('allow');
    expect(write({ 's3:requestobjecttag/security': 'public', 's3:requestobjecttagkeys': ['security', 'owner'] })).toBe('none');
    expect(write({})).toBe('none');
  });

  test('contextKeys: the keys conditions test and the variables name, lower case', () => {
    const policy = policyOf([
      statement({ Resource: 'arn:aws:s3:::photos/${aws:username}/*', Condition: { StringEquals: { 's3:ExistingObjectTag/Security': 'public' } } }),
      statement({ Condition: { StringLike: { 's3:prefix': "${aws:userid}/${s3:delimiter, '/'}" }, NumericLessThan: { 's3:max-keys': 10 } } }),
    ]);
    expect([...policy.contextKeys].sort()).toEqual(['aws:userid', 'aws:username', 's3:delimiter', 's3:existingobjecttag/security', 's3:max-keys', 's3:prefix']);
  });
});

describe('isPolicyPublic and principalKeyIds', () => {
  test('public: an unconditional Allow to "*", {"AWS": "*"}, or a NotPrincipal', () => {
    expect(isPolicyPublic(policyOf(statement({ Principal: '*' })))).toBe(true);
    expect(isPolicyPublic(policyOf(statement({ Principal: { AWS: '*' } })))).toBe(true);
    expect(isPolicyPublic(policyOf(statement({ Principal: { AWS: [alice, '*'] } })))).toBe(true);
    expect(isPolicyPublic(policyOf(statement({ Principal: undefined, NotPrincipal: { AWS: bob } })))).toBe(true);
    expect(isPolicyPublic(policyOf([statement(), statement({ Principal: '*' })]))).toBe(true);
  });

  test('not public: named keys, conditions, Deny, NotPrincipal "*"', () => {
    expect(isPolicyPublic(policyOf(statement()))).toBe(false);
    expect(isPolicyPublic(policyOf(statement({ Principal: '*', Condition: { IpAddress: { 'aws:sourceip': '10.0.0.0/8' } } })))).toBe(false);
    expect(isPolicyPublic(policyOf(statement({ Effect: 'Deny', Principal: '*' })))).toBe(false);
    expect(isPolicyPublic(policyOf(statement({ Principal: undefined, NotPrincipal: '*' })))).toBe(false);
  });

  test('principalKeyIds: bare ids and ids from ARNs, from Principal and NotPrincipal, once each', () => {
    const policy = policyOf([
      statement({ Principal: { AWS: [alice, `arn:aws:iam::123456789012:user/${bob}`, '*'] } }),
      statement({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: `arn:aws:iam::AKIACAROL003:root`, CanonicalUser: 'AKIADAVE004' } }),
      statement({ Principal: { AWS: alice } }),
      statement({ Principal: '*' }),
    ]);
    expect(principalKeyIds(policy)).toEqual([alice, bob, 'AKIACAROL003', 'AKIADAVE004']);
  });
});

describe('bucketPolicyActions', () => {
  test('names the operations Tessera evaluates, in AWS casing, once each', () => {
    const required = [
      'GetObject', 'GetObjectVersion', 'PutObject', 'DeleteObject', 'DeleteObjectVersion', 'ListBucket', 'ListBucketVersions',
      'ListBucketMultipartUploads', 'ListMultipartUploadParts', 'AbortMultipartUpload', 'GetObjectTagging', 'GetObjectVersionTagging',
      'PutObjectTagging', 'PutObjectVersionTagging', 'DeleteObjectTagging', 'DeleteObjectVersionTagging', 'GetObjectAcl',
      'GetObjectVersionAcl', 'PutObjectAcl', 'PutObjectVersionAcl', 'GetObjectAttributes', 'GetObjectVersionAttributes',
      'GetObjectRetention', 'PutObjectRetention', 'GetObjectLegalHold', 'PutObjectLegalHold', 'BypassGovernanceRetention',
      'GetBucketLocation', 'GetBucketVersioning', 'PutBucketVersioning', 'GetBucketAcl', 'PutBucketAcl', 'GetBucketTagging',
      'PutBucketTagging', 'GetBucketCORS', 'PutBucketCORS', 'GetBucketObjectLockConfiguration', 'PutBucketObjectLockConfiguration',
      'GetLifecycleConfiguration', 'PutLifecycleConfiguration', 'GetEncryptionConfiguration', 'PutEncryptionConfiguration',
      'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy', 'GetBucketPolicyStatus', 'DeleteBucket', 'ListAllMyBuckets',
      'CreateBucket', 'GetBucketWebsite', 'GetBucketLogging', 'GetAccelerateConfiguration', 'GetBucketRequestPayment',
      'GetBucketNotification', 'GetBucketOwnershipControls', 'GetReplicationConfiguration', 'GetBucketPublicAccessBlock',
    ].map((name) => `s3:${name}`);
    expect(bucketPolicyActions).toEqual(expect.arrayContaining(required));
    expect(new Set(bucketPolicyActions.map((action) => action.toLowerCase())).size).toBe(bucketPolicyActions.length);
    expect(bucketPolicyActions.every((action) => /^s3:[A-Z][A-Za-z]+$/.test(action))).toBe(true);
    expect(bucketPolicyActions).not.toContain('s3:GetBucketCors');
    // Every listed name is accepted in a policy.
    expect(() => policyOf(statement({ Action: [...bucketPolicyActions] }))).not.toThrow();
  });
});

describe('wildcard matching agrees with a naive reference (property)', () => {
  /** `*` any run, `?` one character; plain recursion, exponential but obviously right. */
  function referenceMatches(pattern: string, value: string): boolean {
    if (pattern === '') return value === '';
    const head = pattern[0];
    if (head === '*') return referenceMatches(pattern.slice(1), value) || (value !== '' && referenceMatches(pattern, value.slice(1)));
    if (value === '') return false;
    return (head === '?' || head === value[0]) && referenceMatches(pattern.slice(1), value.slice(1));
  }

  const patternText = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '?'), maxLength: 8 });
  const valueText = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '?'), maxLength: 10 });

  test('StringLike and Resource patterns', () => {
    fc.assert(
      fc.property(patternText, valueText, (pattern, value) => {
        const expected = referenceMatches(pattern, value) ? 'allow' : 'none';
        expect(decide(statement({ Condition: { StringLike: { 's3:prefix': pattern } } }), { context: { 's3:prefix': value } })).toBe(expected);
        expect(decide(statement({ Resource: `arn:aws:s3:::photos/${pattern}` }), { key: value })).toBe(expected);
      }),
      { seed: 20261123, numRuns: 400 },
    );
  });
});
