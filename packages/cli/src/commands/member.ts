/**
 * `tessera member ls|add|remove`: the metadata group's Raft membership, changed one server at a
 * time (Raft thesis §4.1; the metadata service's ChangeMembership RPC).
 *
 * - `add <id> --address <host:port>` takes a node started with `--join` through the whole safe
 *   sequence: checks that it answers under that id, adds it as a learner (it receives the log or a
 *   snapshot but does not vote), waits until it has applied what the leader had committed, then
 *   promotes it to voter. A voter that is far behind would count towards majorities it cannot
 *   help form, which is why the learner step exists. `--learner` stops after the first step.
 * - `remove <id>` refuses, unless `--force`, a removal that would leave fewer reachable voters
 *   than a majority of the remaining group: the removal entry itself could not commit, and the
 *   group would take no writes until the unreachable members came back.
 *
 * Every step re-reads the membership from the leader first, so running a command again after
 * an interruption (or a timeout of unknown outcome) continues where it stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MetadataError, MetadataClient, ProposalTimeoutError } from '@tessera/rpc';
import { requiredPositional } from '../args';
import type { ParsedArgs } from '../args';
import { CliError, UsageError } from '../errors';
import { formatDurationMs, renderTable } from '../table';

export interface MemberCommandResult {
  readonly json: unknown;
  readonly text: string;
}

export interface MemberCommandOptions {
  readonly args: ParsedArgs;
  readonly addresses: readonly string[];
  /** Progress lines of a long step (the catch-up wait); main writes them to stderr. */
  readonly progress: (line: string) => void;
}

/** One member as the CLI shows it: the leader's membership plus the member's own answer. */
export interface MemberView {
  readonly nodeId: string;
  readonly address: string;
  readonly voter: boolean;
  readonly reachable: boolean;
  readonly role: string | null;
  /** Started without its Raft state while the group ran: it does not vote until caught up. */
  readonly recoveringFromDataLoss: boolean | null;
  readonly term: number | null;
  readonly appliedIndex: number | null;
  /** Entries the leader has committed that the member has not applied yet. */
  readonly lagEntries: number | null;
  readonly error: string | null;
}

interface GroupStatus {
  readonly nodeId: string;
  readonly role: string;
  readonly leaderId: string;
  readonly leaderAddress: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly recoveringFromDataLoss: boolean;
  readonly members: ReadonlyArray<{ readonly nodeId: string; readonly address: string; readonly voter: boolean }>;
}

interface Leader {
  readonly address: string;
  readonly status: GroupStatus;
}

/** Each status probe and membership call. */
const memberCallTimeoutMs = 3_000;
/** Between polls of a leader search or a catch-up wait. */
const pollIntervalMs = 500;
/** How long a command looks for a leader (an election takes 1-2 s). */
const leaderSearchMs = 15_000;
/** How long `add` waits for the new node to answer (a script may start it just before). */
const newMemberAnswerWaitMs = 10_000;
/** How long `add` waits for a learner to catch up, unless `--timeout-ms`. */
const catchUpTimeoutMsDefault = 600_000;
/** Retries of a change refused because the previous one (or the new leader's first entry) has not committed yet. */
const pendingChangeRetryMs = 10_000;

