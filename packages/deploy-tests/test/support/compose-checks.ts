/**
 * Structural checks of deploy/docker-compose.yml, on either the file as written (YAML anchors
 * merged) or `docker-compose config` output (long forms, variables substituted). Returns
 * messages, so tests can also show that a broken file is caught.
 */
import { arrayAt, isObject, objectAt, stringAt } from './json';
import type { JsonObject } from './json';

export const zones = ['az-a', 'az-b', 'az-c'] as const;
export const metadataServices = ['meta-1', 'meta-2', 'meta-3'];
export const storageServices = zones.flatMap((zone) => [1, 2, 3].map((n) => `storage-${zone.slice(-1)}${n}`));
export const gatewayServices = ['gateway-1', 'gateway-2'];
export const healerServices = ['healer'];

/** Keys of a list-or-map field (`networks: [a]` or `networks: {a: null}`). */
function names(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return isObject(value) ? Object.keys(value) : [];
}

/** host_ip of a port in short ('127.0.0.1:9000:9000/tcp') or long ({host_ip, published}) form. */
function hostIpOf(port: unknown): string | undefined {
  if (isObject(port)) return stringAt(port, 'host_ip');
  const parts = String(port).split(':');
  return parts.length === 3 ? parts[0] : undefined;
}

/** volume source -> target for named volumes, short ('v:/data:rw') or long form. */
function volumeMounts(service: JsonObject): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const volume of arrayAt(service, 'volumes')) {
    if (isObject(volume)) mounts.set(stringAt(volume, 'source') ?? '', stringAt(volume, 'target') ?? '');
    else {
      const [source = '', target = ''] = String(volume).split(':');
      mounts.set(source, target);
    }
  }
  return mounts;
}

function flag(command: readonly unknown[], name: string): string | undefined {
  const index = command.indexOf(name);
  return index === -1 ? undefined : String(command[index + 1]);
}

function environment(service: JsonObject): Record<string, string> {
  const env = service['environment'];
  if (Array.isArray(env)) return Object.fromEntries(env.map((entry) => String(entry).split(/=(.*)/s).slice(0, 2)));
  return Object.fromEntries(Object.entries(objectAt(service, 'environment')).map(([k, v]) => [k, String(v)]));
}

