/**
 * The workload generator: concurrent workers issuing a seeded mix of PUT (new keys and
 * overwrites), DELETE, GET and LIST through the S3 recorder, until each worker has done its
 * operation count, the time bound passes, or the caller stops it. Object sizes mix the edge cases
 * of the data path (0 bytes, 1 byte, the 64 KiB inline bound, around 1 MiB blocks) with a few big
 * objects (multipart above the profile's threshold).
 */
import { randomFillSync } from 'node:crypto';
import type { Random } from '@tessera/common';
import type { History } from './history';
import { nowMs } from './history';
import type { DurabilityProfile } from './profile';
import type { S3Recorder } from './s3-recorder';

const kibibyte = 1024;
const mebibyte = 1024 * kibibyte;
const edgeSizesBytes = [0, 1, 4 * kibibyte, 64 * kibibyte, 64 * kibibyte + 1, mebibyte - 1, mebibyte, mebibyte + 1, 3 * mebibyte];

export function pickObjectSizeBytes(random: Random, profile: DurabilityProfile): number {
  if (random.nextFloat() < profile.bigObjectProbability) {
    return profile.bigObjectSizeBytesMin + random.nextInt(profile.bigObjectSizeBytesMax - profile.bigObjectSizeBytesMin + 1);
  }
  if (random.nextFloat() < 0.4) return edgeSizesBytes[random.nextInt(edgeSizesBytes.length)] ?? 0;
  return random.nextInt(2 * mebibyte);
}

export function randomBody(sizeBytes: number): Buffer {
  const body = Buffer.allocUnsafe(sizeBytes);
  randomFillSync(body);
  return body;
}

export interface WorkloadCounts {
  writesOk: number;
  writesMaybe: number;
  readsOk: number;
  readsFailed: number;
  listsFailed: number;
  /** Operations that failed while `faultActive` was true. */
  failedDuringFault: number;
}

export interface WorkloadOptions {
  readonly scenario: string;
  readonly recorder: S3Recorder;
  readonly history: History;
  readonly random: Random;
  readonly profile: DurabilityProfile;
  /** Overrides the profile's per-worker operation count (e.g. a short post-fault phase). */
  readonly opCountPerWorkerMax?: number;
  /** Read on every failure to attribute it to the fault window. */
  readonly faultActive: () => boolean;
}

/** A running workload; `stop()` asks the workers to finish their current operation. */
export class Workload {
  readonly counts: WorkloadCounts = { writesOk: 0, writesMaybe: 0, readsOk: 0, readsFailed: 0, listsFailed: 0, failedDuringFault: 0 };
  private stopped = false;
  private nextKeyNumber = 0;
  private readonly done: Promise<void>;

  constructor(private readonly options: WorkloadOptions) {
    const deadlineMs = nowMs() + options.profile.phaseDurationMsMax;
    const opCountMax = options.opCountPerWorkerMax ?? options.profile.opCountPerWorkerMax;
    const workers = Array.from({ length: options.profile.workerCount }, (_, workerIndex) => this.runWorker(workerIndex, opCountMax, deadlineMs));
    this.done = Promise.all(workers).then(() => undefined);
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }

  finished(): Promise<void> {
    return this.done;
  }

  private async runWorker(workerIndex: number, opCountMax: number, deadlineMs: number): Promise<void> {
    const { scenario, recorder, random, profile } = this.options;
    if (workerIndex === 0) {
      for (let i = 0; i < profile.bigObjectsPerWorkloadCount && !this.stopped; i++) {
        // At least the multipart threshold, so each workload exercises lib-storage multipart.
        const sizeBytesMin = Math.max(profile.bigObjectSizeBytesMin, profile.multipartThresholdBytes);
        const sizeBytes = sizeBytesMin + random.nextInt(Math.max(1, profile.bigObjectSizeBytesMax - sizeBytesMin + 1));
        const key = `${scenario}/w0-big${this.nextKeyNumber++}`;
        this.countWrite(await recorder.put(scenario, key, randomBody(sizeBytes), { multipartThresholdBytes: profile.multipartThresholdBytes }));
      }
    }
    for (let opIndex = 0; opIndex < opCountMax && !this.stopped && nowMs() < deadlineMs; opIndex++) {
      await this.runOne(workerIndex);
    }
  }

  private async runOne(workerIndex: number): Promise<void> {
    const { scenario, recorder, history, random, profile } = this.options;
    const prefix = `${scenario}/`;
    const live = history.liveKeys(prefix);
    const dice = random.nextFloat();
    if (live.length === 0 || dice < 0.45) {
      const key = `${prefix}w${workerIndex}-k${this.nextKeyNumber++}`;
      return this.countWrite(await recorder.put(scenario, key, randomBody(pickObjectSizeBytes(random, profile)), { multipartThresholdBytes: profile.multipartThresholdBytes }));
    }
    const key = live[random.nextInt(live.length)] ?? '';
    if (dice < 0.55) {
      return this.countWrite(await recorder.put(scenario, key, randomBody(random.nextInt(256 * kibibyte)), { multipartThresholdBytes: profile.multipartThresholdBytes }));
    }
    if (dice < 0.6) return this.countWrite(await recorder.delete(scenario, key));
    if (dice < 0.9) {
      const observed = await recorder.get(scenario, key);
      if (observed.kind === 'error') this.countFailure('read');
      else this.counts.readsOk++;
      return;
    }
    const listed = await recorder.list(scenario, prefix);
    if (listed.kind === 'error') this.countFailure('list');
  }

  private countWrite(record: { outcome: 'ok' | 'maybe' }): void {
    if (record.outcome === 'ok') this.counts.writesOk++;
    else {
      this.counts.writesMaybe++;
      if (this.options.faultActive()) this.counts.failedDuringFault++;
    }
  }

  private countFailure(kind: 'read' | 'list'): void {
    if (kind === 'read') this.counts.readsFailed++;
    else this.counts.listsFailed++;
    if (this.options.faultActive()) this.counts.failedDuringFault++;
  }
}
