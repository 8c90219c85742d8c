/**
 * Goal: the gateway survives hostile or broken clients and exposes its health and metrics.
 * Method: a real gateway on loopback; raw sockets that disconnect mid-upload or lie about
 * Content-Length, oversized header sections, malformed XML; after each, a normal request must
 * still succeed and the backend must hold nothing half-written. Also virtual-hosted-style
 * requests (Host: <bucket>.s3.localhost) and /health, /metrics.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { S3BackendError } from '../src/backend';
import { sendRaw, signRequest } from './support/sigv4-test-signer';
import type { RawResponse } from './support/sigv4-test-signer';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const creds = { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey, region: testRegion };
const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const bucket = 'abuse';

let gateway: TestGateway;

async function signedSend(method: string, path: string, body: Buffer = Buffer.alloc(0), headers: Record<string, string> = {}, query: [string, string][] = []): Promise<RawResponse> {
  const signed = signRequest(creds, { method, path, query, headers: { host: `127.0.0.1:${gateway.port}`, ...headers }, payloadHash: sha256Hex(body), date: new Date() });
  return sendRaw(gateway.port, method, signed.path, signed.headers, body);
}

function errorCode(response: RawResponse): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(response.body.toString('utf8'))?.[1];
}

/** Sends the request head and part of a body on a raw socket, then closes or destroys it. */
function partialUpload(head: string, bodyPart: Buffer, how: 'end' | 'destroy'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(gateway.port, '127.0.0.1', () => {
      socket.write(head);
      socket.write(bodyPart, () => {
        setTimeout(() => (how === 'destroy' ? socket.destroy() : socket.end()), 50);
      });
    });
    let received = '';
    socket.on('data', (data: Buffer) => {
      received += data.toString('utf8');
    });
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  gateway = await startTestGateway();
  expect((await signedSend('PUT', `/${bucket}`)).status).toBe(200);
});

afterAll(async () => {
  await gateway.stop();
});

async function stillServes(): Promise<void> {
  const body = Buffer.from('still alive');
  expect((await signedSend('PUT', `/${bucket}/alive`, body)).status).toBe(200);
  const got = await signedSend('GET', `/${bucket}/alive`);
  expect(sha256Hex(got.body)).toBe(sha256Hex(body));
}

