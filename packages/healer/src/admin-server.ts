import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Healer } from './healer';

/** Who may call the endpoints that change the healer (rate, stop, start). */
export type AdminMutationPolicy = 'loopback-only' | 'any';

/**
 * HTTP on the metrics port:
 * - `GET /metrics` (Prometheus), `GET /admin/status` (JSON for the CLI), `GET /health/live`,
 *   `GET /health/ready` (200 once a heal round has completed): open to anyone who reaches the port;
 * - `POST /admin/heal {"rateBytesPerSecond": n}` (operator priority: the rebuild throttle),
 *   `POST /admin/heal/stop|start` (pause / resume rebuilds), `POST /admin/scrub/stop|start`
 *   (pause / resume the scrubber): each answers the new status.
 * There is no authentication, so by default the changing endpoints answer 403 unless the peer
 * is on loopback: Prometheus must reach the port from elsewhere, while pausing repairs is an
 * operator's act (`tessera heal stop` on the same host, `docker exec`, `kubectl exec` or
 * `kubectl port-forward`, which all arrive on loopback).
 */
export class AdminServer {
  private server: Server | undefined;

  constructor(private readonly healer: Healer, private readonly registry: Registry, private readonly mutationPolicy: AdminMutationPolicy = 'loopback-only') {}

  async listen(hostPort: string): Promise<string> {
    const separator = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, separator);
    const port = Number(hostPort.slice(separator + 1));
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => send(res, 500, { error: (err as Error).message }));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    return `${address.address}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': this.registry.contentType });
      res.end(await this.registry.metrics());
      return;
    }
    if (req.method === 'GET' && path === '/admin/status') return send(res, 200, this.healer.status());
    if (req.method === 'GET' && path === '/health/live') return send(res, 200, { live: true });
    // Ready once a heal round has completed: the healer reached the metadata service and can work.
    if (req.method === 'GET' && path === '/health/ready') {
      const ready = this.healer.status().lastRound !== undefined;
      return send(res, ready ? 200 : 503, { ready });
    }
    if (req.method === 'POST' && path !== undefined && path.startsWith('/admin/') && this.mutationPolicy === 'loopback-only' && !isLoopbackAddress(req.socket.remoteAddress)) {
      return send(res, 403, { error: `${path} is accepted from loopback only (run the CLI on the healer's host, or through docker/kubectl exec or port-forward)` });
    }
    const control = /^\/admin\/(heal|scrub)\/(stop|start)$/.exec(path ?? '');
    if (req.method === 'POST' && control !== null) {
      const loop = control[1] === 'heal' ? 'heal' : 'scrub';
      if (control[2] === 'stop') this.healer.pause(loop);
      else this.healer.resume(loop);
      return send(res, 200, this.healer.status());
    }
    if (req.method === 'POST' && path === '/admin/heal') {
      const body = await readBody(req, 4096);
      let rate: unknown;
      try {
        rate = (JSON.parse(body) as { rateBytesPerSecond?: unknown }).rateBytesPerSecond;
      } catch {
        return send(res, 400, { error: 'body must be JSON' });
      }
      if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 1) return send(res, 400, { error: 'rateBytesPerSecond must be a number >= 1' });
      this.healer.setRebuildRate(rate);
      return send(res, 200, this.healer.status());
    }
    send(res, 404, { error: 'not found' });
  }
}

/** 127.0.0.0/8, ::1, and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1';
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage, bytesMax: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > bytesMax) throw new Error('body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
