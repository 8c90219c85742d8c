#!/usr/bin/env node
/**
 * The gateway process (composition root: the only file that reads argv and env or handles
 * signals).
 *
 *   node packages/gateway/dist/main.js --listen 127.0.0.1:9000 \
 *     --metadata 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003 --region us-east-1 \
 *     --metrics-listen 127.0.0.1:9100 --data-shards 6 --parity-shards 3 --block-size-bytes 1048576
 *
 * Prints one JSON line {"event":"listening","endpoint":…,"metricsEndpoint":…} on stdout once
 * serving; logs are JSON lines on stderr. Exit codes: 2 bad configuration, 1 cannot start.
 * SIGTERM/SIGINT: stop accepting, let requests in flight finish for --shutdown-grace-ms, exit 0;
 * a second signal exits at once. SIGHUP: re-read --tls-cert-file / --tls-key-file.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { configureServerHeap, configureServerThreadPool, createJsonLogger, eventLoopLagSampleIntervalMs, systemClock } from '@tessera/common';
import { GatewayProcessConfigError, gatewayUsage, resolveGatewayProcessConfig } from './cluster/gateway-process-config';
import { startGateway } from './cluster/gateway-process';

export { startGateway } from './cluster/gateway-process';

async function main(): Promise<void> {
  configureServerThreadPool(process.env);
  configureServerHeap();
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write(`${gatewayUsage}\n`);
    return;
  }
  let config;
  try {
    config = resolveGatewayProcessConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof GatewayProcessConfigError)) throw error;
    process.stderr.write(`${error.message}\n${gatewayUsage}\n`);
    process.exit(2);
  }
  const logger = createJsonLogger({ levelMin: config.logLevel, write: (line) => process.stderr.write(`${line}\n`), nowMs: () => Date.now() });
  let gateway;
  try {
    gateway = await startGateway(config, { clock: systemClock, logger, registry: processRegistry() });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ event: 'listening', endpoint: gateway.endpoint, metricsEndpoint: gateway.metricsEndpoint })}\n`);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) process.exit(1);
    signalled = true;
    logger.info('stopping', { signal, graceMs: config.shutdownGraceMs });
    void gateway.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP: re-read the TLS certificate and key (a renewal); nothing else is reloaded.
  process.on('SIGHUP', () => void gateway.reloadTls());
}

if (require.main === module) {
  void main();
}

/** A registry with prom-client's process metrics (CPU, RSS, heap, event-loop lag, GC): one per process. */
function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: eventLoopLagSampleIntervalMs });
  return registry;
}
