import { assertNever } from '@tessera/common';
import { decodeMembershipChangeRecord } from './codec';
import type { RaftMessage } from './messages';
import type { LogEntry } from './types';

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** One-line, human-readable form of an entry, for logs and test transcripts. */
export function describeLogEntry(entry: LogEntry): string {
  const position = `${entry.index}@${entry.term}`;
  switch (entry.kind) {
    case 'empty':
      return `${position} empty`;
    case 'membership': {
      const { change } = decodeMembershipChangeRecord(entry.data);
      return `${position} ${change.kind} ${change.nodeId}`;
    }
    case 'normal':
      return `${position} "${textDecoder.decode(entry.data.subarray(0, 40))}"`;
    default:
      return assertNever(entry.kind, 'entry kind');
  }
}

/** One-line, human-readable form of a message, for logs and test transcripts. */
export function describeRaftMessage(message: RaftMessage): string {
  const head = `${message.from}->${message.to} ${message.kind} term=${message.term}`;
  switch (message.kind) {
    case 'preVote':
    case 'vote':
      return `${head} last=${message.lastLogIndex}@${message.lastLogTerm}${message.kind === 'vote' && message.leadershipTransfer ? ' transfer' : ''}`;
    case 'preVoteResponse':
    case 'voteResponse':
      return `${head} ${message.reject ? 'reject' : 'grant'}`;
    case 'append': {
      const entries = message.entries.map(describeLogEntry).join(', ');
      return `${head} prev=${message.prevLogIndex}@${message.prevLogTerm} commit=${message.commit} [${entries}]`;
    }
    case 'appendResponse':
      return message.reject
        ? `${head} reject index=${message.index} hint=${message.rejectHint}@${message.rejectHintTerm}`
        : `${head} ok index=${message.index}`;
    case 'heartbeat':
      return `${head} commit=${message.commit} read=${message.readSequence}`;
    case 'heartbeatResponse':
      return `${head} read=${message.readSequence}`;
    case 'snapshot': {
      const { metadata } = message.snapshot;
      return `${head} snapshot=${metadata.index}@${metadata.term} voters=${metadata.membership.voters.join(',')} bytes=${message.snapshot.data.length}`;
    }
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} request=${message.requestId}`;
    case 'readIndexResponse':
      return `${head} request=${message.requestId} ${message.reject ? 'reject' : `index=${message.index}`}`;
    default:
      return assertNever(message, 'raft message');
  }
}
