// Test helper: byte-for-byte shard comparison. jest's toEqual walks a Uint8Array element by
// element through its generic equality and takes seconds on megabytes; this reports the first
// differing shard and byte instead.
export function expectSameShards(actual: readonly Uint8Array[], expected: readonly Uint8Array[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((shard, shardIndex) => {
    const other = expected[shardIndex]!;
    expect({ shardIndex, lengthBytes: shard.length }).toEqual({ shardIndex, lengthBytes: other.length });
    if (Buffer.compare(shard, other) === 0) return;
    let byteIndex = 0;
    while (shard[byteIndex] === other[byteIndex]) byteIndex++;
    expect({ shardIndex, byteIndex, value: shard[byteIndex] }).toEqual({ shardIndex, byteIndex, value: other[byteIndex] });
  });
}
