/**
 * A single-producer, single-consumer async queue with a fixed capacity: the producer awaits
 * `push` until there is room, so a slow consumer (one storage node's shard stream) slows the
 * producer (the body reader) instead of letting memory grow. Closing ends the consumer's
 * iteration after the queued items; `discard` drops everything and makes later pushes no-ops
 * (used once the shard's stream has failed and its blocks are no longer wanted).
 */
import { assert } from '@tessera/common';

export class BoundedChannel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private discarded = false;
  private waitingConsumer: (() => void) | undefined;
  private waitingProducer: (() => void) | undefined;

  constructor(readonly capacityCount: number) {
    assert(Number.isInteger(capacityCount) && capacityCount >= 1, 'channel capacity is a positive integer');
  }

  get isDiscarded(): boolean {
    return this.discarded;
  }

  /** Resolves once the item is queued (or dropped because the channel was discarded). */
  async push(item: T): Promise<void> {
    assert(!this.closed, 'push after close');
    while (!this.discarded && this.items.length >= this.capacityCount) {
      await new Promise<void>((resolve) => (this.waitingProducer = resolve));
    }
    if (this.discarded) return;
    this.items.push(item);
    this.wakeConsumer();
  }

  close(): void {
    this.closed = true;
    this.wakeConsumer();
  }

  discard(): void {
    this.discarded = true;
    this.items.length = 0;
    this.wakeConsumer();
    this.wakeProducer();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        this.wakeProducer();
        yield item;
        continue;
      }
      if (this.closed || this.discarded) return;
      await new Promise<void>((resolve) => (this.waitingConsumer = resolve));
    }
  }

  private wakeConsumer(): void {
    const wake = this.waitingConsumer;
    this.waitingConsumer = undefined;
    wake?.();
  }

  private wakeProducer(): void {
    const wake = this.waitingProducer;
    this.waitingProducer = undefined;
    wake?.();
  }
}
