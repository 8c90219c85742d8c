// Goal: deploy/grafana/tessera.json is a well-formed Grafana dashboard whose queries name only
// metrics that Tessera defines. Method: parse it, check panel ids and layout, and look every
// metric name up in the metric definitions of the services' source (metrics.ts files). The
// check against a running cluster's /metrics is in docker-cluster.test.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dashboardExpressions, dashboardMetricNames, loadDashboard } from './support/dashboard';
import { arrayAt, numberAt, objectAt, stringAt } from './support/json';
import { repoRoot } from './support/repo';

const dashboard = loadDashboard();

/** Metric names defined in the services' sources: `name: '...'` in prom-client constructors. */
function definedMetricNames(): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'bench') visit(full);
      else if (entry.isFile() && entry.name.endsWith('.ts')) {
        for (const match of fs.readFileSync(full, 'utf8').matchAll(/['"]((?:gateway|metadata|storage_node|healer)_[a-z0-9_]+)['"]/g)) names.add(match[1]!);
      }
    }
  };
  for (const pkg of ['gateway', 'metadata', 'storage-node', 'healer']) visit(path.join(repoRoot, 'packages', pkg, 'src'));
  return names;
}

describe('deploy/grafana/tessera.json', () => {
  test('is a dashboard with a Prometheus datasource variable and uniquely numbered, laid-out panels', () => {
    expect(stringAt(dashboard, 'uid')).toBe('tessera-overview');
    expect(arrayAt(dashboard, 'templating', 'list').map((v) => stringAt(v, 'query'))).toContain('prometheus');
    const panels = arrayAt(dashboard, 'panels');
    const ids = panels.map((p) => numberAt(p, 'id'));
    expect(new Set(ids).size).toBe(panels.length);
    for (const panel of panels) {
      const grid = objectAt(panel, 'gridPos');
      expect([grid['x'], grid['y'], grid['w'], grid['h']].every((n) => typeof n === 'number')).toBe(true);
      expect((numberAt(grid, 'x') ?? 0) + (numberAt(grid, 'w') ?? 0)).toBeLessThanOrEqual(24);
    }
    expect(dashboardExpressions(dashboard).every((expr) => expr.trim() !== '')).toBe(true);
  });

  test('covers requests, throughput, latency, degraded reads, Raft leader/term/commit and disk use by node and AZ', () => {
    const exprs = dashboardExpressions(dashboard).join('\n');
    for (const needle of ['gateway_requests_total', 'gateway_response_body_bytes_total', 'gateway_request_duration_seconds_bucket', 'gateway_degraded_reads_total',
      'metadata_raft_leader_info', 'metadata_raft_term', 'metadata_raft_commit_index', 'storage_node_disk_used_bytes', 'sum by (zone) (storage_node_disk_used_bytes)']) {
      expect(exprs).toContain(needle);
    }
  });

  test('covers healing: backlog, rebuild rate and throttle, ETA, operator pause, and scrub progress, rate, results and oldest unverified shard', () => {
    const exprs = dashboardExpressions(dashboard).join('\n');
    for (const needle of ['healer_backlog_stripes', 'healer_backlog_bytes', 'healer_rebuilt_bytes_total', 'healer_rebuild_rate_limit_bytes_per_second', 'healer_eta_seconds',
      'healer_paused', 'healer_scrub_pass_progress_ratio', 'healer_scrub_bytes_total', 'healer_scrub_shards_total', 'healer_scrub_oldest_unverified_age_seconds']) {
      expect(exprs).toContain(needle);
    }
  });

  test('queries only metrics that the services define', () => {
    const defined = definedMetricNames();
    const base = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');
    expect(dashboardMetricNames(dashboard).filter((name) => !defined.has(name) && !defined.has(base(name)))).toEqual([]);
  });
});
