/**
 * Goal: the gateway keeps idle keep-alive connections longer than the clients' pools do, so it
 * is not the side that closes them under a client's feet, and a long keep-alive timeout still
 * does not hold up a graceful stop.
 * Method: a real gateway on loopback and raw sockets carrying signed requests; one connection
 * left idle past Node's 5 s default and then reused; a stop with an upload in flight.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { signRequest } from './support/sigv4-test-signer';
import { startTestGateway, testAccessKeyId, testGatewayOptions, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const creds = { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey, region: testRegion };
const bucket = 'connections';

function requestHead(gateway: TestGateway, method: string, path: string, contentLength: number): string {
  const signed = signRequest(creds, {
    method,
    path,
    headers: { host: `127.0.0.1:${gateway.port}`, 'content-length': String(contentLength) },
    payloadHash: 'UNSIGNED-PAYLOAD',
    date: new Date(),
  });
  const lines = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}`);
  return `${method} ${signed.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** A raw connection that collects what the server sends and notes when the server closed it. */
class RawConnection {
  received = '';
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      this.received += data.toString('latin1');
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Waits for the `count`-th complete response head (bodies here are short and arrive with it). */
  async responses(count: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const heads = this.received.split('HTTP/1.1 ').slice(1);
      if (heads.length >= count && heads[count - 1]!.includes('\r\n\r\n')) return heads.map((head) => `HTTP/1.1 ${head}`);
      if (Date.now() > deadline || this.closed) throw new Error(`expected ${count} responses, got: ${JSON.stringify(this.received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

describe('keep-alive connections', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    const connection = await RawConnection.open(gateway.port);
    connection.socket.write(requestHead(gateway, 'PUT', `/${bucket}`, 0));
    expect((await connection.responses(1))[0]).toMatch(/^HTTP\/1\.1 200 /);
    connection.socket.destroy();
  });
  afterAll(async () => {
    await gateway.stop();
  });

  test('an idle connection is still open after 6 s (Node closes them after 5 s by default) and serves the next request', async () => {
    const connection = await RawConnection.open(gateway.port);
    connection.socket.write(requestHead(gateway, 'PUT', `/${bucket}/first`, 3));
    connection.socket.write('one');
    expect((await connection.responses(1))[0]).toMatch(/^HTTP\/1\.1 200 /);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(connection.closed).toBe(false);
    connection.socket.write(requestHead(gateway, 'PUT', `/${bucket}/second`, 3));
    connection.socket.write('two');
    expect((await connection.responses(2))[1]).toMatch(/^HTTP\/1\.1 200 /);
    expect(gateway.backend.storedBytes(bucket, 'second')?.toString()).toBe('two');
    connection.socket.destroy();
  }, 15_000);
});

describe('graceful stop', () => {
  test('an upload in flight finishes, its connection is closed once idle, and the stop does not wait for the grace period', async () => {
    const gateway = await startTestGateway();
    const setup = await RawConnection.open(gateway.port);
    setup.socket.write(requestHead(gateway, 'PUT', `/${bucket}`, 0));
    await setup.responses(1);

    const idle = setup;
    const unused = await RawConnection.open(gateway.port);
    const uploading = await RawConnection.open(gateway.port);
    uploading.socket.write(requestHead(gateway, 'PUT', `/${bucket}/in-flight`, 10));
    uploading.socket.write('12345');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const startedMs = Date.now();
    const graceMs = 20_000;
    const stopped = gateway.server.stop(graceMs);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Idle connections are closed at once, also one that never sent a request; new connections
    // are refused.
    expect(idle.closed).toBe(true);
    expect(unused.closed).toBe(true);
    await expect(RawConnection.open(gateway.port)).rejects.toThrow(/ECONNREFUSED/);
    // The upload in flight completes and is stored.
    uploading.socket.write('67890');
    expect((await uploading.responses(1))[0]).toMatch(/^HTTP\/1\.1 200 /);
    await stopped;
    expect(Date.now() - startedMs).toBeLessThan(graceMs / 4);
    expect(uploading.closed || (await new Promise((resolve) => uploading.socket.once('close', () => resolve(true))))).toBe(true);
    expect(gateway.backend.storedBytes(bucket, 'in-flight')?.toString()).toBe('1234567890');
  }, 30_000);
});

describe('a GET whose client stops reading', () => {
  const stallMsMax = 500;
  const sizeBytes = 64 * 1024 * 1024;
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ gateway: { limits: { ...testGatewayOptions().limits, responseStallMsMax: stallMsMax } } });
    const setup = await RawConnection.open(gateway.port);
    setup.socket.write(requestHead(gateway, 'PUT', `/${bucket}`, 0));
    await setup.responses(1);
    setup.socket.write(requestHead(gateway, 'PUT', `/${bucket}/large`, sizeBytes));
    setup.socket.write(Buffer.alloc(sizeBytes, 7));
    expect((await setup.responses(2, 30_000))[1]).toMatch(/^HTTP\/1\.1 200 /);
    setup.socket.destroy();
  }, 60_000);
  afterAll(async () => {
    await gateway.stop();
  });

  /** Opens a GET of the large object; `onData` sees every chunk and may pause the socket. */
  async function get(onData: (socket: Socket, receivedBytes: number) => void): Promise<{ socket: Socket; receivedBytes: () => number; closed: Promise<void> }> {
    const connection = await RawConnection.open(gateway.port);
    const socket = connection.socket;
    socket.removeAllListeners('data');
    let receivedBytes = 0;
    socket.on('data', (data: Buffer) => {
      receivedBytes += data.byteLength;
      onData(socket, receivedBytes);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(requestHead(gateway, 'GET', `/${bucket}/large`, 0));
    return { socket, receivedBytes: () => receivedBytes, closed };
  }

  async function waitUntil(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  test('is cut once it has taken nothing for responseStallMsMax, and the gateway serves on', async () => {
    let paused = false;
    const stalled = await get((socket, receivedBytes) => {
      if (!paused && receivedBytes > 1024 * 1024) {
        paused = true;
        socket.pause();
      }
    });
    await waitUntil(() => paused);
    // A paused socket does not see the server's close: look again after four stall periods.
    await new Promise((resolve) => setTimeout(resolve, 4 * stallMsMax));
    stalled.socket.resume();
    const outcome = await Promise.race([stalled.closed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 10_000))]);
    expect(outcome).toBe('closed');
    expect(stalled.receivedBytes()).toBeLessThan(sizeBytes);
    const small = await RawConnection.open(gateway.port);
    small.socket.write(requestHead(gateway, 'HEAD', `/${bucket}/large`, 0));
    expect((await small.responses(1))[0]).toMatch(/^HTTP\/1\.1 200 /);
    small.socket.destroy();
  }, 30_000);

  test('a client that pauses for less than that gets the whole body', async () => {
    let pauses = 0;
    const slow = await get((socket, receivedBytes) => {
      // Five pauses of half the stall limit, each once the previous one is over.
      if (pauses < 5 && receivedBytes > (pauses + 1) * 4 * 1024 * 1024) {
        pauses += 1;
        socket.pause();
        setTimeout(() => socket.resume(), stallMsMax / 2);
      }
      if (receivedBytes > sizeBytes) socket.destroy();
    });
    await slow.closed;
    expect(pauses).toBe(5);
    // Head plus body: everything arrived before the test closed the connection.
    expect(slow.receivedBytes()).toBeGreaterThan(sizeBytes);
  }, 30_000);
});
