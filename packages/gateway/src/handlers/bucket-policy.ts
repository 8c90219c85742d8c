/**
 * Bucket policies: GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus;
 * and the public access block that limits them: Get/Put/DeletePublicAccessBlock.
 * The document is validated here (bucket-policy.ts) and stored verbatim in the bucket's record;
 * requests are decided against it by bucket-access.ts. Only the bucket's owner (or root) changes
 * either (access-policy.ts).
 */
import { S3Error } from '../s3-errors';
import { bucketPolicyMaxBytes, isPolicyPublic, parseBucketPolicy, principalKeyIds } from '../bucket-policy';
import type { BucketInfo } from '../backend';
import { policyOf } from '../bucket-access';
import { callBackend, changeBucketSettings, readSmallBody, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { xmlDocument, xmlText } from '../xml';
import { parsePublicAccessBlockConfiguration, publicAccessBlockBodyBytesMax } from '../xml-requests';
import { publicAccessBlockXml } from '../xml-responses';

/** A body this much larger than a policy may be is refused unread (EntityTooLarge); up to it, MalformedPolicy says why. */
const policyBodyBytesMax = 4 * bucketPolicyMaxBytes;

/** The bucket's settings, when it has a policy (NoSuchBucket, NoSuchBucketPolicy otherwise). */
async function bucketWithPolicy(ctx: HandlerContext, bucket: string): Promise<BucketInfo & { readonly policy: string }> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  const { policy } = info;
  if (policy === undefined) throw new S3Error('NoSuchBucketPolicy', { fields: { BucketName: bucket } });
  return { ...info, policy };
}

export async function handleGetBucketPolicy(ctx: HandlerContext, bucket: string): Promise<void> {
  const body = Buffer.from((await bucketWithPolicy(ctx, bucket)).policy, 'utf8');
  ctx.res.status(200);
  ctx.res.setHeader('Content-Type', 'application/json');
  ctx.res.setHeader('Content-Length', body.length);
  ctx.res.end(body);
}

export async function handlePutBucketPolicy(ctx: HandlerContext, bucket: string): Promise<void> {
  const text = (await readSmallBody(ctx, policyBodyBytesMax)).toString('utf8');
  const { publicAccessBlock } = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  const policy = parseBucketPolicy(text, bucket);
  if (publicAccessBlock?.blockPublicPolicy === true && isPolicyPublic(policy)) {
    throw new S3Error('AccessDenied', { message: `Access Denied: the public access block of bucket ${bucket} blocks public policies (BlockPublicPolicy).` });
  }
  // As S3 does for principals that do not exist: a policy naming an unknown key is refused, not
  // stored to match nobody (or, once such a key is created, someone unintended).
  for (const accessKeyId of principalKeyIds(policy)) {
    if ((await ctx.credentials.lookup(accessKeyId)) === undefined) {
      throw new S3Error('MalformedPolicy', { message: `Invalid principal in policy: no access key ${accessKeyId}` });
    }
  }
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketPolicy(bucket, text), 204);
}

export async function handleDeleteBucketPolicy(ctx: HandlerContext, bucket: string): Promise<void> {
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketPolicy(bucket, undefined), 204);
}

/** IsPublic: whether the policy allows every key in without a condition (S3's notion of public). */
export async function handleGetBucketPolicyStatus(ctx: HandlerContext, bucket: string): Promise<void> {
  const policy = policyOf(await bucketWithPolicy(ctx, bucket), ctx.logger);
  const isPublic = policy !== undefined && isPolicyPublic(policy);
  sendXml(ctx, 200, xmlDocument('PolicyStatus', xmlText('IsPublic', isPublic ? 'true' : 'false')));
}

export async function handleGetPublicAccessBlock(ctx: HandlerContext, bucket: string): Promise<void> {
  const { publicAccessBlock } = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (publicAccessBlock === undefined) throw new S3Error('NoSuchPublicAccessBlockConfiguration', { fields: { BucketName: bucket } });
  sendXml(ctx, 200, publicAccessBlockXml(publicAccessBlock));
}

export async function handlePutPublicAccessBlock(ctx: HandlerContext, bucket: string): Promise<void> {
  const configuration = parsePublicAccessBlockConfiguration(await readSmallBody(ctx, publicAccessBlockBodyBytesMax));
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketPublicAccessBlock(bucket, configuration), 200);
}

export async function handleDeletePublicAccessBlock(ctx: HandlerContext, bucket: string): Promise<void> {
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketPublicAccessBlock(bucket, undefined), 204);
}
