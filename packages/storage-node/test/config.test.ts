// Goal: flags beat env, env beats the config file, the file beats defaults, and bad values
// are refused with a clear ConfigError. Method: the pure resolver with fake argv/env/files.
import { ConfigError, parseSizeBytes, resolveStorageNodeConfig } from '../src/index';

const noFile = (p: string): string => {
  throw new Error(`no file ${p}`);
};

describe('resolveStorageNodeConfig', () => {
  it('has defaults that work on one machine', () => {
    expect(resolveStorageNodeConfig([], {}, noFile)).toEqual({
      nodeId: 'storage-1',
      zone: 'local',
      listen: '127.0.0.1:7100',
      dataDir: './data/storage-1',
      metricsListen: '127.0.0.1:7190',
      capacityBytes: undefined,
      shardSizeBytesMax: 4 * 1024 ** 3,
      concurrentStreamCountMax: 256,
      writeIdleTimeoutMs: 30_000,
      shutdownGraceMs: 10_000,
      logLevel: 'info',
      metadataAddresses: [],
      advertiseAddress: undefined,
      heartbeatIntervalMs: 2_000,
    });
  });

  it('parses the metadata service list and the advertised address', () => {
    const config = resolveStorageNodeConfig(
      ['--metadata', '127.0.0.1:7001, 127.0.0.1:7002,127.0.0.1:7003', '--advertise', 'storage-a1:7100', '--heartbeat-interval-ms', '500'],
      {},
      noFile,
    );
    expect(config.metadataAddresses).toEqual(['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003']);
    expect(config.advertiseAddress).toBe('storage-a1:7100');
    expect(config.heartbeatIntervalMs).toBe(500);
    expect(() => resolveStorageNodeConfig(['--metadata', 'no-port'], {}, noFile)).toThrow('--metadata');
  });

  it('flags > env > config file > defaults', () => {
    const file = JSON.stringify({ nodeId: 'from-file', zone: 'file-zone', listen: '0.0.0.0:9000', capacityBytes: '2GiB', maxConcurrentStreams: 7 });
    const env = { TESSERA_CONFIG: '/etc/tessera.json', TESSERA_ZONE: 'env-zone', TESSERA_LISTEN: '127.0.0.1:9001' };
    const config = resolveStorageNodeConfig(['--listen=127.0.0.1:9002', '--max-shard-size-bytes', '64MiB'], env, (p) => {
      expect(p).toBe('/etc/tessera.json');
      return file;
    });
    expect(config).toMatchObject({
      nodeId: 'from-file',
      zone: 'env-zone',
      listen: '127.0.0.1:9002',
      capacityBytes: 2 * 1024 ** 3,
      shardSizeBytesMax: 64 * 1024 ** 2,
      concurrentStreamCountMax: 7,
      dataDir: './data/from-file',
    });
  });

  it('--disk-reserve-bytes: a size, 0 for none, unset for the default share of the disk', () => {
    expect(resolveStorageNodeConfig([], {}, noFile).diskReserveBytes).toBeUndefined();
    expect(resolveStorageNodeConfig(['--disk-reserve-bytes', '0'], {}, noFile).diskReserveBytes).toBe(0);
    expect(resolveStorageNodeConfig([], { TESSERA_DISK_RESERVE_BYTES: '512MiB' }, noFile).diskReserveBytes).toBe(512 * 1024 ** 2);
    expect(() => resolveStorageNodeConfig(['--disk-reserve-bytes', 'lots'], {}, noFile)).toThrow('--disk-reserve-bytes');
  });

  it('an empty --metrics-listen disables the HTTP endpoint', () => {
    expect(resolveStorageNodeConfig(['--metrics-listen', ''], {}, noFile).metricsListen).toBe('');
  });

  it.each<[string[], Record<string, string>, string]>([
    [['--bogus', '1'], {}, 'unknown flag --bogus'],
    [['--listen'], {}, 'needs a value'],
    [['stray'], {}, 'unexpected argument'],
    [['--listen', 'nohost'], {}, 'must be host:port'],
    [['--listen', '1.2.3.4:70000'], {}, 'must be host:port'],
    [['--capacity-bytes', '-5'], {}, 'is not a size'],
    [['--capacity-bytes', '12XB'], {}, 'is not a size'],
    [['--max-concurrent-streams', '0'], {}, 'positive integer'],
    [['--node-id', 'a/b'], {}, 'node id'],
    [['--log-level', 'loud'], {}, 'log level'],
    [[], { TESSERA_CONFIG: '/missing.json' }, 'cannot read config file'],
  ])('refuses %j %j', (argv, env, message) => {
    expect(() => resolveStorageNodeConfig(argv, env, noFile)).toThrow(ConfigError);
    expect(() => resolveStorageNodeConfig(argv, env, noFile)).toThrow(message);
  });

  it('refuses a config file that is not a JSON object or has unknown keys', () => {
    expect(() => resolveStorageNodeConfig(['--config', 'x'], {}, () => '{nope')).toThrow('not valid JSON');
    expect(() => resolveStorageNodeConfig(['--config', 'x'], {}, () => '[]')).toThrow('JSON object');
    expect(() => resolveStorageNodeConfig(['--config', 'x'], {}, () => '{"nodeID":"typo"}')).toThrow('unknown key "nodeID"');
  });

  it('parses sizes with units', () => {
    expect(parseSizeBytes('1048576', 'x')).toBe(1048576);
    expect(parseSizeBytes('64MiB', 'x')).toBe(64 * 1024 * 1024);
    expect(parseSizeBytes('1.5GB', 'x')).toBe(1.5e9);
    expect(parseSizeBytes('2 tib', 'x')).toBe(2 * 1024 ** 4);
  });
});
