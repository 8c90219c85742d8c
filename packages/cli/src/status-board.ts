/**
 * The live status of `tessera start`: on a terminal a block redrawn in place (cursor up, clear
 * to end of screen), elsewhere (a pipe, a log file) printed only when it changes, so logs
 * do not fill with identical lines. Event lines (crashes, restarts) print above the block.
 */
import type { LocalClusterStatus } from '@tessera/local-cluster';

export interface Output {
  write(data: string | Uint8Array): void;
  readonly isTTY: boolean;
  /** Terminal width; lines of the block are cut to it so the redraw's line count stays right. */
  readonly columns?: number;
}

export class StatusBoard {
  private drawnLineCount = 0;
  private lastBlock = '';
  private lastChangeKey = '';

  constructor(private readonly output: Output) {}

  /** Prints event lines above the status block. */
  event(text: string): void {
    this.erase();
    this.output.write(`${text}\n`);
    if (this.output.isTTY && this.lastBlock !== '') this.draw(this.lastBlock);
  }

  /**
   * `changeKey` decides "changed" off a terminal: it leaves out what moves all the time (the
   * commit index grows with every storage heartbeat) so a log gets a line per real change.
   */
  update(block: string, changeKey: string = block): void {
    if (this.output.isTTY) {
      this.erase();
      this.draw(block);
    } else if (changeKey !== this.lastChangeKey) {
      this.output.write(`${block}\n`);
    }
    this.lastBlock = block;
    this.lastChangeKey = changeKey;
  }

  /** Leaves the last block on screen and forgets it (before the shutdown messages). */
  release(): void {
    this.drawnLineCount = 0;
    this.lastBlock = '';
    this.lastChangeKey = '';
  }

  private draw(block: string): void {
    const width = this.output.columns;
    const lines = block.split('\n').map((line) => (width !== undefined && width > 1 && line.length >= width ? `${line.slice(0, width - 2)}…` : line));
    this.output.write(`${lines.join('\n')}\n`);
    this.drawnLineCount = lines.length;
  }

  private erase(): void {
    if (!this.output.isTTY || this.drawnLineCount === 0) return;
    this.output.write(`\x1b[${this.drawnLineCount}A\x1b[0J`);
    this.drawnLineCount = 0;
  }
}

/** A compact view: metadata Raft state, then per zone how many nodes are up. */
export function renderLiveStatus(status: LocalClusterStatus, gatewayEndpoint: string | undefined): string {
  const m = status.metadata;
  const lines: string[] = [];
  lines.push(`metadata  leader ${m.leaderId ?? 'none'}  term ${m.term}  commit ${m.commitIndex}  (${m.respondingNodeCount} answering)`);
  const zones = [...new Set(status.processes.map((p) => p.zone).filter((z): z is string => z !== undefined))];
  for (const zone of zones) {
    const inZone = status.processes.filter((p) => p.zone === zone);
    const count = (role: string): string => {
      const ofRole = inZone.filter((p) => p.role === role);
      return `${ofRole.filter((p) => p.ready).length}/${ofRole.length}`;
    };
    const troubled = inZone.filter((p) => !p.ready).map((p) => `${p.name} ${p.state === 'backoff' ? 'restarting' : p.state === 'running' ? 'not ready' : p.state}`);
    lines.push(`${zone.padEnd(8)}  metadata ${count('metadata')}  storage ${count('storage')}${troubled.length > 0 ? `  [${troubled.join(', ')}]` : ''}`);
  }
  const gateway = status.processes.find((p) => p.role === 'gateway');
  if (gateway !== undefined) lines.push(`gateway   ${gateway.ready ? 'up' : gateway.state === 'backoff' ? 'restarting' : 'not ready'}  ${gatewayEndpoint ?? ''}${gateway.restartCount > 0 ? `  (${gateway.restartCount} restarts)` : ''}`);
  const healer = status.processes.find((p) => p.role === 'healer');
  if (healer !== undefined) lines.push(`healer    ${healer.ready ? 'up' : healer.state === 'backoff' ? 'restarting' : 'not ready'}  ${healer.metricsAddress}${healer.restartCount > 0 ? `  (${healer.restartCount} restarts)` : ''}`);
  const restarts = status.processes.reduce((sum, p) => sum + p.restartCount, 0);
  lines.push(`restarts  ${restarts}`);
  return lines.join('\n');
}
