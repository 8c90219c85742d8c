/**
 * Offline checks of Kubernetes manifests, without a cluster:
 *  1. schema: kubernetes-models `validate()` (ajv validators compiled from the Kubernetes
 *     OpenAPI: required fields, types, formats);
 *  2. unknown fields: the OpenAPI schemas allow extra properties, so a misspelt field passes (1);
 *     we walk each document against @kubernetes/client-node's `attributeTypeMap`, which lists
 *     every field of every API type;
 *  3. consistency across objects: selectors vs pod labels, Service targetPorts vs container
 *     ports, probes vs declared ports, env references vs ConfigMaps/Secrets;
 *  4. the zone layout that the Tessera design needs.
 * Every check returns messages instead of throwing, so tests can also assert that a broken
 * manifest *is* caught.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { arrayAt, isObject, numberAt, objectAt, stringAt, stringMapAt } from './json';
import type { JsonObject } from './json';

export const zoneLabel = 'topology.kubernetes.io/zone';

/** Field name -> client-node type string, per client-node model class name. */
export type K8sTypeMap = Readonly<Record<string, Readonly<Record<string, string>>>>;

export function loadK8sTypeMap(): K8sTypeMap {
  const script = path.join(__dirname, 'dump-k8s-type-map.mjs');
  return JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as K8sTypeMap;
}

function model<T extends { validate(): void }, D>(ctor: new (data: D) => T): (data: JsonObject) => T {
  return (data) => new ctor(data as D);
}

/** The kinds our manifests use. A new kind must be added here, or its documents fail. */
const models: Readonly<Record<string, (data: JsonObject) => { validate(): void }>> = {
  'v1/Namespace': model(Namespace),
  'v1/ConfigMap': model(ConfigMap),
  'v1/Secret': model(Secret),
  'v1/Service': model(Service),
  'apps/v1/StatefulSet': model(StatefulSet),
  'apps/v1/Deployment': model(Deployment),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'networking.k8s.io/v1/NetworkPolicy': model(NetworkPolicy),
};

function describeDoc(doc: JsonObject): string {
  return `${stringAt(doc, 'kind') ?? '?'}/${stringAt(doc, 'metadata', 'name') ?? '?'}`;
}

/** Check 1: the Kubernetes OpenAPI schema, through kubernetes-models. */
export function schemaErrors(doc: JsonObject): string[] {
  const key = `${stringAt(doc, 'apiVersion') ?? '?'}/${stringAt(doc, 'kind') ?? '?'}`;
  const create = models[key];
  if (create === undefined) return [`${describeDoc(doc)}: no schema known for ${key}`];
  try {
    create(doc).validate();
    return [];
  } catch (err) {
    return [`${describeDoc(doc)}: ${err instanceof Error ? err.message : String(err)}`];
  }
}

/** Check 2: every field must be one the Kubernetes API knows, at every depth. */
export function unknownFieldErrors(doc: JsonObject, typeMap: K8sTypeMap): string[] {
  const apiVersion = stringAt(doc, 'apiVersion') ?? '';
  const kind = stringAt(doc, 'kind') ?? '';
  const version = /^(?:[a-z0-9.-]+\/)?(v\d+(?:(?:alpha|beta)\d+)?)$/.exec(apiVersion)?.[1];
  const rootType = version === undefined ? undefined : `${version[0]?.toUpperCase()}${version.slice(1)}${kind}`;
  if (rootType === undefined || typeMap[rootType] === undefined) return [`${describeDoc(doc)}: no type map for ${apiVersion} ${kind}`];
  const errors: string[] = [];
  walk(doc, rootType, describeDoc(doc), typeMap, errors);
  return errors;
}

