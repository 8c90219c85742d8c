// Goal: the Kubernetes manifests in deploy/k8s would be accepted by an API server and describe
// the cluster we mean (one metadata pod and three storage pods per zone), with no cluster here.
// Method: parse every YAML document that kustomization.yaml lists, validate it against the
// Kubernetes OpenAPI schemas (kubernetes-models) and against the full field lists of
// @kubernetes/client-node (unknown/misspelt fields), then check references across objects.
// Negative self-tests break a good manifest on purpose and require the checker to notice.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject } from './support/json';
import type { JsonObject } from './support/json';
import { consistencyErrors, loadK8sTypeMap, roleOf, schemaErrors, unknownFieldErrors, zoneLayout } from './support/k8s-checks';
import type { K8sTypeMap } from './support/k8s-checks';
import { deployDir } from './support/repo';

const k8sDir = path.join(deployDir, 'k8s');

function parseYamlDocs(text: string, source: string): JsonObject[] {
  return parseAllDocuments(text).flatMap((doc, index) => {
    if (doc.errors.length > 0) throw new Error(`${source} document ${index}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return [];
    if (!isObject(value)) throw new Error(`${source} document ${index} is not a mapping`);
    return [value];
  });
}

const kustomization = parseYamlDocs(fs.readFileSync(path.join(k8sDir, 'kustomization.yaml'), 'utf8'), 'kustomization.yaml')[0] ?? {};
const resourceFiles = (Array.isArray(kustomization['resources']) ? kustomization['resources'] : []).map(String);
const docs: JsonObject[] = resourceFiles.flatMap((file) => parseYamlDocs(fs.readFileSync(path.join(k8sDir, file), 'utf8'), file));
const clone = (doc: JsonObject): JsonObject => structuredClone(doc);
const find = (kind: string, name: string): JsonObject => {
  const doc = docs.find((d) => d['kind'] === kind && isObject(d['metadata']) && d['metadata']['name'] === name);
  if (doc === undefined) throw new Error(`no ${kind}/${name} in deploy/k8s`);
  return doc;
};

let typeMap: K8sTypeMap;
beforeAll(() => {
  typeMap = loadK8sTypeMap();
});

describe('deploy/k8s manifests', () => {
  test('kustomization.yaml lists every manifest file, and every listed file exists', () => {
    const yamlFiles = fs.readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
    expect([...resourceFiles].sort()).toEqual(yamlFiles);
    expect(kustomization['namespace']).toBe('tessera');
  });

  test('contains the objects the design calls for', () => {
    const kinds = docs.map((d) => `${String(d['kind'])}/${isObject(d['metadata']) ? String(d['metadata']['name']) : '?'}`).sort();
    expect(kinds).toEqual([
      'ConfigMap/tessera-config',
      'Deployment/tessera-gateway',
      'Deployment/tessera-healer',
      'Namespace/tessera',
      'NetworkPolicy/tessera-gateway',
      'NetworkPolicy/tessera-healer',
      'NetworkPolicy/tessera-metadata',
      'NetworkPolicy/tessera-storage',
      'PodDisruptionBudget/tessera-gateway',
      'PodDisruptionBudget/tessera-metadata',
      'PodDisruptionBudget/tessera-storage',
      'Secret/tessera-root-credentials',
      'Service/tessera-gateway',
      'Service/tessera-metadata',
      'Service/tessera-storage',
      'StatefulSet/tessera-metadata',
      'StatefulSet/tessera-storage-az-a',
      'StatefulSet/tessera-storage-az-b',
      'StatefulSet/tessera-storage-az-c',
    ]);
  });

  test('every document passes the Kubernetes OpenAPI schema (kubernetes-models validate)', () => {
    expect(docs.flatMap(schemaErrors)).toEqual([]);
  });

  test('no document has a field the Kubernetes API does not know', () => {
    expect(docs.flatMap((doc) => unknownFieldErrors(doc, typeMap))).toEqual([]);
  });

  test('selectors match pod labels; Service ports, probes, env references and volumes resolve', () => {
    expect(consistencyErrors(docs)).toEqual([]);
  });

  test('zones add up: one metadata node and three storage nodes in each of the three zones', () => {
    const layout = zoneLayout(docs);
    expect(layout.errors).toEqual([]);
    expect(layout.metadataPerZone).toEqual({ 'az-a': 1, 'az-b': 1, 'az-c': 1 });
    expect(layout.storagePerZone).toEqual({ 'az-a': 3, 'az-b': 3, 'az-c': 3 });
  });

  test('each role keeps its data on a PersistentVolumeClaim at /data, and the gateway keeps none', () => {
    for (const name of ['tessera-metadata', 'tessera-storage-az-a', 'tessera-storage-az-b', 'tessera-storage-az-c']) {
      const set = find('StatefulSet', name);
      expect(JSON.stringify(set)).toContain('"volumeClaimTemplates":[{"metadata":{"name":"data"}');
      expect(JSON.stringify(set)).toContain('{"name":"data","mountPath":"/data"}');
    }
    expect(JSON.stringify(find('Deployment', 'tessera-gateway'))).not.toContain('persistentVolumeClaim');
    expect(JSON.stringify(find('Deployment', 'tessera-healer'))).not.toContain('persistentVolumeClaim');
    expect(docs.filter((d) => d['kind'] === 'StatefulSet' || d['kind'] === 'Deployment').map(roleOf).sort()).toEqual(['gateway', 'healer', 'metadata', 'storage', 'storage', 'storage']);
  });

  test('the healer: one replica replaced by Recreate (never two at once), no disruption budget, metadata and settings from the ConfigMap', () => {
    const healer = find('Deployment', 'tessera-healer');
    const spec = healer['spec'] as JsonObject;
    expect({ replicas: spec['replicas'], strategy: spec['strategy'] }).toEqual({ replicas: 1, strategy: { type: 'Recreate' } });
    expect(docs.filter((d) => d['kind'] === 'PodDisruptionBudget').map((d) => JSON.stringify(d)).some((text) => text.includes('"healer"'))).toBe(false);
    const container = ((spec['template'] as JsonObject)['spec'] as { containers: JsonObject[] }).containers[0]!;
    const args = container['args'] as string[];
    expect(args.slice(0, 3)).toEqual(['healer', '--metadata', '$(TESSERA_METADATA)']);
    expect(args[args.indexOf('--worker-id') + 1]).toBe('$(POD_NAME)');
    const env = new Map((container['env'] as JsonObject[]).map((e) => [e['name'], e]));
    expect((env.get('POD_NAME')?.['valueFrom'] as JsonObject)['fieldRef']).toEqual({ fieldPath: 'metadata.name' });
    // The healer main reads these variables itself (flags > env), so the ConfigMap sets them.
    const config = find('ConfigMap', 'tessera-config')['data'] as Record<string, string>;
    for (const name of ['TESSERA_NODE_LOSS_GRACE_MS', 'TESSERA_REBUILD_RATE_BYTES_PER_SECOND', 'TESSERA_SCRUB_PERIOD_MS']) {
      expect(env.has(name)).toBe(true);
      expect(Number(config[name])).toBeGreaterThan(0);
    }
    expect(Number(config['TESSERA_NODE_LOSS_GRACE_MS'])).toBe(600_000);
    // Storage and metadata gRPC admit the healer: it carries the tessera name label.
    expect((((spec['template'] as JsonObject)['metadata'] as JsonObject)['labels'] as Record<string, string>)['app.kubernetes.io/name']).toBe('tessera');
  });

  test('self-test: a healer reading a ConfigMap key that does not exist, or probing an undeclared port, is reported', () => {
    const healer = JSON.parse(JSON.stringify(find('Deployment', 'tessera-healer'))
      .replace('"key":"TESSERA_SCRUB_PERIOD_MS"', '"key":"TESSERA_SCRUB_PERIOD"')
      .replace('"path":"/health/live","port":"metrics"', '"path":"/health/live","port":"admin"')) as JsonObject;
    const mutated = docs.map((d) => (d['kind'] === 'Deployment' && JSON.stringify(d).includes('"tessera-healer"') ? healer : d));
    expect(consistencyErrors(mutated)).toEqual([
      'Deployment/tessera-healer container healer: livenessProbe port admin is not a declared container port',
      'Deployment/tessera-healer container healer: env TESSERA_SCRUB_PERIOD_MS refers to missing key TESSERA_SCRUB_PERIOD of ConfigMap tessera-config',
    ]);
  });

  test('self-test: a misspelt field (replica, mountpath) is reported as unknown', () => {
    const broken = clone(find('StatefulSet', 'tessera-metadata'));
    const spec = broken['spec'] as JsonObject;
    spec['replica'] = spec['replicas'];
    delete spec['replicas'];
    const errors = unknownFieldErrors(broken, typeMap);
    expect(errors).toEqual(['StatefulSet/tessera-metadata.spec.replica: unknown field in V1StatefulSetSpec']);
    // The schema alone lets it through: that is why the walk exists.
    expect(schemaErrors(broken)).toEqual([]);

    const nested = JSON.parse(JSON.stringify(find('Deployment', 'tessera-gateway')).replace('"mountPath"', '"mountpath"')) as JsonObject;
    expect(unknownFieldErrors(nested, typeMap)).toEqual([expect.stringContaining('.volumeMounts[0].mountpath: unknown field in V1VolumeMount')]);
  });

  test('self-test: a wrong type (replicas: "three") fails the schema check', () => {
    const broken = clone(find('StatefulSet', 'tessera-storage-az-a'));
    (broken['spec'] as JsonObject)['replicas'] = 'three';
    expect(schemaErrors(broken)).toEqual([expect.stringContaining('must be integer')]);
  });

  test('self-test: a selector that misses the pod labels, and a Service targeting an undeclared port, are reported', () => {
    const gateway = clone(find('Deployment', 'tessera-gateway'));
    const selector = (gateway['spec'] as JsonObject)['selector'] as { matchLabels: Record<string, string> };
    selector.matchLabels['app.kubernetes.io/component'] = 'gatway';
    const mutated = docs.map((d) => (d['kind'] === 'Deployment' && JSON.stringify(d).includes('"tessera-gateway"') ? gateway : d));
    expect(consistencyErrors(mutated)).toEqual(['Deployment/tessera-gateway: spec.selector does not match the pod template labels']);

    const service = JSON.parse(JSON.stringify(find('Service', 'tessera-gateway')).replace('"targetPort":"s3"', '"targetPort":"s4"')) as JsonObject;
    const withBadService = docs.map((d) => (d['kind'] === 'Service' && JSON.stringify(d).includes('"tessera-gateway"') ? service : d));
    expect(consistencyErrors(withBadService)).toEqual([expect.stringContaining('Service/tessera-gateway: port s3 targets s4')]);
  });

  test('self-test: a NetworkPolicy opening a port its pods do not declare is reported', () => {
    const policy = JSON.parse(JSON.stringify(find('NetworkPolicy', 'tessera-storage')).replace('"port":"grpc"', '"port":7000')) as JsonObject;
    const mutated = docs.map((d) => (d['kind'] === 'NetworkPolicy' && JSON.stringify(d).includes('"tessera-storage"') ? policy : d));
    expect(consistencyErrors(mutated)).toEqual([
      'NetworkPolicy/tessera-storage: opens port 7000, which StatefulSet/tessera-storage-az-a does not declare',
      'NetworkPolicy/tessera-storage: opens port 7000, which StatefulSet/tessera-storage-az-b does not declare',
      'NetworkPolicy/tessera-storage: opens port 7000, which StatefulSet/tessera-storage-az-c does not declare',
    ]);
  });

  test('self-test: a metrics address that is not the probed port, or loopback only, is reported', () => {
    const moved = docs.map((d) => (d['kind'] === 'ConfigMap' ? (JSON.parse(JSON.stringify(d).replace('"0.0.0.0:9090"', '"0.0.0.0:9191"')) as JsonObject) : d));
    expect(consistencyErrors(moved)).toEqual([
      'StatefulSet/tessera-metadata container metadata: serves metrics on 0.0.0.0:9191, but the metrics port is 9090',
      'StatefulSet/tessera-storage-az-a container storage: serves metrics on 0.0.0.0:9191, but the metrics port is 9090',
      'StatefulSet/tessera-storage-az-b container storage: serves metrics on 0.0.0.0:9191, but the metrics port is 9090',
      'StatefulSet/tessera-storage-az-c container storage: serves metrics on 0.0.0.0:9191, but the metrics port is 9090',
      'Deployment/tessera-gateway container gateway: serves metrics on 0.0.0.0:9191, but the metrics port is 9090',
      'Deployment/tessera-healer container healer: serves metrics on 0.0.0.0:9191, but the metrics port is 9090',
    ]);
    const gateway = JSON.parse(JSON.stringify(find('Deployment', 'tessera-gateway')).replace('"$(TESSERA_METRICS_LISTEN)"', '"127.0.0.1:9090"')) as JsonObject;
    expect(consistencyErrors(docs.map((d) => (d['kind'] === 'Deployment' && JSON.stringify(d).includes('"tessera-gateway"') ? gateway : d)))).toEqual([
      'Deployment/tessera-gateway container gateway: metrics must listen on 0.0.0.0 for probes, got 127.0.0.1:9090',
    ]);
  });

  test('self-test: a storage StatefulSet moved to another zone breaks the zone count', () => {
    const moved = JSON.parse(JSON.stringify(docs).replace('"values":["az-c"]', '"values":["az-b"]').replace('"value":"az-c"', '"value":"az-b"')) as JsonObject[];
    expect(zoneLayout(moved).storagePerZone).toEqual({ 'az-a': 3, 'az-b': 6 });
  });
});

// kubectl (when installed) renders the kustomization offline; what it produces must pass too.
const kubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!kubectl) console.log('deploy/k8s: kubectl not installed, skipping the `kubectl kustomize` rendering test');
(kubectl ? describe : describe.skip)('kubectl kustomize deploy/k8s', () => {
  test('renders, puts every object in the tessera namespace, and the rendered objects pass all checks', () => {
    const rendered = parseYamlDocs(execFileSync('kubectl', ['kustomize', k8sDir], { encoding: 'utf8' }), 'kubectl kustomize');
    expect(rendered).toHaveLength(docs.length);
    for (const doc of rendered) {
      if (doc['kind'] !== 'Namespace') expect((doc['metadata'] as JsonObject)['namespace']).toBe('tessera');
    }
    expect(rendered.flatMap(schemaErrors)).toEqual([]);
    expect(rendered.flatMap((doc) => unknownFieldErrors(doc, typeMap))).toEqual([]);
    expect(consistencyErrors(rendered)).toEqual([]);
    expect(zoneLayout(rendered).errors).toEqual([]);
  });
});
