/**
 * PutBucketAcl / PutObjectAcl: accepted only when they set the ACL Tessera already has (the
 * owner's FULL_CONTROL, see access-control.ts), so there is nothing to store; anything else is
 * NotImplemented. The ACL comes either from headers (`x-amz-acl`, `x-amz-grant-*`) or from an
 * AccessControlPolicy body, never both (S3's rule).
 */
import { refuseUnsupportedAccessControlPolicy, refuseUnsupportedAclHeaders, hasAclHeaders } from '../access-control';
import { callBackend, readSmallBody, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { bucketOwner } from '../bucket-access';
import { S3Error } from '../s3-errors';
import { accessControlPolicyBodyBytesMax, parseAccessControlPolicy } from '../xml-requests';

/** `key` undefined: the bucket's ACL. */
export async function handlePutAcl(ctx: HandlerContext, bucket: string, key: string | undefined, versionId?: string): Promise<void> {
  const header = (name: string): string | undefined => ctx.header(name);
  refuseUnsupportedAclHeaders(header, ctx.headerNames);
  const body = await readSmallBody(ctx, accessControlPolicyBodyBytesMax);
  const fromHeaders = hasAclHeaders(ctx.headerNames);
  if (fromHeaders && body.length > 0) {
    throw new S3Error('InvalidRequest', { message: 'Specify an ACL either with headers or with an AccessControlPolicy body, not both.' });
  }
  if (!fromHeaders) {
    if (body.length === 0) throw new S3Error('MissingRequestBodyError', { message: 'An x-amz-acl header or an AccessControlPolicy body is required.' });
    refuseUnsupportedAccessControlPolicy(parseAccessControlPolicy(body), await bucketOwner(ctx, bucket));
  }
  if (key === undefined) await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  else await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key, versionId));
  sendEmpty(ctx, 200);
}
