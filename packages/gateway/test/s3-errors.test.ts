/**
 * Goal: the error catalogue, its documentation and the error boundary agree. Method: parse the
 * table in docs/s3-errors.md and compare it both ways with s3ErrorCatalogue; then drive the
 * boundary through a real express app on loopback and inspect status, headers and XML.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { XMLParser } from 'fast-xml-parser';
import type { Logger, LogFields } from '@tessera/common';
import { silentLogger } from '@tessera/common';
import { createS3ErrorBoundary } from '../src/error-boundary';
import { isS3ErrorCode, S3Error, s3ErrorCatalogue } from '../src/s3-errors';
import type { S3ErrorCode } from '../src/s3-errors';
import { newRequestContext, setRequestContext } from '../src/request-context';

const requiredByIssue = [
  'AccessDenied', 'BucketAlreadyExists', 'BucketAlreadyOwnedByYou', 'BucketNotEmpty', 'EntityTooLarge', 'EntityTooSmall', 'InvalidAccessKeyId',
  'InvalidArgument', 'InvalidBucketName', 'InvalidDigest', 'BadDigest', 'InvalidPart', 'InvalidPartOrder', 'InvalidRange', 'KeyTooLongError',
  'MalformedXML', 'MetadataTooLarge', 'MethodNotAllowed', 'MissingContentLength', 'NoSuchBucket', 'NoSuchKey', 'NoSuchUpload', 'NotImplemented',
  'PreconditionFailed', 'RequestTimeTooSkewed', 'SignatureDoesNotMatch', 'SlowDown', 'ServiceUnavailable', 'XAmzContentSHA256Mismatch',
  'NoSuchVersion', 'InvalidRequest', 'IncompleteBody', 'RequestTimeout', 'InvalidObjectState', 'InvalidStorageClass', 'AuthorizationHeaderMalformed',
  'AuthorizationQueryParametersError', 'ExpiredToken', 'InvalidChunkSizeError', 'NotModified', 'TooManyParts', 'InvalidURI', 'BadRequest', 'InternalError',
];

function documentedCodes(): Map<string, number> {
  const text = readFileSync(join(__dirname, '..', 'docs', 's3-errors.md'), 'utf8');
  const rows = new Map<string, number>();
  for (const match of text.matchAll(/^\| ([A-Za-z0-9]+) \| (\d{3}) \|/gm)) rows.set(match[1] ?? '', Number(match[2]));
  return rows;
}

describe('catalogue and docs/s3-errors.md', () => {
  test('every catalogue code is documented with the same status', () => {
    const documented = documentedCodes();
    for (const [code, entry] of Object.entries(s3ErrorCatalogue)) expect([code, documented.get(code)]).toEqual([code, entry.httpStatus]);
  });

  test('every documented code is in the catalogue', () => {
    for (const code of documentedCodes().keys()) expect([code, isS3ErrorCode(code)]).toEqual([code, true]);
  });

  test('the catalogue has every code the issue and common clients need', () => {
    for (const code of requiredByIssue) expect([code, isS3ErrorCode(code)]).toEqual([code, true]);
  });

  test('statuses are valid HTTP error statuses (or 304)', () => {
    for (const entry of Object.values(s3ErrorCatalogue)) expect(entry.httpStatus === 304 || (entry.httpStatus >= 400 && entry.httpStatus < 600)).toBe(true);
  });
});

describe('error boundary', () => {
  let server: Server;
  let baseUrl: string;
  const logged: LogFields[] = [];
  const logger: Logger = { ...silentLogger, error: (_message, fields) => void logged.push(fields ?? {}), child: () => logger };

  beforeAll(async () => {
    const app = express();
    app.use((req, res, next) => {
      setRequestContext(res, newRequestContext(req.path));
      next();
    });
    app.all('/s3error/:code', (req) => {
      throw new S3Error(req.params['code'] as S3ErrorCode, { fields: { BucketName: 'b<&>', Key: 'k' }, headers: { 'Content-Range': 'bytes */10' } });
    });
    app.all('/internal', () => {
      throw new Error('secret internal detail at /var/lib/tessera');
    });
    app.all('/async-internal', (_req, _res, next) => {
      Promise.reject(new TypeError('boom')).catch(next);
    });
    app.use(createS3ErrorBoundary(logger));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const parser = new XMLParser({ parseTagValue: false });

  test.each(['NoSuchKey', 'InvalidRange', 'SignatureDoesNotMatch', 'MethodNotAllowed', 'SlowDown'] as const)('S3Error %s renders XML with its catalogue status', async (code) => {
    const response = await fetch(`${baseUrl}/s3error/${code}`);
    expect(response.status).toBe(s3ErrorCatalogue[code].httpStatus);
    expect(response.headers.get('content-type')).toBe('application/xml');
    expect(response.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
    expect(response.headers.get('x-amz-id-2')).toBeTruthy();
    expect(response.headers.get('content-range')).toBe('bytes */10');
    const body = parser.parse(await response.text()) as { Error: Record<string, string> };
    expect(body.Error['Code']).toBe(code);
    expect(body.Error['Message']).toBe(s3ErrorCatalogue[code].message);
    expect(body.Error['BucketName']).toBe('b<&>');
    expect(body.Error['Key']).toBe('k');
    expect(body.Error['Resource']).toBe(`/s3error/${code}`);
    expect(body.Error['RequestId']).toBe(response.headers.get('x-amz-request-id'));
    expect(body.Error['HostId']).toBe(response.headers.get('x-amz-id-2'));
  });

  test('a non-S3 error is InternalError 500, logged with its cause, never leaked', async () => {
    logged.length = 0;
    const response = await fetch(`${baseUrl}/internal`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).toContain('<Code>InternalError</Code>');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('/var/lib');
    expect(text).not.toMatch(/at .*\.ts/);
    expect(logged).toHaveLength(1);
    expect(String(logged[0]?.['error'])).toContain('secret internal detail');
    const asyncResponse = await fetch(`${baseUrl}/async-internal`);
    expect(asyncResponse.status).toBe(500);
    expect(await asyncResponse.text()).toContain('<Code>InternalError</Code>');
  });

  test('HEAD responses and 304 carry no body', async () => {
    const head = await fetch(`${baseUrl}/s3error/NoSuchKey`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await head.text()).toBe('');
    const notModified = await fetch(`${baseUrl}/s3error/NotModified`);
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');
  });
});
