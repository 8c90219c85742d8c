/**
 * Bitrot checksum candidates on shard-block-sized inputs, one thread: the chosen xxh3-64 (via
 * blockChecksum, and both @node-rs entry points to it), xxh64 and xxh3-128 from @node-rs/xxhash, CRC32C and CRC32 from @node-rs/crc32,
 * the hash-wasm (WebAssembly) builds of xxh3/xxh64/CRC32C/BLAKE3, and node:crypto sha256 and md5
 * for scale. Prints GB/s of input. Run: `npm run bench -- checksum`.
 */
import { createHash } from 'node:crypto';
import { crc32, crc32c } from '@node-rs/crc32';
import { xxh3, xxh64 } from '@node-rs/xxhash';
import { SeededRandom } from '@tessera/common';
import { createBLAKE3, createCRC32, createXXHash3, createXXHash64, type IHasher } from 'hash-wasm';
import { blockChecksum } from '../index';

/** 1 and 4 KiB (small objects, tails), 64 KiB and 174,763 bytes (one 6+3 shard of a 1 MiB block), 1 MiB. */
const inputSizesBytes = [1024, 4 * 1024, 64 * 1024, 174_763, 1024 * 1024];
const trialCount = 5;
const trialMsMin = 30;

interface Candidate {
  readonly name: string;
  readonly origin: string;
  readonly digest: (bytes: Uint8Array) => unknown;
}

function hashWasm(hasher: IHasher): (bytes: Uint8Array) => unknown {
  return (bytes) => {
    hasher.init();
    hasher.update(bytes);
    return hasher.digest('binary');
  };
}

/** Best of several short trials: the machine is shared, and the best trial is the one it had to itself. */
function measure(digest: (bytes: Uint8Array) => unknown, input: Uint8Array): number {
  for (let i = 0; i < 3; i++) digest(input);
  let best = 0;
  for (let trial = 0; trial < trialCount; trial++) {
    let calls = 0;
    const startedMs = performance.now();
    let elapsedMs = 0;
    while (elapsedMs < trialMsMin) {
      for (let i = 0; i < 4; i++) digest(input);
      calls += 4;
      elapsedMs = performance.now() - startedMs;
    }
    best = Math.max(best, (input.length * calls) / (elapsedMs / 1000) / 1e9);
  }
  return best;
}

async function main(): Promise<void> {
  const candidates: Candidate[] = [
    { name: 'xxh3-64 (blockChecksum, chosen)', origin: '@node-rs/xxhash (native; reused streaming hasher >= 2 KiB)', digest: blockChecksum },
    { name: 'xxh3-64, one-shot xxh3.xxh64()', origin: '@node-rs/xxhash (native)', digest: (b) => xxh3.xxh64(b) },
    { name: 'xxh3-64, new streaming Xxh3 per call', origin: '@node-rs/xxhash (native)', digest: (b) => xxh3.Xxh3.withSeed().update(b).digest() },
    { name: 'xxh64', origin: '@node-rs/xxhash (native)', digest: (b) => xxh64(b) },
    { name: 'xxh3-128', origin: '@node-rs/xxhash (native)', digest: (b) => xxh3.xxh128(b) },
    { name: 'CRC32C', origin: '@node-rs/crc32 (native)', digest: (b) => crc32c(b) },
    { name: 'CRC32 (IEEE)', origin: '@node-rs/crc32 (native)', digest: (b) => crc32(b) },
    { name: 'xxh3-64', origin: 'hash-wasm (WebAssembly)', digest: hashWasm(await createXXHash3()) },
    { name: 'xxh64', origin: 'hash-wasm (WebAssembly)', digest: hashWasm(await createXXHash64()) },
    { name: 'CRC32C', origin: 'hash-wasm (WebAssembly)', digest: hashWasm(await createCRC32(0x82f63b78)) },
    { name: 'BLAKE3-256', origin: 'hash-wasm (WebAssembly)', digest: hashWasm(await createBLAKE3()) },
    { name: 'SHA-256', origin: 'node:crypto (OpenSSL)', digest: (b) => createHash('sha256').update(b).digest() },
    { name: 'MD5', origin: 'node:crypto (OpenSSL)', digest: (b) => createHash('md5').update(b).digest() },
  ];
  const inputs = inputSizesBytes.map((size) => new SeededRandom(size).fillBytes(new Uint8Array(size)));
  console.log(`Checksum throughput in GB/s of input, one thread, best of ${trialCount} trials, node ${process.version}.\n`);
  console.log(`| algorithm | implementation | ${inputSizesBytes.map(formatSize).join(' | ')} |`);
  console.log(`|---|---|${inputSizesBytes.map(() => '---:').join('|')}|`);
  for (const candidate of candidates) {
    const figures = inputs.map((input) => measure(candidate.digest, input).toFixed(2));
    console.log(`| ${candidate.name} | ${candidate.origin} | ${figures.join(' | ')} |`);
  }
}

function formatSize(sizeBytes: number): string {
  if (sizeBytes % (1024 * 1024) === 0) return `${sizeBytes / 1024 / 1024} MiB`;
  if (sizeBytes % 1024 === 0) return `${sizeBytes / 1024} KiB`;
  return `${sizeBytes.toLocaleString('en-US')} B`;
}

void main();
