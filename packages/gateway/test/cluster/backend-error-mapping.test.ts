/**
 * Goal: a cluster that cannot reach enough of its nodes answers 503 ServiceUnavailable with a
 * message saying which part is short (shards to read, nodes to write to, the metadata leader),
 * and no internal detail (node or stripe names) reaches the client. Method: the real mapping
 * functions on the errors the data path and the metadata client throw.
 */
import { InsufficientStorageNodesError, NotLeaderError, ProposalTimeoutError } from '@tessera/rpc';
import { mapBackendError } from '../../src/backend-errors';
import { S3Error } from '../../src/s3-errors';
import { toBackendError } from '../../src/cluster/metadata-error-mapping';
import { QuorumUnavailableError } from '../../src/cluster/stripe';

function clientErrorOf(error: unknown): S3Error {
  const mapped = mapBackendError(toBackendError(error), { bucket: 'photos', key: 'a.jpg' });
  if (!(mapped instanceof S3Error)) throw new Error(`not an S3Error: ${String(mapped)}`);
  return mapped;
}

describe('quorum shortages as S3 errors', () => {
  test.each([
    ['a read with too few shards', new QuorumUnavailableError('read', 'stripe s-1: 5 of 9 shards readable, 6 needed (az-a-n1, az-a-n2 unreachable)'), /^Too few of the object's shards could be read/],
    ['a write below its quorum', new QuorumUnavailableError('write', 'stripe s-2: only 6 of 9 shards written, quorum 7 (az-c-n3 failed)'), /^Too few storage nodes accepted the object's shards/],
    ['a write below its quorum because its nodes are full', new QuorumUnavailableError('write', 'stripe s-3: only 4 of 9 shards written, quorum 7 (0: StorageFullError ...)', { storageFull: true }), /^The storage nodes are out of space .* Delete objects or add capacity/],
    ['too few nodes to place a stripe', new InsufficientStorageNodesError('9 nodes needed in 3 zones, az-c has none up'), /^Too few storage nodes are up to place/],
    ['no metadata leader', new NotLeaderError('meta-2'), /^The metadata service has no leader/],
    ['a metadata commit timing out', new ProposalTimeoutError(), /^The metadata service has no leader/],
  ])('%s: 503 ServiceUnavailable saying what is short, no node names', (_what, error, message) => {
    const s3 = clientErrorOf(error);
    expect([s3.code, s3.httpStatus]).toEqual(['ServiceUnavailable', 503]);
    expect(s3.message).toMatch(message);
    expect(s3.message).not.toMatch(/az-|meta-|stripe|s-\d/);
    // The internal detail stays with the error for the log.
    expect(s3.cause).toBeDefined();
  });

  test('other backend errors keep their catalogue message', () => {
    const s3 = clientErrorOf(new S3Error('NoSuchKey'));
    expect(s3.code).toBe('NoSuchKey');
  });
});
