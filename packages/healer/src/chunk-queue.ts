/**
 * Bounded single-producer/single-consumer queue of byte chunks, iterated by a shard writer.
 * `push` waits while `capacity` chunks are queued, so a slow target slows the rebuild instead
 * of growing memory.
 */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private closed = false;
  private failure: Error | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(private readonly capacity: number) {}

  async push(chunk: Uint8Array): Promise<void> {
    while (this.chunks.length >= this.capacity && this.failure === undefined) {
      await new Promise<void>((resolve) => (this.wakeProducer = resolve));
    }
    if (this.failure !== undefined) throw this.failure;
    this.chunks.push(chunk);
    this.wakeConsumer?.();
  }

  close(): void {
    this.closed = true;
    this.wakeConsumer?.();
  }

  /** Ends the consumer's iteration with `err` and releases a waiting producer. */
  fail(err: Error): void {
    this.failure = err;
    this.wakeConsumer?.();
    this.wakeProducer?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.wakeProducer?.();
        yield chunk;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }
}
