import type { LogIndex, Term } from '@tessera/common';
import { assert, assertNever, logIndex, term } from '@tessera/common';
import type { RaftMessage, RaftMessageKind } from './messages';
import { raftMessageKinds } from './messages';
import type {
  HardState,
  LogEntry,
  LogEntryKind,
  Membership,
  MembershipChangeKind,
  MembershipChangeRecord,
  Snapshot,
  SnapshotMetadata,
} from './types';

/**
 * Binary codecs, so the transport and the storage carry bytes and never the shapes. Every
 * top-level encoding starts with a format version byte; integers are unsigned LEB128 varints
 * (exact up to 2^53), strings UTF-8 and byte arrays length-prefixed. Decoding malformed input
 * throws RaftCodecError (bytes come from disk or the network: an operating error, not a bug).
 */
export class RaftCodecError extends Error {
  static readonly errorName = 'RaftCodecError';
  constructor(message: string) {
    super(`raft codec: ${message}`);
    this.name = RaftCodecError.errorName;
  }
}

const formatVersion = 1;
const entryKinds: readonly LogEntryKind[] = ['normal', 'membership', 'empty'];
const changeKinds: readonly MembershipChangeKind[] = ['addLearner', 'add', 'remove'];
const utf8Encoder = new TextEncoder();
// ignoreBOM: a string that begins with U+FEFF decodes to itself.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class ByteWriter {
  private buffer = new Uint8Array(64);
  private length = 0;

  private reserve(extraBytes: number): void {
    if (this.length + extraBytes <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + extraBytes) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }
  uint(value: number): void {
    assert(Number.isSafeInteger(value) && value >= 0, `varint must be a non-negative safe integer, got ${value}`);
    let rest = value;
    while (rest >= 0x80) {
      this.byte((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.byte(rest);
  }
  bytes(value: Uint8Array): void {
    this.uint(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }
  string(value: string): void {
    this.bytes(utf8Encoder.encode(value));
  }
  bool(value: boolean): void {
    this.byte(value ? 1 : 0);
  }
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

class ByteReader {
  private position = 0;
  constructor(private readonly buffer: Uint8Array) {}

  byte(): number {
    const value = this.buffer[this.position];
    if (value === undefined) throw new RaftCodecError('unexpected end of input');
    this.position += 1;
    return value;
  }
  uint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 49) throw new RaftCodecError('varint too long');
    }
    if (!Number.isSafeInteger(value)) throw new RaftCodecError('varint exceeds 2^53');
    return value;
  }
  bytes(): Uint8Array {
    const length = this.uint();
    if (this.position + length > this.buffer.length) throw new RaftCodecError('byte array runs past the end');
    // A copy, not a view: a decoded log entry stays in the log until the next snapshot, and a
    // view would keep the whole received message (for a Node Buffer, its network chunk) alive.
    const value = new Uint8Array(this.buffer.subarray(this.position, this.position + length));
    this.position += length;
    return value;
  }
  string(): string {
    try {
      return utf8Decoder.decode(this.bytes());
    } catch (err) {
      if (err instanceof RaftCodecError) throw err;
      throw new RaftCodecError('invalid UTF-8');
    }
  }
  bool(): boolean {
    const value = this.byte();
    if (value > 1) throw new RaftCodecError(`invalid boolean ${value}`);
    return value === 1;
  }
  index(): LogIndex {
    return logIndex(this.uint());
  }
  term(): Term {
    return term(this.uint());
  }
  version(): void {
    const version = this.byte();
    if (version !== formatVersion) throw new RaftCodecError(`unknown format version ${version}`);
  }
  end(): void {
    if (this.position !== this.buffer.length) throw new RaftCodecError(`${this.buffer.length - this.position} trailing bytes`);
  }
}

function writeMembership(writer: ByteWriter, membership: Membership): void {
  writer.uint(membership.voters.length);
  for (const id of membership.voters) writer.string(id);
  writer.uint(membership.learners.length);
  for (const id of membership.learners) writer.string(id);
}

function readMembership(reader: ByteReader): Membership {
  const voters: string[] = [];
  for (let count = reader.uint(); count > 0; count--) voters.push(reader.string());
  const learners: string[] = [];
  for (let count = reader.uint(); count > 0; count--) learners.push(reader.string());
  return { voters, learners };
}

function writeEntry(writer: ByteWriter, entry: LogEntry): void {
  writer.uint(entry.index);
  writer.uint(entry.term);
  writer.byte(entryKinds.indexOf(entry.kind));
  writer.bytes(entry.data);
}

function readEntry(reader: ByteReader): LogEntry {
  const index = reader.index();
  const entryTerm = reader.term();
  const kindCode = reader.byte();
  const kind = entryKinds[kindCode];
  if (kind === undefined) throw new RaftCodecError(`unknown entry kind ${kindCode}`);
  return { index, term: entryTerm, kind, data: reader.bytes() };
}

function writeSnapshotMetadata(writer: ByteWriter, metadata: SnapshotMetadata): void {
  writer.uint(metadata.index);
  writer.uint(metadata.term);
  writeMembership(writer, metadata.membership);
}

function readSnapshotMetadata(reader: ByteReader): SnapshotMetadata {
  const index = reader.index();
  const snapshotTerm = reader.term();
  return { index, term: snapshotTerm, membership: readMembership(reader) };
}

function decodeWith<T>(bytes: Uint8Array, read: (reader: ByteReader) => T): T {
  const reader = new ByteReader(bytes);
  reader.version();
  const value = read(reader);
  reader.end();
  return value;
}

function encodeWith(write: (writer: ByteWriter) => void): Uint8Array {
  const writer = new ByteWriter();
  writer.byte(formatVersion);
  write(writer);
  return writer.finish();
}

export function encodeLogEntry(entry: LogEntry): Uint8Array {
  return encodeWith((writer) => writeEntry(writer, entry));
}
export function decodeLogEntry(bytes: Uint8Array): LogEntry {
  return decodeWith(bytes, readEntry);
}

export function encodeHardState(hardState: HardState): Uint8Array {
  return encodeWith((writer) => {
    writer.uint(hardState.term);
    writer.bool(hardState.vote !== undefined);
    if (hardState.vote !== undefined) writer.string(hardState.vote);
    writer.uint(hardState.commit);
  });
}
export function decodeHardState(bytes: Uint8Array): HardState {
  return decodeWith(bytes, (reader) => {
    const hardTerm = reader.term();
    const vote = reader.bool() ? reader.string() : undefined;
    return { term: hardTerm, vote, commit: reader.index() };
  });
}

export function encodeSnapshotMetadata(metadata: SnapshotMetadata): Uint8Array {
  return encodeWith((writer) => writeSnapshotMetadata(writer, metadata));
}
export function decodeSnapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
  return decodeWith(bytes, readSnapshotMetadata);
}