/** Majority of a group of `voterCount` voters. */
export function majorityOf(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * Why removing `nodeId` would leave the group unable to commit, or undefined when it would not:
 * the remaining voters that answer must be a majority of the remaining voters.
 */
export function removalRefusal(voters: readonly string[], nodeId: string, reachable: ReadonlySet<string>): string | undefined {
  if (!voters.includes(nodeId)) return undefined;
  const remaining = voters.filter((id) => id !== nodeId);
  if (remaining.length === 0) return `${nodeId} is the last voter; a group cannot remove its last voter`;
  const answering = remaining.filter((id) => reachable.has(id));
  const needed = majorityOf(remaining.length);
  if (answering.length >= needed) return undefined;
  const silent = remaining.filter((id) => !reachable.has(id));
  return `removing ${nodeId} would leave ${remaining.length} voters (${remaining.join(', ')}), of which ${answering.length} ${answering.length === 1 ? 'answers' : 'answer'}` +
    ` (${silent.join(', ')} ${silent.length === 1 ? 'does' : 'do'} not): fewer than the ${needed} a majority needs, so the removal could not commit and the group would take no writes.` +
    ' Bring the silent members back first, or remove them instead; --force removes anyway.';
}

/** "voters: a, b, c (a majority is 2; 1 may be down)" plus the learners, for the end of a change. */
export function describeGroup(members: GroupStatus['members']): string {
  const voters = members.filter((m) => m.voter).map((m) => m.nodeId);
  const learners = members.filter((m) => !m.voter).map((m) => m.nodeId);
  const majority = majorityOf(voters.length);
  const tolerated = voters.length - majority;
  const tolerance = tolerated === 0 ? 'no voter may be down: add a member to tolerate a failure again (tessera member add)' : `${tolerated} may be down`;
  return `voters: ${voters.join(', ')} (a majority is ${majority}; ${tolerance})${learners.length > 0 ? `; learners: ${learners.join(', ')}` : ''}`;
}

export async function runMemberCommand(options: MemberCommandOptions): Promise<MemberCommandResult> {
  const { args, addresses } = options;
  const [, sub, nodeIdArg] = args.positionals;
  const client = new MetadataClient({ addresses, callTimeoutMs: memberCallTimeoutMs, attemptCountMax: Math.max(3, addresses.length * 2), backoffMsMax: 500 });
  const session = new MemberSession(client, addresses, options.progress, pollIntervalMs);
  try {
    switch (sub) {
      case 'ls':
      case undefined: {
        const leader = await session.findLeader();
        const members = await session.memberViews(leader);
        const rows = members.map((m) => [
          m.nodeId, m.address, m.voter ? 'voter' : 'learner', m.reachable ? `${m.role ?? '?'}${m.recoveringFromDataLoss === true ? ' (recovering from data loss: not voting)' : ''}` : 'unreachable',
          String(m.term ?? '-'), String(m.appliedIndex ?? '-'), String(m.lagEntries ?? '-'),
        ]);
        const text = `leader ${leader.status.nodeId} (${leader.address}), term ${leader.status.term}, commit index ${leader.status.commitIndex}\n` +
          `${renderTable(['MEMBER', 'ADDRESS', 'KIND', 'ROLE', 'TERM', 'APPLIED', 'LAG'], rows)}\n${describeGroup(leader.status.members)}`;
        return { json: { leaderId: leader.status.nodeId, leaderAddress: leader.address, term: leader.status.term, commitIndex: leader.status.commitIndex, members }, text };
      }
      case 'add': {
        const nodeId = requiredPositional(nodeIdArg, 'tessera member add <node-id> --address <host:port> [--learner] [--timeout-ms <ms>]');
        const address = args.flags.get('address');
        if (address === undefined || address === '') throw new UsageError('--address is required: where the new member listens (host:port), as given to its --listen');
        const timeoutMs = timeoutMsOf(args.flags.get('timeout-ms'));
        return await session.add(nodeId, address, args.flags.has('learner'), timeoutMs);
      }
      case 'remove': {
        const nodeId = requiredPositional(nodeIdArg, 'tessera member remove <node-id> [--force]');
        return await session.remove(nodeId, args.flags.has('force'));
      }
      default:
        throw new UsageError(`unknown member command ${JSON.stringify(sub)}: use ls, add or remove`);
    }
  } catch (err) {
    if (err instanceof MetadataError) throw new CliError(err.message);
    throw err;
  } finally {
    client.close();
  }
}

function timeoutMsOf(text: string | undefined): number {
  if (text === undefined) return catchUpTimeoutMsDefault;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 1_000) throw new UsageError(`--timeout-ms ${JSON.stringify(text)}: give whole milliseconds, at least 1000`);
  return ms;
}

class MemberSession {
  constructor(
    private readonly client: MetadataClient,
    private readonly addresses: readonly string[],
    private readonly progress: (line: string) => void,
    private readonly pollIntervalMs: number,
  ) {}

  /** The leader's own status: asks every configured address, then follows leader hints. */
  async findLeader(): Promise<Leader> {
    const deadline = Date.now() + leaderSearchMs;
    for (;;) {
      const answers = await Promise.all(this.addresses.map(async (address) => ({ address, status: await this.statusAt(address) })));
      // A leader cut off from the others may not know yet that a later term has begun: the latest term wins.
      const leaders = answers.flatMap((a) => (a.status?.role === 'leader' ? [{ address: a.address, status: a.status }] : []));
      const leader = leaders.sort((a, b) => b.status.term - a.status.term)[0];
      if (leader !== undefined) return leader;
      const hints = new Set(answers.map((a) => a.status?.leaderAddress ?? '').filter((hint) => hint !== '' && !this.addresses.includes(hint)));
      for (const hint of hints) {
        const status = await this.statusAt(hint);
        if (status?.role === 'leader') return { address: hint, status };
      }
      const answering = answers.filter((a) => a.status !== undefined).length;
      // Nobody answering is not an election: say so at once.
      if (answering === 0) throw new CliError(`no metadata node answered at ${this.addresses.join(', ')}; is the cluster running? (--metadata)`);
      const problem = `${answering} of ${this.addresses.length} metadata nodes answered but none is the leader (an election in progress, or no majority of voters up)`;
      if (Date.now() >= deadline) throw new CliError(problem);
      await sleep(this.pollIntervalMs);
    }
  }

