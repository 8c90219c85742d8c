/** Operating error: the live membership cannot hold a stripe at all. */
export class InsufficientNodesError extends Error {
  static readonly errorName = 'InsufficientNodesError';
  constructor(readonly shardCount: number, readonly liveNodeCount: number) {
    super(`cannot place ${shardCount} shards: ${liveNodeCount} live storage nodes`);
    this.name = InsufficientNodesError.errorName;
  }
}
