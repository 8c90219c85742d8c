/**
 * The I/O side of access-policy.ts: reads a bucket's owner, grants and policy (through the
 * gateway's bucket cache) and the request's condition values to decide a request, and names the
 * bucket's owner in responses.
 */
import type { TLSSocket } from 'node:tls';
import type { Logger } from '@tessera/common';
import { aclHeadersOf, hasAclHeaders, mergeGrants, objectAclAllows, objectAclFromHeaders, objectAclOf, objectOwnerOf, objectOwnerOfWrite, refuseAclWhileDisabled } from './access-control';
import type { AclGrant } from './access-control';
import { bucketArn, decideAccess, mayList } from './access-policy';
import type { RequiredAccess } from './access-policy';
import { S3BackendError } from './backend';
import type { BucketGrant, BucketInfo, ObjectInfo } from './backend';
import { parseBucketPolicy } from './bucket-policy';
import type { BucketPolicy, ConditionContext } from './bucket-policy';
import type { HandlerContext } from './handler-context';
import { parseTaggingHeader } from './object-tags';
import type { Tag } from './object-tags';
import { S3Error } from './s3-errors';
import { ownerOfKey } from './xml-responses';
import type { ObjectOwnerOf, Owner } from './xml-responses';

/**
 * The bucket's settings, or undefined when it does not exist. A bucket remembered as missing is
 * read again: it may have been created since through another gateway, and a check must never
 * pass on a stale "no such bucket".
 */
async function currentInfoOf(ctx: HandlerContext, bucket: string): Promise<BucketInfo | undefined> {
  return ctx.bucketCache.infoOf(bucket, { rereadMissing: true });
}

/**
 * Parsed policies by the bucket settings they came with: the cache hands out the same object
 * until it reads the bucket again, so a policy is parsed once per read, not per request.
 */
const parsedPolicies = new WeakMap<BucketInfo, BucketPolicy>();

/** Stands in for a stored policy that no longer parses: refuses all but what its owner may always do. */
const denyEverything = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}';

/**
 * The bucket's policy, parsed. Every stored policy was validated when it was put; one that no
 * longer parses (a gateway of another version wrote it) is logged and read as denying
 * everything, so its requests are refused rather than let through.
 */
export function policyOf(info: BucketInfo, logger: Logger): BucketPolicy | undefined {
  if (info.policy === undefined) return undefined;
  let parsed = parsedPolicies.get(info);
  if (parsed === undefined) {
    try {
      parsed = parseBucketPolicy(info.policy, info.name);
    } catch (error) {
      logger.error('stored bucket policy does not parse; refusing every request it would decide', { bucket: info.name, error });
      parsed = parseBucketPolicy(denyEverything, info.name);
    }
    parsedPolicies.set(info, parsed);
  }
  return parsed;
}

/** Request headers a policy condition can name as `s3:<header>` (`s3:if-match`: conditional deletes, as S3 lets policies require them). */
const conditionHeaders = [
  'x-amz-acl', 'x-amz-server-side-encryption', 'x-amz-server-side-encryption-customer-algorithm', 'x-amz-copy-source',
  'x-amz-metadata-directive', 'x-amz-storage-class', 'x-amz-content-sha256', 'x-amz-grant-read', 'x-amz-grant-write',
  'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control', 'x-amz-object-lock-mode',
  'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold', 'if-match',
];

/**
 * The values a policy's conditions compare (keys lower-case): `aws:SourceIp`,
 * `aws:SecureTransport`, `aws:CurrentTime`, `aws:EpochTime`, `aws:UserAgent`, `aws:Referer`,
 * `aws:username` / `aws:userid` (the access key id), `s3:prefix`, `s3:delimiter`,
 * `s3:max-keys`, `s3:VersionId`, `s3:authType`, `s3:signatureversion` and the `s3:x-amz-*`
 * request headers above. A key the request does not have is absent. (checkAccess adds the tag
 * keys: requestConditionContext.)
 */