export function composeErrors(compose: JsonObject): string[] {
  const errors: string[] = [];
  const services = objectAt(compose, 'services');
  const expected = [...metadataServices, ...storageServices, ...gatewayServices, ...healerServices];
  const actual = Object.keys(services);
  if ([...actual].sort().join() !== [...expected].sort().join()) errors.push(`services are ${actual.join(',')}, expected ${expected.join(',')}`);
  const networks = objectAt(compose, 'networks');
  if (objectAt(networks, 'cluster')['internal'] !== true) errors.push('network cluster must be internal');
  if (objectAt(networks, 'edge')['internal'] === true) errors.push('network edge must not be internal (published ports need it)');
  const declaredVolumes = Object.keys(objectAt(compose, 'volumes'));
  const zoneCount = { metadata: new Map<string, number>(), storage: new Map<string, number>() };

  for (const [name, value] of Object.entries(services)) {
    const service = objectAt(value);
    const command = arrayAt(service, 'command');
    const role = String(command[0]);
    const env = environment(service);
    const serviceNetworks = names(service['networks']);
    const where = `service ${name}`;
    if (service['init'] !== true) errors.push(`${where}: init must be true (signals, zombies)`);
    if (!['unless-stopped', 'always', 'on-failure'].includes(stringAt(service, 'restart') ?? '')) errors.push(`${where}: no restart policy`);
    const healthcheck = arrayAt(service, 'healthcheck', 'test').map(String);
    if (healthcheck[0] !== 'CMD' || healthcheck[1] !== 'node') errors.push(`${where}: healthcheck must run node (the image has no curl)`);
    for (const port of arrayAt(service, 'ports')) {
      if (hostIpOf(port) !== '127.0.0.1') errors.push(`${where}: port ${JSON.stringify(port)} is not published on 127.0.0.1 only`);
      if (!serviceNetworks.some((n) => objectAt(networks, n)['internal'] !== true)) errors.push(`${where}: publishes ports but is only on internal networks (Docker ignores them)`);
    }
    if (!serviceNetworks.includes('cluster')) errors.push(`${where}: not on the cluster network`);
    // The healthcheck probes the address entrypoint.sh records from this flag.
    if (flag(command, '--metrics-listen') !== '0.0.0.0:9090') errors.push(`${where}: --metrics-listen must be 0.0.0.0:9090`);
    const zone = env['TESSERA_ZONE'];
    // The healer serves every zone; the nodes and gateways each live in one.
    if (role !== 'healer' && (zone === undefined || !(zones as readonly string[]).includes(zone))) errors.push(`${where}: TESSERA_ZONE must be one of ${zones.join(',')}`);
    const dependsOn = service['depends_on'];
    const dependencies = names(dependsOn);
    for (const dependency of dependencies) {
      if (objectAt(dependsOn, dependency)['condition'] !== 'service_healthy') errors.push(`${where}: depends_on ${dependency} without condition service_healthy`);
    }
    const requireDependencies = (required: readonly string[]): void => {
      for (const dependency of required) if (!dependencies.includes(dependency)) errors.push(`${where}: must depend on ${dependency}`);
    };
    const requireDataVolume = (): void => {
      const volume = [...volumeMounts(service)].find(([, target]) => target === '/data')?.[0];
      if (volume === undefined || !declaredVolumes.includes(volume)) errors.push(`${where}: /data must be a named volume`);
    };
    const metadataAddresses = metadataServices.map((m) => `${m}:7000`).join(',');
    if (name.startsWith('meta-')) {
      if (role !== 'metadata') errors.push(`${where}: role ${role}, expected metadata`);
      if (flag(command, '--node-id') !== name) errors.push(`${where}: --node-id must be the service name`);
      if (flag(command, '--peers') !== metadataServices.map((m) => `${m}=${m}:7000`).join(',')) errors.push(`${where}: --peers must list the three metadata services`);
      if (serviceNetworks.join() !== 'cluster') errors.push(`${where}: must be on the internal network only`);
      requireDataVolume();
      if (zone !== undefined) zoneCount.metadata.set(zone, (zoneCount.metadata.get(zone) ?? 0) + 1);
    } else if (name.startsWith('storage-')) {
      if (role !== 'storage') errors.push(`${where}: role ${role}, expected storage`);
      if (flag(command, '--node-id') !== name) errors.push(`${where}: --node-id must be the service name`);
      if (flag(command, '--advertise') !== `${name}:7100`) errors.push(`${where}: --advertise must be ${name}:7100`);
      if (flag(command, '--metadata') !== metadataAddresses) errors.push(`${where}: --metadata must list the metadata services`);
      if (serviceNetworks.join() !== 'cluster') errors.push(`${where}: must be on the internal network only`);
      requireDataVolume();
      requireDependencies(metadataServices);
      if (zone !== undefined) zoneCount.storage.set(zone, (zoneCount.storage.get(zone) ?? 0) + 1);
    } else if (name.startsWith('gateway-')) {
      if (role !== 'gateway') errors.push(`${where}: role ${role}, expected gateway`);
      if (flag(command, '--metadata') !== metadataAddresses) errors.push(`${where}: --metadata must list the metadata services`);
      if (arrayAt(service, 'ports').length !== 1) errors.push(`${where}: must publish its S3 port`);
      if (env['TESSERA_ROOT_ACCESS_KEY'] === undefined || env['TESSERA_ROOT_SECRET_KEY'] === undefined) errors.push(`${where}: root keys missing`);
      requireDependencies([...metadataServices, ...storageServices]);
    } else if (name === 'healer') {
      if (role !== 'healer') errors.push(`${where}: role ${role}, expected healer`);
      if (flag(command, '--metadata') !== metadataAddresses) errors.push(`${where}: --metadata must list the metadata services`);
      if (serviceNetworks.join() !== 'cluster') errors.push(`${where}: must be on the internal network only`);
      if (arrayAt(service, 'ports').length > 0) errors.push(`${where}: must not publish ports (its /admin endpoints change the cluster)`);
      if (volumeMounts(service).size > 0) errors.push(`${where}: is stateless and must not mount a volume`);
      requireDependencies(metadataServices);
      // It must start while storage nodes are down: repairing them is its job.
      for (const dependency of dependencies) if (!metadataServices.includes(dependency)) errors.push(`${where}: must not wait for ${dependency} (it heals when storage nodes are down)`);
      if (env['TESSERA_NODE_LOSS_GRACE_MS'] === undefined) errors.push(`${where}: TESSERA_NODE_LOSS_GRACE_MS must be set explicitly`);
    }
  }
  for (const zone of zones) {
    if (zoneCount.metadata.get(zone) !== 1) errors.push(`zone ${zone}: ${zoneCount.metadata.get(zone) ?? 0} metadata nodes, expected 1`);
    if (zoneCount.storage.get(zone) !== 3) errors.push(`zone ${zone}: ${zoneCount.storage.get(zone) ?? 0} storage nodes, expected 3`);
  }
  return errors;
}
