// Goal: the live status is redrawn in place on a terminal, printed only on real change
// elsewhere, and event lines land above it without being overwritten. Method: StatusBoard over
// a recording Output; renderLiveStatus over a hand-built LocalClusterStatus.
import { renderLiveStatus, StatusBoard } from '@tessera/cli';
import type { Output } from '@tessera/cli';
import type { LocalClusterStatus, ProcessStatus } from '@tessera/local-cluster';

function recorder(isTTY: boolean): Output & { text(): string } {
  const chunks: string[] = [];
  return { isTTY, write: (data) => void chunks.push(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')), text: () => chunks.join('') };
}

function proc(name: string, role: ProcessStatus['role'], zone: string | undefined, ready = true, state: ProcessStatus['state'] = 'running'): ProcessStatus {
  return { name, role, zone, state, ready, pid: 1, restartCount: 0, listenAddress: 'a', metricsAddress: 'b', logPath: 'c' };
}

describe('StatusBoard', () => {
  test('terminal: each update erases the previous block (cursor up + clear) and redraws', () => {
    const out = recorder(true);
    const board = new StatusBoard(out);
    board.update('line one\nline two');
    board.update('line one\nline 2');
    expect(out.text()).toBe('line one\nline two\n\x1b[2A\x1b[0Jline one\nline 2\n');
  });

  test('terminal: an event prints above the block, which is then redrawn', () => {
    const out = recorder(true);
    const board = new StatusBoard(out);
    board.update('status');
    board.event('! crashed');
    expect(out.text()).toBe('status\n\x1b[1A\x1b[0J! crashed\nstatus\n');
  });

  test('terminal: lines wider than the terminal are cut, so the redraw erases exactly what it drew', () => {
    const chunks: string[] = [];
    const board = new StatusBoard({ isTTY: true, columns: 10, write: (data) => void chunks.push(String(data)) });
    board.update('short\n0123456789abcdef');
    board.update('x');
    expect(chunks.join('')).toBe('short\n01234567…\n\x1b[2A\x1b[0Jx\n');
  });

  test('not a terminal: printed only when the change key changes, never with escape codes', () => {
    const out = recorder(false);
    const board = new StatusBoard(out);
    board.update('leader meta-1 commit 5', 'leader meta-1');
    board.update('leader meta-1 commit 9', 'leader meta-1');
    board.update('leader meta-2 commit 12', 'leader meta-2');
    board.event('! crashed');
    expect(out.text()).toBe('leader meta-1 commit 5\nleader meta-2 commit 12\n! crashed\n');
  });
});

describe('renderLiveStatus', () => {
  test('counts ready nodes per zone and names the troubled ones', () => {
    const status: LocalClusterStatus = {
      metadata: { leaderId: 'meta-2', leaderAddress: 'x', term: 4, commitIndex: 99, respondingNodeCount: 3 },
      processes: [
        proc('meta-1', 'metadata', 'az-a'), proc('storage-az-a-1', 'storage', 'az-a'), proc('storage-az-a-2', 'storage', 'az-a', false, 'backoff'),
        proc('meta-2', 'metadata', 'az-b'), proc('storage-az-b-1', 'storage', 'az-b'),
        proc('gateway', 'gateway', undefined),
      ],
    };
    expect(renderLiveStatus(status, 'http://127.0.0.1:9000')).toBe([
      'metadata  leader meta-2  term 4  commit 99  (3 answering)',
      'az-a      metadata 1/1  storage 1/2  [storage-az-a-2 restarting]',
      'az-b      metadata 1/1  storage 1/1',
      'gateway   up  http://127.0.0.1:9000',
      'restarts  0',
    ].join('\n'));
  });
});
