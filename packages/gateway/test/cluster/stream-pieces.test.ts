/**
 * Goal: the two streaming primitives under the PUT path are exact. `cutBlocks` turns any
 * chunking of a body into blocks of exactly blockSizeBytes (last one shorter) with the same
 * bytes; `BoundedChannel` never holds more than its capacity, delivers in order, and a discarded
 * channel releases a waiting producer. Method: fast-check properties over random chunkings, and
 * a scripted producer/consumer.
 */
import fc from 'fast-check';
import { BoundedChannel } from '../../src/cluster/bounded-channel';
import { cutBlocks } from '../../src/cluster/stripe-writer';

async function* chunksOf(bytes: Buffer, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    const end = Math.min(bytes.length, cut);
    if (end > offset) yield bytes.subarray(offset, end);
    offset = Math.max(offset, end);
  }
  if (offset < bytes.length) yield bytes.subarray(offset);
}

test('cutBlocks: any chunking gives full blocks then one shorter tail, bytes unchanged', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), fc.array(fc.nat(5000), { maxLength: 20 }), fc.integer({ min: 1, max: 700 }), async (data, cuts, blockSizeBytes) => {
      const bytes = Buffer.from(data);
      const blocks: Buffer[] = [];
      for await (const block of cutBlocks(chunksOf(bytes, cuts), blockSizeBytes)) blocks.push(Buffer.from(block));
      expect(Buffer.concat(blocks).equals(bytes)).toBe(true);
      expect(blocks.slice(0, -1).every((b) => b.length === blockSizeBytes)).toBe(true);
      expect(blocks.length).toBe(Math.ceil(bytes.length / blockSizeBytes));
    }),
    { numRuns: 200 },
  );
});

test('BoundedChannel: bounded, ordered, and discard releases a blocked producer', async () => {
  const channel = new BoundedChannel<number>(2);
  let pushedCount = 0;
  const producer = (async () => {
    for (let i = 0; i < 5; i += 1) {
      await channel.push(i);
      pushedCount += 1;
    }
    channel.close();
  })();
  await new Promise((resolve) => setImmediate(resolve));
  expect(pushedCount).toBe(2);
  const received: number[] = [];
  for await (const item of channel) received.push(item);
  await producer;
  expect(received).toEqual([0, 1, 2, 3, 4]);

  const stuck = new BoundedChannel<number>(1);
  await stuck.push(1);
  const blocked = stuck.push(2);
  stuck.discard();
  await blocked;
  expect(stuck.isDiscarded).toBe(true);
  const afterDiscard: number[] = [];
  for await (const item of stuck) afterDiscard.push(item);
  expect(afterDiscard).toEqual([]);
});
