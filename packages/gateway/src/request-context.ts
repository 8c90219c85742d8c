/**
 * Per-request state the gateway keeps on `res.locals`: the request id echoed in headers and in
 * error bodies, the parsed operation name for metrics, and the resource for error bodies.
 */
import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

export interface RequestContext {
  /** 16 upper-case hex characters, like S3's x-amz-request-id. */
  readonly requestId: string;
  /** base64 of 24 random bytes; S3's x-amz-id-2 is an opaque host identifier of this shape. */
  readonly hostId: string;
  /** Operation kind once parsed; 'Unknown' before that (e.g. for auth failures). */
  operationKind: string;
  /** The path that S3 names as <Resource> in error bodies. */
  resource: string;
}

/** Random bytes are drawn from a pool refilled 4 KiB at a time: one syscall per ~128 requests. */
const randomPoolSizeBytes = 4096;
let randomPool = randomBytes(randomPoolSizeBytes);
let randomPoolOffset = 0;

function takeRandomBytes(sizeBytes: number): Buffer {
  if (randomPoolOffset + sizeBytes > randomPoolSizeBytes) {
    randomPool = randomBytes(randomPoolSizeBytes);
    randomPoolOffset = 0;
  }
  const taken = randomPool.subarray(randomPoolOffset, randomPoolOffset + sizeBytes);
  randomPoolOffset += sizeBytes;
  return taken;
}

export function newRequestContext(resource: string): RequestContext {
  return {
    requestId: takeRandomBytes(8).toString('hex').toUpperCase(),
    hostId: takeRandomBytes(24).toString('base64'),
    operationKind: 'Unknown',
    resource,
  };
}

export function requestContextOf(res: Response): RequestContext {
  const context = res.locals['s3Context'] as RequestContext | undefined;
  if (context !== undefined) return context;
  const created = newRequestContext('/');
  res.locals['s3Context'] = created;
  return created;
}

export function setRequestContext(res: Response, context: RequestContext): void {
  res.locals['s3Context'] = context;
}
