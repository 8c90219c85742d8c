// Goal: the relaxed-SIMD build of the kernel (i8x16.relaxed_swizzle) gives exactly the golden
// parity and the scalar kernel's bytes, on Node 20 too, where relaxed SIMD needs a V8 flag.
// Method: a real child process, `node --experimental-wasm-relaxed-simd`, loads the compiled
// package (dist/, built by `npx tsc -b packages/erasure` as `npm test` does), encodes every golden
// case and reconstructs random erasure patterns with kernel 'relaxed-simd', and reports digests
// and mismatch counts as JSON. Where the runtime has relaxed SIMD by default, the in-process
// suites already cover it and this file checks only that 'auto' picks it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReedSolomon, isWasmRelaxedSimdSupported } from '@tessera/erasure';

const distIndex = join(__dirname, '..', 'dist', 'index.js');
const goldenPath = join(__dirname, 'golden', 'parity-vectors.json');

const childScript = `
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { ReedSolomon, isWasmRelaxedSimdSupported } = require(${JSON.stringify(distIndex)});
const { SeededRandom } = require('@tessera/common'); // the compiled package, resolved from cwd
const golden = JSON.parse(readFileSync(${JSON.stringify(goldenPath)}, 'utf8'));
const out = { supported: isWasmRelaxedSimdSupported(), kernelKind: new ReedSolomon(4, 2).kernelKind, goldenMismatches: [], reconstructMismatches: 0, reconstructRuns: 0 };
for (const c of golden.cases) {
  const random = new SeededRandom(c.seed);
  const data = Array.from({ length: c.dataShardCount }, () => random.fillBytes(new Uint8Array(c.shardSizeBytes)));
  const parity = new ReedSolomon(c.dataShardCount, c.parityShardCount, { kernel: 'relaxed-simd' }).encode(data);
  parity.forEach((shard, p) => {
    if (createHash('sha256').update(shard).digest('hex') !== c.parity[p].sha256) out.goldenMismatches.push(c.seed + ':' + p);
  });
}
const random = new SeededRandom(99);
for (let run = 0; run < 60; run++) {
  const k = 1 + random.nextInt(20), m = 1 + random.nextInt(Math.min(11, 32 - k)), size = 1 + random.nextInt(70000);
  const data = Array.from({ length: k }, () => random.fillBytes(new Uint8Array(size)));
  const relaxed = new ReedSolomon(k, m, { kernel: 'relaxed-simd' });
  const scalar = new ReedSolomon(k, m, { kernel: 'scalar' });
  const shards = [...data, ...scalar.encode(data)];
  const slots = shards.slice();
  for (let e = 0; e < m; e++) slots[random.nextInt(k + m)] = undefined;
  relaxed.reconstruct(slots);
  out.reconstructRuns++;
  if (!slots.every((s, i) => Buffer.compare(s, shards[i]) === 0)) out.reconstructMismatches++;
}
console.log(JSON.stringify(out));
`;

describe('relaxed-SIMD kernel', () => {
  if (isWasmRelaxedSimdSupported()) {
    it('is what auto picks on this runtime', () => {
      expect(new ReedSolomon(6, 3).kernelKind).toBe('relaxed-simd');
    });
    return;
  }

  it('matches the golden vectors and the scalar kernel (child process with --experimental-wasm-relaxed-simd)', () => {
    const child = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', childScript], { encoding: 'utf8', timeout: 60_000, cwd: join(__dirname, '..') });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const report = JSON.parse(child.stdout) as { supported: boolean; kernelKind: string; goldenMismatches: string[]; reconstructMismatches: number; reconstructRuns: number };
    const goldenCaseCount = (JSON.parse(readFileSync(goldenPath, 'utf8')) as { cases: unknown[] }).cases.length;
    expect(goldenCaseCount).toBeGreaterThan(20);
    expect(report).toEqual({ supported: true, kernelKind: 'relaxed-simd', goldenMismatches: [], reconstructMismatches: 0, reconstructRuns: 60 });
  });
});
