import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { AlertRule, RuleGroup } from './alerts';
import { knownSeries } from './metric-catalog';
import { metricNames } from './promql';
import { ALERT_DEFAULTS } from './settings';
import { buildRegion } from './test-support/fixtures';
import { runPromtool, rulesFile, scratchDir } from './test-support/promtool';
import { alertCases, AlertCase, HEALTHY_EVAL_TIME, healthyRegion, LabelSet, seriesText } from './test-support/rule-cases';

const { monitoring } = buildRegion();
const groups = monitoring.ruleGroups;
const rules = groups.flatMap((g) => g.rules);
const alertNames = [...new Set(rules.map((r) => r.alert))];

/** Renders the `{{ $labels.x }}` placeholders the way Prometheus does (a missing label is empty). */
function render(template: string, labels: LabelSet): string {
  const rest = template.replace(/\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}/g, (_, name: string) => labels[name] ?? '');
  if (rest.includes('{{')) throw new Error(`annotation uses more than $labels: ${template}`);
  return rest;
}

function rulesNamed(alert: string): AlertRule[] {
  const found = rules.filter((r) => r.alert === alert);
  if (!found.length) throw new Error(`no rule ${alert}`);
  return found;
}

function expected(alert: string, firing: readonly LabelSet[]) {
  const rule = rulesNamed(alert)[0];
  return firing.map((labels) => ({
    exp_labels: { ...labels, ...rule.labels },
    exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, render(v, labels)])),
  }));
}

/** Absent-target alerts fire with the equality matchers of their selector as labels. */
function scrapeCases(): AlertCase[] {
  const [rule] = rulesNamed('ScrapeTargetsMissing');
  const jobs = [...rule.expr.matchAll(/absent\(up\{([^}]*)\}\)/g)].map((m) => Object.fromEntries([...m[1].matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]])));
  expect(jobs.map((j) => j.job).sort()).toEqual(['istio-proxy', 'istiod', 'kong-gateway', 'kong-rate-limit-redis', 'redis-exporter']);
  return [
    { alert: 'ScrapeTargetsMissing', name: 'no target of any job', evalTime: '20m', series: [{ metric: 'prometheus_build_info', labels: {}, values: '1x30' }], firing: jobs },
    { alert: 'ScrapeTargetsMissing', name: 'every job has a target', evalTime: '20m', series: jobs.map((labels) => ({ metric: 'up', labels: { ...labels, pod: 'p' }, values: '1x30' })), firing: [] },
  ];
}

function testFile(cases: readonly AlertCase[], healthy = true): string {
  const tests: unknown[] = cases.map((c) => ({
    interval: '1m',
    input_series: c.series.map((x) => ({ series: seriesText(x), values: x.values })),
    alert_rule_test: [{ eval_time: c.evalTime, alertname: c.alert, exp_alerts: expected(c.alert, c.firing) }],
  }));
  if (healthy) {
    tests.push({
      interval: '1m',
      input_series: healthyRegion().map((x) => ({ series: seriesText(x), values: x.values })),
      alert_rule_test: alertNames.flatMap((alertname) => ['10m', HEALTHY_EVAL_TIME].map((t) => ({ eval_time: t, alertname, exp_alerts: [] }))),
    });
  }
  return stringify({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests }, { lineWidth: 0 });
}

function promtoolTest(ruleGroups: readonly RuleGroup[], cases: readonly AlertCase[], healthy = true) {
  const { dir, cleanup } = scratchDir('rule-tests');
  try {
    fs.writeFileSync(path.join(dir, 'rules.yml'), rulesFile(ruleGroups));
    fs.writeFileSync(path.join(dir, 'tests.yml'), testFile(cases, healthy));
    return runPromtool(['test', 'rules', 'tests.yml'], dir);
  } finally {
    cleanup();
  }
}

