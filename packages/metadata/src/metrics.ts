import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** Every metric of a metadata node, registered on the Registry the composition root owns. */
export interface MetadataMetrics {
  readonly term: Gauge;
  readonly isLeader: Gauge;
  readonly leaderInfo: Gauge<'leader_id'>;
  readonly commitIndex: Gauge;
  readonly appliedIndex: Gauge;
  readonly applyLag: Gauge;
  readonly logEntries: Gauge;
  readonly logEntryBytes: Gauge;
  readonly proposals: Counter<'result'>;
  readonly elections: Counter;
  readonly entriesPersisted: Counter;
  readonly snapshotsTaken: Counter;
  readonly snapshotsInstalled: Counter;
  readonly snapshotSentBytes: Counter;
  readonly snapshotReceivedBytes: Counter;
  readonly levelDbSizeBytes: Gauge<'db'>;
  readonly levelDbCompactionFix: Gauge;
  readonly bucketObjects: Gauge<'bucket'>;
  readonly bucketObjectBytes: Gauge<'bucket'>;
  readonly bucketMultipartUploads: Gauge<'bucket'>;
  readonly bucketNoncurrentVersions: Gauge<'bucket'>;
  readonly bucketNoncurrentVersionBytes: Gauge<'bucket'>;
  readonly bucketDeleteMarkers: Gauge<'bucket'>;
  readonly objects: Gauge;
  readonly objectBytes: Gauge;
  readonly multipartUploads: Gauge;
}

export function createMetadataMetrics(registry: Registry): MetadataMetrics {
  const registers = [registry];
  return {
    term: new Gauge({ name: 'metadata_raft_term', help: 'Current Raft term of this node', registers }),
    isLeader: new Gauge({ name: 'metadata_raft_is_leader', help: '1 if this node is the Raft leader', registers }),
    leaderInfo: new Gauge({ name: 'metadata_raft_leader_info', help: 'Leader this node believes in (value 1, label leader_id)', labelNames: ['leader_id'], registers }),
    commitIndex: new Gauge({ name: 'metadata_raft_commit_index', help: 'Highest log index known committed', registers }),
    appliedIndex: new Gauge({ name: 'metadata_raft_applied_index', help: 'Highest log index applied to the catalogue', registers }),
    applyLag: new Gauge({ name: 'metadata_raft_apply_lag_entries', help: 'Committed but not yet applied entries', registers }),
    logEntries: new Gauge({ name: 'metadata_raft_log_entries', help: 'Log entries since the last snapshot (kept on disk and mirrored in memory)', registers }),
    logEntryBytes: new Gauge({ name: 'metadata_raft_log_entry_bytes', help: 'Data bytes of the log entries since the last snapshot, held in memory until the next one', registers }),
    proposals: new Counter({ name: 'metadata_raft_proposals_total', help: 'Proposals by result: proposed, committed, refused (typed error at apply), rejected (not leader), lost, timeout', labelNames: ['result'], registers }),
    elections: new Counter({ name: 'metadata_raft_elections_won_total', help: 'Times this node became leader', registers }),
    entriesPersisted: new Counter({ name: 'metadata_raft_entries_persisted_total', help: 'Log entries written to LevelDB', registers }),
    snapshotsTaken: new Counter({ name: 'metadata_raft_snapshots_taken_total', help: 'Log compactions (snapshots of the own state)', registers }),
    snapshotsInstalled: new Counter({ name: 'metadata_raft_snapshots_installed_total', help: 'Snapshots received from a leader and installed', registers }),
    snapshotSentBytes: new Counter({ name: 'metadata_raft_snapshot_sent_bytes_total', help: 'Snapshot key/value bytes streamed to followers', registers }),
    snapshotReceivedBytes: new Counter({ name: 'metadata_raft_snapshot_received_bytes_total', help: 'Snapshot key/value bytes received from a leader', registers }),
    levelDbSizeBytes: new Gauge({ name: 'metadata_leveldb_size_bytes', help: 'Approximate LevelDB size on disk', labelNames: ['db'], registers }),
    levelDbCompactionFix: new Gauge({ name: 'metadata_leveldb_compaction_fix', help: '1 if the LevelDB engine carries Tessera\'s compaction fix; 0 on the stock engine, whose point reads can return overwritten values (native/leveldb/README.md)', registers }),
    bucketObjects: new Gauge({ name: 'metadata_bucket_objects', help: 'Current objects per bucket (catalogue counters, this node\'s applied state)', labelNames: ['bucket'], registers }),
    bucketObjectBytes: new Gauge({ name: 'metadata_bucket_object_bytes', help: 'Logical bytes of the current objects per bucket', labelNames: ['bucket'], registers }),
    bucketMultipartUploads: new Gauge({ name: 'metadata_bucket_multipart_uploads', help: 'Multipart uploads in progress per bucket', labelNames: ['bucket'], registers }),
    bucketNoncurrentVersions: new Gauge({ name: 'metadata_bucket_noncurrent_versions', help: 'Noncurrent object versions per bucket (buckets with versioning)', labelNames: ['bucket'], registers }),
    bucketNoncurrentVersionBytes: new Gauge({ name: 'metadata_bucket_noncurrent_version_bytes', help: 'Logical bytes of the noncurrent object versions per bucket', labelNames: ['bucket'], registers }),
    bucketDeleteMarkers: new Gauge({ name: 'metadata_bucket_delete_markers', help: 'Delete markers per bucket', labelNames: ['bucket'], registers }),
    objects: new Gauge({ name: 'metadata_objects', help: 'Current objects in all buckets', registers }),
    objectBytes: new Gauge({ name: 'metadata_object_bytes', help: 'Logical bytes of the current objects in all buckets', registers }),
    multipartUploads: new Gauge({ name: 'metadata_multipart_uploads', help: 'Multipart uploads in progress in all buckets', registers }),
  };
}
