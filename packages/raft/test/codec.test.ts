// Goal: the binary codecs round-trip every message kind, entry, hard state and snapshot
// metadata exactly, and reject malformed bytes with RaftCodecError (never a crash or a wrong
// value). Method: fast-check properties over generated values, plus hand-made bad inputs.
import fc from 'fast-check';
import { logIndex, term } from '@tessera/common';
import type { LogEntry, Membership, RaftMessage } from '@tessera/raft';
import {
  RaftCodecError,
  decodeHardState,
  decodeLogEntry,
  decodeMembershipChangeRecord,
  decodeRaftMessage,
  decodeSnapshotMetadata,
  encodeHardState,
  encodeLogEntry,
  encodeMembershipChangeRecord,
  encodeRaftMessage,
  encodeSnapshotMetadata,
  raftMessageKinds,
} from '@tessera/raft';

const bigNumber = fc.oneof(fc.nat(1000), fc.constant(Number.MAX_SAFE_INTEGER), fc.nat());
const anIndex = bigNumber.map(logIndex);
const aTerm = bigNumber.map(term);
// A leading U+FEFF must survive decoding (a default TextDecoder drops it).
const anId = fc.oneof(fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }), fc.string({ maxLength: 6 }).map((s) => `\uFEFF${s}`));
const bytes = fc.uint8Array({ maxLength: 64 });
const entry: fc.Arbitrary<LogEntry> = fc.record({
  index: anIndex,
  term: aTerm,
  kind: fc.constantFrom('normal' as const, 'membership' as const, 'empty' as const),
  data: bytes,
});
const membership: fc.Arbitrary<Membership> = fc.record({ voters: fc.array(anId, { maxLength: 5 }), learners: fc.array(anId, { maxLength: 3 }) });
const base = fc.record({ from: anId, to: anId, term: aTerm });

const message: fc.Arbitrary<RaftMessage> = fc.oneof(
  fc.record({ base, lastLogIndex: anIndex, lastLogTerm: aTerm }).map(({ base: b, ...rest }) => ({ kind: 'preVote' as const, ...b, ...rest })),
  fc.record({ base, lastLogIndex: anIndex, lastLogTerm: aTerm, leadershipTransfer: fc.boolean() }).map(({ base: b, ...rest }) => ({ kind: 'vote' as const, ...b, ...rest })),
  fc.record({ base, reject: fc.boolean() }).map(({ base: b, ...rest }) => ({ kind: 'preVoteResponse' as const, ...b, ...rest })),
  fc.record({ base, reject: fc.boolean() }).map(({ base: b, ...rest }) => ({ kind: 'voteResponse' as const, ...b, ...rest })),
  fc
    .record({ base, prevLogIndex: anIndex, prevLogTerm: aTerm, entries: fc.array(entry, { maxLength: 4 }), commit: anIndex })
    .map(({ base: b, ...rest }) => ({ kind: 'append' as const, ...b, ...rest })),
  fc
    .record({ base, reject: fc.boolean(), index: anIndex, rejectHint: anIndex, rejectHintTerm: aTerm })
    .map(({ base: b, ...rest }) => ({ kind: 'appendResponse' as const, ...b, ...rest })),
  fc.record({ base, commit: anIndex, readSequence: fc.nat() }).map(({ base: b, ...rest }) => ({ kind: 'heartbeat' as const, ...b, ...rest })),
  fc.record({ base, readSequence: fc.nat() }).map(({ base: b, ...rest }) => ({ kind: 'heartbeatResponse' as const, ...b, ...rest })),
  fc
    .record({ base, index: anIndex, term: aTerm, membership, data: bytes })
    .map(({ base: b, index, term: t, membership: m, data }) => ({ kind: 'snapshot' as const, ...b, snapshot: { metadata: { index, term: t, membership: m }, data } })),
  base.map((b) => ({ kind: 'timeoutNow' as const, ...b })),
  fc.record({ base, requestId: fc.string() }).map(({ base: b, ...rest }) => ({ kind: 'readIndex' as const, ...b, ...rest })),
  fc
    .record({ base, requestId: fc.string(), index: anIndex, reject: fc.boolean() })
    .map(({ base: b, ...rest }) => ({ kind: 'readIndexResponse' as const, ...b, ...rest })),
);

