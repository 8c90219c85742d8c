// Regenerates test/golden/parity-vectors.json from the REFERENCE library
// (@subspace/reed-solomon-erasure.wasm, i.e. the Rust reed-solomon-erasure crate), never from our
// own codec, so the vectors pin the on-disk parity format independently of our code.
//
//   npx tsc -b packages/common && node packages/erasure/scripts/make-golden.mjs
//
// Data shard i of a case is `new SeededRandom(seed).fillBytes(...)` called k times in order on
// one generator (SeededRandom from @tessera/common, a fixed sfc32 stream). Each parity shard is
// recorded as its sha256 plus its first 16 bytes (hex), which keeps the file small while any
// wrong byte still changes the digest. The reference is used only for encode, with a fresh
// instance per case: its reconstruct is unsafe (see README, "Reference library defect").
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { SeededRandom } = require('@tessera/common');
const { ReedSolomonErasure } = require('@subspace/reed-solomon-erasure.wasm');

const shapes = [[4, 2], [6, 3], [8, 4], [10, 4], [12, 4]];
const shardSizesBytes = [1, 31, 1000, 4099, 65537];
const largeCase = { shape: [6, 3], shardSizeBytes: 1048576 };

async function parityOf(k, m, shardSizeBytes, seed) {
  const random = new SeededRandom(seed);
  const stripe = new Uint8Array(shardSizeBytes * (k + m));
  for (let i = 0; i < k; i++) stripe.set(random.fillBytes(new Uint8Array(shardSizeBytes)), i * shardSizeBytes);
  const library = await ReedSolomonErasure.fromCurrentDirectory();
  const result = library.encode(stripe, k, m);
  if (result !== ReedSolomonErasure.RESULT_OK) throw new Error(`reference encode failed with ${result}`);
  const parity = [];
  for (let p = 0; p < m; p++) {
    const shard = stripe.subarray((k + p) * shardSizeBytes, (k + p + 1) * shardSizeBytes);
    parity.push({
      sha256: createHash('sha256').update(shard).digest('hex'),
      firstBytesHex: Buffer.from(shard.subarray(0, 16)).toString('hex'),
    });
  }
  return parity;
}

const cases = [];
let seed = 1;
const all = shapes.flatMap(([k, m]) => shardSizesBytes.map((s) => ({ shape: [k, m], shardSizeBytes: s })));
all.push(largeCase);
for (const { shape: [k, m], shardSizeBytes } of all) {
  cases.push({ dataShardCount: k, parityShardCount: m, shardSizeBytes, seed, parity: await parityOf(k, m, shardSizeBytes, seed) });
  seed++;
}
const out = {
  description: 'Parity of the reference library for data from SeededRandom(seed).fillBytes, one call per data shard in order.',
  generatedBy: 'packages/erasure/scripts/make-golden.mjs',
  reference: '@subspace/reed-solomon-erasure.wasm@0.2.5',
  cases,
};
const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'golden', 'parity-vectors.json');
writeFileSync(target, JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${cases.length} cases to ${target}`);
