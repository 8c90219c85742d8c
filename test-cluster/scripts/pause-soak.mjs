// `node test-cluster/scripts/pause-soak.mjs [options]`: a long fault soak against a running
// `tessera start` cluster on this machine. Workers PUT (single and multipart), GET, range-GET,
// DELETE, COPY and LIST their own keys through @aws-sdk/client-s3 (one attempt per call, so
// nothing is retried away) while the soak freezes one process at a time with SIGSTOP/SIGCONT:
// the metadata leader (most often), any metadata node, or a storage node.
//
// Every GET is judged against the values the key may hold: the last acknowledged write, plus
// the value of every write whose outcome was unknown (an error) since then. A GET that returns
// anything else is printed as BAD with the key's recent history; a GET that fails is printed as
// ERR with the gateway's request id (the gateway logs the internal cause of every 5xx). At the
// end the three metadata replicas must agree on the soak bucket's counters (objects, bytes,
// multipart uploads; each node reads its own applied state): apply is read-modify-write, so a
// replica that read a stale value counts differently. Exits 1 on any BAD read or disagreement.
//
//   --duration-ms <ms>          how long to run (default 600000)
//   --endpoint <url>            S3 endpoint (default http://127.0.0.1:9000)
//   --metrics-port-base <port>  `tessera start --metrics-port-base` (default 9100): metadata
//                               nodes on base+1..3, storage nodes on base+11..19
//   --workers <n>               concurrent workers (default 6)
//   --fault-every-ms <a-b>      pause between faults (default 15000-25000)
//   --fault-hold-ms <a-b>       how long a process stays frozen (default 2000-12000)
// Keys: TESSERA_ROOT_ACCESS_KEY / TESSERA_ROOT_SECRET_KEY (the ones the cluster was started with).
// Linux only (pgrep finds a process by its --metrics-listen address).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';

const options = { 'duration-ms': '600000', endpoint: 'http://127.0.0.1:9000', 'metrics-port-base': '9100', workers: '6', 'fault-every-ms': '15000-25000', 'fault-hold-ms': '2000-12000' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const name = argv[i]?.replace(/^--/, '') ?? '';
  if (!(name in options) || argv[i + 1] === undefined) {
    console.error(`pause-soak: unknown option or missing value: ${argv[i]}`);
    process.exit(2);
  }
  options[name] = argv[i + 1];
}
const range = (text) => text.split('-').map(Number);
const between = ([low, high]) => low + Math.random() * (high - low);
const durationMs = Number(options['duration-ms']);
const metricsBase = Number(options['metrics-port-base']);
const metadataPorts = [1, 2, 3].map((i) => metricsBase + i);
const storagePorts = Array.from({ length: 9 }, (_, i) => metricsBase + 11 + i);
const accessKeyId = process.env.TESSERA_ROOT_ACCESS_KEY;
const secretAccessKey = process.env.TESSERA_ROOT_SECRET_KEY;
if (accessKeyId === undefined || secretAccessKey === undefined) {
  console.error('pause-soak: set TESSERA_ROOT_ACCESS_KEY and TESSERA_ROOT_SECRET_KEY to the cluster\'s root keys');
  process.exit(2);
}

const s3 = new S3Client({ endpoint: options.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId, secretAccessKey } });
const bucket = `pause-soak-${Date.now()}`;
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
const startedAtMs = Date.now();
const elapsed = () => ((Date.now() - startedAtMs) / 1000).toFixed(1);
console.log(`pause-soak: bucket ${bucket}, started ${new Date(startedAtMs).toISOString()}, ${options.workers} workers, ${durationMs} ms`);

