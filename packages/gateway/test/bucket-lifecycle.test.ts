/**
 * Goal: bucket lifecycle configuration behaves as S3 does for the clients that set it
 * (the SDK, `aws s3api put-bucket-lifecycle-configuration`, Terraform): rules kept and given
 * back as written (each filter form, every action, in order); NoSuchLifecycleConfiguration
 * before any and after DeleteBucketLifecycle; S3's refusals for bad documents (non-positive
 * days, a Date not at midnight, duplicate IDs, two filters, no action, tag filters with
 * AbortIncompleteMultipartUpload or ExpiredObjectDeleteMarker) and NotImplemented for
 * transitions, with nothing stored; a rule without an ID gets one; `x-amz-expiration` on the
 * responses of writes and reads of objects an Expiration rule takes.
 * Method: a real gateway on loopback over the in-memory backend, driven by @aws-sdk/client-s3
 * for valid documents and by raw signed requests for malformed ones (the SDK would refuse to
 * serialise them).
 */
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketLifecycleCommand, GetBucketLifecycleConfigurationCommand,
  GetObjectCommand, HeadObjectCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { s3ErrorOf } from './support/s3-error-of';
import { sendRaw, signRequest } from './support/sigv4-test-signer';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const creds = { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey, region: testRegion };
const bucket = 'rules';
let gateway: TestGateway;
let client: S3Client;

beforeAll(async () => {
  gateway = await startTestGateway();
  client = new S3Client({ endpoint: gateway.endpoint, region: testRegion, forcePathStyle: true, credentials: { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey } });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  client.destroy();
  await gateway.stop();
});

async function sdkError(promise: Promise<unknown>): Promise<{ status: number | undefined; code: string }> {
  const error = await s3ErrorOf(promise);
  return { status: error.$metadata.httpStatusCode, code: error.name };
}

/** PUT ?lifecycle with a hand-written document; answers status and error code. */
async function putDocument(rulesXml: string): Promise<{ status: number; code: string | undefined }> {
  const body = Buffer.from(`<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rulesXml}</LifecycleConfiguration>`);
  const headers = { host: `127.0.0.1:${gateway.port}`, 'content-length': String(body.length), 'content-md5': createHash('md5').update(body).digest('base64') };
  const signed = signRequest(creds, { method: 'PUT', path: `/${bucket}`, query: [['lifecycle', '']], headers, payloadHash: createHash('sha256').update(body).digest('hex'), date: new Date() });
  const response = await sendRaw(gateway.port, 'PUT', signed.path, signed.headers, body);
  return { status: response.status, code: /<Code>([^<]*)<\/Code>/.exec(response.body.toString('utf8'))?.[1] };
}

test('rules round-trip as written: every filter form and action, in order; delete removes them', async () => {
  expect(await sdkError(client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })))).toEqual({ status: 404, code: 'NoSuchLifecycleConfiguration' });
  const rules: LifecycleRule[] = [
    { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
    { ID: 'tagged', Status: 'Disabled', Filter: { Tag: { Key: 'tmp', Value: 'yes' } }, Expiration: { Date: new Date('2027-01-01T00:00:00.000Z') } },
    {
      ID: 'and', Status: 'Enabled',
      Filter: { And: { Prefix: 'data/', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }], ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 1000 } },
      NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 },
    },
    { ID: 'everything', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 }, Expiration: { ExpiredObjectDeleteMarker: true } },
    { ID: 'big', Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 5000 }, Expiration: { Days: 1 } },
    { ID: 'legacy', Status: 'Enabled', Prefix: 'old/', Expiration: { Days: 2 } },
  ];
  await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
  const got = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
  expect(got.Rules).toEqual(rules);
  await client.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
  expect(await sdkError(client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })))).toEqual({ status: 404, code: 'NoSuchLifecycleConfiguration' });
});

