#!/usr/bin/env node
/**
 * The healer binary (composition root: the only file reading argv/env and handling signals).
 *   node packages/healer/dist/main.js --metadata a,b,c --metrics-listen 127.0.0.1:9400
 */
import { hostname } from 'node:os';
import { configureServerHeap, configureServerThreadPool, createJsonLogger, eventLoopLagSampleIntervalMs } from '@tessera/common';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { healerDefaults } from './healer-options';
import type { HealerOptions } from './healer-options';
import { startHealer } from './start-healer';

const flags: Record<string, { env: string; help: string }> = {
  metadata: { env: 'TESSERA_METADATA', help: 'metadata addresses, comma separated (required)' },
  'metrics-listen': { env: 'TESSERA_HEALER_METRICS_LISTEN', help: 'host:port for /metrics and /admin/*' },
  'worker-id': { env: 'TESSERA_HEALER_WORKER_ID', help: 'queue lease owner name (default: healer-<hostname>-<pid>)' },
  'node-loss-grace-ms': { env: 'TESSERA_NODE_LOSS_GRACE_MS', help: `rebuild a down node's shards after this (default ${healerDefaults.nodeLossGraceMs})` },
  'heal-interval-ms': { env: 'TESSERA_HEAL_INTERVAL_MS', help: `between healing rounds (default ${healerDefaults.healIntervalMs})` },
  'rebuild-rate-bytes-per-second': { env: 'TESSERA_REBUILD_RATE_BYTES_PER_SECOND', help: `rebuild throttle (default ${healerDefaults.rebuildRateBytesPerSecond})` },
  'rebuild-concurrency': { env: 'TESSERA_REBUILD_CONCURRENCY', help: `stripes rebuilt at once (default ${healerDefaults.rebuildConcurrency})` },
  'scrub-rate-bytes-per-second': { env: 'TESSERA_SCRUB_RATE_BYTES_PER_SECOND', help: `scrub rate (default ${healerDefaults.scrubRateBytesPerSecond})` },
  'scrub-period-ms': { env: 'TESSERA_SCRUB_PERIOD_MS', help: `verify each shard at least this often (default ${healerDefaults.scrubPeriodMs})` },
  'orphan-scan-interval-ms': { env: 'TESSERA_ORPHAN_SCAN_INTERVAL_MS', help: `between orphan scans, 0 = off (default ${healerDefaults.orphanScanIntervalMs})` },
  'orphan-safety-delay-ms': { env: 'TESSERA_ORPHAN_SAFETY_DELAY_MS', help: `minimum age of a collected orphan (default ${healerDefaults.orphanSafetyDelayMs})` },
  'stale-upload-expiry-ms': { env: 'TESSERA_STALE_UPLOAD_EXPIRY_MS', help: `abort multipart uploads initiated longer ago, 0 = never (default ${healerDefaults.staleUploadExpiryMs}: 7 days)` },
  'stale-upload-scan-interval-ms': { env: 'TESSERA_STALE_UPLOAD_SCAN_INTERVAL_MS', help: `between stale-upload sweeps (default ${healerDefaults.staleUploadScanIntervalMs})` },
  'lifecycle-scan-interval-ms': { env: 'TESSERA_LIFECYCLE_SCAN_INTERVAL_MS', help: `between sweeps applying buckets' lifecycle rules, 0 = never (default ${healerDefaults.lifecycleScanIntervalMs})` },
  'lifecycle-day-ms': { env: 'TESSERA_LIFECYCLE_DAY_MS', help: `length of a lifecycle rule's day; shorter only for tests and trials (default ${healerDefaults.lifecycleDayMs}: 24 h, due times rounded to midnight UTC)` },
};

function usage(): string {
  return ['usage: node packages/healer/dist/main.js --metadata host:port,... [options]', '',
    ...Object.entries(flags).map(([name, f]) => `  --${name.padEnd(32)} ${f.env.padEnd(40)} ${f.help}`)].join('\n');
}

function parse(argv: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help') {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    }
    const name = arg.replace(/^--/, '').split('=')[0] ?? '';
    if (!arg.startsWith('--') || flags[name] === undefined) throw new Error(`unknown argument ${arg}`);
    const inline = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : undefined;
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values.set(name, value);
  }
  for (const [name, f] of Object.entries(flags)) {
    const fromEnv = process.env[f.env];
    if (!values.has(name) && fromEnv !== undefined && fromEnv !== '') values.set(name, fromEnv);
  }
  return values;
}

function numberFlag(values: Map<string, string>, name: string, fallback: number): number {
  const raw = values.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number`);
  return value;
}

async function main(): Promise<void> {
  configureServerThreadPool(process.env);
  configureServerHeap();
  let values: Map<string, string>;
  try {
    values = parse(process.argv.slice(2));
    if (!values.has('metadata')) throw new Error('--metadata is required');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage()}\n`);
    process.exit(2);
  }
  const options: HealerOptions = {
    ...healerDefaults,
    metadataAddresses: (values.get('metadata') ?? '').split(',').filter((a) => a !== ''),
    workerId: values.get('worker-id') ?? `healer-${hostname()}-${process.pid}`,
    nodeLossGraceMs: numberFlag(values, 'node-loss-grace-ms', healerDefaults.nodeLossGraceMs),
    healIntervalMs: numberFlag(values, 'heal-interval-ms', healerDefaults.healIntervalMs),
    rebuildRateBytesPerSecond: numberFlag(values, 'rebuild-rate-bytes-per-second', healerDefaults.rebuildRateBytesPerSecond),
    rebuildConcurrency: numberFlag(values, 'rebuild-concurrency', healerDefaults.rebuildConcurrency),
    scrubRateBytesPerSecond: numberFlag(values, 'scrub-rate-bytes-per-second', healerDefaults.scrubRateBytesPerSecond),
    scrubPeriodMs: numberFlag(values, 'scrub-period-ms', healerDefaults.scrubPeriodMs),
    orphanScanIntervalMs: numberFlag(values, 'orphan-scan-interval-ms', healerDefaults.orphanScanIntervalMs),
    orphanSafetyDelayMs: numberFlag(values, 'orphan-safety-delay-ms', healerDefaults.orphanSafetyDelayMs),
    staleUploadExpiryMs: numberFlag(values, 'stale-upload-expiry-ms', healerDefaults.staleUploadExpiryMs),
    staleUploadScanIntervalMs: numberFlag(values, 'stale-upload-scan-interval-ms', healerDefaults.staleUploadScanIntervalMs),
    lifecycleScanIntervalMs: numberFlag(values, 'lifecycle-scan-interval-ms', healerDefaults.lifecycleScanIntervalMs),
    lifecycleDayMs: numberFlag(values, 'lifecycle-day-ms', healerDefaults.lifecycleDayMs),
  };
  const logger = createJsonLogger({ levelMin: 'info', nowMs: () => Date.now(), write: (line) => process.stderr.write(`${line}\n`), fields: { service: 'healer' } });
  const metricsListen = values.get('metrics-listen');
  // prom-client's process metrics (CPU, RSS, heap, event-loop lag, GC) next to the healer's own.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: eventLoopLagSampleIntervalMs });
  const running = await startHealer({ ...options, ...(metricsListen === undefined ? {} : { adminListen: metricsListen }) }, { logger, registry });
  process.stdout.write(`${JSON.stringify({ event: 'listening', metricsAddress: running.adminAddress ?? null })}\n`);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

void main();
