/**
 * Lets the test process (in the host's network namespace) reach the cluster running on
 * 127.0.0.1 inside the suite's namespace, at the very same addresses: for each port the test
 * binds 127.0.0.1:<port> in its own namespace and hands the listening socket to a small node
 * process running inside the cluster's namespace (over the IPC channel; a socket stays in the
 * namespace it was created in). That process accepts on the host-side socket and connects to
 * 127.0.0.1:<port> inside the namespace from the observer address 127.0.0.2, which the
 * partition rules exempt. So every address the suite knows (S3 endpoint, metadata and storage
 * gRPC, health and metrics, the healer's admin port) works unchanged, and no host route,
 * interface or iptables rule is added.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { NetworkNamespace } from './network-namespace';
import { observerSourceAddress } from './network-namespace';

/** The process inside the namespace: plain JS, no build step (written to the scratch dir). */
const forwarderSource = `'use strict';
const net = require('node:net');
process.on('message', (message, handle) => {
  if (message === null || typeof message !== 'object' || message.kind !== 'listen' || handle === undefined) return;
  handle.on('connection', (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: message.port, localAddress: ${JSON.stringify(observerSourceAddress)} });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  process.send({ kind: 'forwarding', port: message.port });
});
// The test process went away: so does the forwarder.
process.on('disconnect', () => process.exit(0));
`;

export class LoopbackForwarder {
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly ports: readonly number[]) {
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  }

  /** Forwards 127.0.0.1:`port` of this namespace to the same address inside `namespace`, for each port. */
  static async start(namespace: NetworkNamespace, scratchDir: string, nodeExecPath: string, ports: readonly number[]): Promise<LoopbackForwarder> {
    const scriptPath = path.join(scratchDir, 'loopback-forwarder.cjs');
    fs.writeFileSync(scriptPath, forwarderSource);
    const { file, args } = namespace.execArgs(nodeExecPath, [scriptPath]);
    const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const forwarder = new LoopbackForwarder(child, ports);
    try {
      for (const port of ports) await forwarder.forward(port);
    } catch (err) {
      await forwarder.stop();
      throw err;
    }
    return forwarder;
  }

  private async forward(port: number): Promise<void> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve());
    });
    const acknowledged = new Promise<void>((resolve) => {
      const onMessage = (message: unknown): void => {
        if (typeof message === 'object' && message !== null && (message as { port?: unknown }).port === port) {
          this.child.removeListener('message', onMessage);
          resolve();
        }
      };
      this.child.on('message', onMessage);
    });
    this.child.send({ kind: 'listen', port }, server);
    const exitedEarly = this.exited.then(() => {
      throw new Error(`the loopback forwarder exited before forwarding port ${port}`);
    });
    try {
      await Promise.race([acknowledged, exitedEarly]);
    } finally {
      exitedEarly.catch(() => undefined);
    }
    // The forwarder holds its own copy of the socket; ours would only compete for connections.
    server.close();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
