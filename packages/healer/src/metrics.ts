import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** Every healer metric, on the Registry given (never the global default one). */
export function createHealerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    rebuiltShards: new Counter({ name: 'healer_rebuilt_shards_total', help: 'Shards reconstructed and written', labelNames: ['placement'] as const, registers }),
    rebuiltBytes: new Counter({ name: 'healer_rebuilt_bytes_total', help: 'Shard bytes reconstructed and written', registers }),
    stripes: new Counter({ name: 'healer_stripes_total', help: 'Stripes handled, by outcome', labelNames: ['outcome'] as const, registers }),
    backlogStripes: new Gauge({ name: 'healer_backlog_stripes', help: 'Stripes below full redundancy known to this healer (last round)', registers }),
    backlogBytes: new Gauge({ name: 'healer_backlog_bytes', help: 'Shard bytes still to rebuild (last round)', registers }),
    rateLimit: new Gauge({ name: 'healer_rebuild_rate_limit_bytes_per_second', help: 'Rebuild throttle', registers }),
    rebuildRate: new Gauge({ name: 'healer_rebuild_rate_bytes_per_second', help: 'Measured rebuild rate over the last round', registers }),
    etaSeconds: new Gauge({ name: 'healer_eta_seconds', help: 'Backlog bytes / measured rate (0 when idle)', registers }),
    scrubShards: new Counter({ name: 'healer_scrub_shards_total', help: 'Shards verified by the scrubber, by result', labelNames: ['result'] as const, registers }),
    scrubBytes: new Counter({ name: 'healer_scrub_bytes_total', help: 'Shard bytes verified by the scrubber', registers }),
    scrubProgress: new Gauge({ name: 'healer_scrub_pass_progress_ratio', help: 'Fraction of the current scrub pass done (shards)', registers }),
    scrubRate: new Gauge({ name: 'healer_scrub_rate_bytes_per_second', help: 'Effective scrub rate (configured, raised to meet the period)', registers }),
    oldestUnverifiedAge: new Gauge({ name: 'healer_scrub_oldest_unverified_age_seconds', help: 'Upper bound on the time since the least recently verified shard was verified', registers }),
    paused: new Gauge({ name: 'healer_paused', help: 'Whether the operator paused a loop (1) or not (0): heal = rebuilds, scrub = verification passes', labelNames: ['loop'] as const, registers }),
    scrubPasses: new Counter({ name: 'healer_scrub_passes_total', help: 'Scrub passes ended, by outcome: complete, or failed (ended early on an error; retried next period or on scrub start)', labelNames: ['outcome'] as const, registers }),
    scrubPassRunning: new Gauge({ name: 'healer_scrub_pass_running', help: 'Whether a scrub pass is in progress (1, possibly paused) or not (0)', registers }),
    orphansDeleted: new Counter({ name: 'healer_orphan_shards_deleted_total', help: 'Shards deleted because no record maps them to their node', registers }),
    lifecycleActions: new Counter({
      name: 'healer_lifecycle_actions_total',
      help: 'Lifecycle rule actions taken: expire (current version), expire_noncurrent, delete_marker (expired object delete marker), abort_upload',
      labelNames: ['action'] as const, registers,
    }),
    staleUploadsAborted: new Counter({ name: 'healer_stale_uploads_aborted_total', help: 'Multipart uploads aborted because they were initiated longer ago than the stale-upload expiry', registers }),
  };
}

export type HealerMetrics = ReturnType<typeof createHealerMetrics>;