export function policyConditionContext(ctx: HandlerContext): Map<string, readonly string[]> {
  const context = new Map<string, readonly string[]>();
  const put = (key: string, value: string | undefined): void => {
    if (value !== undefined) context.set(key, [value]);
  };
  const socket = ctx.req.socket as Partial<TLSSocket>;
  const address = socket.remoteAddress;
  put('aws:sourceip', address?.startsWith('::ffff:') === true ? address.slice('::ffff:'.length) : address);
  put('aws:securetransport', socket.encrypted === true ? 'true' : 'false');
  const nowMs = ctx.clock.nowMs();
  put('aws:currenttime', new Date(nowMs).toISOString());
  put('aws:epochtime', String(Math.floor(nowMs / 1000)));
  put('aws:useragent', ctx.header('user-agent'));
  put('aws:referer', ctx.header('referer'));
  put('aws:username', ctx.auth.principal.accessKeyId);
  put('aws:userid', ctx.auth.principal.accessKeyId);
  put('s3:prefix', ctx.query.get('prefix'));
  put('s3:delimiter', ctx.query.get('delimiter'));
  put('s3:max-keys', ctx.query.get('max-keys'));
  put('s3:versionid', ctx.query.get('versionId'));
  const presigned = ctx.query.has('X-Amz-Signature') || ctx.query.has('Signature');
  put('s3:authtype', presigned ? 'REST-QUERY-STRING' : 'REST-HEADER');
  const authorization = ctx.header('authorization') ?? '';
  put('s3:signatureversion', ctx.query.has('X-Amz-Signature') || authorization.startsWith('AWS4-') ? 'AWS4-HMAC-SHA256' : 'AWS');
  for (const name of conditionHeaders) put(`s3:${name}`, ctx.header(name)?.trim());
  return context;
}

/** The actions whose object's current tags a policy can test (`s3:ExistingObjectTag/<key>`), as in S3. */
const existingTagActions: ReadonlySet<string> = new Set([
  's3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAcl', 's3:GetObjectVersionAcl', 's3:GetObjectTagging',
  's3:GetObjectVersionTagging', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes', 's3:GetObjectRetention',
  's3:GetObjectLegalHold', 's3:PutObjectAcl', 's3:PutObjectVersionAcl', 's3:PutObjectTagging', 's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging', 's3:PutObjectRetention', 's3:PutObjectLegalHold',
]);
const existingTagPrefix = 's3:existingobjecttag/';
const requestTagPrefix = 's3:requestobjecttag/';
const requestTagKeysKey = 's3:requestobjecttagkeys';

/** Adds `tags` as `<prefix><tag key>` (keys lower case, as condition keys are read), each with its value. */
function addTags(context: Map<string, readonly string[]>, prefix: string, tags: readonly Tag[]): void {
  for (const tag of tags) {
    const key = `${prefix}${tag.key.toLowerCase()}`;
    context.set(key, [...(context.get(key) ?? []), tag.value]);
  }
}

function readsKeyStartingWith(policy: BucketPolicy, prefix: string): boolean {
  for (const key of policy.contextKeys) if (key.startsWith(prefix)) return true;
  return false;
}

/**
 * The tags of the object version `required` names, or none when it does not exist (or is a
 * delete marker): its handler then answers as usual.
 */
async function existingTagsOf(ctx: HandlerContext, required: RequiredAccess): Promise<readonly Tag[]> {
  const object = required.object;
  if (object === undefined) return [];
  return (await objectInfoOrMissing(ctx, required.bucket, object))?.headers.tags ?? [];
}

/** The object version's metadata, or undefined when it does not exist or is a delete marker. */
async function objectInfoOrMissing(ctx: HandlerContext, bucket: string, object: NonNullable<RequiredAccess['object']>): Promise<ObjectInfo | undefined> {
  try {
    return await ctx.backend.headObject(bucket, object.key, object.versionId);
  } catch (error) {
    const missing = error instanceof S3BackendError
      ? error.reason === 'NoSuchKey' || error.reason === 'NoSuchBucket'
      : error instanceof S3Error && (error.code === 'NoSuchKey' || error.code === 'NoSuchVersion' || error.code === 'MethodNotAllowed');
    if (missing) return undefined;
    throw error;
  }
}

