// Goal: an operator can replace a metadata member with `tessera member` alone, and the command
// refuses the removal that would stop the group. Method: three metadata nodes started as
// `tessera metadata` child processes on free loopback ports (snapshots every 50 entries, so a
// late member catches up from a snapshot), a follower killed with SIGKILL, then the CLI run as a
// child process: a removal that would leave no answering majority is refused, the dead member
// is removed, a fourth node started with --join is added (learner, catch-up, voter), the leader
// removes itself, and every object committed before and after is read back through the new
// member alone.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetadataClient, findFreePortBlock } from '@tessera/rpc';
import { majorityOf, removalRefusal } from '../src/commands/member';
import type { MemberView } from '../src/commands/member';
import { requireBuilt, runTessera, tesseraMain, until } from './helpers';

const md5 = '0123456789abcdef0123456789abcdef';

interface MemberList {
  readonly leaderId: string;
  readonly commitIndex: number;
  readonly members: readonly MemberView[];
}

describe('removalRefusal and majorityOf (pure)', () => {
  test('a removal must leave an answering majority of the remaining voters', () => {
    expect([1, 2, 3, 4, 5].map(majorityOf)).toEqual([1, 2, 2, 3, 3]);
    const voters = ['a', 'b', 'c'];
    expect(removalRefusal(voters, 'a', new Set(['a', 'b', 'c']))).toBeUndefined();
    // b is down: removing b leaves a and c, both answering.
    expect(removalRefusal(voters, 'b', new Set(['a', 'c']))).toBeUndefined();
    // b is down: removing c leaves a and b, one answering of the two needed.
    expect(removalRefusal(voters, 'c', new Set(['a', 'c']))).toMatch(/would leave 2 voters \(a, b\), of which 1 answers \(b does not\): fewer than the 2/);
    // Five voters, two down: removing a live one leaves 4 with 2 answering (3 needed).
    expect(removalRefusal(['a', 'b', 'c', 'd', 'e'], 'a', new Set(['a', 'b', 'c']))).toMatch(/of which 2 answer \(d, e do not\)/);
    expect(removalRefusal(['a'], 'a', new Set(['a']))).toMatch(/last voter/);
    // A learner (not among the voters) never affects the majority.
    expect(removalRefusal(voters, 'learner', new Set())).toBeUndefined();
  });
});