function walk(value: unknown, type: string, at: string, typeMap: K8sTypeMap, errors: string[]): void {
  if (value === null || value === undefined) return;
  const arrayOf = /^Array<(.+)>$/.exec(type)?.[1];
  if (arrayOf !== undefined) {
    if (!Array.isArray(value)) errors.push(`${at}: expected a list`);
    else value.forEach((item, index) => walk(item, arrayOf, `${at}[${index}]`, typeMap, errors));
    return;
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
  if (mapOf !== undefined) {
    if (!isObject(value)) errors.push(`${at}: expected a map`);
    else for (const [key, item] of Object.entries(value)) walk(item, mapOf, `${at}.${key}`, typeMap, errors);
    return;
  }
  const fields = typeMap[type];
  if (fields === undefined) return; // string, number, boolean, IntOrString, Date, any: the schema check covers them
  if (!isObject(value)) {
    errors.push(`${at}: expected an object (${type})`);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const fieldType = fields[key];
    if (fieldType === undefined) errors.push(`${at}.${key}: unknown field in ${type}`);
    else walk(item, fieldType, `${at}.${key}`, typeMap, errors);
  }
}

const workloadKinds = new Set(['StatefulSet', 'Deployment']);

function workloads(docs: readonly JsonObject[]): JsonObject[] {
  return docs.filter((doc) => workloadKinds.has(stringAt(doc, 'kind') ?? ''));
}

function podLabels(workload: JsonObject): Record<string, string> {
  return stringMapAt(workload, 'spec', 'template', 'metadata', 'labels');
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

function containersOf(workload: JsonObject): JsonObject[] {
  return arrayAt(workload, 'spec', 'template', 'spec', 'containers').filter(isObject);
}

/** Does `port` (a number or a port name) name a port that `container` declares? */
function declaresPort(container: JsonObject, port: unknown): boolean {
  return arrayAt(container, 'ports').some((p) => (typeof port === 'number' ? numberAt(p, 'containerPort') === port : stringAt(p, 'name') === port));
}

/** Check 3: references between objects and within pod templates. */
export function consistencyErrors(docs: readonly JsonObject[]): string[] {
  const errors: string[] = [];
  const byKindName = new Map(docs.map((doc) => [`${stringAt(doc, 'kind')}/${stringAt(doc, 'metadata', 'name')}`, doc]));
  for (const workload of workloads(docs)) errors.push(...workloadErrors(workload, byKindName));
  for (const doc of docs) {
    const kind = stringAt(doc, 'kind');
    if (kind === 'Service') errors.push(...serviceErrors(doc, docs));
    if (kind === 'NetworkPolicy') errors.push(...networkPolicyErrors(doc, docs));
    if (kind === 'PodDisruptionBudget') {
      const selector = stringMapAt(doc, 'spec', 'selector', 'matchLabels');
      if (!workloads(docs).some((w) => selects(selector, podLabels(w)))) errors.push(`${describeDoc(doc)}: selector matches no pod template`);
    }
  }
  return errors;
}

function workloadErrors(workload: JsonObject, byKindName: ReadonlyMap<string, JsonObject>): string[] {
  const name = describeDoc(workload);
  const errors: string[] = [];
  const labels = podLabels(workload);
  if (arrayAt(workload, 'spec', 'selector', 'matchExpressions').length > 0) errors.push(`${name}: use matchLabels only`);
  if (!selects(stringMapAt(workload, 'spec', 'selector', 'matchLabels'), labels)) errors.push(`${name}: spec.selector does not match the pod template labels`);
  if (stringAt(workload, 'kind') === 'StatefulSet') {
    const service = byKindName.get(`Service/${stringAt(workload, 'spec', 'serviceName')}`);
    if (service === undefined || stringAt(service, 'spec', 'clusterIP') !== 'None') errors.push(`${name}: serviceName must name a headless Service`);
    else if (!selects(stringMapAt(service, 'spec', 'selector'), labels)) errors.push(`${name}: its headless Service does not select its pods`);
  }
  const podSpec = objectAt(workload, 'spec', 'template', 'spec');
  const volumeNames = new Set([
    ...arrayAt(podSpec, 'volumes').map((v) => stringAt(v, 'name')),
    ...arrayAt(workload, 'spec', 'volumeClaimTemplates').map((v) => stringAt(v, 'metadata', 'name')),
  ]);
  const annotations = stringMapAt(workload, 'spec', 'template', 'metadata', 'annotations');
  const containers = containersOf(workload);
  if (annotations['prometheus.io/scrape'] !== 'true') errors.push(`${name}: pods are not annotated prometheus.io/scrape`);
  if (!containers.some((c) => declaresPort(c, Number(annotations['prometheus.io/port'])))) errors.push(`${name}: prometheus.io/port is not a container port`);
  for (const container of containers) {
    const where = `${name} container ${stringAt(container, 'name')}`;
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const handler = objectAt(container, probe);
      if (Object.keys(handler).length === 0) {
        if (probe !== 'startupProbe') errors.push(`${where}: no ${probe}`);
        continue;
      }
      const port = objectAt(handler, 'httpGet')['port'] ?? objectAt(handler, 'tcpSocket')['port'] ?? objectAt(handler, 'grpc')['port'];
      if (!declaresPort(container, port)) errors.push(`${where}: ${probe} port ${String(port)} is not a declared container port`);
    }
    for (const bound of ['requests', 'limits']) {
      for (const resource of ['cpu', 'memory']) {
        if (objectAt(container, 'resources', bound)[resource] === undefined) errors.push(`${where}: no resources.${bound}.${resource}`);
      }
    }
    for (const mount of arrayAt(container, 'volumeMounts')) {
      if (!volumeNames.has(stringAt(mount, 'name'))) errors.push(`${where}: volumeMount ${stringAt(mount, 'name')} has no volume`);
    }
    errors.push(...envErrors(container, where, byKindName));
    errors.push(...metricsAddressErrors(container, where, byKindName));
  }
  return errors;
}

/** The value an env var of `container` gets (literal or from a ConfigMap), if resolvable. */
function envValue(container: JsonObject, name: string, byKindName: ReadonlyMap<string, JsonObject>): string | undefined {
  const entry = arrayAt(container, 'env').find((e) => stringAt(e, 'name') === name);
  if (entry === undefined) return undefined;
  const literal = stringAt(entry, 'value');
  if (literal !== undefined) return literal;
  const ref = objectAt(entry, 'valueFrom', 'configMapKeyRef');
  return stringAt(byKindName.get(`ConfigMap/${stringAt(ref, 'name')}`), 'data', stringAt(ref, 'key') ?? '');
}

/**
 * The probes and the Prometheus annotation use the port named `metrics`; the process must
 * really serve there: its --metrics-listen flag (with $(VAR) expanded) or, failing that, the
 * TESSERA_METRICS_LISTEN variable every role reads in our image.
 */
function metricsAddressErrors(container: JsonObject, where: string, byKindName: ReadonlyMap<string, JsonObject>): string[] {
  const metricsPort = arrayAt(container, 'ports').find((p) => stringAt(p, 'name') === 'metrics');
  if (metricsPort === undefined) return [`${where}: no port named metrics`];
  const args = arrayAt(container, 'args').map(String);
  const flagIndex = args.indexOf('--metrics-listen');
  const raw = flagIndex === -1 ? envValue(container, 'TESSERA_METRICS_LISTEN', byKindName) : args[flagIndex + 1];
  const address = raw?.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_m, name: string) => envValue(container, name, byKindName) ?? '');
  const port = Number(address?.slice(address.lastIndexOf(':') + 1));
  if (address === undefined || !address.startsWith('0.0.0.0:')) return [`${where}: metrics must listen on 0.0.0.0 for probes, got ${String(address)}`];
  return port === numberAt(metricsPort, 'containerPort') ? [] : [`${where}: serves metrics on ${address}, but the metrics port is ${numberAt(metricsPort, 'containerPort')}`];
}

