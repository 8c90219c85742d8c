/**
 * The fault scenarios of issue 7 (nine) and a tenth, a frozen storage node. Each injects its fault while a workload runs (or reads
 * everything, where the fault is about reads), checks what must hold during the fault, and leaves
 * recovery, healing and the final read-back to the runner. They run in `scenarioRunOrder`:
 * scenarios that need every stripe at full redundancy (m nodes down, bitrot) run before the ones
 * that leave stripes degraded, since without a healer nothing restores them.
 */
import { ListMultipartUploadsCommand, AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { bucketName, downAfterMs, shardCount, sleep, waitFor } from './durability-cluster';
import type { ClusterMode, MetadataNodeView, NetworkPartitioner, StorageNodeInfo } from './cluster-handle';
import { DurabilityCluster } from './durability-cluster';
import { startStorageNodeWithCapacity } from './fault-injectors';
import { nowMs } from './history';
import type { ReadObservation, WriteRecord } from './history';
import type { Scenario, ScenarioContext } from './scenario-runner';
import { corruptedBlockState, flipRandomDataByte, listShardFiles, listTempFiles } from './shard-files';
import type { FlippedByte, ShardFile } from './shard-files';
import { randomBody } from './workload';

const warmupMs = 1_500;
const bothModes: readonly ClusterMode[] = ['local', 'containers'];
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

function storageInZone(context: ScenarioContext, zone: string): StorageNodeInfo[] {
  return context.cluster.storageNodes().filter((n) => n.zone === zone);
}

/** The `index`-th storage node of `zone`; the cluster layout (3 per zone) guarantees it exists. */
function storageNodeInZone(context: ScenarioContext, zone: string, index: number): StorageNodeInfo {
  const node = storageInZone(context, zone)[index];
  if (node === undefined) throw new Error(`no storage node ${index} in ${zone}`);
  return node;
}

/** 1. kill -9 of one storage node during writes; the supervisor restarts it. */
const killStorageNode: Scenario = {
  name: 'kill-storage-node',
  description: 'kill -9 of one storage node during writes; restart',
  modes: bothModes,
  run: async (context) => {
    const victim = context.cluster.storageNodes()[context.random.nextInt(context.cluster.storageNodes().length)];
    if (victim === undefined) throw new Error('no storage node');
    context.note(`killed ${victim.name}`);
    await faultUnderWorkload(context, () => context.cluster.killProcess(victim.name), async () => {
      await context.cluster.waitReady(60_000);
    });
  },
};

/** 2. a whole AZ (3 storage nodes + its metadata node) stopped during writes and reads. */
const zoneOutage: Scenario = {
  name: 'az-outage',
  description: 'a whole AZ stopped during writes and reads; reads and writes keep working; the AZ returns',
  modes: bothModes,
  run: async (context) => {
    const zone = 'az-c';
    const names = context.cluster.zoneProcessNames(zone);
    await faultUnderWorkload(context, async () => {
      await Promise.all(names.map((name) => context.cluster.stopProcess(name)));
      // Writes need the metadata leader to mark the zone's nodes down (placement then uses only
      // live nodes); after that, a write and a read must succeed while the AZ is still out.
      await sleep(downAfterMs + 1_500);
      await probeWriteAndRead(context, `${context.name}/probe-during-outage`, `during the ${zone} outage`);
    }, async () => {
      for (const name of names) await context.cluster.startProcess(name);
      await context.cluster.waitReady(60_000);
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
  modes: bothModes,
  run: async (context) => {
    const workload = context.startWorkload();
    await sleep(context.profile.faultHoldMs);
    await workload.stop();
    const down = ['az-a', 'az-b', 'az-c'].map((zone) => storageInZone(context, zone)[0]?.name ?? '');
    context.setFaultActive(true);
    try {
      for (const name of down) await context.cluster.stopProcess(name);
      const withM = await readAll(context);
      const failedWithM = withM.filter((o) => o.kind === 'error');
      if (failedWithM.length > 0) context.fail(`${failedWithM.length} read(s) failed with m=3 nodes down: ${failedWithM[0]?.kind === 'error' ? failedWithM[0].message : ''}`);
      const extra = storageInZone(context, 'az-a')[1]?.name ?? '';
      await context.cluster.stopProcess(extra);
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
  modes: bothModes,
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

/** Polls every metadata node's view; remembers every leader seen per term (split-brain check). */
class LeaderTracker {
  readonly leadersByTerm = new Map<number, Set<string>>();
  /** Nodes not to ask (a frozen process would only cost its call timeout). */
  readonly skipped = new Set<string>();

  constructor(private readonly context: ScenarioContext) {}

  async observe(): Promise<MetadataNodeView[]> {
    const views = await this.context.cluster.metadataViews(this.skipped);
    for (const v of views) if (v.role === 'leader') this.leadersByTerm.set(v.term, new Set([...(this.leadersByTerm.get(v.term) ?? []), v.name]));
    return views;
  }

  /**
   * ms until a leader is elected in a term above `oldTerm`: a node other than `oldLeader` when it
   * is cut off (`'another node'`), any node when it was killed (`'any node'`: the supervisor
   * restarts a killed node within a second, and with a log as long as anyone's it may win the
   * next election itself, as Raft allows).
   */
  async waitNewLeader(
    oldLeader: string,
    oldTerm: number,
    candidates: 'another node' | 'any node',
  ): Promise<{ name: string; term: number; electedAfterMs: number }> {
    const t0 = Date.now();
    return waitFor(async () => {
      const leader = (await this.observe()).find(
        (v) => v.role === 'leader' && v.term > oldTerm && (candidates === 'any node' || v.name !== oldLeader),
      );
      return leader === undefined ? undefined : { name: leader.name, term: leader.term, electedAfterMs: Date.now() - t0 };
    }, electionMsMax, `a new metadata leader after ${oldLeader} (term ${oldTerm})`);
  }

  async currentLeader(): Promise<{ name: string; term: number }> {
    return waitFor(async () => {
      const leader = (await this.observe()).find((v) => v.role === 'leader');
      return leader === undefined ? undefined : { name: leader.name, term: leader.term };
    }, electionMsMax, 'a metadata leader');
  }

  /** Until exactly one leader is seen and every answering node agrees on its term. */
  async waitSingleLeader(what: string): Promise<void> {
    await waitFor(async () => {
      const views = await this.observe();
      const leaders = views.filter((v) => v.role === 'leader');
      const leader = leaders[0];
      return leaders.length === 1 && leader !== undefined && views.every((v) => v.term === leader.term) ? true : undefined;
    }, electionMsMax, what);
  }

  /** Background polling every ~100 ms (so no short-lived second leader goes unseen). */
  poll(): { stop: () => Promise<void> } {
    let running = true;
    const loop = (async () => {
      while (running) {
        await this.observe();
        await sleep(100);
      }
    })();
    return { stop: async () => { running = false; await loop; } };
  }

  splitBrainTerms(): string[] {
    return [...this.leadersByTerm].filter(([, leaders]) => leaders.size > 1).map(([term, leaders]) => `term ${term} had leaders ${[...leaders].join(', ')}`);
  }
}

/** During a fault: a striped PUT and its GET must succeed (retried a few times while the cluster settles). */
async function probeWriteAndRead(context: ScenarioContext, probeKey: string, what: string): Promise<void> {
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
  if (!writeOk || !readOk) context.fail(`${what}: striped write ok=${writeOk}, read ok=${readOk} after 8 attempts`);
}

/**
 * The leader cut off from every other cluster process (both directions) while the workload
 * runs: iptables inside the cluster's network namespace (local mode, network-namespace.ts) or
 * `docker network disconnect` (container mode). A new leader must be elected among the other
 * two, the isolated node must step down by check-quorum while still cut off (the test still
 * reaches it: exempt observer address, or docker exec), a write and a read must succeed during
 * the partition, and after healing exactly one leader must remain, every node in its term.
 */
async function partitionByNetwork(context: ScenarioContext, tracker: LeaderTracker, partitioner: NetworkPartitioner): Promise<void> {
  const old = await tracker.currentLeader();
  context.note(`partition method: ${partitioner.description}; isolating ${old.name}`);
  const polling = tracker.poll();
  try {
    await faultUnderWorkload(context, async () => {
      await partitioner.isolate(old.name);
      const isolatedAtMs = Date.now();
      const elected = await tracker.waitNewLeader(old.name, old.term, 'another node');
      context.note(`partitioned ${old.name} (term ${old.term}): new leader ${elected.name} (term ${elected.term}) after ${elected.electedAfterMs} ms`);
      const steppedDownAfterMs = await waitFor(async () => {
        const view = (await tracker.observe()).find((v) => v.name === old.name);
        return view !== undefined && view.role !== 'leader' ? Date.now() - isolatedAtMs : undefined;
      }, electionMsMax, `${old.name} to step down while partitioned (check-quorum)`).catch((err: unknown) => {
        context.fail(`old leader did not step down while partitioned: ${(err as Error).message}`);
        return undefined;
      });
      if (steppedDownAfterMs !== undefined) context.note(`${old.name} stepped down (check-quorum) ${steppedDownAfterMs} ms after the partition began, still cut off`);
      await probeWriteAndRead(context, `${context.name}/probe-during-partition`, `during the partition of ${old.name}`);
    }, async () => {
      await partitioner.heal();
      await tracker.waitSingleLeader(`exactly one metadata leader after healing the partition of ${old.name}`);
    });
  } finally {
    await partitioner.heal();
    await polling.stop();
  }
}

/** Fallback without a network namespace: the leader frozen with SIGSTOP beyond the election timeout, then SIGCONT. */
async function partitionBySigstop(context: ScenarioContext, tracker: LeaderTracker, reason: string): Promise<void> {
  const old = await tracker.currentLeader();
  context.note(`partition method: SIGSTOP/SIGCONT fallback, NOT a network partition (${reason})`);
  let paused = false;
  try {
    await faultUnderWorkload(context, async () => {
      await context.cluster.pauseProcess(old.name);
      paused = true;
      tracker.skipped.add(old.name);
      const elected = await tracker.waitNewLeader(old.name, old.term, 'another node');
      context.note(`SIGSTOP ${old.name}: new leader ${elected.name} after ${elected.electedAfterMs} ms`);
    }, async () => {
      await context.cluster.resumeProcess(old.name);
      paused = false;
      tracker.skipped.delete(old.name);
      // The resumed old leader must step down: one leader at the end.
      await tracker.waitSingleLeader('exactly one metadata leader after SIGCONT');
    });
  } finally {
    if (paused) await context.cluster.resumeProcess(old.name);
    tracker.skipped.delete(old.name);
  }
}

/** 5. metadata leader killed, then (separately) partitioned away from its peers. */
const metadataLeader: Scenario = {
  name: 'metadata-leader',
  description: 'metadata leader kill -9, then partitioned away (iptables in a network namespace; SIGSTOP fallback): no lost write, no split brain',
  modes: bothModes,
  run: async (context) => {
    const tracker = new LeaderTracker(context);
    const first = await tracker.currentLeader();
    await faultUnderWorkload(context, async () => {
      await context.cluster.killProcess(first.name);
      const elected = await tracker.waitNewLeader(first.name, first.term, 'any node');
      context.note(`kill -9 ${first.name} (term ${first.term}): leader ${elected.name} (term ${elected.term}) after ${elected.electedAfterMs} ms`);
    }, async () => {
      await context.cluster.waitReady(60_000);
    });

    const partitioner = context.cluster.partitioner;
    if ('isolate' in partitioner) await partitionByNetwork(context, tracker, partitioner);
    else await partitionBySigstop(context, tracker, partitioner.unavailableReason);
    for (const message of tracker.splitBrainTerms()) context.fail(`split brain: ${message}`);
    context.note(`leaders seen: ${[...tracker.leadersByTerm].map(([t, l]) => `${t}:${[...l].join('/')}`).join(' ')}`);
  },
};

/** 6. the gateway killed mid-upload (single-part and multipart): nothing partial, strays collected. */
const gatewayKilledMidUpload: Scenario = {
  name: 'gateway-killed-mid-upload',
  description: 'gateway kill -9 during a single-part and a multipart upload: no partial object, stray shards collected',
  modes: bothModes,
  run: async (context) => {
    const { cluster, profile } = context;
    const before = new Set(allShardFiles(context).map((f) => f.stripeId));
    const uploadSizeBytes = Math.max(profile.killedUploadSizeBytes, 11 * 1024 * 1024);
    const keys = [`${context.name}/single`, `${context.name}/multipart`];
    context.setFaultActive(true);
    // Single part: kill once shards are being written (temp files exist on storage nodes).
    const single = cluster.recorder.put(context.name, keys[0] ?? '', randomBody(uploadSizeBytes), { multipartThresholdBytes: Number.MAX_SAFE_INTEGER });
    await waitFor(() => (cluster.storageNodes().some((n) => listTempFiles(n.dataDir ?? '').length > 0) ? true : undefined), 30_000, 'shard writes in progress').catch(() => context.note('no temp file seen before the kill'));
    await cluster.killProcess('gateway');
    const singleRecord = await single;
    await cluster.waitReady(60_000);
    // Multipart: kill after the first 5 MiB part is acknowledged.
    let killed = false;
    const multipart = cluster.recorder.put(context.name, keys[1] ?? '', randomBody(uploadSizeBytes), {
      multipartThresholdBytes: 0,
      onProgress: (loadedBytes) => {
        if (!killed && loadedBytes >= 5 * 1024 * 1024) {
          killed = true;
          void cluster.killProcess('gateway');
        }
      },
    });
    const multipartRecord = await multipart;
    if (!killed) await cluster.killProcess('gateway');
    await cluster.waitReady(60_000);
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
    // The killed single-part PUT left committed shards no record names: the healer's orphan scan
    // deletes them once they are older than its safety delay.
    const strayWaitMs = profile.orphanSafetyDelayMs + profile.healWaitMsMax;
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
  modes: bothModes,
  run: async (context) => {
    await faultUnderWorkload(context, () => context.cluster.killEverything(), async () => {
      await context.cluster.waitReady(90_000);
    }, 1_000);
  },
};

/** 8. a storage node restarted with a tiny --capacity-bytes: writes go elsewhere or fail cleanly. */
const diskFull: Scenario = {
  name: 'disk-full',
  description: "a storage node's disk fills up: writes go elsewhere or fail cleanly; nothing corrupt",
  modes: ['local'],
  run: async (context) => {
    const cluster = context.cluster;
    if (!(cluster instanceof DurabilityCluster)) throw new Error('disk-full runs in local mode only');
    const node = cluster.storageNode(storageInZone(context, 'az-a')[1]?.name ?? '');
    await cluster.stopProcess(node.name);
    const tiny = await startStorageNodeWithCapacity(cluster, node, 64 * 1024);
    try {
      const filesBefore = listShardFiles(node.name, node.dataDir ?? '').length;
      await faultUnderWorkload(context, async () => undefined, async () => undefined);
      const filesAfter = listShardFiles(node.name, node.dataDir ?? '').length;
      context.note(`${node.name} at 64 KiB capacity: shard files ${filesBefore} -> ${filesAfter}`);
      const unclean = context.cluster.history.all().filter((r) => r.kind === 'write' && r.scenario === context.name && r.outcome === 'maybe' && !/ServiceUnavailable|503|SlowDown|InsufficientStorage|507/.test(r.error ?? ''));
      if (unclean.length > 0) context.fail(`${unclean.length} write(s) failed without a clean 503/507: ${unclean[0]?.kind === 'write' ? unclean[0].error ?? '' : ''}`);
    } finally {
      await tiny.stop();
      await cluster.startProcess(node.name);
    }
  },
};

/** 9. a storage node lost for good: data dir deleted, the node returns empty under the same id. */
const nodeLostForGood: Scenario = {
  name: 'node-lost-for-good',
  description: 'a storage node lost for good (data dir deleted): its shards are rebuilt elsewhere; full redundancy reached',
  modes: bothModes,
  run: async (context) => {
    const node = storageNodeInZone(context, 'az-b', 1);
    const lostShards = listShardFiles(node.name, node.dataDir ?? '').length;
    await faultUnderWorkload(context, async () => {
      await context.cluster.stopProcess(node.name);
      context.cluster.wipeDisk(node.name);
    }, async () => {
      await context.cluster.startProcess(node.name);
      await context.cluster.waitReady(60_000);
    });
    context.note(`${node.name} lost ${lostShards} shard files`);
    context.setFaultActive(true);
    const failed = (await readAll(context)).filter((o) => o.kind === 'error').length;
    context.setFaultActive(false);
    if (failed > 0) context.fail(`${failed} read(s) failed after losing one node's disk`);
  },
};

/** The gateway's block size (its default): a PUT body of at most this is kept whole and can be written again. */
const gatewayBlockSizeBytes = 1024 * 1024;
/** The gateway keeps a copy of up to this much of a streamed body for a retry (cluster-backend.ts). */
const gatewayRetainedBytesPerBodyMax = 16 * 1024 * 1024;
/** A PUT of one block and one of three blocks and a byte (striped, not multipart), recorded like the workload's. */
async function probePuts(context: ScenarioContext, phase: string): Promise<WriteRecord[]> {
  const records: WriteRecord[] = [];
  for (const sizeBytes of [300 * 1024, 3 * gatewayBlockSizeBytes + 1]) {
    records.push(await context.cluster.recorder.put(context.name, `${context.name}/probe-${phase}-${sizeBytes}`, randomBody(sizeBytes), { multipartThresholdBytes: context.profile.multipartThresholdBytes }));
  }
  return records;
}

/** How long the frozen node stays frozen: past the gateway's straggler grace and the write bound. */
const frozenHoldMs = 12_000;
/** A write begun while a storage node is frozen must not take longer than this (the 2 s straggler grace, or 3-4 s to cut a stream mid-body, plus margin). */
const writeMsMaxWhileFrozen = 7_000;

/** 10. a storage node frozen (SIGSTOP; docker pause): its connections stay open, nothing fails. */
const storageNodeFrozen: Scenario = {
  name: 'storage-node-frozen',
  description: 'a storage node frozen (SIGSTOP; docker pause in containers) during writes: no write fails or waits for it (the write quorum commits, its shard is healed), reads hedge around it',
  modes: bothModes,
  run: async (context) => {
    const node = storageNodeInZone(context, 'az-c', 1);
    let frozenAtMs = 0;
    let resumedAtMs = 0;
    await faultUnderWorkload(context, async () => {
      await context.cluster.pauseProcess(node.name);
      frozenAtMs = nowMs();
      // Writes of one block and of three early in the freeze, judged with the workload's: the
      // workload alone may have finished its operations by then (writes no longer wait for the
      // frozen node, so it runs through them faster).
      for (const delayMs of [500, 3_000]) {
        await sleep(Math.max(0, frozenAtMs + delayMs - nowMs()));
        await probePuts(context, String(delayMs));
      }
    }, async () => {
      resumedAtMs = nowMs();
      await context.cluster.resumeProcess(node.name);
    }, Math.max(context.profile.faultHoldMs, frozenHoldMs));
    // Writes begun early enough in the freeze that waiting for the frozen node would have shown.
    const judged = context.cluster.history.all().filter((r): r is WriteRecord =>
      r.kind === 'write' && r.scenario === context.name && r.startMs >= frozenAtMs && r.startMs <= resumedAtMs - writeMsMaxWhileFrozen);
    const slow = judged.filter((r) => r.endMs - r.startMs > writeMsMaxWhileFrozen);
    const failed = judged.filter((r) => r.outcome !== 'ok');
    const frozenMs = Math.round(resumedAtMs - frozenAtMs);
    context.note(`${node.name} frozen ${frozenMs} ms; ${judged.length} write(s) begun in its first ${frozenMs - writeMsMaxWhileFrozen} ms, longest ${Math.round(Math.max(0, ...judged.map((r) => r.endMs - r.startMs)))} ms`);
    if (judged.length === 0) context.fail('no write was begun while the node was frozen');
    if (failed.length > 0) context.fail(`${failed.length} write(s) failed while one storage node was frozen: ${failed.map((r) => r.error ?? '').slice(0, 3).join('; ')}`);
    if (slow.length > 0) context.fail(`${slow.length} write(s) waited for the frozen node (over ${writeMsMaxWhileFrozen} ms)`);
    context.setFaultActive(true);
    const readFailures = (await readAll(context)).filter((o) => o.kind === 'error').length;
    context.setFaultActive(false);
    if (readFailures > 0) context.fail(`${readFailures} read(s) failed after the node was resumed`);
  },
};

/** Writes begun this long into the freeze find the zone avoided (first failures ~3.5 s in, plus margin). */
const zoneFrozenDetectionMs = 8_000;
/** Past the leader's suspect mark (15 s without a heartbeat) and the gateway's node list refresh. */
const zoneFrozenLateProbeMs = 18_000;

/** 11. every storage node of one AZ frozen (SIGSTOP; docker pause), as when an AZ's network stops delivering. */
const zoneFrozen: Scenario = {
  name: 'az-frozen',
  description: 'the 3 storage nodes of az-b frozen (SIGSTOP; docker pause in containers) during writes: no single PUT of up to 16 MiB fails (the gateway writes it again around the AZ), multipart uploads only in the first seconds, none after; every key reads after the AZ resumes',
  modes: bothModes,
  run: async (context) => {
    const nodes = storageInZone(context, 'az-b');
    if (nodes.length !== 3) throw new Error(`az-b has ${nodes.length} storage nodes, not 3`);
    let frozenAtMs = 0;
    let resumedAtMs = 0;
    // Besides the workload (which may have finished its operations early in the freeze): PUTs of
    // one block and of three, once the zone is avoided and again after the leader marked it
    // suspect, each at its first attempt.
    const probe = async (phase: string): Promise<void> => {
      for (const write of await probePuts(context, phase)) {
        if (write.outcome !== 'ok') context.fail(`a ${write.sizeBytes} B PUT ${Math.round(write.startMs - frozenAtMs)} ms into the freeze failed: ${write.error ?? ''}`);
      }
    };
    await faultUnderWorkload(context, async () => {
      await Promise.all(nodes.map((node) => context.cluster.pauseProcess(node.name)));
      frozenAtMs = nowMs();
      await sleep(zoneFrozenDetectionMs);
      await probe('avoided');
      await sleep(Math.max(0, frozenAtMs + zoneFrozenLateProbeMs - nowMs()));
      await probe('suspect');
    }, async () => {
      resumedAtMs = nowMs();
      await Promise.all(nodes.map((node) => context.cluster.resumeProcess(node.name)));
    });
    const puts = context.cluster.history.all().filter((r): r is WriteRecord =>
      r.kind === 'write' && r.scenario === context.name && r.sha256 !== undefined && r.startMs >= frozenAtMs && r.startMs < resumedAtMs);
    // Single PUTs up to 16 MiB are written again around the AZ (kept whole up to a block, as a
    // copy while streaming beyond it); multipart uploads are judged like the rest.
    const small = puts.filter((r) => !r.multipart && r.sizeBytes <= gatewayRetainedBytesPerBodyMax);
    // Begun once the zone is avoided and finished before it resumed: nothing may fail.
    const afterDetection = puts.filter((r) => r.startMs >= frozenAtMs + zoneFrozenDetectionMs && r.endMs <= resumedAtMs);
    const failed = (records: readonly WriteRecord[]): WriteRecord[] => records.filter((r) => r.outcome !== 'ok');
    const describeFailures = (records: readonly WriteRecord[]): string =>
      records.slice(0, 3).map((r) => `${r.sizeBytes} B at +${Math.round(r.startMs - frozenAtMs)} ms: ${r.error ?? ''}`).join('; ');
    const largeFailed = failed(puts.filter((r) => !small.includes(r)));
    context.note(`az-b frozen ${Math.round(resumedAtMs - frozenAtMs)} ms; ${puts.length} PUT(s) begun meanwhile, ${small.length} single of up to 16 MiB (${small.filter((r) => r.sizeBytes > gatewayBlockSizeBytes).length} above one block), ${afterDetection.length} after the first ${zoneFrozenDetectionMs} ms; others failed: ${largeFailed.length} (${describeFailures(largeFailed)})`);
    if (small.length === 0) context.fail('no single PUT of up to 16 MiB was begun while the zone was frozen');
    if (failed(small).length > 0) context.fail(`${failed(small).length} single PUT(s) of up to 16 MiB failed while az-b was frozen: ${describeFailures(failed(small))}`);
    if (failed(afterDetection).length > 0) context.fail(`${failed(afterDetection).length} PUT(s) begun after the zone was avoided failed: ${describeFailures(failed(afterDetection))}`);
    context.setFaultActive(true);
    const readFailures = (await readAll(context)).filter((o) => o.kind === 'error').length;
    context.setFaultActive(false);
    if (readFailures > 0) context.fail(`${readFailures} read(s) failed after az-b resumed`);
  },
};

export const scenarios: readonly Scenario[] = [killStorageNode, zoneOutage, parityNodesDown, bitrot, metadataLeader, gatewayKilledMidUpload, killEverythingScenario, diskFull, nodeLostForGood, storageNodeFrozen, zoneFrozen];

/** Full-redundancy scenarios first (see the file comment). */
export const scenarioRunOrder: readonly Scenario[] = [parityNodesDown, bitrot, killStorageNode, zoneOutage, metadataLeader, gatewayKilledMidUpload, killEverythingScenario, diskFull, nodeLostForGood, storageNodeFrozen, zoneFrozen];

/** The reduced container set of the CI (short) profile: kill -9, a network partition, kill everything. */
export const containerScenarioNamesCi: readonly string[] = ['kill-storage-node', 'metadata-leader', 'kill-everything'];