function uploadHead(key: string, contentLength: number): string {
  const signed = signRequest(creds, {
    method: 'PUT',
    path: `/${bucket}/${key}`,
    headers: { host: `127.0.0.1:${gateway.port}`, 'content-length': String(contentLength) },
    payloadHash: 'UNSIGNED-PAYLOAD',
    date: new Date(),
  });
  const lines = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}`);
  return `PUT ${signed.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

describe('broken clients', () => {
  test('a client that disconnects mid-upload leaves no object, and the backend saw an aborted body', async () => {
    const abortedBefore = gateway.backend.abortedBodyCount;
    await partialUpload(uploadHead('disconnected', 1_000_000), Buffer.alloc(300_000, 1), 'destroy');
    await waitFor(() => gateway.backend.abortedBodyCount > abortedBefore);
    expect(gateway.backend.storedBytes(bucket, 'disconnected')).toBeUndefined();
    await stillServes();
  });

  test('a body shorter than Content-Length (half-closed socket) stores nothing', async () => {
    const abortedBefore = gateway.backend.abortedBodyCount;
    await partialUpload(uploadHead('truncated', 10_000), Buffer.alloc(5000, 2), 'end');
    await waitFor(() => gateway.backend.abortedBodyCount > abortedBefore);
    expect(gateway.backend.storedBytes(bucket, 'truncated')).toBeUndefined();
    await stillServes();
  });

  test('an oversized header section is answered 400 RequestHeaderSectionTooLarge', async () => {
    const response = await sendRaw(gateway.port, 'GET', '/', { host: 'x', 'x-huge': 'a'.repeat(20_000) }).catch(() => undefined);
    expect(response?.status).toBe(400);
    expect(response?.body.toString()).toContain('RequestHeaderSectionTooLarge');
    await stillServes();
  });

  test('garbage instead of HTTP gets a 400 and the server keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(gateway.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('close', () => resolve(data));
    });
    expect(reply).toContain('400');
    await stillServes();
  });

  /** Writes `data` in one piece on a new connection and returns every byte received until close. */
  function exchange(data: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(gateway.port, '127.0.0.1', () => socket.write(data));
      let received = '';
      socket.on('data', (part: Buffer) => (received += part.toString('latin1')));
      socket.on('close', () => resolve(received));
      socket.on('error', () => resolve(received));
    });
  }

  /** The status codes of the responses in a raw exchange, in order. */
  const statusLines = (received: string): number[] => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));

  test('a body longer than its Content-Length: the PUT gets its own answer first, then a 400 for the extra bytes', async () => {
    // s3-tests' contentlength_mismatch_below: 'bar' sent as Content-Length: 2. The server reads
    // 'ba' as the body and 'r' as the start of another request, which is not HTTP. Answering
    // that 400 at once cut off the PUT's 200 while the object was stored: the client was told
    // its write failed.
    const received = await exchange(`${uploadHead('longer-than-declared', 2)}bar`);
    expect(statusLines(received)).toEqual([200, 400]);
    expect(received.indexOf('ETag')).toBeLessThan(received.indexOf('<Code>BadRequest</Code>'));
    expect(gateway.backend.storedBytes(bucket, 'longer-than-declared')?.toString()).toBe('ba');
    await stillServes();
  });

  test('a malformed request pipelined after a GET: the GET is answered whole, then the 400', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    expect((await signedSend('PUT', `/${bucket}/pipelined`, body)).status).toBe(200);
    const signed = signRequest(creds, { method: 'GET', path: `/${bucket}/pipelined`, headers: { host: `127.0.0.1:${gateway.port}` }, payloadHash: sha256Hex(Buffer.alloc(0)), date: new Date() });
    const head = `GET ${signed.path} HTTP/1.1\r\n${Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n`;
    const received = await exchange(`${head}NOT HTTP AT ALL\r\n\r\n`);
    expect(statusLines(received)).toEqual([200, 400]);
    const getBody = received.slice(received.indexOf('\r\n\r\n') + 4, received.lastIndexOf('HTTP/1.1 400 '));
    expect(sha256Hex(Buffer.from(getBody, 'latin1'))).toBe(sha256Hex(body));
    await stillServes();
  });

  test('malformed XML bodies are MalformedXML', async () => {
    const complete = await signedSend('POST', `/${bucket}/k`, Buffer.from('<CompleteMultipartUpload><Part>'), {}, [['uploadId', 'x']]);
    expect([complete.status, errorCode(complete)]).toEqual([400, 'MalformedXML']);
    const del = await signedSend('POST', `/${bucket}`, Buffer.from('<Delete><Object><Key>a</Key></Object>'), {}, [['delete', '']]);
    expect([del.status, errorCode(del)]).toEqual([400, 'MalformedXML']);
    const notDelete = await signedSend('POST', `/${bucket}`, Buffer.from('<Other/>'), {}, [['delete', '']]);
    expect([notDelete.status, errorCode(notDelete)]).toEqual([400, 'MalformedXML']);
    const tooMany = `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`;
    const many = await signedSend('POST', `/${bucket}`, Buffer.from(tooMany), {}, [['delete', '']]);
    expect([many.status, errorCode(many)]).toEqual([400, 'MalformedXML']);
    const location = await signedSend('PUT', '/other-region', Buffer.from('<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>'));
    expect([location.status, errorCode(location)]).toEqual([400, 'IllegalLocationConstraintException']);
  });

  test('a PUT without Content-Length is MissingContentLength', async () => {
    const signed = signRequest(creds, { method: 'PUT', path: `/${bucket}/no-length`, headers: { host: `127.0.0.1:${gateway.port}`, 'transfer-encoding': 'chunked' }, payloadHash: 'UNSIGNED-PAYLOAD', date: new Date() });
    const response = await sendRaw(gateway.port, 'PUT', signed.path, signed.headers, Buffer.from('abc'));
    expect([response.status, errorCode(response)]).toEqual([411, 'MissingContentLength']);
  });

  test('a key over 1024 bytes is KeyTooLongError; invalid UTF-8 in the path is InvalidURI', async () => {
    const long = await signedSend('PUT', `/${bucket}/${'k'.repeat(1025)}`, Buffer.from('x'));
    expect([long.status, errorCode(long)]).toEqual([400, 'KeyTooLongError']);
    const invalid = await sendRaw(gateway.port, 'GET', `/${bucket}/bad%FF`, { host: 'x', authorization: 'AWS4-HMAC-SHA256 Credential=x/20200101/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=0', 'x-amz-date': '20200101T000000Z' });
    expect([invalid.status, errorCode(invalid)]).toEqual([400, 'InvalidURI']);
  });

  test('unimplemented features are NotImplemented, never silently ignored', async () => {
    const sse = await signedSend('PUT', `/${bucket}/sse`, Buffer.from('x'), { 'x-amz-server-side-encryption': 'aws:kms' });
    expect([sse.status, errorCode(sse)]).toEqual([501, 'NotImplemented']);
    const website = await signedSend('PUT', `/${bucket}`, Buffer.from('<WebsiteConfiguration/>'), {}, [['website', '']]);
    expect([website.status, errorCode(website)]).toEqual([501, 'NotImplemented']);
    const mfaDelete = await signedSend('PUT', `/${bucket}`, Buffer.from('<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>'), {}, [['versioning', '']]);
    expect([mfaDelete.status, errorCode(mfaDelete)]).toEqual([501, 'NotImplemented']);
    const policy = await signedSend('GET', `/${bucket}`, Buffer.alloc(0), {}, [['policy', '']]);
    expect([policy.status, errorCode(policy)]).toEqual([404, 'NoSuchBucketPolicy']);
  });
});

