/**
 * Benchmark: how long a local cluster takes to become ready, to heal a kill -9'd storage node
 * and to stop in order. Runs N rounds (argv `--rounds N`, default 3) on free loopback ports in a
 * temp data directory, the first round on a fresh directory and later ones reusing it. Prints
 * a markdown table.
 *
 *   npm run bench -- local-cluster
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findFreePortBlock } from '@tessera/rpc';
import { defaultClusterLayoutOptions } from '../cluster-layout';
import { LocalCluster } from '../local-cluster';
import { generateRootCredentials } from '../root-keys';

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadlineMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function main(): Promise<void> {
  const roundsIndex = process.argv.indexOf('--rounds');
  const roundCount = roundsIndex === -1 ? 3 : Number(process.argv[roundsIndex + 1]);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
  const base = await findFreePortBlock('127.0.0.1', 40);
  const rows: string[] = [];
  try {
    for (let round = 0; round < roundCount; round++) {
      const cluster = new LocalCluster({
        ...defaultClusterLayoutOptions, dataDir, gatewayPort: base, metadataPortBase: base + 1, storagePortBase: base + 5, metricsPortBase: base + 15,
        region: 'us-east-1', rootCredentials: generateRootCredentials(), baseEnv: { PATH: process.env['PATH'] }, logLevel: 'warn',
        healthCheckIntervalMs: 50, gatewayMode: 'if-built', nodeExecPath: process.execPath,
        restartPolicy: { restartBackoffMsBase: 100, restartBackoffMsMax: 1_000, stableAfterMs: 10_000, stopGraceMs: 10_000 },
      });
      const startMs = performance.now();
      await cluster.start();
      await cluster.waitReady(120_000);
      const readyMs = performance.now() - startMs;
      const victim = cluster.process('storage-az-a-1');
      const killMs = performance.now();
      victim.kill('SIGKILL');
      await until(async () => victim.restartCount === 1 && (await cluster.status()).processes.find((p) => p.name === victim.name)?.ready === true, 60_000);
      const healMs = performance.now() - killMs;
      const stopStartMs = performance.now();
      await cluster.stop();
      const stopMs = performance.now() - stopStartMs;
      rows.push(`| ${round + 1} | ${round === 0 ? 'fresh' : 'reused'} | ${cluster.processNames().length} | ${readyMs.toFixed(0)} | ${healMs.toFixed(0)} | ${stopMs.toFixed(0)} |`);
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  console.log('| round | data dir | processes | start to all ready (ms) | kill -9 storage node to ready again (ms, backoff 100 ms) | ordered stop (ms) |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
