/**
 * A TCP proxy on loopback that can make a storage node slow: while `delayMs` > 0, every chunk
 * the node sends back is held that long (in order). The node stays up and correct, it is just
 * slow, which is what hedged reads must route around. Test code only.
 */
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

export class DelayProxy {
  delayMs = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<DelayProxy> {
    let proxy: DelayProxy | undefined;
    const server = createServer((client) => {
      const upstream = createConnection({ host: targetHost, port: targetPort });
      proxy?.track(client);
      proxy?.track(upstream);
      client.pipe(upstream);
      let released = Promise.resolve();
      upstream.on('data', (chunk: Buffer) => {
        const delayMs = proxy?.delayMs ?? 0;
        released = released.then(() => (delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, delayMs)) : undefined)).then(() => {
          if (!client.destroyed) client.write(chunk);
        });
      });
      upstream.on('end', () => void released.then(() => client.end()));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new DelayProxy(server, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  /** Drops every connection (and the chunks held back on them); clients reconnect. */
  resetConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
