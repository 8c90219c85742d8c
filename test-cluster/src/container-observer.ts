/**
 * How the test reaches the inside of the container cluster without publishing anything but the
 * gateway's S3 port: a long-lived `node` process inside a container (`docker run -i` of an
 * observer container on the internal network, or `docker exec -i` into a metadata node's own
 * container) reads one JSON request per line on stdin and answers one JSON line on stdout. It
 * uses the image's own @tessera/rpc, so the answers are what a cluster member sees.
 *
 * Requests: `status` (GetClusterStatus of one metadata address), `listNodeShards` (one page,
 * any metadata node), `http` (GET a URL: health, the healer's /admin/status). A request that
 * gets no answer within its timeout rejects (a paused container answers nothing); a session
 * whose process ended rejects everything until it is replaced.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import * as readline from 'node:readline';

/** Plain JS run by the image's node (`node -e`), from /app so that require finds node_modules. */
const bridgeSource = `'use strict';
const { MetadataClient } = require('/app/packages/rpc/dist/index.js');
const readline = require('node:readline');
const clients = new Map();
// Status probes: one quick attempt at one node (a silent node is an answer). Placement reads:
// any node, the leader found by retries, a generous deadline (as the local placement client).
const clientFor = (addresses, callTimeoutMs, attemptCountMax) => {
  const key = addresses.join(',') + '/' + callTimeoutMs;
  if (!clients.has(key)) clients.set(key, new MetadataClient({ addresses, callTimeoutMs, attemptCountMax }));
  return clients.get(key);
};
const handlers = {
  status: async (r) => {
    const s = await clientFor([r.address], 1500, 1).getClusterStatus(r.address);
    return { role: String(s.role), term: Number(s.term), leaderId: String(s.leaderId) };
  },
  listNodeShards: async (r) => clientFor(r.addresses, 5000, 6).listNodeShards(r.request),
  http: async (r) => {
    const res = await fetch(r.url, { signal: AbortSignal.timeout(r.timeoutMs || 2000) });
    return { status: res.status, body: await res.text() };
  },
};
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  let request;
  try {
    request = JSON.parse(line);
    const result = await handlers[request.op](request);
    process.stdout.write(JSON.stringify({ id: request.id, ok: true, result }) + '\\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: request && request.id, ok: false, error: String(err && err.message || err) }) + '\\n');
  }
}).on('close', () => process.exit(0));
`;

export interface MetadataStatusAnswer {
  readonly role: string;
  readonly term: number;
  readonly leaderId: string;
}

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class ObserverSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private ended = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    child.stderr.resume();
    child.once('exit', () => {
      this.ended = true;
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error('observer session ended'));
      }
      this.pending.clear();
    });
  }

  /** `docker <dockerArgs…> node -e <bridge>`: e.g. `run -i --rm --network N IMAGE` or `exec -i CONTAINER`. */
  static start(dockerArgs: readonly string[]): ObserverSession {
    const child = spawn('docker', [...dockerArgs, 'node', '-e', bridgeSource], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => undefined);
    return new ObserverSession(child);
  }

  get alive(): boolean {
    return !this.ended;
  }

  status(address: string, timeoutMs = 2_500): Promise<MetadataStatusAnswer> {
    return this.request({ op: 'status', address }, timeoutMs) as Promise<MetadataStatusAnswer>;
  }

  listNodeShards(addresses: readonly string[], request: object, timeoutMs = 60_000): Promise<unknown> {
    return this.request({ op: 'listNodeShards', addresses, request }, timeoutMs);
  }

  httpGet(url: string, timeoutMs = 2_500): Promise<{ status: number; body: string }> {
    return this.request({ op: 'http', url, timeoutMs }, timeoutMs + 500) as Promise<{ status: number; body: string }>;
  }

  close(): void {
    if (this.ended) return;
    this.child.stdin.end();
    this.child.kill('SIGKILL');
  }

  private request(body: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.ended) return Promise.reject(new Error('observer session ended'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`observer: no answer to ${String(body['op'])} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  private onLine(line: string): void {
    let answer: { id?: number; ok?: boolean; result?: unknown; error?: string };
    try {
      answer = JSON.parse(line) as typeof answer;
    } catch {
      return; // not ours (a warning printed by node)
    }
    const p = answer.id === undefined ? undefined : this.pending.get(answer.id);
    if (p === undefined || answer.id === undefined) return;
    this.pending.delete(answer.id);
    clearTimeout(p.timer);
    if (answer.ok === true) p.resolve(answer.result);
    else p.reject(new Error(answer.error ?? 'observer request failed'));
  }
}