describe('tessera member (real metadata processes, real CLI)', () => {
  let root: string;
  let addressOf: Map<string, string>;
  const children = new Map<string, ChildProcess>();

  const startMember = (nodeId: string, peers: ReadonlyMap<string, string>, join: boolean): void => {
    const address = peers.get(nodeId) ?? '';
    const args = [
      tesseraMain, 'metadata', '--node-id', nodeId, '--listen', address, '--data-dir', path.join(root, nodeId),
      '--peers', [...peers].map(([id, a]) => `${id}=${a}`).join(','), '--snapshot-every-entries', '50', ...(join ? ['--join'] : []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
    child.stderr?.resume();
    children.set(nodeId, child);
  };
  const tessera = (addresses: readonly string[], ...args: string[]) => runTessera([...args, '--metadata', addresses.join(',')]);
  const listMembers = async (addresses: readonly string[]): Promise<MemberList | undefined> => {
    const result = await tessera(addresses, 'member', 'ls', '--json');
    return result.exitCode === 0 ? (JSON.parse(result.stdout) as MemberList) : undefined;
  };
  const commitObjects = async (addresses: readonly string[], prefix: string, count: number): Promise<void> => {
    const client = new MetadataClient({ addresses: [...addresses] });
    try {
      for (let i = 0; i < count; i++) await client.commitVersion({ bucket: 'members', key: `${prefix}-${i}`, sizeBytes: prefix.length, etag: md5, inlineData: Buffer.from(prefix) });
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    requireBuilt();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-cli-members-'));
    const base = await findFreePortBlock('127.0.0.1', 4);
    addressOf = new Map(['meta-1', 'meta-2', 'meta-3', 'meta-4'].map((id, i) => [id, `127.0.0.1:${base + i}`]));
  });

  afterAll(async () => {
    await Promise.all([...children.values()].map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })));
    if (root !== undefined) fs.rmSync(root, { recursive: true, force: true });
  });

  test('remove a dead member, refuse a removal that loses the majority, add a joined node, the leader removes itself', async () => {
    const founding = new Map(['meta-1', 'meta-2', 'meta-3'].map((id) => [id, addressOf.get(id) ?? '']));
    const foundingAddresses = [...founding.values()];
    for (const id of founding.keys()) startMember(id, founding, false);
    const first = await until(async () => {
      const list = await listMembers(foundingAddresses);
      return list !== undefined && list.members.every((m) => m.reachable) ? list : undefined;
    }, 30_000, 'three reachable members and a leader');
    expect(first.members.map((m) => [m.nodeId, m.voter]).sort()).toEqual([['meta-1', true], ['meta-2', true], ['meta-3', true]]);
    expect(first.members.filter((m) => m.role === 'leader').map((m) => m.nodeId)).toEqual([first.leaderId]);

    const client = new MetadataClient({ addresses: foundingAddresses });
    await client.createBucket({ bucket: 'members', owner: 'o' });
    client.close();
    await commitObjects(foundingAddresses, 'before', 120);

    // A follower dies for good.
    const [dead, other] = [...founding.keys()].filter((id) => id !== first.leaderId) as [string, string];
    children.get(dead)?.kill('SIGKILL');

    // Removing the other follower would leave the leader and the dead member: refused.
    const refused = await tessera(foundingAddresses, 'member', 'remove', other);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`removing ${other} would leave 2 voters`);
    expect(refused.stderr).toContain(`(${dead} does not)`);
    expect(refused.stderr).toContain('--force');

    // A node that is not running yet cannot be added; the message says how to start it.
    const newAddress = addressOf.get('meta-4') ?? '';
    const notRunning = await tessera(foundingAddresses, 'member', 'add', 'meta-4', '--address', newAddress);
    expect(notRunning.exitCode).toBe(1);
    expect(notRunning.stderr).toContain(`no metadata node answers at ${newAddress}`);
    expect(notRunning.stderr).toContain('--join');

    const removedDead = await tessera(foundingAddresses, 'member', 'remove', dead);
    expect(removedDead.exitCode).toBe(0);
    expect(removedDead.stdout).toContain(`${dead} removed`);
    expect(removedDead.stdout).toContain('no voter may be down');
    const afterRemoval = await listMembers(foundingAddresses);
    expect(afterRemoval?.members.map((m) => m.nodeId).sort()).toEqual([first.leaderId, other].sort());

    // The replacement joins: learner, catch-up (from a snapshot: 120+ entries, snapshots every 50), voter.
    const current = new Map([[first.leaderId, founding.get(first.leaderId) ?? ''], [other, founding.get(other) ?? ''], ['meta-4', newAddress]]);
    startMember('meta-4', current, true);
    const commitIndexBefore = (await listMembers(foundingAddresses))?.commitIndex ?? Number.POSITIVE_INFINITY;
    const added = await tessera(foundingAddresses, 'member', 'add', 'meta-4', '--address', newAddress, '--json');
    expect(added.exitCode).toBe(0);
    expect(added.stderr).toContain('meta-4 added as a learner');
    const addition = JSON.parse(added.stdout) as { voter: boolean; changed: boolean; appliedIndex: number };
    expect([addition.voter, addition.changed]).toEqual([true, true]);
    // Promoted only once it had applied everything committed before the command started.
    expect(addition.appliedIndex).toBeGreaterThanOrEqual(commitIndexBefore);
    const grown = await listMembers(foundingAddresses);
    expect(grown?.members.map((m) => [m.nodeId, m.voter, m.reachable]).sort()).toEqual([[first.leaderId, true, true], [other, true, true], ['meta-4', true, true]].sort());
    const newMember = grown?.members.find((m) => m.nodeId === 'meta-4');
    expect(newMember?.appliedIndex).toBeGreaterThan(120);

    // Adding it again changes nothing.
    const again = await tessera(foundingAddresses, 'member', 'add', 'meta-4', '--address', newAddress, '--json');
    expect(again.exitCode).toBe(0);
    expect((JSON.parse(again.stdout) as { changed: boolean }).changed).toBe(false);

    // The leader removes itself: it steps down and the other two elect a leader.
    const removedLeader = await tessera(foundingAddresses, 'member', 'remove', first.leaderId, '--json');
    expect(removedLeader.exitCode).toBe(0);
    const removal = JSON.parse(removedLeader.stdout) as { wasLeader: boolean; members: ReadonlyArray<{ nodeId: string }> };
    expect(removal.wasLeader).toBe(true);
    expect(removal.members.map((m) => m.nodeId).sort()).toEqual([other, 'meta-4'].sort());
    children.get(first.leaderId)?.kill('SIGTERM');

    const remaining = [founding.get(other) ?? '', newAddress];
    const final = await until(() => listMembers(remaining), 30_000, 'a leader among the two remaining members');
    expect([other, 'meta-4']).toContain(final.leaderId);
    await commitObjects(remaining, 'after', 20);

    // Everything committed before and after the changes, read through the new member alone.
    const viaNew = new MetadataClient({ addresses: [newAddress] });
    try {
      const page = await viaNew.listObjects({ bucket: 'members', maxKeys: 1000 });
      expect(page.objects.map((o) => o.key).filter((key) => key.startsWith('before-'))).toHaveLength(120);
      expect(page.objects.map((o) => o.key).filter((key) => key.startsWith('after-'))).toHaveLength(20);
    } finally {
      viaNew.close();
    }
  }, 120_000);
});