/**
 * The request's tags a policy can test (`s3:RequestObjectTag/<key>`, `s3:RequestObjectTagKeys`):
 * those the handler read from a Tagging document (PutObjectTagging), else the `x-amz-tagging`
 * header of a write (PutObject, CopyObject, CreateMultipartUpload). A header that does not parse
 * gives none here; the handler refuses it.
 */
function requestTagsOf(ctx: HandlerContext, required: RequiredAccess, given: readonly Tag[] | undefined): readonly Tag[] {
  if (given !== undefined) return given;
  const header = ctx.header('x-amz-tagging');
  if (header === undefined || required.action !== 's3:PutObject') return [];
  try {
    return parseTaggingHeader(header);
  } catch {
    return [];
  }
}

/**
 * policyConditionContext plus the tag keys `policy` reads: the object's current tags (a metadata
 * read, only for a policy that tests them) and the tags the request sets.
 */
async function requestConditionContext(ctx: HandlerContext, policy: BucketPolicy, required: RequiredAccess, requestTags: readonly Tag[] | undefined): Promise<ConditionContext> {
  const context = policyConditionContext(ctx);
  if (required.action !== undefined && existingTagActions.has(required.action) && readsKeyStartingWith(policy, existingTagPrefix)) {
    addTags(context, existingTagPrefix, await existingTagsOf(ctx, required));
  }
  const tags = requestTagsOf(ctx, required, requestTags);
  if (tags.length > 0) {
    addTags(context, requestTagPrefix, tags);
    context.set(requestTagKeysKey, tags.map((tag) => tag.key));
  }
  return context;
}

/** Access levels as an AccessDenied message names them (the ACL ones by their S3 permission). */
const levelNames: Readonly<Record<RequiredAccess['level'], string>> = { read: 'read', write: 'write', readAcp: 'READ_ACP', writeAcp: 'WRITE_ACP', owner: 'owner' };

/**
 * Throws AccessDenied unless the request's principal has the access in the bucket (its
 * ownership, grants and the bucket's policy). The root key needs no read. A bucket that does
 * not exist passes: the handler answers NoSuchBucket. `given.requestTags`: the tags the request
 * sets when they come in its body (PutObjectTagging), for the policy's conditions.
 */
export async function checkAccess(ctx: HandlerContext, required: RequiredAccess, given: { readonly requestTags?: readonly Tag[] } = {}): Promise<void> {
  const { principal } = ctx.auth;
  if (principal.isRoot) return;
  const info = await currentInfoOf(ctx, required.bucket);
  if (info === undefined) return;
  const policy = policyOf(info, ctx.logger);
  const context = policy === undefined ? new Map<string, readonly string[]>() : await requestConditionContext(ctx, policy, required, given.requestTags);
  const decision = decideAccess(principal, info, policy, required, context);
  if (decision === 'allowed') {
    if (!(await aclOfForeignObjectRefuses(ctx, info, required))) return;
    throw new S3Error('AccessDenied', { message: `Access Denied: the ACL of ${required.object?.key ?? 'this object'} belongs to its owner, and does not give access key ${principal.accessKeyId} this access.` });
  }
  if (decision === 'notGranted' && (await objectAclAdmits(ctx, info, required))) return;
  throw new S3Error('AccessDenied', {
    message: decision === 'deniedByPolicy'
      ? `Access Denied: the policy of bucket ${required.bucket} denies ${required.action ?? 'this'} to access key ${principal.accessKeyId}.`
      : required.level === 'owner'
        ? `Access Denied: only the owner of bucket ${required.bucket} may do this.`
        : `Access Denied: access key ${principal.accessKeyId} has no ${levelNames[required.level]} access to bucket ${required.bucket}.`,
  });
}

/** The object ACL permission that allows each action (S3: READ gives GetObject, READ_ACP GetObjectAcl, WRITE_ACP PutObjectAcl). */
const objectAclAccess: ReadonlyMap<string, 'read' | 'readAcp' | 'writeAcp'> = new Map([
  ['s3:GetObject', 'read'], ['s3:GetObjectVersion', 'read'],
  ['s3:GetObjectAcl', 'readAcp'], ['s3:GetObjectVersionAcl', 'readAcp'],
  ['s3:PutObjectAcl', 'writeAcp'], ['s3:PutObjectVersionAcl', 'writeAcp'],
] as const);