describe('storage failures', () => {
  test('quorum failures are 503 ServiceUnavailable, overload is 503 SlowDown, other failures 500 without detail', async () => {
    gateway.backend.nextFailure = new S3BackendError('QuorumUnavailable', 'only 3 of 6 shards written');
    const quorum = await signedSend('PUT', `/${bucket}/q`, Buffer.from('x'));
    expect([quorum.status, errorCode(quorum)]).toEqual([503, 'ServiceUnavailable']);
    expect(quorum.body.toString()).not.toContain('shards');
    gateway.backend.nextFailure = new S3BackendError('Overloaded');
    const slow = await signedSend('GET', `/${bucket}`, Buffer.alloc(0), {}, [['list-type', '2']]);
    expect([slow.status, errorCode(slow)]).toEqual([503, 'SlowDown']);
    gateway.backend.nextFailure = new TypeError('cannot read properties of undefined (reading shardIndex)');
    const internal = await signedSend('HEAD', `/${bucket}/alive`);
    expect(internal.status).toBe(500);
    await stillServes();
  });

  test('storage failing mid-GET cuts the connection instead of sending a short 200', async () => {
    const body = Buffer.alloc(1_000_000, 7);
    expect((await signedSend('PUT', `/${bucket}/mid-read`, body)).status).toBe(200);
    gateway.backend.readFailureAfterBytes = 200_000;
    try {
      const signed = signRequest(creds, { method: 'GET', path: `/${bucket}/mid-read`, headers: { host: `127.0.0.1:${gateway.port}` }, payloadHash: sha256Hex(Buffer.alloc(0)), date: new Date() });
      const outcome = await sendRaw(gateway.port, 'GET', signed.path, signed.headers).then(
        (response) => ({ complete: true, length: response.body.length }),
        () => ({ complete: false, length: -1 }),
      );
      expect(outcome.complete && outcome.length === body.length).toBe(false);
    } finally {
      gateway.backend.readFailureAfterBytes = undefined;
    }
    await stillServes();
  });
});

describe('storage failing before the first byte', () => {
  test('a GET whose first read fails gets a complete 503 S3 error, not a 200 and a cut connection', async () => {
    const body = Buffer.alloc(100_000, 3);
    expect((await signedSend('PUT', `/${bucket}/first-read`, body)).status).toBe(200);
    gateway.backend.readFailureAfterBytes = 0;
    gateway.backend.readFailure = new S3BackendError('QuorumUnavailable', 'only 5 of 9 shards reachable');
    try {
      const response = await signedSend('GET', `/${bucket}/first-read`);
      expect([response.status, errorCode(response)]).toEqual([503, 'ServiceUnavailable']);
      expect(response.body.toString()).not.toContain('shards reachable');
    } finally {
      gateway.backend.readFailureAfterBytes = undefined;
      gateway.backend.readFailure = undefined;
    }
    await stillServes();
  });
});

