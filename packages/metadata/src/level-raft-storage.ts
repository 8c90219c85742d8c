import { assert } from '@tessera/common';
import type { LogIndex, Term } from '@tessera/common';
import { Level } from 'level';
import {
  MemoryRaftStorage, decodeHardState, decodeLogEntry, decodeSnapshotMetadata, encodeHardState, encodeLogEntry,
  encodeSnapshotMetadata,
} from '@tessera/raft';
import type { HardState, LogEntry, RaftLogView, Snapshot } from '@tessera/raft';

/**
 * Key layout of the Raft database (its own LevelDB, `<data-dir>/raft`):
 *
 * | key                          | value                                  |
 * |------------------------------|----------------------------------------|
 * | `h`                          | encodeHardState(term, vote, commit)     |
 * | `s`                          | encodeSnapshotMetadata(index, term, membership) |
 * | `d`                          | snapshot data (opaque to Raft)          |
 * | `e` + index (8 bytes, BE)    | encodeLogEntry(entry)                   |
 */
const hardStateKey = Buffer.from('h');
const snapshotMetadataKey = Buffer.from('s');
const snapshotDataKey = Buffer.from('d');
const entryPrefix = 0x65; // 'e'

function entryKey(index: number): Buffer {
  const key = Buffer.alloc(9);
  key[0] = entryPrefix;
  key.writeBigUInt64BE(BigInt(index), 1);
  return key;
}

type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export interface RaftSave {
  readonly hardState: HardState | undefined;
  readonly entries: readonly LogEntry[];
  readonly snapshot: Snapshot | undefined;
}

/**
 * The Raft log, term/vote and snapshot metadata in LevelDB, with the uncompacted tail mirrored
 * in memory (a MemoryRaftStorage) so the core's synchronous reads never touch the disk.
 * Every change is written to LevelDB first, in one batch with `sync: true`, and only then to
 * the in-memory mirror, so the core never sees state that a crash could take back.
 */
export class LevelRaftStorage implements RaftLogView {
  private constructor(private readonly db: Level<Buffer, Buffer>, private readonly memory: MemoryRaftStorage) {}

  static async open(directory: string): Promise<LevelRaftStorage> {
    const db = new Level<Buffer, Buffer>(directory, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    const memory = new MemoryRaftStorage();
    const metadataBytes = await db.get(snapshotMetadataKey);
    if (metadataBytes !== undefined) {
      const data = (await db.get(snapshotDataKey)) ?? Buffer.alloc(0);
      memory.applySnapshot({ metadata: decodeSnapshotMetadata(metadataBytes), data: new Uint8Array(data) });
    }
    const hardStateBytes = await db.get(hardStateKey);
    if (hardStateBytes !== undefined) memory.setHardState(decodeHardState(hardStateBytes));
    const entries: LogEntry[] = [];
    for await (const value of db.values({ gt: entryKey(memory.snapshot().metadata.index), lt: Buffer.from([entryPrefix + 1]) })) {
      entries.push(decodeLogEntry(value));
    }
    memory.append(entries);
    return new LevelRaftStorage(db, memory);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  hardState(): HardState {
    return this.memory.hardState();
  }
  snapshot(): Snapshot {
    return this.memory.snapshot();
  }
  firstIndex(): LogIndex {
    return this.memory.firstIndex();
  }
  lastIndex(): LogIndex {
    return this.memory.lastIndex();
  }
  term(index: LogIndex): Term {
    return this.memory.term(index);
  }
  entries(lowIndex: LogIndex, highIndexExclusive: LogIndex, sizeBytesMax: number): LogEntry[] {
    return this.memory.entries(lowIndex, highIndexExclusive, sizeBytesMax);
  }
  /** Entry bytes mirrored in memory since the last snapshot. */
  entriesSizeBytes(): number {
    return this.memory.entriesSizeBytes();
  }

  /**
   * Step 1 of the Ready contract: snapshot (replacing the whole log), then entries (replacing
   * any at the same or higher indexes), then hard state, in ONE fsync'd batch.
   */
  async save(save: RaftSave): Promise<void> {
    const ops: BatchOp[] = [];
    let lastIndexAfter = this.lastIndex();
    if (save.snapshot !== undefined) {
      for (let index = this.firstIndex(); index <= this.lastIndex(); index++) ops.push({ type: 'del', key: entryKey(index) });
      ops.push(...this.snapshotOps(save.snapshot));
      lastIndexAfter = save.snapshot.metadata.index;
    }
    const first = save.entries[0];
    if (first !== undefined) {
      // Entries after the new ones' start conflict with them (paper §5.3): remove them.
      for (let index = first.index; index <= lastIndexAfter; index++) ops.push({ type: 'del', key: entryKey(index) });
      for (const entry of save.entries) ops.push({ type: 'put', key: entryKey(entry.index), value: Buffer.from(encodeLogEntry(entry)) });
    }
    if (save.hardState !== undefined) ops.push({ type: 'put', key: hardStateKey, value: Buffer.from(encodeHardState(save.hardState)) });
    if (ops.length === 0) return;
    await this.db.batch(ops, { sync: true });
    if (save.snapshot !== undefined) this.memory.applySnapshot(save.snapshot);
    this.memory.append(save.entries);
    if (save.hardState !== undefined) this.memory.setHardState(save.hardState);
  }

  /**
   * Log compaction: records a snapshot of the host's own state machine at `metadata.index`
   * (which must be applied) and drops the entries it covers.
   */
  async compact(snapshot: Snapshot): Promise<void> {
    const from = this.firstIndex();
    const to = snapshot.metadata.index;
    if (to < from) return;
    assert(to <= this.lastIndex(), 'compact only what the log holds');
    const ops: BatchOp[] = this.snapshotOps(snapshot);
    for (let index = from; index <= to; index++) ops.push({ type: 'del', key: entryKey(index) });
    await this.db.batch(ops, { sync: true });
    this.memory.createSnapshot(snapshot);
  }

  /**
   * After a crash between installing a received snapshot into the state machine and recording
   * it here, the state machine is ahead of the log: adopt its snapshot point.
   */
  async adoptSnapshot(snapshot: Snapshot): Promise<void> {
    assert(snapshot.metadata.index >= this.snapshot().metadata.index, 'snapshots only move forward');
    await this.save({ hardState: undefined, entries: [], snapshot });
  }

  private snapshotOps(snapshot: Snapshot): BatchOp[] {
    return [
      { type: 'put', key: snapshotMetadataKey, value: Buffer.from(encodeSnapshotMetadata(snapshot.metadata)) },
      { type: 'put', key: snapshotDataKey, value: Buffer.from(snapshot.data) },
    ];
  }

  /** Approximate bytes on disk, for metrics. */
  async approximateSizeBytes(): Promise<number> {
    return approximateSize(this.db);
  }
}

export async function approximateSize(db: Level<Buffer, Buffer>): Promise<number> {
  const withSize = db as unknown as { approximateSize?: (start: Buffer, end: Buffer) => Promise<number> };
  if (typeof withSize.approximateSize !== 'function') return 0;
  return withSize.approximateSize(Buffer.from([0x00]), Buffer.alloc(16, 0xff));
}
