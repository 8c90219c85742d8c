/**
 * ListBuckets: the buckets sorted by name, with the owner. Honours the paging S3 added in 2024
 * (`prefix`, `max-buckets` 1-10,000, `continuation-token`): without them every bucket is listed
 * in one page, as before; with `max-buckets` a truncated page carries a ContinuationToken, an
 * opaque base64url of the last bucket name returned. The root key sees every bucket; another
 * key sees those it owns or holds a grant in, or whose policy allows it s3:ListBucket
 * (bucket-access.ts).
 */
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { S3Error } from '../s3-errors';
import { listAllMyBucketsXml } from '../xml-responses';
import { mayListBucket } from '../bucket-access';
import { ownerOfKey } from '../xml-responses';

/** S3's bound on max-buckets. */
export const listBucketsPageSizeMax = 10_000;

function parseMaxBuckets(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const count = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(count >= 1 && count <= listBucketsPageSizeMax)) {
    throw new S3Error('InvalidArgument', { message: `max-buckets must be an integer between 1 and ${listBucketsPageSizeMax}.`, fields: { ArgumentName: 'max-buckets', ArgumentValue: value } });
  }
  return count;
}

function decodeToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (name === '' || Buffer.from(name, 'utf8').toString('base64url') !== token) {
    throw new S3Error('InvalidArgument', { message: 'The continuation token provided is incorrect', fields: { ArgumentName: 'continuation-token' } });
  }
  return name;
}

export async function handleListBuckets(ctx: HandlerContext): Promise<void> {
  const prefix = ctx.query.get('prefix') ?? '';
  const maxBuckets = parseMaxBuckets(ctx.query.get('max-buckets'));
  const token = ctx.query.get('continuation-token');
  const after = token === undefined || token === '' ? undefined : decodeToken(token);
  const buckets = await callBackend({}, () => ctx.backend.listBuckets());
  const selected = [...buckets]
    .filter((bucket) => bucket.name.startsWith(prefix) && (after === undefined || bucket.name > after) && mayListBucket(ctx, bucket))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = maxBuckets === undefined ? selected : selected.slice(0, maxBuckets);
  const last = page[page.length - 1];
  const continuationToken = page.length < selected.length && last !== undefined ? Buffer.from(last.name, 'utf8').toString('base64url') : undefined;
  sendXml(ctx, 200, listAllMyBucketsXml(ownerOfKey(ctx.auth.principal.accessKeyId), page, { region: ctx.options.region, continuationToken, prefix: prefix === '' ? undefined : prefix }));
}
