import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Healer } from './healer';

/**
 * HTTP on the metrics port: `GET /metrics` (Prometheus), `GET /admin/status` (JSON for the
 * CLI), `POST /admin/heal {"rateBytesPerSecond": n}` (operator priority: the rebuild throttle),
 * `GET /health/live`, `GET /health/ready` (200 once a heal round has completed). Loopback or a private network only: it has no authentication.
 */
export class AdminServer {
  private server: Server | undefined;

  constructor(private readonly healer: Healer, private readonly registry: Registry) {}

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