describe('raft codecs', () => {
  test('every message kind round-trips', () => {
    const seenKinds = new Set<string>();
    fc.assert(
      fc.property(message, (original) => {
        seenKinds.add(original.kind);
        expect(decodeRaftMessage(encodeRaftMessage(original))).toEqual(original);
      }),
      { numRuns: 2000 },
    );
    expect([...seenKinds].sort()).toEqual([...raftMessageKinds].sort());
  });

  test('entries, hard states, snapshot metadata and membership records round-trip', () => {
    fc.assert(
      fc.property(entry, aTerm, fc.option(anId, { nil: undefined }), anIndex, membership, (e, t, vote, index, m) => {
        expect(decodeLogEntry(encodeLogEntry(e))).toEqual(e);
        const hardState = { term: t, vote, commit: index };
        expect(decodeHardState(encodeHardState(hardState))).toEqual(hardState);
        const metadata = { index, term: t, membership: m };
        expect(decodeSnapshotMetadata(encodeSnapshotMetadata(metadata))).toEqual(metadata);
        const record = { change: { kind: 'remove' as const, nodeId: 'n1' }, membership: m };
        expect(decodeMembershipChangeRecord(encodeMembershipChangeRecord(record))).toEqual(record);
      }),
    );
  });

  test('a decoded entry owns its data: no view into the received bytes, which it would keep alive in the log', () => {
    const original: LogEntry = { index: logIndex(7), term: term(2), kind: 'normal', data: new Uint8Array([1, 2, 3, 4, 5]) };
    const encoded = encodeLogEntry(original);
    // As gRPC hands it over: a Node Buffer that is a slice of a larger network chunk.
    const chunk = Buffer.alloc(64 * 1024);
    chunk.set(encoded, 1000);
    const decoded = decodeLogEntry(chunk.subarray(1000, 1000 + encoded.length));
    expect(decoded.data.buffer.byteLength).toBe(5);
    chunk.fill(0);
    expect([...decoded.data]).toEqual([1, 2, 3, 4, 5]);
  });

  test('any truncation or trailing byte is rejected with RaftCodecError', () => {
    fc.assert(
      fc.property(message, fc.nat(), (original, cut) => {
        const encoded = encodeRaftMessage(original);
        const truncated = encoded.subarray(0, cut % encoded.length);
        expect(() => decodeRaftMessage(truncated)).toThrow(RaftCodecError);
        const extended = new Uint8Array([...encoded, 0]);
        expect(() => decodeRaftMessage(extended)).toThrow(RaftCodecError);
      }),
      { numRuns: 500 },
    );
  });

  test('unknown versions, kinds and invalid UTF-8 are rejected', () => {
    const good = encodeRaftMessage({ kind: 'timeoutNow', from: 'a', to: 'b', term: term(1) });
    expect(() => decodeRaftMessage(new Uint8Array([2, ...good.subarray(1)]))).toThrow(/unknown format version 2/);
    expect(() => decodeRaftMessage(new Uint8Array([1, 200, ...good.subarray(2)]))).toThrow(/unknown message kind 200/);
    expect(() => decodeRaftMessage(new Uint8Array([1, 9, 1, 0xff, 1, 0x62, 1]))).toThrow(/invalid UTF-8/);
    expect(() => decodeLogEntry(new Uint8Array([1, 1, 1, 7, 0]))).toThrow(/unknown entry kind 7/);
    // A varint longer than 2^53 is refused rather than silently rounded.
    expect(() => decodeHardState(new Uint8Array([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0]))).toThrow(RaftCodecError);
  });

  test('the encoding is stable (golden bytes for a heartbeat)', () => {
    const encoded = encodeRaftMessage({ kind: 'heartbeat', from: 'a', to: 'b', term: term(300), commit: logIndex(5), readSequence: 2 });
    expect(Buffer.from(encoded).toString('hex')).toBe('010601610162ac020502');
  });
});
