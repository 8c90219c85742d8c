/**
 * Goal: the gateway's memory budgets hold against a real cluster without losing or mixing up
 * a byte: GETs share the read buffer budget (here one window for the whole gateway) and all
 * finish intact; a striped write waits for the write buffer budget and is refused with 503
 * SlowDown, storing nothing, when it cannot get it in time, then succeeds once the budget is
 * free. Method: the in-process cluster (3 metadata, 9 storage nodes, a gateway) with tiny
 * budgets, the AWS SDK, bodies compared by SHA-256, the budgets' gauges read from /metrics.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { dataPathOptions, writeBufferBytesOf } from '../../src/cluster/data-path-options';
import { startTestCluster, waitFor } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';
import { s3ErrorOf, s3StatusAndName } from '../support/s3-error-of';

jest.setTimeout(120_000);

const bucket = 'buffers';
const mebibyte = 1024 * 1024;
const readWindowBytes = 4 * mebibyte;
const writeBufferWaitMsMax = 500;
/** Exactly one large write at a time. */
const writeBufferBytesMax = writeBufferBytesOf(dataPathOptions(), Number.POSITIVE_INFINITY);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let cluster: TestCluster;

function gauge(name: string): Promise<number> {
  return cluster.gateway.metrics.registry.getSingleMetricAsString(name).then((text) => {
    const line = text.split('\n').find((l) => l.startsWith(name) && !l.startsWith('#'));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  });
}

beforeAll(async () => {
  cluster = await startTestCluster({ dataPath: { readWindowBytes, readBufferBytesMax: readWindowBytes, writeBufferBytesMax, writeBufferWaitMsMax } });
  await cluster.s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  await cluster?.stop();
});

test('eight concurrent 16 MiB GETs through a read budget of one window all arrive intact, and the budget is returned', async () => {
  const bodies = new Map<string, Buffer>();
  for (let i = 0; i < 8; i++) {
    const body = randomBytes(16 * mebibyte + i * 1000);
    await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `read/${i}`, Body: body }));
    bodies.set(`read/${i}`, body);
  }
  const read = await Promise.all([...bodies.keys()].map(async (key) => {
    const response = await cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return [key, sha256(await response.Body!.transformToByteArray())] as const;
  }));
  expect(read).toEqual([...bodies].map(([key, body]) => [key, sha256(body)]));
  expect(await gauge('gateway_read_buffer_bytes')).toBe(0);
});

test('a write that cannot get write buffers in time is refused with 503 SlowDown and stores nothing; it succeeds once they are free', async () => {
  // The first PUT streams slowly (1 MiB every 250 ms), holding the whole write budget.
  const slowBody = randomBytes(8 * mebibyte);
  async function* slowly(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < slowBody.length; offset += mebibyte) {
      yield slowBody.subarray(offset, offset + mebibyte);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const slowPut = cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'write/slow', Body: Readable.from(slowly()), ContentLength: slowBody.length }));
  expect(await waitFor('the slow PUT to hold the write budget', async () => ((await gauge('gateway_write_buffer_bytes')) === writeBufferBytesMax ? true : undefined), 10_000)).toBe(true);
  const waiting = randomBytes(300 * 1024);
  const settled: string[] = [];
  const refusal = s3ErrorOf(cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'write/waiting', Body: waiting }))).finally(() => settled.push('striped'));
  // Small bodies stored inline in the metadata need no write buffers: one is not queued behind
  // the striped write waiting for them (it used to wait until that one gave up).
  await new Promise((resolve) => setTimeout(resolve, 100));
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'write/inline', Body: randomBytes(1000) })).finally(() => settled.push('inline'));
  const refused = await refusal;
  expect(settled).toEqual(['inline', 'striped']);
  expect([refused.$metadata.httpStatusCode, refused.name]).toEqual([503, 'SlowDown']);
  expect(refused.message).toContain('reduce your request rate');
  expect((await s3StatusAndName(cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'write/waiting' }))))[0]).toBe(404);
  await slowPut;
  expect(await gauge('gateway_write_buffer_bytes')).toBe(0);
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'write/waiting', Body: waiting }));
  for (const [key, body] of [['write/slow', slowBody], ['write/waiting', waiting]] as const) {
    const response = await cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect([key, sha256(await response.Body!.transformToByteArray())]).toEqual([key, sha256(body)]);
  }
});