export function encodeMembershipChangeRecord(record: MembershipChangeRecord): Uint8Array {
  return encodeWith((writer) => {
    writer.byte(changeKinds.indexOf(record.change.kind));
    writer.string(record.change.nodeId);
    writeMembership(writer, record.membership);
  });
}
export function decodeMembershipChangeRecord(bytes: Uint8Array): MembershipChangeRecord {
  return decodeWith(bytes, (reader) => {
    const kindCode = reader.byte();
    const kind = changeKinds[kindCode];
    if (kind === undefined) throw new RaftCodecError(`unknown membership change kind ${kindCode}`);
    const nodeId = reader.string();
    return { change: { kind, nodeId }, membership: readMembership(reader) };
  });
}

/** Encodes any message; the kind byte is its position in `raftMessageKinds`. */
export function encodeRaftMessage(message: RaftMessage): Uint8Array {
  return encodeWith((writer) => {
    writer.byte(raftMessageKinds.indexOf(message.kind));
    writer.string(message.from);
    writer.string(message.to);
    writer.uint(message.term);
    writeMessageBody(writer, message);
  });
}

function writeMessageBody(writer: ByteWriter, message: RaftMessage): void {
  switch (message.kind) {
    case 'preVote':
      writer.uint(message.lastLogIndex);
      writer.uint(message.lastLogTerm);
      return;
    case 'vote':
      writer.uint(message.lastLogIndex);
      writer.uint(message.lastLogTerm);
      writer.bool(message.leadershipTransfer);
      return;
    case 'preVoteResponse':
    case 'voteResponse':
      writer.bool(message.reject);
      return;
    case 'append':
      writer.uint(message.prevLogIndex);
      writer.uint(message.prevLogTerm);
      writer.uint(message.commit);
      writer.uint(message.entries.length);
      for (const entry of message.entries) writeEntry(writer, entry);
      return;
    case 'appendResponse':
      writer.bool(message.reject);
      writer.uint(message.index);
      writer.uint(message.rejectHint);
      writer.uint(message.rejectHintTerm);
      return;
    case 'heartbeat':
      writer.uint(message.commit);
      writer.uint(message.readSequence);
      return;
    case 'heartbeatResponse':
      writer.uint(message.readSequence);
      return;
    case 'snapshot':
      writeSnapshotMetadata(writer, message.snapshot.metadata);
      writer.bytes(message.snapshot.data);
      return;
    case 'timeoutNow':
      return;
    case 'readIndex':
      writer.string(message.requestId);
      return;
    case 'readIndexResponse':
      writer.string(message.requestId);
      writer.uint(message.index);
      writer.bool(message.reject);
      return;
    default:
      assertNever(message, 'raft message');
  }
}

