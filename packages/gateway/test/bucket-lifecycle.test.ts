/**
 * Goal: bucket lifecycle configuration behaves as S3 does for the clients that set it
 * (the SDK, `aws s3api put-bucket-lifecycle-configuration`, Terraform): rules kept and given
 * back as written (each filter form, every action, in order); NoSuchLifecycleConfiguration
 * before any and after DeleteBucketLifecycle; S3's refusals for bad documents (non-positive
 * days, a Date not at midnight, duplicate IDs, two filters, no action, tag filters with
 * AbortIncompleteMultipartUpload or ExpiredObjectDeleteMarker) and NotImplemented for
 * transitions, with nothing stored.
 * Method: a real gateway on loopback over the in-memory backend, driven by @aws-sdk/client-s3
 * for valid documents and by raw signed requests for malformed ones (the SDK would refuse to
 * serialise them).
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand, DeleteBucketLifecycleCommand, GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand, S3Client,
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
