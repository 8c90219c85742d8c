// isSpreadDegraded decides which stripes the scrubber respreads after an AZ outage: a stripe is
// badly spread when some AZ holds more than ceil(shards / zones) of its shards, counting every
// zone that has a registered node (a zone whose nodes are all down still counts).
import type { StorageNode__Output } from '@tessera/proto/generated/tessera/metadata/v1/StorageNode';
import { isSpreadDegraded } from '../src/stripe-rebuilder';

function node(nodeId: string, az: string, state = 'up'): StorageNode__Output {
  return { nodeId, az, address: `${nodeId}:1`, capacityBytes: 1, freeBytes: 1, storedBytes: 0, lastHeartbeatAtMs: 0, state, stateChangedAtMs: 0 };
}

const nodes = ['a', 'b', 'c'].flatMap((az) => [1, 2, 3].map((i) => node(`${az}${i}`, az, az === 'c' ? 'down' : 'up')));

describe('isSpreadDegraded', () => {
  it('accepts RS(6,3) with three shards per AZ', () => {
    expect(isSpreadDegraded(['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3'], nodes)).toBe(false);
  });

  it('flags a stripe rebuilt into two AZs while the third was down (5 + 4 shards)', () => {
    expect(isSpreadDegraded(['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'a1', 'b2', 'a2'], nodes)).toBe(true);
  });

  it('has nothing to judge without nodes', () => {
    expect(isSpreadDegraded(['x', 'y'], [])).toBe(false);
  });
});
