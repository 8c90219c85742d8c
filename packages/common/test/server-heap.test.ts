import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { configureServerThreadPool, serverHeapFlag, serverHeapGrowingPercent, serverThreadPoolSize } from '../src/server-heap';

describe('serverHeapFlag', () => {
  it('asks for the server growth factor when the command line sets none', () => {
    expect(serverHeapFlag([])).toBe(`--heap-growing-percent=${serverHeapGrowingPercent}`);
    expect(serverHeapFlag(['--enable-source-maps', '--max-old-space-size=512'])).toBe(`--heap-growing-percent=${serverHeapGrowingPercent}`);
  });

  it("leaves an operator's own value in place, in either spelling", () => {
    expect(serverHeapFlag(['--heap-growing-percent=50'])).toBeUndefined();
    expect(serverHeapFlag(['--heap_growing_percent=50'])).toBeUndefined();
    expect(serverHeapFlag(['--heap-growing-percent', '50'])).toBeUndefined();
  });
});

describe('configureServerHeap', () => {
  // With --trace-gc-verbose V8 prints, after each full collection, the old generation's next
  // limit and the factor that set it: "[HeapController] Limit: old size: …, new limit: … (4.0)".
  const distIndex = join(__dirname, '..', 'dist', 'index.js');
  const limitFactors = (trace: string): string[] => [...trace.matchAll(/\[HeapController\] Limit: .*\((\d+\.\d)\)/g)].map((m) => m[1]!);
  // 150 rather than the default 300: with no timing data yet V8's own factor is 4.0 too.
  const forceFullGcs = `require(${JSON.stringify(distIndex)}).configureServerHeap({ growingPercent: 150 }); for (let i = 0; i < 3; i += 1) global.gc();`;

  it('makes V8 size the old generation with the given factor', () => {
    const trace = execFileSync(process.execPath, ['--expose-gc', '--trace-gc-verbose', '-e', forceFullGcs], { encoding: 'utf8' });
    expect(limitFactors(trace)).toEqual(['2.5', '2.5', '2.5']);
  });

  it('keeps a factor given on the command line', () => {
    const trace = execFileSync(process.execPath, ['--expose-gc', '--trace-gc-verbose', '--heap-growing-percent=50', '-e', forceFullGcs], { encoding: 'utf8' });
    expect(limitFactors(trace)).toEqual(['1.5', '1.5', '1.5']);
  });
});

describe('configureServerThreadPool', () => {
  it('sets UV_THREADPOOL_SIZE when unset or empty, and keeps an operator\'s value', () => {
    const unset: NodeJS.ProcessEnv = {};
    configureServerThreadPool(unset);
    expect(unset.UV_THREADPOOL_SIZE).toBe(String(serverThreadPoolSize));
    const empty: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '' };
    configureServerThreadPool(empty);
    expect(empty.UV_THREADPOOL_SIZE).toBe(String(serverThreadPoolSize));
    const chosen: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '8' };
    configureServerThreadPool(chosen);
    expect(chosen.UV_THREADPOOL_SIZE).toBe('8');
  });
});
