import type { Random } from '@tessera/common';
import { assert } from '@tessera/common';
import type { NodeId, RaftMessage } from '@tessera/raft';

/** Fault rates of the simulated network; every decision is drawn from the injected Random. */
export interface SimNetworkOptions {
  /** Probability that a message is lost. */
  readonly dropProbability: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  readonly duplicateProbability: number;
  /** One-way delay, uniform in [delayTicksMin, delayTicksMax]; different delays reorder. */
  readonly delayTicksMin: number;
  readonly delayTicksMax: number;
}

interface InFlight {
  readonly deliverAtTick: number;
  readonly sequence: number;
  readonly message: RaftMessage;
}

export interface SimNetworkStats {
  sentCount: number;
  deliveredCount: number;
  droppedCount: number;
  duplicatedCount: number;
  cutCount: number;
}

/**
 * A lossy, delaying, reordering, duplicating network with symmetric and one-way partitions.
 * A cut link drops what is sent on it and what is still in flight on it at delivery time.
 */
export class SimNetwork {
  private inFlight: InFlight[] = [];
  private sequence = 0;
  /** Directed links that drop everything: "from->to". */
  private readonly cutLinks = new Set<string>();
  readonly stats: SimNetworkStats = { sentCount: 0, deliveredCount: 0, droppedCount: 0, duplicatedCount: 0, cutCount: 0 };

  constructor(
    private readonly random: Random,
    private readonly options: SimNetworkOptions,
  ) {
    assert(options.delayTicksMin >= 0 && options.delayTicksMax >= options.delayTicksMin, 'delay range is valid');
  }

  send(message: RaftMessage, nowTick: number): void {
    this.stats.sentCount += 1;
    if (this.isCut(message.from, message.to)) {
      this.stats.cutCount += 1;
      return;
    }
    if (this.random.nextFloat() < this.options.dropProbability) {
      this.stats.droppedCount += 1;
      return;
    }
    this.schedule(message, nowTick);
    if (this.random.nextFloat() < this.options.duplicateProbability) {
      this.stats.duplicatedCount += 1;
      this.schedule(message, nowTick);
    }
  }

  private schedule(message: RaftMessage, nowTick: number): void {
    const span = this.options.delayTicksMax - this.options.delayTicksMin + 1;
    const delayTicks = this.options.delayTicksMin + this.random.nextInt(span);
    this.inFlight.push({ deliverAtTick: nowTick + delayTicks, sequence: this.sequence++, message });
  }

  /** Removes and returns the messages due at `nowTick`, in delivery order. */
  takeDue(nowTick: number): RaftMessage[] {
    const due: InFlight[] = [];
    const later: InFlight[] = [];
    for (const item of this.inFlight) (item.deliverAtTick <= nowTick ? due : later).push(item);
    this.inFlight = later;
    due.sort((a, b) => a.deliverAtTick - b.deliverAtTick || a.sequence - b.sequence);
    const delivered: RaftMessage[] = [];
    for (const item of due) {
      if (this.isCut(item.message.from, item.message.to)) {
        this.stats.cutCount += 1;
        continue;
      }
      this.stats.deliveredCount += 1;
      delivered.push(item.message);
    }
    return delivered;
  }

  /** Splits the nodes into groups that cannot talk to each other (both directions). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const [i, left] of groups.entries()) {
      for (const [j, right] of groups.entries()) {
        if (i === j) continue;
        for (const from of left) for (const to of right) this.cutLinks.add(`${from}->${to}`);
      }
    }
  }

  /** `from` can no longer reach `to`; the reverse direction still works. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}->${to}`);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cutLinks.has(`${from}->${to}`);
  }

  /** Drops everything in flight to or from `nodeId` (its connections died with it). */
  dropNode(nodeId: NodeId): void {
    this.inFlight = this.inFlight.filter((item) => item.message.to !== nodeId && item.message.from !== nodeId);
  }

  inFlightCount(): number {
    return this.inFlight.length;
  }
}
