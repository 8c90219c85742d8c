/**
 * A small, pure, platform-independent string hash for rendezvous scoring. Placement must give
 * the same answer on every node and every Node.js version, so it cannot depend on a native
 * addon or on `Math.random`. Two independent 32-bit FNV-1a lanes finished with a murmur3
 * avalanche give 53 well-mixed bits, which is plenty to rank at most a few thousand nodes.
 */
const utf8 = new TextEncoder();

function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hash of `text` as a float in the open interval (0, 1). */
export function hashToUnitInterval(text: string): number {
  const bytes = utf8.encode(text);
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (const byte of bytes) {
    a = Math.imul(a ^ byte, 0x01000193) >>> 0;
    b = Math.imul(b ^ byte, 0x01000193 ^ 0x5bd1e995) >>> 0;
  }
  const high = fmix32(a ^ bytes.length) >>> 11; // 21 bits
  const low = fmix32(b + 0x9e3779b9); // 32 bits
  const bits53 = high * 4294967296 + low;
  // +0.5 keeps the value strictly inside (0, 1): ln(0) and ln(1) would break weighted scoring.
  return (bits53 + 0.5) / 9007199254740992;
}

/**
 * Weighted rendezvous score (Schindelhauer & Schomaker's logarithmic method): a node with twice
 * the weight wins twice as often, and removing one node only moves the items it held.
 */
export function rendezvousScore(itemKey: string, candidateId: string, weight: number): number {
  const u = hashToUnitInterval(`${itemKey}\u0000${candidateId}`);
  return weight / -Math.log(u);
}