function envErrors(container: JsonObject, where: string, byKindName: ReadonlyMap<string, JsonObject>): string[] {
  const errors: string[] = [];
  const env = arrayAt(container, 'env');
  const defined = new Set(env.map((e) => stringAt(e, 'name')));
  for (const arg of [...arrayAt(container, 'command'), ...arrayAt(container, 'args')]) {
    for (const match of String(arg).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
      if (!defined.has(match[1])) errors.push(`${where}: $(${match[1]}) is not a defined env var`);
    }
  }
  for (const entry of env) {
    for (const [refField, kind] of [['configMapKeyRef', 'ConfigMap'], ['secretKeyRef', 'Secret']] as const) {
      const ref = objectAt(entry, 'valueFrom', refField);
      if (Object.keys(ref).length === 0) continue;
      const source = byKindName.get(`${kind}/${stringAt(ref, 'name')}`);
      const key = stringAt(ref, 'key') ?? '';
      const keys = { ...objectAt(source, 'data'), ...objectAt(source, 'stringData') };
      if (source === undefined) errors.push(`${where}: env ${stringAt(entry, 'name')} refers to missing ${kind} ${stringAt(ref, 'name')}`);
      else if (!(key in keys)) errors.push(`${where}: env ${stringAt(entry, 'name')} refers to missing key ${key} of ${kind} ${stringAt(ref, 'name')}`);
    }
  }
  return errors;
}

function serviceErrors(service: JsonObject, docs: readonly JsonObject[]): string[] {
  const name = describeDoc(service);
  const selector = stringMapAt(service, 'spec', 'selector');
  const targets = workloads(docs).filter((w) => selects(selector, podLabels(w)));
  if (targets.length === 0) return [`${name}: selector matches no pod template`];
  const errors: string[] = [];
  for (const port of arrayAt(service, 'spec', 'ports')) {
    const targetPort = (isObject(port) ? port['targetPort'] : undefined) ?? numberAt(port, 'port');
    for (const target of targets) {
      if (!containersOf(target).some((c) => declaresPort(c, targetPort))) {
        errors.push(`${name}: port ${stringAt(port, 'name') ?? numberAt(port, 'port')} targets ${String(targetPort)}, which ${describeDoc(target)} does not declare`);
      }
    }
  }
  return errors;
}

