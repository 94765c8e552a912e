// The Grafana dashboard and the Prometheus alerts query only metrics that exist: the ones
// the services register (packages/core/src/metrics.ts, packages/*/src, services/*/src), prom-client's default
// process metrics, Prometheus's own `up`, and kafka-exporter's consumer lag.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { registry } from '@parley/core';
import { ROOT, render } from './support/helm';

/** Metrics registered in code: core's registry (with the default metrics) plus every `name: 'parley_…'` in the services and packages. */
function knownMetrics(): Set<string> {
  const names = new Set<string>(['up', 'kafka_consumergroup_lag']);
  const histograms = new Set<string>();
  for (const metric of registry.getMetricsAsArray()) {
    names.add(metric.name);
    if (metric.constructor.name === 'Histogram') histograms.add(metric.name);
  }
  const sources = [
    ...readdirSync(path.join(ROOT, 'services')).map((service) => path.join(ROOT, 'services', service, 'src')),
    ...readdirSync(path.join(ROOT, 'packages')).map((pkg) => path.join(ROOT, 'packages', pkg, 'src')),
  ];
  for (const src of sources) {
    for (const file of readdirSync(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const text = readFileSync(path.join(src, file), 'utf8');
      for (const match of text.matchAll(/new (Counter|Gauge|Histogram)\(\{\s*name: '(parley_[a-z0-9_]+)'/g)) {
        names.add(match[2]!);
        if (match[1] === 'Histogram') histograms.add(match[2]!);
      }
    }
  }
  for (const h of histograms) for (const suffix of ['_bucket', '_sum', '_count']) names.add(h + suffix);
  return names;
}

/** Metric names a PromQL expression reads (identifiers followed by a selector, range or closing paren). */
function metricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  return [...withoutStrings.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[)/g)].map((m) => m[1]!).filter((n) => !['by', 'without', 'on', 'ignoring'].includes(n));
}

const known = knownMetrics();

describe('Grafana dashboard (deploy/helm/parley/dashboards/parley.json)', () => {
  const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/helm/parley/dashboards/parley.json'), 'utf8')) as {
    panels: { type: string; title: string; targets?: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('queries only metrics that exist', () => {
    expect(known.has('parley_connector_connections')).toBe(true);
    const unknown = exprs.flatMap(({ panel, expr }) => metricsIn(expr).filter((m) => !known.has(m)).map((m) => `${panel}: ${m}`));
    expect(unknown).toEqual([]);
  });

  it('shows connections, send and delivery rates, end-to-end latency, consumer lag and errors', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    for (const metric of [
      'parley_connector_connections',
      'parley_connector_frames_in_total',
      'parley_connector_delivered_total',
      'parley_push_delivery_latency_seconds_bucket',
      'parley_grpc_server_handling_seconds_bucket',
      'kafka_consumergroup_lag',
      'parley_grpc_server_handled_total',
      'parley_connector_frame_errors_total',
      'parley_dlq_parked_total',
    ]) {
      expect(all).toContain(metric);
    }
  });
});

describe('Prometheus alerts (PrometheusRule)', () => {
  const rule = render({ set: ['metrics.prometheusRule.enabled=true'] }).find((o) => o.kind === 'PrometheusRule');
  type Rule = { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  const rules = ((rule?.spec?.groups ?? []) as { rules: Rule[] }[]).flatMap((g) => g.rules);

  it('queries only metrics that exist', () => {
    expect(rules.length).toBeGreaterThan(5);
    const unknown = rules.flatMap((r) => metricsIn(r.expr).filter((m) => !known.has(m)).map((m) => `${r.alert}: ${m}`));
    expect(unknown).toEqual([]);
  });

  it('pages on failing sends, slow delivery, consumer lag and missing pods', () => {
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['ParleySendErrors', 'ParleyDeliverySlow', 'ParleyConsumerLag', 'ParleyServiceAbsent']));
  });

  it('warns at the first record parked in the dead-letter topic, with the runbook', () => {
    expect(known.has('parley_dlq_parked_total')).toBe(true);
    const dlq = rules.find((r) => r.alert === 'ParleyDeadLetters');
    expect(dlq).toBeDefined();
    expect(metricsIn(dlq!.expr)).toContain('parley_dlq_parked_total');
    // Any increase, at once: no threshold above zero and no waiting period.
    expect(dlq!.expr).toMatch(/increase\(parley_dlq_parked_total\{[^}]*\}\[\w+\]\)\) > 0/);
    // A series born at its first parked record has no earlier sample for increase(): caught separately.
    expect(dlq!.expr).toMatch(/unless parley_dlq_parked_total\{[^}]*\} offset \w+/);
    expect(dlq!.for ?? '0s').toMatch(/^0[smh]?$/);
    expect(dlq!.labels?.severity).toBe('warning');
    expect(dlq!.annotations?.runbook_url).toBe('docs/OPERATIONS.md#dead-letters');
    expect(dlq!.annotations?.summary).toContain('{{ $labels.topic }}');
  });

  it('prefixes runbook links with metrics.prometheusRule.runbookBaseUrl', () => {
    const base = 'https://git.example.com/parley/blob/main/';
    const prefixed = render({ set: ['metrics.prometheusRule.enabled=true', `metrics.prometheusRule.runbookBaseUrl=${base}`] }).find((o) => o.kind === 'PrometheusRule');
    const dlq = ((prefixed?.spec?.groups ?? []) as { rules: Rule[] }[]).flatMap((g) => g.rules).find((r) => r.alert === 'ParleyDeadLetters');
    expect(dlq?.annotations?.runbook_url).toBe(`${base}docs/OPERATIONS.md#dead-letters`);
  });
});