const pool = randomBytes(24 << 20);
const sizes = [1000, 50_000, 200_000, 1 << 20, 3 << 20, 9 << 20];
const digest = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);
const errorName = (error) => `${error.name}/${error.$metadata?.httpStatusCode ?? '-'}`;
const slice = (size) => {
  const offset = Math.floor(Math.random() * (pool.length - size));
  return pool.subarray(offset, offset + size);
};
/** key -> values a GET may return ('absent' for none). */
const allowed = new Map();
/** key -> the last operations on it, for the report of a bad read. */
const history = new Map();
const note = (key, text) => {
  const lines = history.get(key) ?? [];
  lines.push(`  ${elapsed()} ${text}`);
  if (lines.length > 12) lines.shift();
  history.set(key, lines);
};
/** An acknowledged write: the key holds exactly this. An errored one: it may hold this too. */
const acknowledged = (key, value) => allowed.set(key, new Set([value]));
const maybe = (key, value) => allowed.set(key, new Set([...(allowed.get(key) ?? ['absent']), value]));
const totals = { operations: 0, errors: 0, bad: 0, faults: 0 };

async function step(worker) {
  const key = `w${worker}-k${Math.floor(Math.random() * 30)}`;
  const choice = Math.random();
  if (choice < 0.35) {
    const body = slice(sizes[Math.floor(Math.random() * sizes.length)]);
    const value = digest(body);
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      acknowledged(key, value);
      note(key, `PUT ${body.length} ${value}`);
    } catch (error) {
      maybe(key, value);
      note(key, `PUT ${value} failed: ${errorName(error)}`);
      throw error;
    }
  } else if (choice < 0.75) {
    const expected = allowed.get(key);
    if (expected === undefined) return;
    let got;
    try {
      const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      got = digest(Buffer.from(await answer.Body.transformToByteArray()));
      note(key, `GET ${got} ETag ${answer.ETag}`);
    } catch (error) {
      if (error.name !== 'NoSuchKey') {
        note(key, `GET failed: ${errorName(error)}`);
        throw error;
      }
      got = 'absent';
      note(key, 'GET absent');
    }
    if (!expected.has(got)) {
      totals.bad += 1;
      console.log(`BAD ${elapsed()} ${key}: got ${got}, allowed ${[...expected].join(' or ')}\n${history.get(key).join('\n')}`);
    } else {
      acknowledged(key, got);
    }
  } else if (choice < 0.8) {
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=100-5000' }))
      .then((answer) => answer.Body.transformToByteArray())
      .catch((error) => { if (error.name !== 'NoSuchKey' && error.name !== 'InvalidRange') throw error; });
  } else if (choice < 0.87) {
    try {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      acknowledged(key, 'absent');
      note(key, 'DELETE');
    } catch (error) {
      maybe(key, 'absent');
      note(key, `DELETE failed: ${errorName(error)}`);
      throw error;
    }
  } else if (choice < 0.9) {
    await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `w${worker}-` }));
  } else if (choice < 0.95) {
    const source = allowed.get(key);
    const target = `w${worker}-k${Math.floor(Math.random() * 30)}`;
    if (source === undefined || source.size !== 1 || source.has('absent') || target === key) return;
    const [value] = source;
    try {
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: target, CopySource: `${bucket}/${key}` }));
      acknowledged(target, value);
      note(target, `COPY from ${key} ${value}`);
    } catch (error) {
      maybe(target, value);
      note(target, `COPY from ${key} failed: ${errorName(error)}`);
      throw error;
    }
  } else {
    const parts = [5 << 20, 5 << 20, 123_457].map(slice);
    const value = digest(Buffer.concat(parts));
    let completing = false;
    try {
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      const etags = [];
      for (const [index, body] of parts.entries()) {
        const answer = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId, PartNumber: index + 1, Body: body }));
        etags.push({ PartNumber: index + 1, ETag: answer.ETag });
      }
      completing = true;
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId, MultipartUpload: { Parts: etags } }));
      acknowledged(key, value);
      note(key, `MPU ${value}`);
    } catch (error) {
      if (completing) maybe(key, value);
      note(key, `MPU failed: ${errorName(error)}`);
      throw error;
    }
  }
}

async function worker(index) {
  while (Date.now() - startedAtMs < durationMs) {
    totals.operations += 1;
    try {
      await step(index);
    } catch (error) {
      totals.errors += 1;
      console.log(`ERR ${elapsed()} ${errorName(error)} request ${error.$metadata?.requestId ?? '-'}: ${String(error.message).slice(0, 120)}`);
    }
  }
}

