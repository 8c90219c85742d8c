/**
 * Benchmarks of the S3 protocol layer alone (no erasure coding, no storage): checksum and
 * aws-chunked decoding throughput, and PUT/GET through the real express app over loopback,
 * driven by @aws-sdk/client-s3 with its default checksums, against a bench-local backend that
 * verifies and discards bodies and serves GETs from one buffer. These are the gateway's own
 * overheads, the ceiling for the full data path. Prints markdown tables.
 * `npm run bench -- gateway --quick` shrinks sizes for a smoke run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { silentLogger, systemClock } from '@tessera/common';
import { createGatewayApp } from '../app';
import { AwsChunkedDecoder } from '../auth/aws-chunked-decoder';
import { StaticCredentialStore } from '../auth/credential-store';
import { chunkStringToSign, deriveSigningKey, signHex } from '../auth/sigv4';
import type { BucketInfo, DeleteObjectResult, ObjectInfo, ObjectReader, PutObjectRequest, S3Backend } from '../backend';
import { S3BackendError } from '../backend';
import { checksumAlgorithms, createChecksum } from '../checksums';
import { defaultGatewayLimits } from '../limits';
import { createGatewayMetrics } from '../metrics';
import { keepAliveTimeoutMsDefault, startGatewayServer } from '../server';

const quick = process.argv.includes('--quick');
const mib = 1024 * 1024;

function mbPerSecond(bytes: number, ms: number): string {
  return ((bytes / 1e6) / (ms / 1000)).toFixed(0);
}

function benchChecksums(): void {
  const data = randomBytes(quick ? 8 * mib : 64 * mib);
  console.log('| Algorithm | MB/s |\n|---|---|');
  for (const algorithm of [...checksumAlgorithms, 'MD5 (ETag)'] as const) {
    const start = performance.now();
    if (algorithm === 'MD5 (ETag)') {
      const md5 = createHash('md5');
      for (let offset = 0; offset < data.length; offset += mib) md5.update(data.subarray(offset, offset + mib));
      md5.digest();
    } else {
      const checksum = createChecksum(algorithm);
      for (let offset = 0; offset < data.length; offset += mib) checksum.update(data.subarray(offset, offset + mib));
      checksum.digestBase64();
    }
    console.log(`| ${algorithm} | ${mbPerSecond(data.length, performance.now() - start)} |`);
  }
}

async function benchChunkedDecoding(): Promise<void> {
  const payload = randomBytes(quick ? 8 * mib : 64 * mib);
  const chunkSizeBytes = 64 * 1024;
  const scope = { date: '20250101', region: 'us-east-1', service: 's3' };
  const signingKey = deriveSigningKey('secret', scope);
  const amzDate = '20250101T000000Z';
  const encode = (signed: boolean): Buffer[] => {
    const parts: Buffer[] = [];
    let previous = 'seed'.padEnd(64, '0');
    for (let offset = 0; offset <= payload.length; offset += chunkSizeBytes) {
      const chunk = payload.subarray(offset, offset + chunkSizeBytes);
      let extension = '';
      if (signed) {
        previous = signHex(signingKey, chunkStringToSign(amzDate, scope, previous, createHash('sha256').update(chunk).digest('hex')));
        extension = `;chunk-signature=${previous}`;
      }
      parts.push(Buffer.from(`${chunk.length.toString(16)}${extension}\r\n`), chunk, Buffer.from(chunk.length > 0 ? '\r\n' : ''));
    }
    parts.push(Buffer.from('\r\n'));
    return parts;
  };
  console.log('\n| aws-chunked form | MB/s |\n|---|---|');
  for (const signed of [true, false]) {
    const encoded = encode(signed);
    const decoder = new AwsChunkedDecoder({
      signing: signed ? { signingKey, scope, amzDate, seedSignature: 'seed'.padEnd(64, '0') } : undefined,
      trailer: false,
      declaredTrailers: [],
      chunkSizeBytesMax: 16 * mib,
    });
    const start = performance.now();
    let total = 0;
    for await (const part of Readable.from(encoded).pipe(decoder)) total += (part as Buffer).length;
    if (total !== payload.length) throw new Error('decoded length mismatch');
    console.log(`| ${signed ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD (64 KiB chunks)' : 'unsigned chunks'} | ${mbPerSecond(payload.length, performance.now() - start)} |`);
  }
}

/** Verifies and discards PUT bodies; serves every GET from one shared buffer of the last PUT size. */
class DiscardingBackend implements S3Backend {
  private readonly sizes = new Map<string, number>();
  private readonly source = randomBytes(64 * mib);
  async isReady(): Promise<boolean> {
    return true;
  }
  async listBuckets(): Promise<readonly BucketInfo[]> {
    return [{ name: 'bench', createdAtMs: 0, tags: [], corsRules: [], versioning: 'Unversioned', lifecycleRules: [], objectLock: undefined, owner: 'bench', grants: [], defaultEncryption: undefined, policy: undefined, publicAccessBlock: undefined, objectOwnership: undefined }];
  }
  async createBucket(): Promise<void> {}
  async deleteBucket(): Promise<void> {}
  async headBucket(name: string): Promise<BucketInfo> {
    return { name, createdAtMs: 0, tags: [], corsRules: [], versioning: 'Unversioned', lifecycleRules: [], objectLock: undefined, owner: 'bench', grants: [], defaultEncryption: undefined, policy: undefined, publicAccessBlock: undefined, objectOwnership: undefined };
  }
  setBucketGrants(): never {
    throw new Error('not used by the benchmark');
  }
  setBucketTags(): never {
    throw new Error('not used by the benchmark');
  }
  setBucketCors(): never {
    throw new Error('not used by the benchmark');
  }
  setBucketEncryption(): never {
    throw new Error('not used by the benchmark');
  }
  setBucketPolicy(): never {
    throw new Error('not used by the benchmark');
  }
  setBucketOwnershipControls(): never {
    throw new Error('not used by the benchmark');
  }
  setBucketPublicAccessBlock(): never {
    throw new Error('not used by the benchmark');
  }
  async putObject(request: PutObjectRequest): Promise<ObjectInfo> {
    for await (const part of request.body) void part;
    const summary = request.body.summary();
    this.sizes.set(request.key, summary.sizeBytes);
    return this.info(request.key, summary.sizeBytes);
  }
  private info(key: string, sizeBytes: number): ObjectInfo {
    return { key, etag: 'e'.repeat(32), sizeBytes, lastModifiedMs: 0, headers: { system: {}, user: {}, tags: [] }, checksums: {}, partSizesBytes: undefined, versionId: undefined };
  }
  async headObject(_bucket: string, key: string): Promise<ObjectInfo> {
    const size = this.sizes.get(key);
    if (size === undefined) throw new S3BackendError('NoSuchKey');
    return this.info(key, size);
  }
  async openObject(bucket: string, key: string): Promise<ObjectReader> {
    const info = await this.headObject(bucket, key);
    const source = this.source;
    return {
      info,
      async *read(startByte: number, endByteInclusive: number): AsyncIterable<Uint8Array> {
        for (let offset = startByte; offset <= endByteInclusive; offset += mib) yield source.subarray(offset, Math.min(offset + mib, endByteInclusive + 1));
      },
    };
  }
  async deleteObject(): Promise<DeleteObjectResult> {
    return { versionId: undefined, deleteMarker: false };
  }
  setBucketObjectLock(): never {
    throw new Error('not used by the benchmark');
  }
  setObjectLock(): never {
    throw new Error('not used by the benchmark');
  }
  setBucketLifecycle(): never {
    throw new Error('not used by the benchmark');
  }
  setBucketVersioning(): never {
    throw new Error('not used by the benchmark');
  }
  listObjectVersions(): never {
    throw new Error('not used by the benchmark');
  }
  setObjectTags(): never {
    throw new Error('not used by the benchmark');
  }
  setObjectAcl(): never {
    throw new Error('not used by the benchmark');
  }
  listObjects(): never {
    throw new Error('not used by the benchmark');
  }
  createMultipartUpload(): never {
    throw new Error('not used by the benchmark');
  }
  uploadPart(): never {
    throw new Error('not used by the benchmark');
  }
  listParts(): never {
    throw new Error('not used by the benchmark');
  }
  completeMultipartUpload(): never {
    throw new Error('not used by the benchmark');
  }
  abortMultipartUpload(): never {
    throw new Error('not used by the benchmark');
  }
  listMultipartUploads(): never {
    throw new Error('not used by the benchmark');
  }
}

