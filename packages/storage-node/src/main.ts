#!/usr/bin/env node
/**
 * Composition root of a storage node process: reads flags, env and the config file, builds
 * the node, and handles signals. The only file of the package that touches process state.
 *
 *   node packages/storage-node/dist/main.js --node-id n1 --zone z1 --listen 127.0.0.1:7100 \
 *     --data-dir /var/lib/tessera/n1 --metrics-listen 127.0.0.1:7190
 */
import * as fs from 'node:fs';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { configureServerHeap, configureServerThreadPool, createJsonLogger, eventLoopLagSampleIntervalMs, systemClock } from '@tessera/common';
import { ConfigError, resolveStorageNodeConfig, storageNodeUsage } from './config';
import { MetadataHeartbeat } from './metadata-heartbeat';
import { StorageNodeServer } from './storage-node-server';

async function main(): Promise<number> {
  configureServerThreadPool(process.env);
  configureServerHeap();
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(storageNodeUsage);
    return 0;
  }
  let config;
  try {
    config = resolveStorageNodeConfig(argv, process.env, (p) => fs.readFileSync(p, 'utf8'));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`storage node: ${err.message}\n\n${storageNodeUsage}`);
    return 2;
  }
  const logger = createJsonLogger({
    levelMin: config.logLevel,
    write: (line) => process.stderr.write(`${line}\n`),
    nowMs: () => systemClock.nowMs(),
    fields: { service: 'storage-node' },
  });
  // prom-client's process metrics (CPU, RSS, heap, event-loop lag, GC) next to the node's own.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: eventLoopLagSampleIntervalMs });
  const node = new StorageNodeServer({
    registry,
    nodeId: config.nodeId,
    zone: config.zone,
    dataDir: config.dataDir,
    listen: config.listen,
    metricsListen: config.metricsListen === '' ? undefined : config.metricsListen,
    capacityBytes: config.capacityBytes,
    diskReserveBytes: config.diskReserveBytes,
    shardSizeBytesMax: config.shardSizeBytesMax,
    concurrentStreamCountMax: config.concurrentStreamCountMax,
    writeIdleTimeoutMs: config.writeIdleTimeoutMs,
    shutdownGraceMs: config.shutdownGraceMs,
    logger,
    clock: systemClock,
  });
  try {
    await node.start();
  } catch (err) {
    logger.error('storage node failed to start', { err });
    process.stderr.write(`storage node: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const heartbeat =
    config.metadataAddresses.length === 0
      ? undefined
      : new MetadataHeartbeat(
          {
            nodeId: config.nodeId,
            zone: config.zone,
            advertiseAddress: config.advertiseAddress ?? node.grpcAddress,
            metadataAddresses: config.metadataAddresses,
            heartbeatIntervalMs: config.heartbeatIntervalMs,
          },
          { usage: () => node.store.usage(), logger },
        );
  await heartbeat?.start();
  // Machine-readable line for launchers and tests that start the node on port 0.
  process.stdout.write(`${JSON.stringify({ event: 'listening', grpcAddress: node.grpcAddress, metricsAddress: node.metricsAddress ?? null })}\n`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn('second signal: exiting now', { signal });
        resolve(1);
        return;
      }
      stopping = true;
      logger.info('stopping on signal', { signal });
      // Stop heartbeating first so the metadata service stops placing new shards here.
      Promise.resolve(heartbeat?.stop())
        .then(() => node.stop())
        .then(
          () => resolve(0),
          (err: unknown) => {
            logger.error('error while stopping', { err });
            resolve(1);
          },
        );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`storage node crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  },
);
