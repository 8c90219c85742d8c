/**
 * Composition root of a metadata node: the only file that reads argv, the environment and the
 * config file (through config.ts: flags > TESSERA_* environment variables > JSON config file >
 * defaults).
 *
 *   node packages/metadata/dist/main.js --node-id meta-1 --listen 127.0.0.1:7001 \
 *     --peers meta-1=127.0.0.1:7001,meta-2=127.0.0.1:7002,meta-3=127.0.0.1:7003 \
 *     --data-dir /var/lib/tessera/meta-1 --metrics-listen 127.0.0.1:9101
 */
import { readFileSync } from 'node:fs';
import { configureServerHeap, configureServerThreadPool, createJsonLogger, eventLoopLagSampleIntervalMs, systemClock, systemRandom } from '@tessera/common';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { MetadataConfigError, metadataNodeUsage, resolveMetadataNodeConfig } from './config';
import { InvalidMetadataNodeOptionsError, startMetadataNode } from './metadata-node';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(metadataNodeUsage);
    return;
  }
  configureServerThreadPool(process.env);
  configureServerHeap();
  const options = resolveMetadataNodeConfig(argv, process.env, (path) => readFileSync(path, 'utf8'));
  const logger = createJsonLogger({ levelMin: options.logLevel, write: (line) => process.stderr.write(`${line}\n`), nowMs: () => systemClock.nowMs() });
  // prom-client's process metrics (CPU, RSS, heap, event-loop lag, GC) next to the node's own.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: eventLoopLagSampleIntervalMs });
  const node = await startMetadataNode(options, {
    clock: systemClock, random: systemRandom, logger, registry,
    // Fail-stop: a node whose Raft loop failed (a log write refused, e.g. the disk full) would
    // otherwise stay up refusing everything until someone restarted it. Exiting lets the
    // supervisor (tessera start, Docker, Kubernetes) restart it; the restart replays the log
    // from disk and rejoins the group once the cause is gone.
    onFatal: (err) => {
      logger.error('exiting: the Raft loop failed, a restart recovers from disk', { err });
      setTimeout(() => process.exit(70), 200);
    },
  });
  logger.info('metadata node listening', { nodeId: options.nodeId, grpcPort: node.grpcPort, metricsPort: node.metricsPort });
  let shuttingDown = false;
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { signal });
    // SIGTERM: hand leadership over first so clients see no election timeout (rolling restarts).
    void node.shutdownGracefully().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    if (err instanceof MetadataConfigError || err instanceof InvalidMetadataNodeOptionsError) {
      process.stderr.write(`metadata node: ${err.message}\nRun with --help for the options.\n`);
      process.exit(2);
    }
    process.stderr.write(`metadata node failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