/**
 * Whether the ACL of the object version `required` names (and its owner) gives the principal what
 * its action needs. Read only for a key that neither its grants nor the policy let in, so
 * requests with bucket-level access never pay for it; a missing object or a delete marker grants
 * nothing.
 */
async function objectAclAdmits(ctx: HandlerContext, bucket: BucketInfo, required: RequiredAccess): Promise<boolean> {
  const access = required.action === undefined ? undefined : objectAclAccess.get(required.action);
  if (access === undefined || required.object === undefined) return false;
  const info = await objectInfoOrMissing(ctx, required.bucket, required.object);
  if (info === undefined) return false;
  const { owner, acl } = objectAclOf(info.headers, bucket);
  return objectAclAllows(acl, owner, ctx.auth.principal.accessKeyId, access);
}

/**
 * Whether an object ACL action (GetObjectAcl, PutObjectAcl) that the bucket's ownership, grants or
 * policy let in is on a version another key owns whose ACL does not let the principal in: a
 * bucket's permissions do not reach the ACL of an object it does not own (as in S3, where they
 * apply to the objects the bucket's owner owns). Reads the version for those two actions only.
 */
async function aclOfForeignObjectRefuses(ctx: HandlerContext, bucket: BucketInfo, required: RequiredAccess): Promise<boolean> {
  const access = required.action === undefined ? undefined : objectAclAccess.get(required.action);
  if (access === undefined || access === 'read' || required.object === undefined) return false;
  const info = await objectInfoOrMissing(ctx, required.bucket, required.object);
  if (info === undefined) return false;
  const { owner, acl } = objectAclOf(info.headers, bucket);
  return owner !== bucket.owner && !objectAclAllows(acl, owner, ctx.auth.principal.accessKeyId, access);
}

/** A new object's owner (when not its bucket's) and ACL (when not the default), from its write. */
export interface NewObjectAcl {
  readonly owner?: string;
  readonly acl?: readonly AclGrant[];
}

/**
 * The owner and ACL a write gives the new object (PutObject, CopyObject, CreateMultipartUpload,
 * POST forms): its writer owns it as the bucket's ownership controls say (access-control.ts
 * objectOwnerOfWrite), and its ACL headers name keys that exist (InvalidArgument otherwise).
 * Refuses ACL headers where the bucket's ACLs are disabled (refuseAclHeadersWhereDisabled).
 */
export async function objectAclForWrite(ctx: HandlerContext, bucket: string, header: (name: string) => string | undefined, headerNames: readonly string[]): Promise<NewObjectAcl> {
  await refuseAclHeadersWhereDisabled(ctx, bucket, header, headerNames);
  const { principal } = ctx.auth;
  if (principal.isRoot && !hasAclHeaders(headerNames)) return {};
  const info = await currentInfoOf(ctx, bucket);
  if (info === undefined) return {};
  const owner = objectOwnerOfWrite(principal, info, header('x-amz-acl')?.trim());
  const acl = objectAclFromHeaders(header, headerNames, { objectOwner: owner, bucketOwner: info.owner });
  return { ...(owner === info.owner ? {} : { owner }), ...(acl === undefined ? {} : { acl: await resolveAclGrantees(ctx, acl) }) };
}

/**
 * Whether a bucket shows in the principal's ListBuckets: it owns it or holds a grant there
 * (access-policy.ts mayList), or the bucket's policy allows it s3:ListBucket.
 */
export function mayListBucket(ctx: HandlerContext, info: BucketInfo): boolean {
  if (mayList(ctx.auth.principal, info)) return true;
  const policy = policyOf(info, ctx.logger);
  if (policy === undefined) return false;
  const listing: RequiredAccess = { bucket: info.name, level: 'read', action: 's3:ListBucket', resource: bucketArn(info.name) };
  return decideAccess(ctx.auth.principal, info, policy, listing, policyConditionContext(ctx)) === 'allowed';
}

/**
 * ACL headers on a write (PutObject, CopyObject, CreateMultipartUpload, POST forms) into a bucket
 * whose ACLs are disabled (BucketOwnerEnforced): only the owner's full control (access-control.ts).
 * Requests without ACL headers read nothing.
 */