describe('virtual-hosted style', () => {
  test('Host: <bucket>.s3.localhost addresses the bucket', async () => {
    const host = `${bucket}.s3.localhost:${gateway.port}`;
    const body = Buffer.from('vhost body');
    const put = signRequest(creds, { method: 'PUT', path: '/vhost/key', headers: { host }, payloadHash: sha256Hex(body), date: new Date() });
    expect((await sendRaw(gateway.port, 'PUT', put.path, put.headers, body)).status).toBe(200);
    expect(gateway.backend.storedBytes(bucket, 'vhost/key')?.toString()).toBe('vhost body');
    const list = signRequest(creds, { method: 'GET', path: '/', query: [['list-type', '2'], ['prefix', 'vhost/']], headers: { host }, payloadHash: sha256Hex(Buffer.alloc(0)), date: new Date() });
    const listed = await sendRaw(gateway.port, 'GET', list.path, list.headers);
    expect(listed.body.toString()).toContain('<Key>vhost/key</Key>');
  });
});

describe('health and metrics', () => {
  test('/health/live and /health/ready need no auth; ready follows the backend', async () => {
    expect((await fetch(`${gateway.endpoint}/health/live`)).status).toBe(200);
    expect((await fetch(`${gateway.endpoint}/health/ready`)).status).toBe(200);
    gateway.backend.ready = false;
    expect((await fetch(`${gateway.endpoint}/health/ready`)).status).toBe(503);
    gateway.backend.ready = true;
  });

  test('signed requests to buckets named "health" and "metrics" reach S3, not the operational endpoints', async () => {
    for (const name of ['health', 'metrics']) expect((await signedSend('PUT', `/${name}`)).status).toBe(200);
    expect((await signedSend('PUT', '/health/live', Buffer.from('an object'))).status).toBe(200);
    const got = await signedSend('GET', '/health/live');
    expect([got.status, got.body.toString()]).toEqual([200, 'an object']);
    const listed = await signedSend('GET', '/metrics');
    expect(listed.body.toString()).toContain('<ListBucketResult');
    expect((await fetch(`${gateway.endpoint}/health/live`)).status).toBe(200);
  });

  test('/metrics exposes requests by operation and status, latency, bytes and data-path counters', async () => {
    await stillServes();
    const text = await (await fetch(`${gateway.endpoint}/metrics`)).text();
    expect(text).toMatch(/gateway_requests_total\{operation="PutObject",status="200"\} \d+/);
    expect(text).toMatch(/gateway_request_duration_seconds_bucket\{le="[^"]+",operation="GetObject"\} \d+/);
    expect(text).toMatch(/gateway_request_body_bytes_total\{operation="PutObject"\} [1-9]\d*/);
    expect(text).toMatch(/gateway_response_body_bytes_total\{operation="GetObject"\} [1-9]\d*/);
    expect(text).toContain('gateway_requests_in_flight');
    expect(text).toContain('gateway_degraded_reads_total');
    expect(text).toContain('gateway_reconstructions_total');
    expect(text).toContain('gateway_quorum_failures_total');
  });
});

describe('a client that goes away', () => {
  test('a GET the client stops reading is logged as a disconnect, not as an internal error', async () => {
    const entries: { level: string; message: string }[] = [];
    const recording = {
      debug: (message: string): void => void entries.push({ level: 'debug', message }),
      info: (message: string): void => void entries.push({ level: 'info', message }),
      warn: (message: string): void => void entries.push({ level: 'warn', message }),
      error: (message: string): void => void entries.push({ level: 'error', message }),
      child() {
        return recording;
      },
    };
    const own = await startTestGateway({ logger: recording });
    try {
      const send = (method: string, path: string, body: Buffer = Buffer.alloc(0)): Promise<RawResponse> => {
        const signed = signRequest(creds, { method, path, headers: { host: `127.0.0.1:${own.port}` }, payloadHash: sha256Hex(body), date: new Date() });
        return sendRaw(own.port, method, signed.path, signed.headers, body);
      };
      expect((await send('PUT', '/gone')).status).toBe(200);
      expect((await send('PUT', '/gone/big', Buffer.alloc(48 * 1024 * 1024, 3))).status).toBe(200);
      const signed = signRequest(creds, { method: 'GET', path: '/gone/big', headers: { host: `127.0.0.1:${own.port}` }, payloadHash: sha256Hex(Buffer.alloc(0)), date: new Date() });
      await new Promise<void>((resolve) => {
        const socket = connect(own.port, '127.0.0.1', () => {
          socket.write(`GET ${signed.path} HTTP/1.1\r\n${Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n`);
        });
        socket.once('data', () => socket.destroy());
        socket.on('close', () => resolve());
      });
      await waitFor(() => entries.some((entry) => entry.message === 'client disconnected before the answer was complete'));
      expect(entries.filter((entry) => entry.level === 'error')).toEqual([]);
    } finally {
      await own.stop();
    }
  });
});