describe('alert rules', () => {
  it('cover Redis, Kong and Istio as the issue lists them', () => {
    expect(alertNames.sort()).toEqual(
      [
        'RedisExporterDown', 'RedisDown', 'RedisClusterStateNotOk', 'RedisClusterSlotsFailing', 'RedisClusterMastersMissing', 'RedisMemoryHigh',
        'RedisEvictionSpike', 'RedisRejectedConnections', 'RedisReplicaLinkDown', 'RedisTooManyConnections',
        'KongHigh5xxRatio', 'KongHighP99Latency', 'KongRateLimitStoreErrors', 'KongUpstreamTargetUnhealthy',
        'IstioHigh5xxRatio', 'IstioHighP99Latency', 'IstioXdsPushErrors', 'IstioXdsConfigRejected',
        'ScrapeTargetsMissing',
      ].sort(),
    );
  });

  it('pass promtool check rules', () => {
    const { dir, cleanup } = scratchDir('rule-check');
    try {
      fs.writeFileSync(path.join(dir, 'rules.yml'), rulesFile(groups));
      const res = runPromtool(['check', 'rules', 'rules.yml'], dir);
      expect(res.output).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(res.ok).toBe(true);
    } finally {
      cleanup();
    }
  });

  it('each carry severity, summary, description and a runbook section', () => {
    const runbooks = fs.readFileSync(path.join(__dirname, 'RUNBOOKS.md'), 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^## (\S+)$/gm)].map((m) => m[1].toLowerCase()));
    for (const r of rules) {
      expect(['critical', 'warning']).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      expect(r.annotations.description.length).toBeGreaterThan(30);
      expect(r.annotations.runbook_url).toMatch(new RegExp(`^https://.+#${r.alert.toLowerCase()}$`));
      expect(anchors).toContain(r.alert.toLowerCase());
    }
  });

  it('read only metrics the exporters, Kong and Istio expose', () => {
    const known = knownSeries();
    const unknown = rules.flatMap((r) => metricNames(r.expr).filter((m) => !known.has(m)).map((m) => `${r.alert}: ${m}`));
    expect(unknown).toEqual([]);
  });

  it('take their thresholds from the environment', () => {
    const prod = buildRegion({ environment: 'prod' }).monitoring.ruleGroups.flatMap((g) => g.rules);
    const expr = (list: readonly AlertRule[], alert: string) => list.find((r) => r.alert === alert)!.expr;
    expect(expr(rules, 'KongHigh5xxRatio')).toContain(`> ${ALERT_DEFAULTS.staging.kong.errorRatio} and`);
    expect(expr(prod, 'KongHigh5xxRatio')).toContain(`> ${ALERT_DEFAULTS.prod.kong.errorRatio} and`);
    expect(expr(prod, 'RedisEvictionSpike')).toContain(`> ${ALERT_DEFAULTS.prod.redis.evictionsPerSecond}`);
    expect(expr(rules, 'RedisClusterMastersMissing')).toContain('< 3');
    const sixMasters = buildRegion({ redis: { namespace: 'cache', masters: 6, scrapeEndpoints: monitoring.endpoints.filter((e) => e.job === 'redis-exporter') } }).monitoring;
    expect(sixMasters.ruleGroups.flatMap((g) => g.rules).find((r) => r.alert === 'RedisClusterMastersMissing')!.expr).toContain('< 6');
  });

  it('every alert has a case where it fires and one where it stays quiet', () => {
    const cases = [...alertCases(), ...scrapeCases()];
    for (const alert of alertNames) {
      expect([alert, cases.some((c) => c.alert === alert && c.firing.length > 0)]).toEqual([alert, true]);
      expect([alert, cases.some((c) => c.alert === alert && c.firing.length === 0)]).toEqual([alert, true]);
    }
  });

  it('fire and stay quiet on synthetic series as expected, and none fires on a healthy region (promtool test rules)', () => {
    const res = promtoolTest(groups, [...alertCases(), ...scrapeCases()]);
    if (!res.ok) throw new Error(res.output);
    expect(res.output).toContain('SUCCESS');
  });

  it('are really evaluated: a wrong expectation fails promtool', () => {
    const quietCase = alertCases().find((c) => c.alert === 'RedisExporterDown' && c.firing.length === 0)!;
    const wrong: AlertCase = { ...quietCase, firing: [{ job: 'redis-exporter', namespace: 'cache', pod: 'redis-0', instance: 'redis-0:9121' }] };
    const res = promtoolTest(groups, [wrong], false);
    expect(res.ok).toBe(false);
    expect(res.output).toMatch(/FAILED/);
  });

  it('scope Redis rules to the cluster\'s job and namespace', () => {
    const redisGroup = groups.find((g) => g.name === 'redis')!;
    for (const r of redisGroup.rules) {
      const selectors = r.expr.match(/\{[^}]*\}/g) ?? [];
      expect(selectors.length).toBeGreaterThan(0);
      for (const sel of selectors) expect([r.alert, sel]).toEqual([r.alert, expect.stringMatching(/^\{job="redis-exporter",namespace="cache"(,|\})/)]);
    }
  });
});
