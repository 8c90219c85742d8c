// Prints, as JSON, every field of every Kubernetes model class in @kubernetes/client-node:
// { "V1StatefulSetSpec": { "replicas": "number", "template": "V1PodTemplateSpec", ... }, ... }.
// Run in a child process because client-node 1.x is ESM-only and jest runs tests as CommonJS.
import * as k8s from '@kubernetes/client-node';

const typeMap = {};
for (const [name, value] of Object.entries(k8s)) {
  if (typeof value?.getAttributeTypeMap !== 'function') continue;
  typeMap[name] = Object.fromEntries(value.getAttributeTypeMap().map((attribute) => [attribute.baseName, attribute.type]));
}
process.stdout.write(JSON.stringify(typeMap));