async function scrape(port, timeoutMs) {
  return (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text();
}

/** One sample's value from Prometheus text: `labels` is the exact label set, or undefined for any. */
function sampleValue(text, name, labels) {
  const labelPattern = labels === undefined ? '(?:\\{[^}]*\\})?' : `\\{${labels}\\}`;
  return text.match(new RegExp(`^${name}${labelPattern} ([0-9.e+-]+)$`, 'm'))?.[1];
}

async function metric(port, name) {
  try {
    const value = sampleValue(await scrape(port, 2000), name, undefined);
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  }
}

function pidListeningOn(port) {
  try {
    // Only a Tessera role process (dist/main.js), so nothing else naming the address is frozen.
    const pids = execFileSync('pgrep', ['-f', `dist/main\\.js .*--metrics-listen 127\\.0\\.0\\.1:${port}( |$)`]).toString().trim().split('\n');
    return pids.length === 1 ? Number(pids[0]) : undefined;
  } catch {
    return undefined;
  }
}

async function faults() {
  const every = range(options['fault-every-ms']);
  const hold = range(options['fault-hold-ms']);
  while (Date.now() - startedAtMs < durationMs - 30_000) {
    await new Promise((resolve) => setTimeout(resolve, between(every)));
    const draw = Math.random();
    let port;
    if (draw < 0.6) {
      for (const candidate of metadataPorts) if ((await metric(candidate, 'metadata_raft_is_leader')) === 1) port = candidate;
    } else if (draw < 0.8) {
      port = metadataPorts[Math.floor(Math.random() * metadataPorts.length)];
    } else {
      port = storagePorts[Math.floor(Math.random() * storagePorts.length)];
    }
    const pid = port === undefined ? undefined : pidListeningOn(port);
    if (pid === undefined || Number.isNaN(pid)) continue;
    const holdMs = Math.round(between(hold));
    totals.faults += 1;
    console.log(`FAULT ${elapsed()} SIGSTOP ${draw < 0.6 ? 'metadata leader' : draw < 0.8 ? 'metadata node' : 'storage node'} (metrics port ${port}, pid ${pid}) for ${holdMs} ms`);
    try {
      process.kill(pid, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, holdMs));
    } catch (error) {
      console.log(`FAULT ${elapsed()} not injected: ${error.message}`);
    } finally {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // The process is gone (its supervisor restarts it): nothing to resume.
      }
    }
  }
}

/** The soak bucket's counters as each metadata node's own applied state has them. */
async function bucketCounters(port) {
  try {
    const text = await scrape(port, 5000);
    return ['metadata_bucket_objects', 'metadata_bucket_object_bytes', 'metadata_bucket_multipart_uploads']
      .map((name) => `${name}=${sampleValue(text, name, `bucket="${bucket}"`) ?? '?'}`).join(' ');
  } catch (error) {
    return `unreachable (${error.message})`;
  }
}

/** Waits up to 60 s for the replicas to agree (a lagging follower catches up); returns whether they did. */
async function replicasAgree() {
  let counters = [];
  for (let attempt = 0; attempt < 30; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    counters = await Promise.all(metadataPorts.map(bucketCounters));
    if (new Set(counters).size === 1 && !counters[0].includes('?')) {
      console.log(`pause-soak: the metadata replicas agree: ${counters[0]}`);
      return true;
    }
  }
  for (const [i, line] of counters.entries()) console.log(`DIVERGED metadata node on metrics port ${metadataPorts[i]}: ${line}`);
  return false;
}

const progress = setInterval(() => console.log(`${elapsed()} s: ${totals.operations} operations, ${totals.errors} errors, ${totals.bad} bad reads, ${totals.faults} faults`), 60_000);
await Promise.all([...Array.from({ length: Number(options.workers) }, (_, i) => worker(i)), faults()]);
clearInterval(progress);
console.log(`pause-soak: ${totals.operations} operations, ${totals.errors} errors, ${totals.bad} bad reads, ${totals.faults} faults`);
const agree = await replicasAgree();
process.exit(totals.bad > 0 || !agree ? 1 : 0);
