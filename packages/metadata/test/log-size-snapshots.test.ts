// Goal: the Raft log since the last snapshot, which every node mirrors in memory, is bounded by
// bytes as well as by entry count. Small objects are stored inline in their log entry (up to
// 64 KiB of body, base64 in the command), so 10,000 of them between snapshots held about 870 MB
// on every metadata node. Method: one metadata node in process (real Raft, LevelDB and gRPC)
// whose entry-count period is never reached and whose byte bound is 256 KiB; commit 40 inline
// objects of 20 KiB through the real MetadataClient; read the node's own metrics; restart it
// from its data dir and read every object back byte for byte.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJson, decodeJsonWithoutBufferBytes, encodeJson } from '../src/catalogue-db';
import { decodeCommand, encodeCommand } from '../src/commands';
import type { StampedCommand } from '../src/commands';
import type { RunningMetadataNode } from '../src/metadata-node';
import { MetadataClient, reservePorts, startInProcessNode, testNodeOptions, waitForLeader } from './cluster-helpers';

const logBytesBound = 256 * 1024;
const objectCount = 40;
const objectSizeBytes = 20 * 1024;

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-meta-log-bytes-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function metricValue(node: RunningMetadataNode, name: string): Promise<number> {
  const metric = node.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return (await metric.get()).values[0]?.value ?? 0;
}

test('a node snapshots once its log holds snapshotEveryLogBytes, long before snapshotEveryEntryCount, and loses nothing', async () => {
  const [port] = await reservePorts(1);
  const peers = new Map([['meta-1', `127.0.0.1:${port}`]]);
  const options = testNodeOptions('meta-1', peers, join(root, 'meta-1'), { snapshotEveryEntryCount: 100_000, snapshotEveryLogBytes: logBytesBound });
  let node = await startInProcessNode(options, 1);
  const client = new MetadataClient({ addresses: [...peers.values()] });
  try {
    await waitForLeader(client, [...peers.values()]);
    await client.createBucket({ bucket: 'small', owner: 'alice' });
    const digests = new Map<string, string>();
    for (let i = 0; i < objectCount; i++) {
      const body = randomBytes(objectSizeBytes);
      const key = `o${i}`;
      await client.commitVersion({ bucket: 'small', key, sizeBytes: body.length, etag: createHash('md5').update(body).digest('hex'), inlineData: body, contentType: 'application/octet-stream' });
      digests.set(key, createHash('sha256').update(body).digest('hex'));
    }
    // 40 entries of about 27 KiB (base64) is about 1.1 MiB of log: at least 3 compactions by size.
    expect(await metricValue(node, 'metadata_raft_snapshots_taken_total')).toBeGreaterThanOrEqual(3);
    expect(await metricValue(node, 'metadata_raft_log_entry_bytes')).toBeLessThan(logBytesBound + 2 * objectSizeBytes);
    expect(await metricValue(node, 'metadata_raft_log_entries')).toBeLessThan(objectCount);

    await node.stop();
    node = await startInProcessNode(options, 2);
    await waitForLeader(client, [...peers.values()]);
    for (const [key, digest] of digests) {
      const got = await client.getObject({ bucket: 'small', key });
      expect(createHash('sha256').update(got.inlineData ?? Buffer.alloc(0)).digest('hex')).toBe(digest);
    }
  } finally {
    client.close();
    await node.stop();
  }
});

test('a command is encoded into memory of its own, not a slice of the shared Buffer pool that the log would keep alive', () => {
  const encoded = encodeCommand({ type: 'createBucket', bucket: 'b', owner: 'alice', createdAtMs: 1 });
  expect(encoded.buffer.byteLength).toBe(encoded.length);
});