  async memberViews(leader: Leader): Promise<MemberView[]> {
    return Promise.all(leader.status.members.map(async (member): Promise<MemberView> => {
      const status = member.nodeId === leader.status.nodeId ? leader.status : await this.statusAt(member.address);
      const error = status === undefined ? `no answer at ${member.address || '(no address)'}` : status.nodeId !== member.nodeId ? `${member.address} answers as ${status.nodeId}` : null;
      const ok = status !== undefined && error === null;
      return {
        nodeId: member.nodeId, address: member.address, voter: member.voter, reachable: ok,
        role: ok ? status.role : null, recoveringFromDataLoss: ok ? status.recoveringFromDataLoss : null, term: ok ? status.term : null, appliedIndex: ok ? status.appliedIndex : null,
        lagEntries: ok ? Math.max(0, leader.status.commitIndex - status.appliedIndex) : null, error,
      };
    }));
  }

  async add(nodeId: string, address: string, learnerOnly: boolean, timeoutMs: number): Promise<MemberCommandResult> {
    let leader = await this.findLeader();
    const existing = leader.status.members.find((m) => m.nodeId === nodeId);
    if (existing !== undefined && existing.address !== '' && existing.address !== address) {
      throw new CliError(`${nodeId} is already a member at ${existing.address}, not ${address}; remove it first (tessera member remove ${nodeId}) to add it elsewhere`);
    }
    if (existing?.voter === true) {
      return { json: { nodeId, address, voter: true, changed: false, members: leader.status.members }, text: `${nodeId} is already a voter\n${describeGroup(leader.status.members)}` };
    }
    const probe = await this.statusWithin(address, newMemberAnswerWaitMs);
    if (probe === undefined) {
      throw new CliError(`no metadata node answers at ${address}: start ${nodeId} there first, with --join (tessera metadata --node-id ${nodeId} --listen ${address} ` +
        `--peers <the current members>,${nodeId}=${address} --data-dir <dir> --join), then run this again`);
    }
    if (probe.nodeId !== nodeId) throw new CliError(`the metadata node at ${address} is ${probe.nodeId}, not ${nodeId}`);
    if (existing === undefined) {
      leader = await this.change({ kind: 'addLearner', nodeId, address }, (s) => s.members.some((m) => m.nodeId === nodeId));
      this.progress(`${nodeId} added as a learner: it receives the log but does not vote yet`);
    }
    if (learnerOnly) {
      return { json: { nodeId, address, voter: false, changed: existing === undefined, members: leader.status.members }, text: `${nodeId} is a learner (promote it with tessera member add ${nodeId} --address ${address})\n${describeGroup(leader.status.members)}` };
    }
    const caughtUp = await this.waitCaughtUp(nodeId, address, timeoutMs);
    leader = await this.change({ kind: 'add', nodeId }, (s) => s.members.some((m) => m.nodeId === nodeId && m.voter));
    return {
      json: { nodeId, address, voter: true, changed: true, appliedIndex: caughtUp.appliedIndex, members: leader.status.members },
      text: `${nodeId} is a voter (caught up at index ${caughtUp.appliedIndex} in ${formatDurationMs(caughtUp.waitedMs)})\n${describeGroup(leader.status.members)}\n` +
        'Gateways, storage nodes and the healer find new members through leader hints; add its address to their --metadata lists (TESSERA_METADATA) when you next restart them.',
    };
  }

