// Goal: the metadata group can replace a member at run time, one server at a time (Raft
// thesis §4.1): add a fourth node as a learner, let it catch up, promote it to voter, remove an
// old member, and keep serving linearizable reads and writes throughout.
// Method: four in-process nodes over real gRPC and LevelDB; the fourth starts with `join`
// (no bootstrap membership) and is added through the ChangeMembership RPC.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningMetadataNode } from '../src/metadata-node';
import { MetadataClient, reservePorts, startInProcessNode, testNodeOptions, waitFor, waitForLeader } from './cluster-helpers';

const md5 = '0123456789abcdef0123456789abcdef';
let root: string;
const nodes: RunningMetadataNode[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

test('add a learner, promote it, remove an old voter; data stays readable everywhere', async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-meta-membership-'));
  const ports = await reservePorts(4);
  const founding = new Map(ports.slice(0, 3).map((port, i) => [`meta-${i + 1}`, `127.0.0.1:${port}`]));
  for (const [id] of founding) nodes.push(await startInProcessNode(testNodeOptions(id, founding, join(root, id)), nodes.length + 1));
  const client = new MetadataClient({ addresses: [...founding.values()] });
  try {
    const leader = await waitForLeader(client, [...founding.values()]);
    await client.createBucket({ bucket: 'grow', owner: 'o' });
    for (let i = 0; i < 20; i++) await client.commitVersion({ bucket: 'grow', key: `before-${i}`, sizeBytes: 1, etag: md5, inlineData: Buffer.from('x') });

    const newAddress = `127.0.0.1:${ports[3] ?? 0}`;
    const allPeers = new Map([...founding, ['meta-4', newAddress]]);
    nodes.push(await startInProcessNode(testNodeOptions('meta-4', allPeers, join(root, 'meta-4'), { join: true }), 4));
    const asLearner = await client.changeMembership({ kind: 'addLearner', nodeId: 'meta-4', address: newAddress });
    expect(asLearner.members.find((m) => m.nodeId === 'meta-4')?.voter).toBe(false);
    await waitFor('learner caught up', async () => {
      const [learner, leaderStatus] = await Promise.all([client.getClusterStatus(newAddress), client.getClusterStatus(founding.get(leader))]);
      return learner.appliedIndex >= leaderStatus.commitIndex - 1 ? true : undefined;
    });
    const promoted = await client.changeMembership({ kind: 'add', nodeId: 'meta-4' });
    expect(promoted.members.filter((m) => m.voter).map((m) => m.nodeId).sort()).toEqual(['meta-1', 'meta-2', 'meta-3', 'meta-4']);

    const removed = [...founding.keys()].find((id) => id !== leader) ?? '';
    const afterRemove = await client.changeMembership({ kind: 'remove', nodeId: removed });
    expect(afterRemove.members.map((m) => m.nodeId)).not.toContain(removed);
    await nodes[[...founding.keys()].indexOf(removed)]?.stop();

    for (let i = 0; i < 20; i++) await client.commitVersion({ bucket: 'grow', key: `after-${i}`, sizeBytes: 1, etag: md5, inlineData: Buffer.from('y') });
    const viaNew = new MetadataClient({ addresses: [newAddress] });
    const page = await viaNew.listObjects({ bucket: 'grow', maxKeys: 1000 });
    expect(page.objects).toHaveLength(40);
    viaNew.close();
  } finally {
    client.close();
  }
}, 60_000);
