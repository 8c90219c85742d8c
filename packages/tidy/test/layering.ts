/**
 * The layering of the workspace (STYLE.md 3.1), as data: which @tessera packages each package
 * may list in `dependencies`. Nothing points upward:
 *
 *   0  common, proto
 *   1  checksum, erasure, placement, raft           (common only)
 *   2  rpc (common, checksum, proto); testkit (common, raft; dev only)
 *   3  storage-node, metadata, gateway, healer       (servers: never each other)
 *   4  local-cluster (spawns the servers by path, never imports them)
 *   5  cli, test-cluster, deploy-tests, tidy
 *
 * devDependencies are for tests and may name any lower or sibling package (a healer test
 * starts real metadata and storage nodes), never the package itself. A package's
 * `src/testing/` folder holds fixtures shared with other packages' tests (never exported from
 * src/index.ts): like tests, it may import devDependencies.
 */
const layer0 = ['@tessera/common'];
const layer1 = [...layer0, '@tessera/checksum'];

export const allowedDependencies: Readonly<Record<string, readonly string[]>> = {
  '@tessera/common': [],
  '@tessera/proto': [],
  '@tessera/checksum': layer0,
  '@tessera/erasure': layer0,
  '@tessera/placement': layer0,
  '@tessera/raft': layer0,
  '@tessera/testkit': [...layer0, '@tessera/raft'],
  '@tessera/rpc': [...layer1, '@tessera/proto'],
  '@tessera/storage-node': [...layer1, '@tessera/proto', '@tessera/rpc'],
  '@tessera/metadata': [...layer0, '@tessera/placement', '@tessera/proto', '@tessera/raft', '@tessera/rpc'],
  '@tessera/gateway': [...layer1, '@tessera/erasure', '@tessera/placement', '@tessera/proto', '@tessera/rpc'],
  '@tessera/healer': [...layer1, '@tessera/erasure', '@tessera/placement', '@tessera/proto', '@tessera/rpc'],
  '@tessera/local-cluster': [...layer0, '@tessera/rpc'],
  '@tessera/cli': [...layer0, '@tessera/rpc', '@tessera/local-cluster'],
  '@tessera/test-cluster': [...layer1, '@tessera/rpc', '@tessera/local-cluster'],
  '@tessera/deploy-tests': [],
  '@tessera/tidy': [],
};

/**
 * Pure packages: deterministic logic only, so the simulator and property tests can drive them.
 * `exempt` names the one edge of a package that is allowed I/O, with the reason.
 */
export const purePackages: ReadonlyArray<{ readonly dir: string; readonly exempt: readonly string[] }> = [
  { dir: 'packages/raft', exempt: [] },
  { dir: 'packages/placement', exempt: [] },
  // The worker pool runs the (pure) codec on worker threads; it is the package's I/O edge.
  { dir: 'packages/erasure', exempt: ['src/worker-pool/'] },
  // `npm run sim` is a program: it reads argv, times the run and sets the exit code.
  { dir: 'packages/testkit', exempt: ['src/sim-cli.ts'] },
];

/**
 * Code that may read `process.env` besides each package's src/main.ts (the composition root)
 * and benchmarks: file paths, or folder prefixes ending in `/`.
 */
export const environmentReaders: readonly string[] = [
  // Where the .proto files live, overridable for a relocated install (documented in proto's README).
  'packages/proto/src/index.ts',
  // The failure-injection harness spawns whole clusters and passes its environment on to them.
  'test-cluster/src/',
];