/** A NetworkPolicy must select pods, and every port it opens must be one those pods declare. */
function networkPolicyErrors(policy: JsonObject, docs: readonly JsonObject[]): string[] {
  const name = describeDoc(policy);
  const targets = workloads(docs).filter((w) => selects(stringMapAt(policy, 'spec', 'podSelector', 'matchLabels'), podLabels(w)));
  if (targets.length === 0) return [`${name}: podSelector matches no pod template`];
  const errors: string[] = [];
  for (const rule of arrayAt(policy, 'spec', 'ingress')) {
    for (const port of arrayAt(rule, 'ports')) {
      const value = isObject(port) ? port['port'] : undefined;
      for (const target of targets) {
        if (!containersOf(target).some((c) => declaresPort(c, value))) errors.push(`${name}: opens port ${String(value)}, which ${describeDoc(target)} does not declare`);
      }
    }
  }
  return errors;
}

/** The role a workload runs: the image entrypoint's first argument (gateway|metadata|storage). */
export function roleOf(workload: JsonObject): string | undefined {
  const first = arrayAt(containersOf(workload)[0], 'args')[0];
  return typeof first === 'string' ? first : undefined;
}

/** Zones a pod template may be scheduled in, from required node affinity (undefined: any). */
function allowedZones(workload: JsonObject): string[] | undefined {
  const terms = arrayAt(workload, 'spec', 'template', 'spec', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms');
  const zones = new Set<string>();
  for (const term of terms) {
    for (const expression of arrayAt(term, 'matchExpressions')) {
      if (stringAt(expression, 'key') === zoneLabel && stringAt(expression, 'operator') === 'In') {
        for (const value of arrayAt(expression, 'values')) if (typeof value === 'string') zones.add(value);
      }
    }
  }
  return zones.size === 0 ? undefined : [...zones].sort();
}

/** Does the workload forbid two of its own pods in one zone? (hard anti-affinity or spread) */
function atMostOnePerZone(workload: JsonObject): boolean {
  const labels = podLabels(workload);
  const antiAffinity = arrayAt(workload, 'spec', 'template', 'spec', 'affinity', 'podAntiAffinity', 'requiredDuringSchedulingIgnoredDuringExecution');
  const hard = antiAffinity.some((term) => stringAt(term, 'topologyKey') === zoneLabel && selects(stringMapAt(term, 'labelSelector', 'matchLabels'), labels));
  const spread = arrayAt(workload, 'spec', 'template', 'spec', 'topologySpreadConstraints').some(
    (c) => stringAt(c, 'topologyKey') === zoneLabel && numberAt(c, 'maxSkew') === 1 && stringAt(c, 'whenUnsatisfiable') === 'DoNotSchedule' && selects(stringMapAt(c, 'labelSelector', 'matchLabels'), labels),
  );
  return hard || spread;
}

export interface ZoneLayout {
  /** zone -> metadata pods guaranteed to run there */
  readonly metadataPerZone: Record<string, number>;
  /** zone -> storage pods pinned there */
  readonly storagePerZone: Record<string, number>;
  readonly errors: readonly string[];
}

/**
 * Check 4: how many metadata and storage pods each zone gets, derived only from what the
 * scheduler is bound by (required node affinity, hard anti-affinity / DoNotSchedule spread).
 */
export function zoneLayout(docs: readonly JsonObject[]): ZoneLayout {
  const metadataPerZone: Record<string, number> = {};
  const storagePerZone: Record<string, number> = {};
  const errors: string[] = [];
  for (const workload of workloads(docs)) {
    const name = describeDoc(workload);
    const replicas = numberAt(workload, 'spec', 'replicas') ?? 1;
    const zones = allowedZones(workload);
    const role = roleOf(workload);
    if (role === 'metadata') {
      if (stringAt(workload, 'kind') !== 'StatefulSet') errors.push(`${name}: metadata must be a StatefulSet`);
      if (zones === undefined) errors.push(`${name}: metadata pods are not restricted to known zones`);
      else if (!atMostOnePerZone(workload)) errors.push(`${name}: nothing stops two metadata pods sharing a zone`);
      else if (replicas !== zones.length) errors.push(`${name}: ${replicas} replicas at most one per zone over ${zones.length} zones`);
      else for (const zone of zones) metadataPerZone[zone] = (metadataPerZone[zone] ?? 0) + 1;
    } else if (role === 'storage') {
      const zoneEnv = arrayAt(containersOf(workload)[0], 'env').find((e) => stringAt(e, 'name') === 'TESSERA_ZONE');
      if (zones?.length !== 1 || zones[0] === undefined) errors.push(`${name}: a storage StatefulSet must be pinned to exactly one zone`);
      else if (stringAt(zoneEnv, 'value') !== zones[0]) errors.push(`${name}: TESSERA_ZONE is not its pinned zone ${zones[0]}`);
      else storagePerZone[zones[0]] = (storagePerZone[zones[0]] ?? 0) + replicas;
    }
  }
  return { metadataPerZone, storagePerZone, errors };
}
