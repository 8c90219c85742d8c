// Goal: deploy/docker-compose.yml describes the 3-AZ cluster we promise (3 metadata, 9 storage,
// 2 gateways, 1 healer), with healthchecks gating start order, internal-only cluster traffic, gateway
// ports on 127.0.0.1 only, init, restart policies and named volumes.
// Method: static checks on the file as YAML (always), then the same checks on what
// `docker-compose config` makes of it (when docker-compose is installed: this is the real
// parser, with anchors merged and variables substituted). Self-tests break the file on purpose.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { composeErrors } from './support/compose-checks';
import { isObject } from './support/json';
import type { JsonObject } from './support/json';
import { deployDir } from './support/repo';

const composeFile = path.join(deployDir, 'docker-compose.yml');
const composeText = fs.readFileSync(composeFile, 'utf8');

/**
 * Substitutes `${NAME:-default}` the way compose does with NAME unset, so the file as written
 * reads like `docker-compose config` output would without docker-compose.
 */
function withDefaults(text: string): string {
  return text.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g, (_match, fallback: string | undefined) => fallback ?? '');
}

function parseCompose(text: string): JsonObject {
  const value: unknown = parse(withDefaults(text), { merge: true });
  if (!isObject(value)) throw new Error('compose file is not a mapping');
  return value;
}

describe('deploy/docker-compose.yml (parsed as YAML)', () => {
  test('describes the 3-AZ cluster with every safeguard', () => {
    expect(composeErrors(parseCompose(composeText))).toEqual([]);
  });

  test('has no `version:` key and is named docker-compose.yml, which compose 1.29 and v2 both read', () => {
    expect(parseCompose(composeText)['version']).toBeUndefined();
    expect(path.basename(composeFile)).toBe('docker-compose.yml');
  });

  test('self-test: a port published on all interfaces is reported', () => {
    const broken = composeText.replace("'127.0.0.1:${TESSERA_GATEWAY_1_PORT:-9000}:9000'", "'9000:9000'");
    expect(broken).not.toBe(composeText);
    expect(composeErrors(parseCompose(broken))).toEqual(['service gateway-1: port "9000:9000" is not published on 127.0.0.1 only']);
  });

  test('self-test: a gateway only on the internal network (its ports would be ignored) is reported', () => {
    const broken = composeText.replaceAll('networks: [cluster, edge]', 'networks: [cluster]');
    expect(composeErrors(parseCompose(broken))).toEqual([
      'service gateway-1: publishes ports but is only on internal networks (Docker ignores them)',
      'service gateway-2: publishes ports but is only on internal networks (Docker ignores them)',
    ]);
  });

  test('self-test: a storage node moved to another zone, and a dependency without a health condition, are reported', () => {
    const compose = parseCompose(composeText);
    const services = compose['services'] as Record<string, JsonObject>;
    (services['storage-c3']!['environment'] as Record<string, string>)['TESSERA_ZONE'] = 'az-a';
    (services['gateway-2']!['depends_on'] as Record<string, JsonObject>)['meta-1'] = { condition: 'service_started' };
    expect(composeErrors(compose)).toEqual([
      'service gateway-2: depends_on meta-1 without condition service_healthy',
      'zone az-a: 4 storage nodes, expected 3',
      'zone az-c: 2 storage nodes, expected 3',
    ]);
  });

  test('self-test: a healer that waits for storage nodes, publishes its admin port or lost its grace period is reported', () => {
    const compose = parseCompose(composeText);
    const healer = (compose['services'] as Record<string, JsonObject>)['healer']!;
    (healer['depends_on'] as Record<string, JsonObject>)['storage-b2'] = { condition: 'service_healthy' };
    healer['ports'] = ['127.0.0.1:9400:9090'];
    delete (healer['environment'] as Record<string, string>)['TESSERA_NODE_LOSS_GRACE_MS'];
    expect(composeErrors(compose)).toEqual([
      'service healer: publishes ports but is only on internal networks (Docker ignores them)',
      'service healer: must not publish ports (its /admin endpoints change the cluster)',
      'service healer: must not wait for storage-b2 (it heals when storage nodes are down)',
      'service healer: TESSERA_NODE_LOSS_GRACE_MS must be set explicitly',
    ]);
  });
});

const dockerCompose = (() => {
  try {
    return execFileSync('docker-compose', ['version', '--short'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();
if (dockerCompose === undefined) console.log('deploy/docker-compose.yml: docker-compose is not installed; skipping the `docker-compose config` tests (.ci/setup-system.sh installs it)');
(dockerCompose === undefined ? describe.skip : describe)(`docker-compose ${dockerCompose ?? ''} config`, () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}): string =>
    execFileSync('docker-compose', ['-f', composeFile, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

  test('accepts the file (config -q)', () => {
    expect(() => run(['config', '-q'])).not.toThrow();
  });

  test('what docker-compose makes of it passes the same checks', () => {
    expect(composeErrors(parseCompose(run(['config'])))).toEqual([]);
  });

  test('image, keys and gateway ports come from the environment', () => {
    const compose = parseCompose(run(['config'], { TESSERA_IMAGE: 'registry.example/tessera:1.2.3', TESSERA_GATEWAY_1_PORT: '19000', TESSERA_ROOT_SECRET_KEY: 'a-secret-of-24-characters' }));
    const gateway = (compose['services'] as Record<string, JsonObject>)['gateway-1']!;
    expect(gateway['image']).toBe('registry.example/tessera:1.2.3');
    expect(JSON.stringify(gateway['ports'])).toContain('127.0.0.1:19000:9000');
    expect((gateway['environment'] as Record<string, string>)['TESSERA_ROOT_SECRET_KEY']).toBe('a-secret-of-24-characters');
  });
});
