/**
 * A network namespace of the suite's own (`ip netns add tessera-test-<pid>`) in which the whole
 * local cluster runs on 127.0.0.1, so that a network partition is a real one: iptables rules on
 * the namespace's loopback drop every packet to and from the isolated process, and removing them
 * heals the partition. Nothing outside the namespace is touched: the host's iptables rules and
 * interfaces stay as they are (the test process reaches the cluster through the forwarder of
 * loopback-forwarder.ts, not through a veth pair or a host route).
 *
 * How a process is cut off, both directions, on one loopback interface:
 * - every metadata node runs under a uid of its own (`setpriv`, from the node-exec wrapper
 *   written here), so `-m owner --uid-owner` matches every packet the isolated node sends:
 *   its outgoing Raft/gRPC calls to its peers and its answers to anyone;
 * - `--dport <its gRPC port>` matches every packet anyone sends to it.
 * The forwarder's connections (source address 127.0.0.2) are exempt: the test keeps observing
 * the isolated node (its role and term), which is how the suite sees it step down by
 * check-quorum while it is still cut off.
 *
 * `create` returns the reason instead when the namespace cannot be made (not root, no `ip`,
 * no iptables, no setpriv); the suite then falls back to SIGSTOP and says so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

/** Source address of the forwarder's connections inside the namespace (exempt from partitions). */
export const observerSourceAddress = '127.0.0.2';

/** Metadata node `meta-<i>` runs as uid `metadataUidBase + i` inside the namespace. */
const metadataUidBase = 42_000;
const partitionChain = 'TESSERA_PARTITION';

export type NetworkNamespaceResult =
  | { readonly kind: 'created'; readonly namespace: NetworkNamespace }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface IsolatedProcess {
  readonly name: string;
  readonly uid: number;
  readonly port: number;
}

export class NetworkNamespace {
  private deleted = false;
  private isolated: IsolatedProcess | undefined;
  /** `ip netns del` from an 'exit' hook: a crashed test run must not leave the namespace behind. */
  private readonly deleteOnExit = (): void => this.deleteNow();

  private constructor(readonly name: string, readonly nodeExecWrapperPath: string) {
    process.once('exit', this.deleteOnExit);
  }

  /**
   * Creates `tessera-test-<pid>`, brings its loopback up (with the observer address), checks
   * that iptables works inside it, and writes the node-exec wrapper into `scratchDir`.
   */
  static create(scratchDir: string, nodeExecPath: string): NetworkNamespaceResult {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return { kind: 'unavailable', reason: 'not root (ip netns and iptables need root)' };
    const name = `tessera-test-${process.pid}`;
    try {
      run('ip', ['netns', 'add', name]);
    } catch (err) {
      return { kind: 'unavailable', reason: `ip netns add failed: ${firstLine(err)}` };
    }
    let tools: WrapperTools;
    try {
      run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
      // 127.0.0.0/8 is all local on lo already; the observer address needs no configuration.
      run('ip', ['netns', 'exec', name, 'iptables', '-w', '-S', 'OUTPUT']);
      // Absolute paths: the children's PATH is whatever the test was given.
      tools = { ip: run('sh', ['-c', 'command -v ip']).trim(), setpriv: run('sh', ['-c', 'command -v setpriv']).trim(), node: nodeExecPath };
      if (tools.setpriv === '') throw new Error('setpriv not found');
    } catch (err) {
      tryRun('ip', ['netns', 'del', name]);
      return { kind: 'unavailable', reason: `namespace ${name} unusable: ${firstLine(err)}` };
    }
    const wrapperPath = path.join(scratchDir, 'node-in-netns.sh');
    fs.writeFileSync(wrapperPath, nodeExecWrapper(name, tools), { mode: 0o755 });
    return { kind: 'created', namespace: new NetworkNamespace(name, wrapperPath) };
  }

  /** uid of metadata node `name` (`meta-<i>`), or undefined for other processes. */
  static uidOf(name: string): number | undefined {
    const match = /^meta-(\d+)$/.exec(name);
    return match === null ? undefined : metadataUidBase + Number(match[1]);
  }

