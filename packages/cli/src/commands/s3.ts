/**
 * `tessera bucket ls|mb|rb` and `tessera cp|ls|rm`: quick S3 use through the gateway with the
 * official AWS SDK, path-style addressing. Uploads are single PutObject calls (up to 5 GiB, the
 * S3 limit of one PUT); use `aws s3 cp` for larger files (multipart).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { RootCredentials } from '@tessera/local-cluster';
import type { ParsedArgs } from '../args';
import { CliError, UsageError } from '../errors';
import { formatBytes, renderTable } from '../table';

export interface S3Target {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: RootCredentials;
}

export interface S3CommandResult {
  readonly json: unknown;
  readonly text: string;
  /** Raw bytes for stdout (`tessera cp s3://b/k -`), written instead of text. */
  readonly stdoutStream?: Readable;
}

const putObjectBytesMax = 5 * 1024 ** 3;

export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (match === null) return undefined;
  return { bucket: match[1] ?? '', key: match[2] ?? '' };
}

export async function runS3Command(args: ParsedArgs, target: S3Target): Promise<S3CommandResult> {
  const client = new S3Client({
    endpoint: target.endpoint, region: target.region, forcePathStyle: true, credentials: target.credentials, maxAttempts: 3,
  });
  try {
    return await dispatch(args, client);
  } catch (err) {
    throw toCliError(err, target.endpoint);
  } finally {
    client.destroy();
  }
}

async function dispatch(args: ParsedArgs, client: S3Client): Promise<S3CommandResult> {
  const [command, first, second] = args.positionals;
  if (command === 'bucket') {
    if (first === 'ls' || first === undefined) return listBuckets(client);
    const name = second;
    if (name === undefined || name === '') throw new UsageError(`usage: tessera bucket ${first} <bucket>`);
    if (first === 'mb') {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return { json: { created: name }, text: `make_bucket: ${name}` };
    }
    if (first === 'rb') {
      await client.send(new DeleteBucketCommand({ Bucket: name }));
      return { json: { removed: name }, text: `remove_bucket: ${name}` };
    }
    throw new UsageError(`unknown bucket command ${JSON.stringify(first)}: use ls, mb or rb`);
  }
  if (command === 'ls') return first === undefined ? listBuckets(client) : listObjects(client, first);
  if (command === 'rm') {
    const target = first === undefined ? undefined : parseS3Url(first);
    if (target === undefined || target.key === '') throw new UsageError('usage: tessera rm s3://<bucket>/<key>');
    await client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.key }));
    return { json: { deleted: first }, text: `delete: ${first}` };
  }
  if (command === 'cp') {
    if (first === undefined || second === undefined) throw new UsageError('usage: tessera cp <file> s3://<bucket>/<key> | tessera cp s3://<bucket>/<key> <file|->');
    return copy(client, first, second);
  }
  throw new UsageError(`unknown S3 command ${String(command)}`);
}

async function listBuckets(client: S3Client): Promise<S3CommandResult> {
  const response = await client.send(new ListBucketsCommand({}));
  const buckets = (response.Buckets ?? []).map((b) => ({ name: b.Name ?? '', createdAt: b.CreationDate?.toISOString() ?? null }));
  const text = buckets.length === 0 ? 'no buckets' : renderTable(['CREATED', 'BUCKET'], buckets.map((b) => [b.createdAt ?? '-', b.name]));
  return { json: { buckets }, text };
}

async function listObjects(client: S3Client, url: string): Promise<S3CommandResult> {
  const target = parseS3Url(url);
  if (target === undefined) throw new UsageError(`not an s3:// URL: ${url}`);
  const prefixes: string[] = [];
  const objects: Array<{ key: string; sizeBytes: number; lastModified: string | null; etag: string | null }> = [];
  let continuationToken: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: target.key, Delimiter: '/', ContinuationToken: continuationToken }));
    for (const p of page.CommonPrefixes ?? []) prefixes.push(p.Prefix ?? '');
    for (const o of page.Contents ?? []) objects.push({ key: o.Key ?? '', sizeBytes: o.Size ?? 0, lastModified: o.LastModified?.toISOString() ?? null, etag: o.ETag ?? null });
    continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (continuationToken !== undefined);
  const rows = [
    ...prefixes.map((p) => ['', 'PRE', p]),
    ...objects.map((o) => [o.lastModified ?? '-', formatBytes(o.sizeBytes), o.key]),
  ];
  return { json: { prefixes, objects }, text: rows.length === 0 ? 'no objects' : renderTable(['MODIFIED', 'SIZE', 'KEY'], rows) };
}

async function copy(client: S3Client, source: string, destination: string): Promise<S3CommandResult> {
  const from = parseS3Url(source);
  const to = parseS3Url(destination);
  if (from === undefined && to !== undefined) return upload(client, source, to);
  if (from !== undefined && to === undefined) return download(client, from, destination);
  throw new UsageError('cp copies between a local file and s3://<bucket>/<key> (one side each)');
}

async function upload(client: S3Client, file: string, to: { bucket: string; key: string }): Promise<S3CommandResult> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (!stat.isFile()) throw new CliError(`${file} is not a regular file`);
  if (stat.size > putObjectBytesMax) throw new CliError(`${file} is ${formatBytes(stat.size)}: larger than one PUT allows (5 GiB); use aws s3 cp (multipart)`);
  const key = to.key === '' || to.key.endsWith('/') ? `${to.key}${path.basename(file)}` : to.key;
  const response = await client.send(new PutObjectCommand({ Bucket: to.bucket, Key: key, Body: fs.createReadStream(file), ContentLength: stat.size }));
  const url = `s3://${to.bucket}/${key}`;
  return { json: { uploaded: url, sizeBytes: stat.size, etag: response.ETag ?? null }, text: `upload: ${file} to ${url} (${formatBytes(stat.size)})` };
}

async function download(client: S3Client, from: { bucket: string; key: string }, destination: string): Promise<S3CommandResult> {
  if (from.key === '') throw new UsageError('cp needs an object key: s3://<bucket>/<key>');
  const response = await client.send(new GetObjectCommand({ Bucket: from.bucket, Key: from.key }));
  const body = response.Body as Readable | undefined;
  if (body === undefined) throw new CliError('GetObject returned no body');
  const url = `s3://${from.bucket}/${from.key}`;
  if (destination === '-') return { json: { downloaded: url }, text: '', stdoutStream: body };
  const isDir = fs.existsSync(destination) && fs.statSync(destination).isDirectory();
  const file = isDir || destination.endsWith('/') ? path.join(destination, path.basename(from.key)) : destination;
  // Write beside the target and rename, so a failed download never leaves a truncated file.
  const temp = `${file}.tessera-${process.pid}.part`;
  try {
    await pipeline(body, fs.createWriteStream(temp));
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  const sizeBytes = fs.statSync(file).size;
  return { json: { downloaded: url, file, sizeBytes }, text: `download: ${url} to ${file} (${formatBytes(sizeBytes)})` };
}

function toCliError(err: unknown, endpoint: string): Error {
  if (err instanceof CliError) return err;
  if (err instanceof S3ServiceException) return new CliError(`${err.name}: ${err.message}`);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOTFOUND') return new CliError(`cannot reach the S3 endpoint ${endpoint} (${code}); is the gateway running? (--endpoint)`);
  return new CliError(err instanceof Error ? err.message : String(err));
}