function percentile(sortedMs: readonly number[], fraction: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor(sortedMs.length * fraction))] ?? 0;
}

async function benchThroughGateway(): Promise<void> {
  const credentials = { accessKeyId: 'BENCHKEY', secretAccessKey: 'bench-secret' };
  const app = createGatewayApp(
    { region: 'us-east-1', virtualHostBaseDomains: [], limits: defaultGatewayLimits },
    { backend: new DiscardingBackend(), credentials: new StaticCredentialStore([credentials]), clock: systemClock, logger: silentLogger, metrics: createGatewayMetrics(new Registry()) },
  );
  const server = await startGatewayServer(app, { host: '127.0.0.1', port: 0, headerSectionBytesMax: 16 * 1024, requestTimeoutMs: 300_000, keepAliveTimeoutMs: keepAliveTimeoutMsDefault }, silentLogger);
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
  // The streaming PUT runs first, before large GET bodies inflate the heap, so its RSS is meaningful.
  const bigBytes = quick ? 256 * mib : 1024 * mib;
  const block = randomBytes(mib);
  (globalThis as { gc?: () => void }).gc?.();
  const baselineRssBytes = process.memoryUsage().rss;
  let peakRssBytes = baselineRssBytes;
  const sampler = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
  }, 50);
  const stream = Readable.from((function* () {
    for (let sent = 0; sent < bigBytes; sent += mib) yield block;
  })());
  const start = performance.now();
  await client.send(new PutObjectCommand({ Bucket: 'bench', Key: 'big', Body: stream, ContentLength: bigBytes }));
  const ms = performance.now() - start;
  clearInterval(sampler);
  console.log(
    `| Streaming PUT | MB/s | RSS before | Peak RSS during (client and gateway in one process) |\n|---|---|---|---|\n` +
      `| ${bigBytes / mib} MiB | ${mbPerSecond(bigBytes, ms)} | ${(baselineRssBytes / mib).toFixed(0)} MiB | ${(peakRssBytes / mib).toFixed(0)} MiB |\n`,
  );
  console.log('\n| Object | Concurrency | PUT MB/s | PUT ops/s | PUT p50 / p99 ms | GET MB/s | GET ops/s | GET p50 / p99 ms |\n|---|---|---|---|---|---|---|---|');
  const sizes: [string, number, number][] = quick ? [['4 KiB', 4096, 200], ['1 MiB', mib, 20]] : [['4 KiB', 4096, 2000], ['1 MiB', mib, 200], ['64 MiB', 64 * mib, 8]];
  for (const [label, sizeBytes, count] of sizes) {
    const body = randomBytes(sizeBytes);
    for (const concurrency of [1, 8]) {
      const run = async (op: (index: number) => Promise<void>): Promise<{ ms: number; latencies: number[] }> => {
        const latencies: number[] = [];
        let next = 0;
        const start = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < count) {
              const index = next++;
              const t0 = performance.now();
              await op(index);
              latencies.push(performance.now() - t0);
            }
          }),
        );
        return { ms: performance.now() - start, latencies: latencies.sort((a, b) => a - b) };
      };
      const put = await run(async (index) => {
        await client.send(new PutObjectCommand({ Bucket: 'bench', Key: `${label}/${index % 16}`, Body: body }));
      });
      const get = await run(async (index) => {
        const response = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: `${label}/${index % 16}` }));
        await response.Body?.transformToByteArray();
      });
      const totalBytes = sizeBytes * count;
      console.log(
        `| ${label} | ${concurrency} | ${mbPerSecond(totalBytes, put.ms)} | ${((count / put.ms) * 1000).toFixed(0)} | ${percentile(put.latencies, 0.5).toFixed(1)} / ${percentile(put.latencies, 0.99).toFixed(1)} | ` +
          `${mbPerSecond(totalBytes, get.ms)} | ${((count / get.ms) * 1000).toFixed(0)} | ${percentile(get.latencies, 0.5).toFixed(1)} / ${percentile(get.latencies, 0.99).toFixed(1)} |`,
      );
    }
  }
  client.destroy();
  await server.stop();
}

async function main(): Promise<void> {
  benchChecksums();
  await benchChunkedDecoding();
  await benchThroughGateway();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