test('bad documents are refused as S3 refuses them, and nothing is stored', async () => {
  const filter = '<Filter><Prefix>p/</Prefix></Filter>';
  const cases: [string, number, string][] = [
    [`<Rule><ID>a</ID>${filter}<Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>`, 400, 'InvalidArgument'],
    [`<Rule><ID>a</ID>${filter}<Status>Enabled</Status><Expiration><Date>2027-01-01T12:00:00Z</Date></Expiration></Rule>`, 400, 'InvalidArgument'],
    [`<Rule><ID>a</ID>${filter}<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID>${filter}<Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>`, 400, 'InvalidArgument'],
    [`<Rule><ID>${'x'.repeat(256)}</ID>${filter}<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, 400, 'InvalidArgument'],
    [`<Rule><ID>a</ID>${filter}<Status>Enabled</Status></Rule>`, 400, 'InvalidArgument'],
    [`<Rule><ID>a</ID>${filter}<Status>On</Status><Expiration><Days>1</Days></Expiration></Rule>`, 400, 'MalformedXML'],
    [`<Rule><ID>a</ID><Prefix>x</Prefix>${filter}<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, 400, 'MalformedXML'],
    [`<Rule><ID>a</ID><Filter><Prefix>x</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, 400, 'MalformedXML'],
    [`<Rule><ID>a</ID>${filter}<Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`, 400, 'MalformedXML'],
    [`<Rule><ID>a</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`, 400, 'InvalidArgument'],
    [`<Rule><ID>a</ID>${filter}<Status>Enabled</Status><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>`, 501, 'NotImplemented'],
    ['', 400, 'MalformedXML'],
  ];
  for (const [rulesXml, status, code] of cases) expect({ rulesXml, ...(await putDocument(rulesXml)) }).toEqual({ rulesXml, status, code });
  expect(await sdkError(client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })))).toEqual({ status: 404, code: 'NoSuchLifecycleConfiguration' });
  expect(await putDocument(`<Rule><ID>ok</ID>${filter}<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`)).toEqual({ status: 200, code: undefined });
});

test('a rule without an ID gets a unique one, which GET shows; given IDs are kept', async () => {
  const rules: LifecycleRule[] = [
    { Status: 'Enabled', Filter: { Prefix: 'a/' }, Expiration: { Days: 31 } },
    { ID: 'named', Status: 'Enabled', Filter: { Prefix: 'b/' }, Expiration: { Days: 120 } },
    { ID: '', Status: 'Enabled', Filter: { Prefix: 'c/' }, Expiration: { Days: 5 } },
  ];
  await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
  const got = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  const ids = got.map((rule) => rule.ID);
  expect(ids[1]).toBe('named');
  for (const id of [ids[0], ids[2]]) expect(id).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  expect(new Set(ids).size).toBe(3);
  expect(got.map((rule) => rule.Filter?.Prefix)).toEqual(['a/', 'b/', 'c/']);
  await client.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
});

describe('x-amz-expiration', () => {
  const dayMs = 86_400_000;
  /** S3's due date: creation plus the days, rounded up to the next midnight UTC. */
  const dueAfterDays = (lastModified: Date | undefined, days: number): string => new Date(Math.ceil(((lastModified?.getTime() ?? 0) + days * dayMs) / dayMs) * dayMs).toUTCString();
  const expirationBucket = 'expiring';

  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: expirationBucket }));
    await client.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: expirationBucket,
      LifecycleConfiguration: {
        Rules: [
          { ID: 'rule 1', Status: 'Enabled', Filter: { Prefix: 'days1/' }, Expiration: { Days: 1 } },
          { ID: 'dated', Status: 'Enabled', Filter: { Tag: { Key: 'tmp', Value: 'yes' } }, Expiration: { Date: new Date('2030-01-01T00:00:00.000Z') } },
          { ID: 'off', Status: 'Disabled', Filter: {}, Expiration: { Days: 1 } },
          { ID: 'versions', Status: 'Enabled', Filter: { Prefix: 'nc/' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
        ],
      },
    }));
  });

  test('PUT, HEAD and GET of an object a rule expires name the date and the rule (URL-encoded)', async () => {
    const put = await client.send(new PutObjectCommand({ Bucket: expirationBucket, Key: 'days1/foo', Body: 'x' }));
    const head = await client.send(new HeadObjectCommand({ Bucket: expirationBucket, Key: 'days1/foo' }));
    const expected = `expiry-date="${dueAfterDays(head.LastModified, 1)}", rule-id="rule%201"`;
    expect(put.Expiration).toBe(expected);
    expect(head.Expiration).toBe(expected);
    const get = await client.send(new GetObjectCommand({ Bucket: expirationBucket, Key: 'days1/foo' }));
    expect(get.Expiration).toBe(expected);
    await get.Body?.transformToString();
  });

  test('the earliest of several matching rules; a tag filter; no header for objects no enabled Expiration takes', async () => {
    const tagged = await client.send(new PutObjectCommand({ Bucket: expirationBucket, Key: 'other/t', Body: 'x', Tagging: 'tmp=yes' }));
    expect(tagged.Expiration).toBe(`expiry-date="${new Date('2030-01-01T00:00:00.000Z').toUTCString()}", rule-id="dated"`);
    await client.send(new PutObjectCommand({ Bucket: expirationBucket, Key: 'days1/t', Body: 'x', Tagging: 'tmp=yes' }));
    const both = await client.send(new HeadObjectCommand({ Bucket: expirationBucket, Key: 'days1/t' }));
    expect(both.Expiration).toBe(`expiry-date="${dueAfterDays(both.LastModified, 1)}", rule-id="rule%201"`);
    for (const key of ['other/plain', 'nc/x']) {
      const put = await client.send(new PutObjectCommand({ Bucket: expirationBucket, Key: key, Body: 'x' }));
      expect(put.Expiration).toBeUndefined();
      expect((await client.send(new HeadObjectCommand({ Bucket: expirationBucket, Key: key }))).Expiration).toBeUndefined();
    }
  });

  test('CopyObject and CompleteMultipartUpload announce it for the object they made', async () => {
    const copy = await client.send(new CopyObjectCommand({ Bucket: expirationBucket, Key: 'days1/copy', CopySource: `${expirationBucket}/other/plain` }));
    const copied = await client.send(new HeadObjectCommand({ Bucket: expirationBucket, Key: 'days1/copy' }));
    expect(copy.Expiration).toBe(`expiry-date="${dueAfterDays(copied.LastModified, 1)}", rule-id="rule%201"`);
    const upload = await client.send(new CreateMultipartUploadCommand({ Bucket: expirationBucket, Key: 'days1/multi' }));
    const part = await client.send(new UploadPartCommand({ Bucket: expirationBucket, Key: 'days1/multi', UploadId: upload.UploadId, PartNumber: 1, Body: 'part' }));
    const complete = await client.send(new CompleteMultipartUploadCommand({
      Bucket: expirationBucket, Key: 'days1/multi', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }));
    const multi = await client.send(new HeadObjectCommand({ Bucket: expirationBucket, Key: 'days1/multi' }));
    expect(complete.Expiration).toBe(`expiry-date="${dueAfterDays(multi.LastModified, 1)}", rule-id="rule%201"`);
  });

  test('removing the configuration removes the header at once on this gateway', async () => {
    await client.send(new DeleteBucketLifecycleCommand({ Bucket: expirationBucket }));
    expect((await client.send(new HeadObjectCommand({ Bucket: expirationBucket, Key: 'days1/foo' }))).Expiration).toBeUndefined();
  });
});