export async function refuseAclHeadersWhereDisabled(ctx: HandlerContext, bucket: string, header: (name: string) => string | undefined, headerNames: readonly string[]): Promise<void> {
  if (!hasAclHeaders(headerNames)) return;
  const info = await currentInfoOf(ctx, bucket);
  if (info?.objectOwnership === 'BucketOwnerEnforced') refuseAclWhileDisabled({ headers: aclHeadersOf(header, headerNames) }, false);
}

/** The bucket's settings through the bucket cache; NoSuchBucket when it is gone. */
export async function existingBucketInfo(ctx: HandlerContext, bucket: string): Promise<BucketInfo> {
  const info = await currentInfoOf(ctx, bucket);
  if (info === undefined) throw new S3Error('NoSuchBucket', { fields: { BucketName: bucket } });
  return info;
}

/** The bucket's owner as S3 responses name it (ListObjects Owner, ACLs); NoSuchBucket when it is gone. */
export async function bucketOwner(ctx: HandlerContext, bucket: string): Promise<Owner> {
  return ownerOfKey((await existingBucketInfo(ctx, bucket)).owner);
}

/** Who listings name as each object's owner: its writer as recorded, or the bucket's owner (access-control.ts objectOwnerOf). */
export async function listingOwners(ctx: HandlerContext, bucket: string): Promise<{ readonly bucketOwner: Owner; readonly ownerOf: ObjectOwnerOf }> {
  const info = await existingBucketInfo(ctx, bucket);
  return { bucketOwner: ownerOfKey(info.owner), ownerOf: (object) => ownerOfKey(objectOwnerOf(object.headers, info)) };
}

/**
 * `x-amz-expected-bucket-owner` (and `x-amz-source-expected-bucket-owner` for a copy's source):
 * the client names the owner it expects (an access key id here, as listings show owners); another
 * owner is 403 AccessDenied, so a request never lands in a same-named bucket of someone else.
 */
export async function checkExpectedOwner(ctx: HandlerContext, bucket: string, expectedOwner: string): Promise<void> {
  const info = await currentInfoOf(ctx, bucket);
  if (info === undefined || info.owner === expectedOwner) return;
  throw new S3Error('AccessDenied', { message: `Access Denied: bucket ${bucket} is not owned by ${expectedOwner}.` });
}

/**
 * The grants of an ACL with each grantee resolved to its access key: the id as given, else in
 * upper case (clients such as s3cmd lower-case canonical ids, and generated key ids are upper
 * case); InvalidArgument (as S3 answers an unknown canonical id) when there is no such key.
 * Grants that turn out to name `ownerId` are dropped, and two ids naming one key are merged.
 */
export async function resolveGrantees(ctx: HandlerContext, grants: readonly BucketGrant[], ownerId: string): Promise<BucketGrant[]> {
  const resolved: BucketGrant[] = [];
  for (const grant of grants) {
    const accessKeyId = await existingKeyId(ctx, grant.accessKeyId);
    if (accessKeyId !== ownerId) resolved.push({ ...grant, accessKeyId });
  }
  return mergeGrants(resolved);
}

/**
 * An ACL's grants (an object's, or a bucket's as stated) with each grantee resolved to its access
 * key (as resolveGrantees), kept as given but for exact repeats.
 */
export async function resolveAclGrantees(ctx: HandlerContext, acl: readonly AclGrant[]): Promise<AclGrant[]> {
  const resolved: AclGrant[] = [];
  for (const grant of acl) {
    const accessKeyId = await existingKeyId(ctx, grant.accessKeyId);
    if (!resolved.some((earlier) => earlier.accessKeyId === accessKeyId && earlier.permission === grant.permission)) resolved.push({ ...grant, accessKeyId });
  }
  return resolved;
}

async function existingKeyId(ctx: HandlerContext, id: string): Promise<string> {
  for (const candidate of new Set([id, id.toUpperCase()])) {
    if ((await ctx.credentials.lookup(candidate)) !== undefined) return candidate;
  }
  throw new S3Error('InvalidArgument', { message: `Invalid id: no access key ${id}.`, fields: { ArgumentName: 'CanonicalUser/ID', ArgumentValue: id } });
}
