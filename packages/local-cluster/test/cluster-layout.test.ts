// Goal: the port plan is the documented one and rejects contradictory options before anything
// starts. Method: pure calls to planCluster with the defaults and with broken options.
import { allProcesses, ClusterLayoutError, defaultClusterLayoutOptions, planCluster } from '@tessera/local-cluster';

describe('planCluster', () => {
  const layout = planCluster({ ...defaultClusterLayoutOptions, dataDir: '/var/tessera' });

  test('default plan: 3 metadata (one per zone), 9 storage (3 per zone), gateway on 9000', () => {
    expect(layout.metadata.map((m) => [m.name, m.zone, m.listenAddress, m.metricsAddress])).toEqual([
      ['meta-1', 'az-a', '127.0.0.1:7001', '127.0.0.1:9101'],
      ['meta-2', 'az-b', '127.0.0.1:7002', '127.0.0.1:9102'],
      ['meta-3', 'az-c', '127.0.0.1:7003', '127.0.0.1:9103'],
    ]);
    expect(layout.storage).toHaveLength(9);
    expect(layout.storage[0]).toMatchObject({ name: 'storage-az-a-1', zone: 'az-a', listenAddress: '127.0.0.1:7101', metricsAddress: '127.0.0.1:9111' });
    expect(layout.storage[8]).toMatchObject({ name: 'storage-az-c-3', zone: 'az-c', listenAddress: '127.0.0.1:7109', metricsAddress: '127.0.0.1:9119' });
    expect(layout.gateway).toMatchObject({ listenAddress: '127.0.0.1:9000', metricsAddress: '127.0.0.1:9100' });
    expect(layout.s3Endpoint).toBe('http://127.0.0.1:9000');
    expect(layout.metadataAddresses).toEqual(['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003']);
  });

  test('data, logs, keys and lock live under the data directory', () => {
    expect(layout.metadata[0]?.dataDir).toBe('/var/tessera/metadata/meta-1');
    expect(layout.storage[0]?.dataDir).toBe('/var/tessera/storage/storage-az-a-1');
    expect(layout.gateway.logPath).toBe('/var/tessera/logs/gateway.log');
    expect(layout.keysPath).toBe('/var/tessera/root-keys.json');
    expect(layout.lockPath).toBe('/var/tessera/launcher.lock');
  });

  test('every address is distinct, and each names the option that moves it', () => {
    // The healer has no API of its own: its listen address is its metrics/admin address.
    const addresses = allProcesses(layout).flatMap((p) => [...new Set([p.listenAddress, p.metricsAddress])]);
    expect(new Set(addresses).size).toBe(addresses.length);
    expect(layout.healer).toMatchObject({ name: 'healer', role: 'healer', listenAddress: '127.0.0.1:9120', metricsAddress: '127.0.0.1:9120' });
    expect(new Set(allProcesses(layout).map((p) => p.listenOptionHint))).toEqual(new Set(['--metadata-port-base', '--storage-port-base', '--gateway-port', '--metrics-port-base']));
  });

  test('overlapping port ranges are refused with the two processes named', () => {
    expect(() => planCluster({ ...defaultClusterLayoutOptions, dataDir: '/d', storagePortBase: 7002 })).toThrow(/storage-az-a-1 and meta-2 would both use 127.0.0.1:7002/);
    expect(() => planCluster({ ...defaultClusterLayoutOptions, dataDir: '/d', gatewayPort: 9102 })).toThrow(ClusterLayoutError);
  });

  test('bad zones, counts and ports are refused', () => {
    const base = { ...defaultClusterLayoutOptions, dataDir: '/d' };
    expect(() => planCluster({ ...base, zones: [] })).toThrow(/at least one zone/);
    expect(() => planCluster({ ...base, zones: ['a', 'a'] })).toThrow(/distinct/);
    expect(() => planCluster({ ...base, zones: ['Bad Zone'] })).toThrow(/zone/);
    expect(() => planCluster({ ...base, storageNodesPerZoneCount: 0 })).toThrow(/storage nodes per zone/);
    expect(() => planCluster({ ...base, gatewayPort: 70_000 })).toThrow(/--gateway-port/);
    expect(() => planCluster({ ...base, metricsPortBase: 65_530 })).toThrow(/lower the port bases/);
  });

  test('more zones and nodes scale the plan', () => {
    const big = planCluster({ ...defaultClusterLayoutOptions, dataDir: '/d', zones: ['z1', 'z2', 'z3', 'z4', 'z5'], storageNodesPerZoneCount: 4 });
    expect(big.metadata).toHaveLength(5);
    expect(big.storage).toHaveLength(20);
    expect(big.storage[19]).toMatchObject({ name: 'storage-z5-4', listenAddress: '127.0.0.1:7120', metricsAddress: '127.0.0.1:9130' });
  });
});
