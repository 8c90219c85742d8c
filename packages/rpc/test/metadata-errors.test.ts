// Goal: the metadata errors added for conditional writes and node removal survive the trip
// across gRPC as the same class with the same fields, gRPC code and S3 code. Method: each error
// goes through toGrpcError (server side) and fromGrpcError (client side), as a real call does.
import * as grpc from '@grpc/grpc-js';
import { NoSuchKeyError, PreconditionFailedError, StorageNodeNotEmptyError, StorageNodeRemovedError, fromGrpcError, toGrpcError } from '../src/index';

function roundTrip(error: Error): Error {
  const status = toGrpcError(error);
  // grpc-js hands the client a ServiceError with the status's code, details and metadata.
  return fromGrpcError(Object.assign(new Error(status.details ?? ''), { code: status.code, details: status.details, metadata: status.metadata }));
}

test('PreconditionFailedError: FAILED_PRECONDITION, S3 PreconditionFailed, bucket and key kept', () => {
  const back = roundTrip(new PreconditionFailedError('photos', 'cat.jpg', 'photos/cat.jpg exists (If-None-Match: *)'));
  expect(back).toBeInstanceOf(PreconditionFailedError);
  const typed = back as PreconditionFailedError;
  expect([typed.grpcCode, typed.s3Code, typed.bucket, typed.key, typed.message]).toEqual([
    grpc.status.FAILED_PRECONDITION, 'PreconditionFailed', 'photos', 'cat.jpg', 'photos/cat.jpg exists (If-None-Match: *)',
  ]);
});

test('StorageNodeNotEmptyError keeps the count and the operator message', () => {
  const back = roundTrip(new StorageNodeNotEmptyError('sn-4', 1234)) as StorageNodeNotEmptyError;
  expect(back).toBeInstanceOf(StorageNodeNotEmptyError);
  expect([back.nodeId, back.shardCount]).toEqual(['sn-4', 1234]);
  expect(back.message).toBe('node sn-4 still holds 1234 shards; drain it first (tessera node drain sn-4) and wait for the healer');
});

test('StorageNodeRemovedError tells the node how it gets back in', () => {
  const back = roundTrip(new StorageNodeRemovedError('sn-4')) as StorageNodeRemovedError;
  expect(back).toBeInstanceOf(StorageNodeRemovedError);
  expect(back.nodeId).toBe('sn-4');
  expect(back.message).toMatch(/^storage node sn-4 was removed from the cluster \(tessera node remove\); .*tessera node add sn-4 --zone <zone> --address <host:port>$/);
});

test('fields with any Unicode (an object key is one) cross as ASCII metadata and come back exactly', () => {
  // grpc-js refuses a non-ASCII metadata value by throwing; thrown while answering a NoSuchKey
  // for a key such as "®-", it took the metadata node down (s3-tests' unicode key cases).
  for (const key of ['®-', 'é/ü', 'emoji 😀', 'control \u0001 and del \u007f', 'quote " backslash \\ tab \t', '日本語のキー']) {
    const status = toGrpcError(new NoSuchKeyError('b', key, `no such key: b/${key}`, 'null'));
    for (const [, values] of Object.entries(status.metadata?.getMap() ?? {})) expect(String(values)).toMatch(/^[\x20-\x7e]*$/);
    const back = roundTrip(new NoSuchKeyError('b', key, `no such key: b/${key}`, 'null')) as NoSuchKeyError;
    expect(back).toBeInstanceOf(NoSuchKeyError);
    expect([back.bucket, back.key, back.deleteMarkerVersionId]).toEqual(['b', key, 'null']);
  }
});
