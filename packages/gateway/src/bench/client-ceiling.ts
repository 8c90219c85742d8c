/**
 * The ceiling this machine puts on any S3 server measured with the AWS SDK v3 client: the same
 * client and cases as `cluster-throughput` (default checksums: aws-chunked + CRC32 trailer on
 * PUT, CRC32 validated on GET), against a null server in a child process that stores nothing
 * (PUT: read and drop the body, answer 200 with an ETag; GET: send one in-memory body with its
 * CRC32). Whatever a real server does (hashing, erasure coding, replication, fsync) comes on
 * top of these figures, on the same 2 cores.
 *
 *   npm run bench -- gateway                 (all gateway benches)
 *   node packages/gateway/dist/bench/client-ceiling.js [--quick]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cephReference } from './support/ceph-reference';

const quick = process.argv.includes('--quick');

/** Child role: the null server. Answers on a port it reports to the parent. */
function serveNull(): void {
  const bodies = new Map<number, { body: Buffer; crc32Base64: string }>();
  const server = createServer((req, res) => {
    const sizeBytes = Number(new URL(req.url ?? '/', 'http://x').pathname.split('/').pop()?.split('-')[0]);
    if (req.method === 'PUT') {
      req.on('data', () => undefined);
      req.on('end', () => res.writeHead(200, { etag: '"00000000000000000000000000000000"', 'content-length': '0' }).end());
      return;
    }
    let entry = bodies.get(sizeBytes);
    if (entry === undefined) {
      const body = randomBytes(sizeBytes);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body));
      entry = { body, crc32Base64: crc.toString('base64') };
      bodies.set(sizeBytes, entry);
    }
    res
      .writeHead(200, {
        'content-length': String(entry.body.byteLength),
        'content-type': 'application/octet-stream',
        etag: '"00000000000000000000000000000000"',
        'last-modified': new Date().toUTCString(),
        'x-amz-checksum-crc32': entry.crc32Base64,
        'x-amz-checksum-type': 'FULL_OBJECT',
      })
      .end(entry.body);
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

interface Measured {
  readonly perSecond: number;
  readonly mbPerSecond: number;
  readonly clientCpuMsPerOp: number;
}

async function measure(count: number, concurrency: number, sizeBytes: number, op: (i: number) => Promise<void>): Promise<Measured> {
  const own = process.cpuUsage();
  const startedMs = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await op(next++);
    }),
  );
  const seconds = (performance.now() - startedMs) / 1000;
  const ownUsed = process.cpuUsage(own);
  return {
    perSecond: count / seconds,
    mbPerSecond: (count * sizeBytes) / 1e6 / seconds,
    clientCpuMsPerOp: (ownUsed.user + ownUsed.system) / 1000 / count,
  };
}

async function main(): Promise<void> {
  const server = fork(__filename, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => server.once('message', (m: { port: number }) => resolve(m.port)));
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'CEILINGBENCHKEY00001', secretAccessKey: 'ceiling/secret/key/0123456789abcdef' },
  });
  console.log('AWS SDK v3 client against a null S3 server (stores nothing; same client, cases and checksums as the cluster bench), one 2-core machine:\n');
  console.log('| case | unit | Ceph PUT | null PUT | client CPU ms/PUT | Ceph GET | null GET | client CPU ms/GET | 2x Ceph GET needs client cores |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  try {
    for (const c of cephReference) {
      const body = randomBytes(c.sizeBytes);
      const budgetBytes = (quick ? 64 : 512) * 1024 * 1024;
      const count = Math.max(c.concurrency * 2, Math.min(quick ? 500 : 2000, Math.floor(budgetBytes / c.sizeBytes)));
      const key = (i: number): string => `${c.sizeBytes}-${i}`;
      const put = async (i: number): Promise<void> => {
        await client.send(new PutObjectCommand({ Bucket: 'ceiling', Key: key(i), Body: body }));
      };
      const get = async (i: number): Promise<void> => {
        const response = await client.send(new GetObjectCommand({ Bucket: 'ceiling', Key: key(i) }));
        const bytes = await response.Body!.transformToByteArray();
        if (bytes.length !== c.sizeBytes) throw new Error(`GET returned ${bytes.length} bytes, expected ${c.sizeBytes}`);
      };
      // Warm both processes up first, as the cluster bench does.
      await measure(Math.min(count, 100), c.concurrency, c.sizeBytes, async (i) => {
        await put(i);
        await get(i);
      });
      const putResult = await measure(count, c.concurrency, c.sizeBytes, put);
      const getResult = await measure(count, c.concurrency, c.sizeBytes, get);
      const figure = (m: Measured): number => (c.unit === 'MB/s' ? m.mbPerSecond : m.perSecond);
      // Client cores a server would have to leave to the client at twice Ceph's GET rate.
      const targetGetOpsPerSecond = c.unit === 'MB/s' ? (2 * c.get * 1e6) / c.sizeBytes : 2 * c.get;
      const clientCores = (targetGetOpsPerSecond * getResult.clientCpuMsPerOp) / 1000;
      console.log(
        `| ${c.label} x${c.concurrency} | ${c.unit} | ${c.put} | ${figure(putResult).toFixed(0)} | ${putResult.clientCpuMsPerOp.toFixed(2)} | ` +
          `${c.get} | ${figure(getResult).toFixed(0)} | ${getResult.clientCpuMsPerOp.toFixed(2)} | ${clientCores.toFixed(2)} of 2 |`,
      );
    }
  } finally {
    client.destroy();
    server.kill('SIGTERM');
  }
}

if (process.argv.includes('--serve')) {
  serveNull();
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