test('Buffers anywhere in a command or record are written as {"$b64": …} and read back as Buffers', () => {
  const inlineData = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
  const command: StampedCommand = {
    type: 'commitVersion', writeId: undefined, bucket: 'b', key: 'k', versionId: 'v', sizeBytes: inlineData.length, etag: 'e', checksums: {},
    contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', createdAtMs: 1, stripe: undefined, inlineData,
    request: { requestId: 'r', requestedAtMs: 2 },
  };
  const encoded = Buffer.from(encodeCommand(command, command.request));
  // The log's format: one format byte, then JSON; `writeId: undefined` is left out.
  expect(encoded.subarray(1, 82).toString('utf8')).toBe('{"type":"commitVersion","bucket":"b","key":"k","versionId":"v","sizeBytes":70000,');
  expect(encoded.toString('utf8')).toContain(`"inlineData":{"$b64":"${inlineData.toString('base64')}"}`);
  expect(decodeCommand(encoded)).toEqual({ ...command, writeId: undefined });
  const record = { layout: { kind: 'multipart', parts: [{ inlineData: Buffer.from('ab') }, { inlineData: undefined, stripe: null }] }, list: [Buffer.from('c'), 1, 'x'] };
  expect(encodeJson(record).toString('utf8')).toBe('{"layout":{"kind":"multipart","parts":[{"inlineData":{"$b64":"YWI="}},{"stripe":null}]},"list":[{"$b64":"Yw=="},1,"x"]}');
  expect(decodeJson(encodeJson(record))).toEqual({ layout: { kind: 'multipart', parts: [{ inlineData: Buffer.from('ab') }, { stripe: null }] }, list: [Buffer.from('c'), 1, 'x'] });
});

test('maps with keys named like the markers or "__proto__" (user metadata can have them) come back as they were', () => {
  const userMetadataCases = [{ $b64: 'aGk=' }, { $esc: 'x', other: 'y' }, { $b64: 'a', $esc: 'b' }, JSON.parse('{"__proto__":"p","k":"v"}') as Record<string, string>];
  for (const userMetadata of userMetadataCases) {
    const record = { userMetadata, nested: [{ ...userMetadata }], data: Buffer.from('z') };
    const decoded = decodeJson<typeof record>(encodeJson(record));
    expect(decoded).toEqual(record);
    expect(Object.keys(decoded.userMetadata)).toEqual(Object.keys(userMetadata));
    expect(Object.getPrototypeOf(decoded.userMetadata)).toBe(Object.prototype);
    const command: StampedCommand = { type: 'updateObjectMetadata', bucket: 'b', key: 'k', versionId: undefined, setSystemMetadata: userMetadata, removeSystemMetadata: [] };
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
  }
});

/** `value` with every Buffer in it empty. */
function withEmptyBuffers(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.alloc(0);
  if (Array.isArray(value)) return value.map(withEmptyBuffers);
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) Object.defineProperty(copy, key, { value: withEmptyBuffers(item), enumerable: true, writable: true, configurable: true });
  return copy;
}

test('the listing decoder reads every Buffer back empty and everything else as it was, marker-named maps and marker-like text included', () => {
  const inlineData = Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 13) % 256));
  const records: unknown[] = [
    { bucket: 'b', key: 'k', userMetadata: { plain: 'p' }, layout: { kind: 'inline', data: inlineData } },
    { layout: { kind: 'multipart', parts: [{ inlineData: Buffer.from('ab') }, { inlineData: undefined, stripe: null }, { inlineData: inlineData }] }, list: [Buffer.from('c'), 1, 'x'] },
    // Text that looks like the encoding, in values and in keys: JSON escapes its quotes.
    { userMetadata: { note: '{"$b64":"AAAA"}', '{"$b64":"': 'v' }, layout: { kind: 'inline', data: Buffer.from('z') } },
    // Client maps whose keys are named like the markers, first or later, around a real Buffer.
    { userMetadata: { $b64: 'aGk=', other: 'o' }, layout: { kind: 'inline', data: inlineData } },
    { userMetadata: { a: '1', $b64: 'bm8=' }, systemMetadata: { $esc: 'e' }, data: Buffer.from('q') },
    { nested: { $esc: { $b64: 'x' } }, data: [Buffer.alloc(0), Buffer.from('r')] },
    { empty: Buffer.alloc(0) },
  ];
  for (const record of records) {
    const encoded = encodeJson(record);
    expect(decodeJson(encoded)).toEqual(record);
    const listed = decodeJsonWithoutBufferBytes(encoded);
    expect(listed).toEqual(withEmptyBuffers(record));
    // Every Buffer really is empty (toEqual alone compares Buffers by content).
    expect(JSON.stringify(listed)).toBe(JSON.stringify(withEmptyBuffers(record)));
  }
});
