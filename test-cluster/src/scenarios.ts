/**
 * The nine fault scenarios of issue 7. Each injects its fault while a workload runs (or reads
 * everything, where the fault is about reads), checks what must hold during the fault, and leaves
 * recovery, healing and the final read-back to the runner. They run in `scenarioRunOrder`:
 * scenarios that need every stripe at full redundancy (m nodes down, bitrot) run before the ones
 * that leave stripes degraded, since without a healer nothing restores them.
 */
import type { PlannedProcess } from '@tessera/local-cluster';
import { ListMultipartUploadsCommand, AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { bucketName, downAfterMs, shardCount, sleep, waitFor } from './durability-cluster';
import { killEverything, killProcess, pauseProcess, resumeProcess, startProcess, startStorageNodeWithCapacity, stopProcess, wipeDataDir } from './fault-injectors';
import type { ReadObservation } from './history';
import type { Scenario, ScenarioContext } from './scenario-runner';
import { corruptedBlockState, flipRandomDataByte, listShardFiles, listTempFiles } from './shard-files';
import type { FlippedByte, ShardFile } from './shard-files';
import { randomBody } from './workload';

const warmupMs = 1_500;
/** Bound on "a new leader within seconds" (election timeout is 1-2 s; the machine is loaded). */
const electionMsMax = 15_000;
const spreadStallMs = 15_000;

/** Workload before, during and after `inject`; the fault is held for the profile's hold time. */
async function faultUnderWorkload(context: ScenarioContext, inject: () => Promise<void>, recover: () => Promise<void>, holdMs = context.profile.faultHoldMs): Promise<void> {
  const workload = context.startWorkload();
  await sleep(warmupMs);
  context.setFaultActive(true);
  try {
    await inject();
    await sleep(holdMs);
  } finally {
    await recover();
    context.setFaultActive(false);
  }
  await sleep(warmupMs);
  await workload.stop();
}

/** Reads every key once; errors during the fault are counted as unavailable. */
async function readAll(context: ScenarioContext): Promise<ReadObservation[]> {
  const observed: ReadObservation[] = [];
  for (const key of context.cluster.history.keys()) {
    const o = await context.cluster.recorder.get(context.name, key);
    if (o.kind === 'error' && context.faultActive()) context.countUnavailable();
    observed.push(o);
  }
  return observed;
}

function allShardFiles(context: ScenarioContext): ShardFile[] {
  return context.cluster.storageNodes().flatMap((n) => listShardFiles(n.name, n.dataDir ?? ''));
}

function storageInZone(context: ScenarioContext, zone: string): PlannedProcess[] {
  return context.cluster.storageNodes().filter((n) => n.zone === zone);
}

/** 1. kill -9 of one storage node during writes; the supervisor restarts it. */
const killStorageNode: Scenario = {
  name: 'kill-storage-node',
  description: 'kill -9 of one storage node during writes; restart',
  run: async (context) => {
    const victim = context.cluster.storageNodes()[context.random.nextInt(context.cluster.storageNodes().length)];
    if (victim === undefined) throw new Error('no storage node');
    context.note(`killed ${victim.name}`);
    await faultUnderWorkload(context, async () => killProcess(context.cluster, victim.name), async () => {
      await context.cluster.cluster.waitReady(60_000);
    });
  },
};

/** 2. a whole AZ (3 storage nodes + its metadata node) stopped during writes and reads. */
const zoneOutage: Scenario = {
  name: 'az-outage',
  description: 'a whole AZ stopped during writes and reads; reads and writes keep working; the AZ returns',
  run: async (context) => {
    const zone = 'az-c';
    const names = context.cluster.cluster.processNames().filter((n) => n.includes(zone) || n === 'meta-3');
    await faultUnderWorkload(context, async () => {
      await context.cluster.cluster.stopZone(zone);
      // Writes need the metadata leader to mark the zone's nodes down (placement then uses only
      // live nodes); after that, a write and a read must succeed while the AZ is still out.
      await sleep(downAfterMs + 1_500);
      const probeKey = `${context.name}/probe-during-outage`;
      let writeOk = false;
      let readOk = false;
      for (let attempt = 0; attempt < 8 && !(writeOk && readOk); attempt++) {
        const write = await context.cluster.recorder.put(context.name, probeKey, randomBody(300 * 1024), { multipartThresholdBytes: context.profile.multipartThresholdBytes });
        writeOk = write.outcome === 'ok';
        if (!writeOk) context.countUnavailable();
        const read = await context.cluster.recorder.get(context.name, probeKey);
        readOk = read.kind === 'value';
        if (!readOk) {
          context.countUnavailable();
          await sleep(1_000);
        }
      }
      if (!writeOk || !readOk) context.fail(`during the ${zone} outage: striped write ok=${writeOk}, read ok=${readOk} after 8 attempts`);
    }, async () => {
      for (const name of names) startProcess(context.cluster, name);
      await context.cluster.cluster.waitReady(60_000);
    }, context.profile.azOutageHoldMs);
    let examples: readonly string[] = [];
    const uneven = async (): Promise<readonly string[]> => {
      const report = await context.cluster.placementReport();
      examples = report.spreadExamples;
      return report.unevenSpreadStripeIds;
    };
    const deadlineMs = Date.now() + (context.healer.running ? context.profile.healWaitMsMax : 0);
    let unevenIds = await uneven();
    let lastChangeMs = Date.now();
    // Bounded, and ends after spreadStallMs without progress (the healer is not respreading).
    while (unevenIds.length > 0 && Date.now() < deadlineMs && Date.now() - lastChangeMs < spreadStallMs) {
      await sleep(500);
      const next = await uneven();
      if (next.length !== unevenIds.length) lastChangeMs = Date.now();
      unevenIds = next;
    }
    const message = `AZ spread: ${unevenIds.length} stripe(s) not spread ${shardCount / 3} per AZ on ${shardCount} distinct nodes (or flagged degraded_spread) after the AZ returned (bound ${context.healer.running ? context.profile.healWaitMsMax : 0} ms, stops after ${spreadStallMs} ms without progress; e.g. ${examples.slice(0, 2).join('; ')})`;
    if (unevenIds.length > 0) {
      if (context.healer.running) context.fail(message);
      else context.awaitsHealer(message);
    } else context.note('AZ spread: every stripe holds 3 shards per AZ');
  },
};

/** 3. m=3 storage nodes in different AZs down: all readable; m+1: clean 503s; all back. */
const parityNodesDown: Scenario = {
  name: 'm-nodes-down',
  description: 'm storage nodes in different AZs down: everything readable; m+1 down: 503-class errors, no wrong data',
  run: async (context) => {
    const workload = context.startWorkload();
    await sleep(context.profile.faultHoldMs);
    await workload.stop();
    const down = ['az-a', 'az-b', 'az-c'].map((zone) => storageInZone(context, zone)[0]?.name ?? '');
    context.setFaultActive(true);
    try {
      for (const name of down) await stopProcess(context.cluster, name);
      const withM = await readAll(context);
      const failedWithM = withM.filter((o) => o.kind === 'error');
      if (failedWithM.length > 0) context.fail(`${failedWithM.length} read(s) failed with m=3 nodes down: ${failedWithM[0]?.kind === 'error' ? failedWithM[0].message : ''}`);
      const extra = storageInZone(context, 'az-a')[1]?.name ?? '';
      await stopProcess(context.cluster, extra);
      const withMPlusOne = await readAll(context);
      const unclear = withMPlusOne.filter((o) => o.kind === 'error' && o.httpStatus !== undefined && o.httpStatus < 500);
      if (unclear.length > 0) context.fail(`${unclear.length} read(s) with m+1 down failed with a non-5xx status: ${unclear[0]?.kind === 'error' ? unclear[0].message : ''}`);
      context.note(`m+1 down: ${withMPlusOne.filter((o) => o.kind === 'error').length} of ${withMPlusOne.length} reads refused, ${withMPlusOne.filter((o) => o.kind === 'value').length} served (inline objects live in metadata)`);
    } finally {
      context.setFaultActive(false);
    }
  },
};

/** 4. bitrot: bytes flipped inside block data of random shard files (at most one per stripe). */
const bitrot: Scenario = {
  name: 'bitrot',
  description: 'random bytes flipped in random shard files; reads return correct data; the scrubber repairs them',
  run: async (context) => {
    const workload = context.startWorkload();
    await sleep(context.profile.faultHoldMs);
    await workload.stop();
    const byStripe = new Map<string, ShardFile[]>();
    for (const f of allShardFiles(context)) byStripe.set(f.stripeId, [...(byStripe.get(f.stripeId) ?? []), f]);
    const full = [...byStripe.values()].filter((files) => new Set(files.map((f) => f.shardIndex)).size === shardCount);
    const flips: FlippedByte[] = [];
    for (let i = 0; i < context.profile.bitrotFileCount && full.length > 0; i++) {
      const files = full.splice(context.random.nextInt(full.length), 1)[0] ?? [];
      const target = files[context.random.nextInt(files.length)];
      const flip = target === undefined ? undefined : flipRandomDataByte(target, context.random);
      if (flip !== undefined) flips.push(flip);
    }
    if (flips.length === 0) context.fail('no shard file to corrupt');
    context.note(`flipped one byte in ${flips.length} shard files on ${new Set(flips.map((f) => f.file.nodeName)).size} nodes`);
    context.setFaultActive(true);
    const observed = await readAll(context);
    context.setFaultActive(false);
    const failed = observed.filter((o) => o.kind === 'error').length;
    if (failed > 0) context.fail(`${failed} read(s) failed with one corrupt shard per stripe`);
    const deadlineMs = Date.now() + (context.healer.running ? context.profile.healWaitMsMax : 0);
    let states = flips.map(corruptedBlockState);
    while (states.includes('corrupt') && Date.now() < deadlineMs) {
      await sleep(500);
      states = flips.map(corruptedBlockState);
    }
    const stillCorrupt = states.filter((s) => s === 'corrupt').length;
    context.countHealed(states.filter((s) => s === 'repaired').length);
    const message = `scrubber repair: ${stillCorrupt} of ${flips.length} corrupted shard blocks still corrupt on disk`;
    if (stillCorrupt > 0) {
      if (context.healer.running) context.fail(message);
      else context.awaitsHealer(message);
    }
  },
};

/** 5. metadata leader killed, then (separately) frozen with SIGSTOP past the election timeout. */
const metadataLeader: Scenario = {
  name: 'metadata-leader',
  description: 'metadata leader kill -9, then partition (SIGSTOP beyond the election timeout, SIGCONT): no lost write, no split brain',
  run: async (context) => {
    const leadersByTerm = new Map<number, Set<string>>();
    const frozen = new Set<string>();
    const observe = async (): Promise<void> => {
      for (const v of await context.cluster.metadataViews(frozen)) {
        if (v.role !== 'leader') continue;
        leadersByTerm.set(v.term, new Set([...(leadersByTerm.get(v.term) ?? []), v.name]));
      }
    };
    const waitNewLeader = async (oldLeader: string, oldTerm: number): Promise<number> => {
      const t0 = Date.now();
      // One status round per poll both times the election and feeds the split-brain check.
      await waitFor(async () => {
        const views = await context.cluster.metadataViews(frozen);
        for (const v of views) if (v.role === 'leader') leadersByTerm.set(v.term, new Set([...(leadersByTerm.get(v.term) ?? []), v.name]));
        return views.some((v) => v.role === 'leader' && v.name !== oldLeader && v.term > oldTerm) ? true : undefined;
      }, electionMsMax, `a new metadata leader after ${oldLeader}`);
      return Date.now() - t0;
    };
    const currentLeader = async (): Promise<{ name: string; term: number }> => waitFor(async () => {
      const leader = (await context.cluster.metadataViews()).find((v) => v.role === 'leader');
      return leader === undefined ? undefined : { name: leader.name, term: leader.term };
    }, electionMsMax, 'a metadata leader');

    const first = await currentLeader();
    await faultUnderWorkload(context, async () => {
      killProcess(context.cluster, first.name);
      context.note(`kill -9 ${first.name}: new leader after ${await waitNewLeader(first.name, first.term)} ms`);
    }, async () => {
      await context.cluster.cluster.waitReady(60_000);
    });

    const second = await currentLeader();
    let paused = false;
    try {
      await faultUnderWorkload(context, async () => {
        pauseProcess(context.cluster, second.name);
        paused = true;
        frozen.add(second.name);
        context.note(`SIGSTOP ${second.name}: new leader after ${await waitNewLeader(second.name, second.term)} ms`);
      }, async () => {
        resumeProcess(context.cluster, second.name);
        paused = false;
        frozen.delete(second.name);
        // The resumed old leader must step down: one leader at the end.
        await waitFor(async () => {
          await observe();
          const leaders = (await context.cluster.metadataViews()).filter((v) => v.role === 'leader');
          return leaders.length === 1 ? true : undefined;
        }, electionMsMax, 'exactly one metadata leader after SIGCONT');
      });
    } finally {
      if (paused) resumeProcess(context.cluster, second.name);
    }
    for (const [term, leaders] of leadersByTerm) {
      if (leaders.size > 1) context.fail(`split brain: term ${term} had leaders ${[...leaders].join(', ')}`);
    }
    context.note(`leaders seen: ${[...leadersByTerm].map(([t, l]) => `${t}:${[...l].join('/')}`).join(' ')}`);
  },
};

/** 6. the gateway killed mid-upload (single-part and multipart): nothing partial, strays collected. */
const gatewayKilledMidUpload: Scenario = {
  name: 'gateway-killed-mid-upload',
  description: 'gateway kill -9 during a single-part and a multipart upload: no partial object, stray shards collected',
  run: async (context) => {
    const { cluster, profile } = context;
    const before = new Set(allShardFiles(context).map((f) => f.stripeId));
    const uploadSizeBytes = Math.max(profile.killedUploadSizeBytes, 11 * 1024 * 1024);
    const keys = [`${context.name}/single`, `${context.name}/multipart`];
    context.setFaultActive(true);
    // Single part: kill once shards are being written (temp files exist on storage nodes).
    const single = cluster.recorder.put(context.name, keys[0] ?? '', randomBody(uploadSizeBytes), { multipartThresholdBytes: Number.MAX_SAFE_INTEGER });
    await waitFor(() => (cluster.storageNodes().some((n) => listTempFiles(n.dataDir ?? '').length > 0) ? true : undefined), 30_000, 'shard writes in progress').catch(() => context.note('no temp file seen before the kill'));
    killProcess(cluster, 'gateway');
    const singleRecord = await single;
    await cluster.cluster.waitReady(60_000);
    // Multipart: kill after the first 5 MiB part is acknowledged.
    let killed = false;
    const multipart = cluster.recorder.put(context.name, keys[1] ?? '', randomBody(uploadSizeBytes), {
      multipartThresholdBytes: 0,
      onProgress: (loadedBytes) => {
        if (!killed && loadedBytes >= 5 * 1024 * 1024) {
          killed = true;
          killProcess(cluster, 'gateway');
        }
      },
    });
    const multipartRecord = await multipart;
    if (!killed) killProcess(cluster, 'gateway');
    await cluster.cluster.waitReady(60_000);
    context.setFaultActive(false);
    context.note(`single-part outcome ${singleRecord.outcome}, multipart outcome ${multipartRecord.outcome}`);
    for (const key of keys) await cluster.recorder.get(context.name, key);
    await cluster.recorder.list(context.name, `${context.name}/`);
    // What a client (or a lifecycle rule) does with an abandoned upload: abort it.
    const uploads = await cluster.s3.send(new ListMultipartUploadsCommand({ Bucket: bucketName, Prefix: `${context.name}/` }));
    for (const u of uploads.Uploads ?? []) await cluster.s3.send(new AbortMultipartUploadCommand({ Bucket: bucketName, Key: u.Key, UploadId: u.UploadId }));
    context.note(`aborted ${(uploads.Uploads ?? []).length} abandoned multipart upload(s)`);
    // Whatever became visible is deleted too, so every stripe created here must end up collected.
    for (const key of keys) await cluster.recorder.delete(context.name, key);
    const strayWaitMs = profile.staleWriteAfterMs + profile.healWaitMsMax;
    const leftover = await waitFor(() => {
      const stray = allShardFiles(context).filter((f) => !before.has(f.stripeId));
      const temps = cluster.storageNodes().flatMap((n) => listTempFiles(n.dataDir ?? ''));
      return stray.length === 0 && temps.length === 0 ? [] : undefined;
    }, strayWaitMs, 'stray shards collected').catch(() => allShardFiles(context).filter((f) => !before.has(f.stripeId)));
    if (leftover.length > 0) context.fail(`${leftover.length} stray shard file(s) of ${new Set(leftover.map((f) => f.stripeId)).size} stripe(s) not collected within ${strayWaitMs} ms`);
  },
};

/** 7. every process killed -9 at once, then restarted by the supervisor. */
const killEverythingScenario: Scenario = {
  name: 'kill-everything',
  description: 'every process killed -9 at once, then restarted: every acknowledged object reads back',
  run: async (context) => {
    await faultUnderWorkload(context, async () => killEverything(context.cluster), async () => {
      await context.cluster.cluster.waitReady(90_000);
    }, 1_000);
  },
};

/** 8. a storage node restarted with a tiny --capacity-bytes: writes go elsewhere or fail cleanly. */
const diskFull: Scenario = {
  name: 'disk-full',
  description: "a storage node's disk fills up: writes go elsewhere or fail cleanly; nothing corrupt",
  run: async (context) => {
    const node = storageInZone(context, 'az-a')[1];
    if (node === undefined) throw new Error('no az-a storage node');
    await stopProcess(context.cluster, node.name);
    const tiny = await startStorageNodeWithCapacity(context.cluster, node, 64 * 1024);
    try {
      const filesBefore = listShardFiles(node.name, node.dataDir ?? '').length;
      await faultUnderWorkload(context, async () => undefined, async () => undefined);
      const filesAfter = listShardFiles(node.name, node.dataDir ?? '').length;
      context.note(`${node.name} at 64 KiB capacity: shard files ${filesBefore} -> ${filesAfter}`);
      const unclean = context.cluster.history.all().filter((r) => r.kind === 'write' && r.scenario === context.name && r.outcome === 'maybe' && !/ServiceUnavailable|503|SlowDown|InsufficientStorage|507/.test(r.error ?? ''));
      if (unclean.length > 0) context.fail(`${unclean.length} write(s) failed without a clean 503/507: ${unclean[0]?.kind === 'write' ? unclean[0].error ?? '' : ''}`);
    } finally {
      await tiny.stop();
      startProcess(context.cluster, node.name);
    }
  },
};

/** 9. a storage node lost for good: data dir deleted, the node returns empty under the same id. */
const nodeLostForGood: Scenario = {
  name: 'node-lost-for-good',
  description: 'a storage node lost for good (data dir deleted): its shards are rebuilt elsewhere; full redundancy reached',
  run: async (context) => {
    const node = storageInZone(context, 'az-b')[1];
    if (node === undefined) throw new Error('no az-b storage node');
    const lostShards = listShardFiles(node.name, node.dataDir ?? '').length;
    await faultUnderWorkload(context, async () => {
      await stopProcess(context.cluster, node.name);
      wipeDataDir(node);
    }, async () => {
      startProcess(context.cluster, node.name);
      await context.cluster.cluster.waitReady(60_000);
    });
    context.note(`${node.name} lost ${lostShards} shard files`);
    context.setFaultActive(true);
    const failed = (await readAll(context)).filter((o) => o.kind === 'error').length;
    context.setFaultActive(false);
    if (failed > 0) context.fail(`${failed} read(s) failed after losing one node's disk`);
  },
};

export const scenarios: readonly Scenario[] = [killStorageNode, zoneOutage, parityNodesDown, bitrot, metadataLeader, gatewayKilledMidUpload, killEverythingScenario, diskFull, nodeLostForGood];

/** Full-redundancy scenarios first (see the file comment). */
export const scenarioRunOrder: readonly Scenario[] = [parityNodesDown, bitrot, killStorageNode, zoneOutage, metadataLeader, gatewayKilledMidUpload, killEverythingScenario, diskFull, nodeLostForGood];
