// The cluster harness lives in src/testing so the benchmark can use it too.
export { randomBody, sha256, startHealerTestCluster, testShape, waitFor } from '../../src/testing/cluster-under-test';
export type { HealerTestCluster, StorageNodeHandle } from '../../src/testing/cluster-under-test';