  async remove(nodeId: string, force: boolean): Promise<MemberCommandResult> {
    const leader = await this.findLeader();
    const member = leader.status.members.find((m) => m.nodeId === nodeId);
    if (member === undefined) throw new CliError(`${nodeId} is not a member of the metadata group (members: ${leader.status.members.map((m) => m.nodeId).join(', ')})`);
    const voters = leader.status.members.filter((m) => m.voter).map((m) => m.nodeId);
    if (member.voter && !force) {
      const views = await this.memberViews(leader);
      const refusal = removalRefusal(voters, nodeId, new Set(views.filter((v) => v.reachable && v.voter).map((v) => v.nodeId)));
      if (refusal !== undefined) throw new CliError(refusal);
    }
    const after = await this.change({ kind: 'remove', nodeId }, (s) => !s.members.some((m) => m.nodeId === nodeId));
    const wasLeader = nodeId === leader.status.nodeId;
    return {
      json: { nodeId, removed: true, wasLeader, members: after.status.members },
      text: `${nodeId} removed${wasLeader ? ' (it was the leader: it stepped down, and the remaining voters elect a new one)' : ''}; it no longer votes or receives the log. ` +
        `Stop its process; its data directory is no longer needed.\n${describeGroup(after.status.members)}`,
    };
  }

  /**
   * Proposes one change (the client finds the leader) and returns the leader's status once `done` holds. A refusal because an
   * earlier change is still committing is retried; a call of unknown outcome (a timeout, a
   * leader change) is judged by reading the membership again.
   */
  private async change(request: { kind: 'addLearner' | 'add' | 'remove'; nodeId: string; address?: string }, done: (status: GroupStatus) => boolean): Promise<Leader> {
    const deadline = Date.now() + pendingChangeRetryMs;
    for (;;) {
      try {
        await this.client.changeMembership({ kind: request.kind, nodeId: request.nodeId, address: request.address ?? '' });
      } catch (err) {
        const pending = err instanceof MetadataError && err.message.includes('membershipChangePending');
        const unknownOutcome = err instanceof ProposalTimeoutError || !(err instanceof MetadataError);
        if (!pending && !unknownOutcome) {
          // "already a member" after an attempt that did commit is success; anything else is the answer.
          const current = await this.findLeader();
          if (done(current.status)) return current;
          throw err;
        }
        if (Date.now() >= deadline) throw new CliError(`${request.kind} ${request.nodeId} did not go through: ${(err as Error).message}; check tessera member ls and run the command again`);
        await sleep(this.pollIntervalMs);
      }
      const current = await this.findLeader();
      if (done(current.status)) return current;
      if (Date.now() >= deadline) throw new CliError(`${request.kind} ${request.nodeId} was not committed yet; check tessera member ls and run the command again`);
    }
  }

  /** Until the learner has applied everything the leader had committed at the previous poll. */
  private async waitCaughtUp(nodeId: string, address: string, timeoutMs: number): Promise<{ appliedIndex: number; waitedMs: number }> {
    const startMs = Date.now();
    let targetIndex: number | undefined;
    let lastReportMs = 0;
    for (;;) {
      const [learner, leader] = await Promise.all([this.statusAt(address), this.findLeader()]);
      if (learner !== undefined && targetIndex !== undefined && learner.appliedIndex >= targetIndex) return { appliedIndex: learner.appliedIndex, waitedMs: Date.now() - startMs };
      targetIndex = leader.status.commitIndex;
      const waitedMs = Date.now() - startMs;
      if (waitedMs >= timeoutMs) {
        throw new CliError(`${nodeId} has not caught up after ${formatDurationMs(waitedMs)} (${learner === undefined ? 'it does not answer' : `applied ${learner.appliedIndex} of ${targetIndex}`}); ` +
          `it stays a learner. Check its log, then run tessera member add ${nodeId} --address ${address} again, or tessera member remove ${nodeId}`);
      }
      if (waitedMs - lastReportMs >= 2_000) {
        lastReportMs = waitedMs;
        this.progress(`${nodeId} catching up: ${learner === undefined ? 'no answer yet' : `applied ${learner.appliedIndex} of ${targetIndex}`}`);
      }
      await sleep(this.pollIntervalMs);
    }
  }

  /** The node's status, asking again until it answers or `waitMs` has passed (a node just started). */
  private async statusWithin(address: string, waitMs: number): Promise<GroupStatus | undefined> {
    const deadline = Date.now() + waitMs;
    for (let attempt = 0; ; attempt++) {
      const status = await this.statusAt(address);
      if (status !== undefined || Date.now() >= deadline) return status;
      if (attempt === 0) this.progress(`waiting up to ${formatDurationMs(waitMs)} for the node at ${address} to answer`);
      await sleep(this.pollIntervalMs);
    }
  }

  private async statusAt(address: string): Promise<GroupStatus | undefined> {
    try {
      return await this.client.getClusterStatus(address);
    } catch {
      return undefined;
    }
  }
}