export function decodeRaftMessage(bytes: Uint8Array): RaftMessage {
  return decodeWith(bytes, (reader) => {
    const kindCode = reader.byte();
    const kind = raftMessageKinds[kindCode];
    if (kind === undefined) throw new RaftCodecError(`unknown message kind ${kindCode}`);
    const base = { from: reader.string(), to: reader.string(), term: reader.term() };
    return readMessageBody(reader, kind, base);
  });
}

function readMessageBody(reader: ByteReader, kind: RaftMessageKind, base: { from: string; to: string; term: Term }): RaftMessage {
  switch (kind) {
    case 'preVote':
      return { kind, ...base, lastLogIndex: reader.index(), lastLogTerm: reader.term() };
    case 'vote':
      return { kind, ...base, lastLogIndex: reader.index(), lastLogTerm: reader.term(), leadershipTransfer: reader.bool() };
    case 'preVoteResponse':
    case 'voteResponse':
      return { kind, ...base, reject: reader.bool() };
    case 'append': {
      const prevLogIndex = reader.index();
      const prevLogTerm = reader.term();
      const commit = reader.index();
      const entries: LogEntry[] = [];
      for (let count = reader.uint(); count > 0; count--) entries.push(readEntry(reader));
      return { kind, ...base, prevLogIndex, prevLogTerm, commit, entries };
    }
    case 'appendResponse':
      return { kind, ...base, reject: reader.bool(), index: reader.index(), rejectHint: reader.index(), rejectHintTerm: reader.term() };
    case 'heartbeat':
      return { kind, ...base, commit: reader.index(), readSequence: reader.uint() };
    case 'heartbeatResponse':
      return { kind, ...base, readSequence: reader.uint() };
    case 'snapshot': {
      const metadata = readSnapshotMetadata(reader);
      const snapshot: Snapshot = { metadata, data: reader.bytes() };
      return { kind, ...base, snapshot };
    }
    case 'timeoutNow':
      return { kind, ...base };
    case 'readIndex':
      return { kind, ...base, requestId: reader.string() };
    case 'readIndexResponse':
      return { kind, ...base, requestId: reader.string(), index: reader.index(), reject: reader.bool() };
    default:
      return assertNever(kind, 'raft message kind');
  }
}
