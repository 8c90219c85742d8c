/** Thin wrappers over the docker and docker-compose CLIs for the container tests. */
import { execFile, execFileSync } from 'node:child_process';
import * as net from 'node:net';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; rejects with its stderr in the message when it exits non-zero. */
export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, ...options.env }, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024, cwd: options.cwd }, (error, stdout, stderr) => {
      // stdout's tail too: a CLI that reports its outcome there (tessera --watch --json) says why.
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr.slice(-4000)}${stdout === '' ? '' : `\nstdout: ${stdout.slice(-2000)}`}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Why the Docker tests cannot run here, or undefined when they can. */
export function dockerUnavailableReason(): string | undefined {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 15_000 });
  } catch {
    return 'no Docker engine reachable (`docker info` failed; .ci/setup-system.sh installs and starts one)';
  }
  try {
    execFileSync('docker-compose', ['version', '--short'], { stdio: 'pipe', timeout: 15_000 });
  } catch {
    return 'docker-compose is not installed (.ci/setup-system.sh installs it)';
  }
  return undefined;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for publishing container ports). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ContainerState {
  readonly name: string;
  readonly service: string;
  readonly status: string;
  /** Exit code of the main process (0 while running, or after a clean stop). */
  readonly exitCode: number;
  readonly health: string | undefined;
  readonly zone: string | undefined;
  /** host_ip:host_port of every published port */
  readonly publishedPorts: readonly string[];
}

/** State of every container of a compose project (running or not). */
export async function projectContainers(project: string): Promise<ContainerState[]> {
  const ids = (await run('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`], { timeoutMs: 30_000 })).stdout.split('\n').filter((id) => id !== '');
  if (ids.length === 0) return [];
  const inspected = JSON.parse((await run('docker', ['inspect', ...ids], { timeoutMs: 30_000 })).stdout) as Array<{
    Name: string;
    Config: { Labels: Record<string, string>; Env: string[] };
    State: { Status: string; ExitCode: number; Health?: { Status: string } };
    HostConfig: { PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
  }>;
  return inspected.map((c) => ({
    name: c.Name.replace(/^\//, ''),
    service: c.Config.Labels['com.docker.compose.service'] ?? '',
    status: c.State.Status,
    exitCode: c.State.ExitCode,
    health: c.State.Health?.Status,
    zone: c.Config.Env.find((e) => e.startsWith('TESSERA_ZONE='))?.slice('TESSERA_ZONE='.length),
    publishedPorts: Object.values(c.HostConfig.PortBindings ?? {}).flatMap((bindings) => (bindings ?? []).map((b) => `${b.HostIp}:${b.HostPort}`)),
  }));
}
