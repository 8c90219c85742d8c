// Goal: document, by reproducing it, why the reference library never serves users. Its JS wrapper
// frees reconstruct()'s availability buffer after the WebAssembly side has already freed it; the
// allocator's free list is then corrupt, so later reconstructs on the SAME instance fail (code 10,
// "too few shards present", or a memory-access trap). Method: a bounded loop of reconstructs with
// varying shapes on one instance per published build; assert that failures occur, that every
// reported success still has correct bytes, and that a fresh instance per call never fails.
import { SeededRandom } from '@tessera/common';
import { ReedSolomon } from '@tessera/erasure';
import {
  freshReference, fromStripe, referencePackages, referenceResultOk, referenceResultTooFewShardsPresent, toStripe,
  type ReferenceCodec,
} from './reference-library';

interface Outcome { okCount: number; tooFewCount: number; trapCount: number; wrongBytesCount: number }

function reconstructLoop(instanceFor: () => ReferenceCodec, seed: number, callCount: number): Outcome {
  const random = new SeededRandom(seed);
  const outcome: Outcome = { okCount: 0, tooFewCount: 0, trapCount: 0, wrongBytesCount: 0 };
  for (let call = 0; call < callCount; call++) {
    const k = 4 + random.nextInt(3);
    const m = 2 + random.nextInt(2);
    const shardSizeBytes = 1000 + random.nextInt(3000);
    const data = Array.from({ length: k }, () => random.fillBytes(new Uint8Array(shardSizeBytes)));
    const shards = [...data, ...new ReedSolomon(k, m).encode(data)];
    const available = shards.map(() => true);
    available[random.nextInt(k)] = false; // one lost data shard: always recoverable
    const stripe = toStripe(shards.map((shard, i) => (available[i] ? shard : new Uint8Array(shardSizeBytes))));
    let result: number;
    try {
      result = instanceFor().reconstruct(stripe, k, m, available);
    } catch {
      outcome.trapCount++;
      continue;
    }
    if (result === referenceResultOk) {
      outcome.okCount++;
      const ok = fromStripe(stripe, k + m).slice(0, k).every((shard, i) => Buffer.compare(shard, data[i]!) === 0);
      if (!ok) outcome.wrongBytesCount++;
    } else {
      expect(result).toBe(referenceResultTooFewShardsPresent);
      outcome.tooFewCount++;
    }
  }
  return outcome;
}

describe.each(referencePackages.map((pkg) => [pkg.name, pkg] as const))('reference library defect (%s)', (_name, pkg) => {
  it('reused instance: most of 200 recoverable reconstructs fail, none returns wrong bytes', () => {
    const shared = freshReference(pkg);
    const outcome = reconstructLoop(() => shared, 1, 200);
    expect(outcome.wrongBytesCount).toBe(0);
    expect(outcome.tooFewCount + outcome.trapCount).toBeGreaterThan(100);
  });

  it('fresh instance per call: all 200 reconstructs succeed', () => {
    const outcome = reconstructLoop(() => freshReference(pkg), 1, 200);
    expect(outcome).toEqual({ okCount: 200, tooFewCount: 0, trapCount: 0, wrongBytesCount: 0 });
  });
});
