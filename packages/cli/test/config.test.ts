// Goal: one precedence for every setting (flag > env > config file > default), config-file
// discovery, clear errors for bad values, and a README table that matches the catalogue.
// Method: resolveConfig with real config files in a temp directory; README read from disk.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, renderSettingsTable, resolveConfig, settingCatalogue, UsageError } from '@tessera/cli';

describe('resolveConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-config-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('defaults: ./data, the documented port plan, us-east-1', () => {
    const config = resolveConfig(new Map(), {}, dir);
    expect(config).toMatchObject({
      dataDir: path.join(dir, 'data'), host: '127.0.0.1', zones: ['az-a', 'az-b', 'az-c'], storageNodesPerZoneCount: 3,
      gatewayPort: 9000, metadataPortBase: 7001, storagePortBase: 7101, metricsPortBase: 9100, region: 'us-east-1',
      readyTimeoutMs: 60_000, stopGraceMs: 10_000, logLevel: 'info', metadataAddresses: undefined, endpoint: undefined, configPath: undefined,
    });
    expect(Object.values(config.sources).every((s) => s === 'default')).toBe(true);
  });

  test('flag > env > config file > default, setting by setting', () => {
    const file = path.join(dir, 'cluster.json');
    fs.writeFileSync(file, JSON.stringify({ gatewayPort: 9003, metadataPortBase: 7203, storagePortBase: 7303, zones: ['z1', 'z2'] }));
    const env = { TESSERA_CONFIG: file, TESSERA_GATEWAY_PORT: '9002', TESSERA_METADATA_PORT_BASE: '7202' };
    const config = resolveConfig(new Map([['gateway-port', '9001']]), env, dir);
    expect(config.gatewayPort).toBe(9001);
    expect(config.sources.gatewayPort).toBe('flag');
    expect(config.metadataPortBase).toBe(7202);
    expect(config.sources.metadataPortBase).toBe('env');
    expect(config.storagePortBase).toBe(7303);
    expect(config.sources.storagePortBase).toBe('file');
    expect(config.zones).toEqual(['z1', 'z2']);
    expect(config.metricsPortBase).toBe(9100);
    expect(config.sources.metricsPortBase).toBe('default');
    expect(config.configPath).toBe(file);
  });

  test('<data-dir>/tessera.json is read when present; --config overrides TESSERA_CONFIG', () => {
    const dataDir = path.join(dir, 'cluster-data');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'tessera.json'), JSON.stringify({ region: 'eu-west-1' }));
    expect(resolveConfig(new Map([['data-dir', dataDir]]), {}, dir).region).toBe('eu-west-1');
    expect(resolveConfig(new Map(), { TESSERA_DATA_DIR: dataDir }, dir).region).toBe('eu-west-1');
    const other = path.join(dir, 'other.json');
    fs.writeFileSync(other, JSON.stringify({ region: 'ap-south-1' }));
    expect(resolveConfig(new Map([['data-dir', dataDir], ['config', other]]), { TESSERA_CONFIG: '/nonexistent.json' }, dir).region).toBe('ap-south-1');
  });

  test('bad values name where they came from', () => {
    expect(() => resolveConfig(new Map([['gateway-port', 'abc']]), {}, dir)).toThrow(/--gateway-port: "abc" must be an integer in 1..65535/);
    expect(() => resolveConfig(new Map(), { TESSERA_STOP_GRACE_MS: '-5' }, dir)).toThrow(/TESSERA_STOP_GRACE_MS/);
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ gatewayPorts: 1 }));
    expect(() => resolveConfig(new Map([['config', file]]), {}, dir)).toThrow(/unknown key "gatewayPorts"/);
    fs.writeFileSync(file, '{oops');
    expect(() => resolveConfig(new Map([['config', file]]), {}, dir)).toThrow(UsageError);
    expect(() => resolveConfig(new Map([['config', path.join(dir, 'missing.json')]]), {}, dir)).toThrow(/cannot read config file/);
    expect(() => resolveConfig(new Map([['log-level', 'loud']]), {}, dir)).toThrow(/debug, info, warn or error/);
    expect(() => resolveConfig(new Map([['restart-backoff-ms-base', '5000'], ['restart-backoff-ms-max', '100']]), {}, dir)).toThrow(/at least/);
  });

  test('every setting has a distinct flag, TESSERA_* variable and config key', () => {
    const defs = Object.values(settingCatalogue);
    for (const key of ['flag', 'env', 'fileKey'] as const) expect(new Set(defs.map((d) => d[key])).size).toBe(defs.length);
    for (const d of defs) expect(d.env).toMatch(/^TESSERA_[A-Z_]+$/);
  });

  test('packages/cli/README.md carries the settings table exactly as the catalogue renders it', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme).toContain(renderSettingsTable());
  });
});

describe('parseArgs', () => {
  test('positionals, --flag value, --flag=value, boolean flags, and -- ends flags', () => {
    const parsed = parseArgs(['cp', '--endpoint', 'http://x', 'a', '--json', '--region=eu', '--', '--not-a-flag'], new Set(['json']));
    expect(parsed.positionals).toEqual(['cp', 'a', '--not-a-flag']);
    expect(Object.fromEntries(parsed.flags)).toEqual({ endpoint: 'http://x', json: 'true', region: 'eu' });
    expect(() => parseArgs(['--endpoint'], new Set())).toThrow(/needs a value/);
    expect(() => parseArgs(['--json=1'], new Set(['json']))).toThrow(/takes no value/);
  });
});
