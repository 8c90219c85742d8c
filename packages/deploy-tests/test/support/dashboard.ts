/** Reads deploy/grafana/tessera.json and the metric names its queries use. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arrayAt, isObject, stringAt } from './json';
import type { JsonObject } from './json';
import { deployDir } from './repo';

export const dashboardFile = path.join(deployDir, 'grafana', 'tessera.json');

export function loadDashboard(): JsonObject {
  const value: unknown = JSON.parse(fs.readFileSync(dashboardFile, 'utf8'));
  if (!isObject(value)) throw new Error('dashboard is not a JSON object');
  return value;
}

/** Every PromQL expression of every panel (rows included). */
export function dashboardExpressions(dashboard: JsonObject): string[] {
  const panels = arrayAt(dashboard, 'panels').flatMap((p) => [p, ...arrayAt(p, 'panels')]);
  return panels.flatMap((p) => arrayAt(p, 'targets').map((t) => stringAt(t, 'expr') ?? ''));
}

/** Tessera metric names (gateway_*, metadata_*, storage_node_*, healer_*) the expressions refer to. */
export function dashboardMetricNames(dashboard: JsonObject): string[] {
  const names = new Set<string>();
  for (const expr of dashboardExpressions(dashboard)) {
    for (const match of expr.matchAll(/\b(?:gateway|metadata|storage_node|healer)_[a-z0-9_]+\b/g)) names.add(match[0]);
  }
  return [...names].sort();
}

/** Names a Prometheus text exposition exports, histogram/summary series names included. */
export function exportedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)) {
    const [, name = '', type] = match;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}