  /** `ip netns exec <ns>` + argv: a command run inside the namespace. */
  execArgs(command: string, args: readonly string[]): { file: string; args: string[] } {
    return { file: 'ip', args: ['netns', 'exec', this.name, command, ...args] };
  }

  /**
   * Cuts `target` off from every other process in the namespace (both directions), except the
   * test's observer connections. One partition at a time.
   */
  isolate(target: IsolatedProcess): void {
    if (this.isolated !== undefined) throw new Error(`${this.isolated.name} is already isolated`);
    const ipt = (...args: string[]): void => void run('ip', ['netns', 'exec', this.name, 'iptables', '-w', ...args]);
    ipt('-N', partitionChain);
    this.isolated = target;
    ipt('-A', partitionChain, '-s', observerSourceAddress, '-j', 'RETURN');
    ipt('-A', partitionChain, '-d', observerSourceAddress, '-j', 'RETURN');
    ipt('-A', partitionChain, '-m', 'owner', '--uid-owner', String(target.uid), '-j', 'DROP');
    ipt('-A', partitionChain, '-p', 'tcp', '--dport', String(target.port), '-j', 'DROP');
    ipt('-I', 'OUTPUT', '-o', 'lo', '-j', partitionChain);
  }

  /** The current iptables rules of the namespace (printed in notes as evidence). */
  rules(): string {
    return run('ip', ['netns', 'exec', this.name, 'iptables', '-w', '-S']).trim();
  }

  /** Removes the partition rules: the isolated process can talk to everyone again. */
  heal(): void {
    if (this.isolated === undefined) return;
    tryRun('ip', ['netns', 'exec', this.name, 'iptables', '-w', '-D', 'OUTPUT', '-o', 'lo', '-j', partitionChain]);
    tryRun('ip', ['netns', 'exec', this.name, 'iptables', '-w', '-F', partitionChain]);
    tryRun('ip', ['netns', 'exec', this.name, 'iptables', '-w', '-X', partitionChain]);
    this.isolated = undefined;
  }

  /** Heals and deletes the namespace (call after every process inside it has exited). */
  delete(): void {
    this.deleteNow();
    process.removeListener('exit', this.deleteOnExit);
  }

  private deleteNow(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.heal();
    tryRun('ip', ['netns', 'del', this.name]);
  }
}

/**
 * The `nodeExecPath` of every cluster process: runs node inside the namespace, and metadata
 * nodes under their own uid (their data dir is chowned to it first; the test itself stays root).
 */
interface WrapperTools {
  readonly ip: string;
  readonly setpriv: string;
  readonly node: string;
}

function nodeExecWrapper(namespaceName: string, tools: WrapperTools): string {
  return `#!/bin/sh
# Generated by test-cluster/src/network-namespace.ts: node inside network namespace ${namespaceName};
# metadata node meta-<i> as uid ${metadataUidBase}+i so iptables can match its packets by owner.
set -eu
uid=''
data_dir=''
previous=''
for arg in "$@"; do
  if [ "$previous" = --node-id ]; then
    case "$arg" in meta-[0-9]*) uid=$((${metadataUidBase} + \${arg#meta-})) ;; esac
  fi
  if [ "$previous" = --data-dir ]; then data_dir=$arg; fi
  previous=$arg
done
if [ -n "$uid" ]; then
  [ -n "$data_dir" ] && chown -R "$uid:$uid" "$data_dir"
  exec ${tools.ip} netns exec ${namespaceName} ${tools.setpriv} --reuid="$uid" --regid="$uid" --clear-groups ${tools.node} "$@"
fi
exec ${tools.ip} netns exec ${namespaceName} ${tools.node} "$@"
`;
}

function run(file: string, args: readonly string[]): string {
  return execFileSync(file, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

function tryRun(file: string, args: readonly string[]): void {
  try {
    run(file, args);
  } catch {
    // Best effort during cleanup: the rule or namespace may already be gone.
  }
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return String(e.stderr !== undefined && e.stderr !== '' ? e.stderr : e.message ?? err).trim().split('\n')[0] ?? '';
}
