import { CATALOGS, knownSeries, KONG, seriesNames } from './metric-catalog';
import { expandGrafanaVariables, metricNames, re, Selector } from './promql';

describe('metricNames', () => {
  it.each([
    ['up{job="a"} == 0', ['up']],
    ['sum by (pod) (rate(redis_evicted_keys_total{job="x",pod=~"a|b"}[5m])) > 100', ['redis_evicted_keys_total']],
    ['histogram_quantile(0.99, sum by (service, le) (rate(kong_request_latency_ms_bucket{code!="x"}[$__rate_interval])))', ['kong_request_latency_ms_bucket']],
    ['a / (b > 0) > 0.9 and on (namespace, pod) c{role="master"}', ['a', 'b', 'c']],
    ['count(x offset 5m) without (le) unless ignoring (pod) group_left (role) y', ['x', 'y']],
    ['absent(up{job="a"}) or absent(up{job="b"})', ['up']],
    ['label_values(up, region)', ['region', 'up']],
    ['sum(rate(m{a="sum(fake_metric)"}[1m]))', ['m']],
  ])('%s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });

  it('refuses selection by __name__, which would hide the metric', () => {
    expect(() => metricNames('{__name__=~"redis_.*"}')).toThrow('__name__');
  });
});

describe('Selector', () => {
  it('renders equality and regex matchers in order', () => {
    expect(Selector.of({ job: 'redis-exporter', namespace: 'cache' }).with([re('code', '5..')]).with({ role: 'master' }).toString()).toBe(
      '{job="redis-exporter",namespace="cache",code=~"5..",role="master"}',
    );
  });

  it('matches any of several jobs with an escaped regex, or one with equality', () => {
    expect(Selector.anyOf('job', ['kong', 'kong.ingress']).toString()).toBe('{job=~"kong|kong\\\\.ingress"}');
    expect(Selector.anyOf('job', ['kong', 'kong']).toString()).toBe('{job="kong"}');
    expect(() => Selector.anyOf('job', [])).toThrow('at least one value');
  });
});

describe('expandGrafanaVariables', () => {
  it('fills in interval and dashboard variables and refuses unknown ones', () => {
    expect(expandGrafanaVariables('rate(x{region=~"$region"}[$__rate_interval])', { region: 'eu' })).toBe('rate(x{region=~"eu"}[5m])');
    expect(expandGrafanaVariables('x{a="${env}"}', { env: 'prod' })).toBe('x{a="prod"}');
    expect(() => expandGrafanaVariables('x{a="$nope"}')).toThrow('unknown template variable $nope');
  });
});

describe('metric catalog', () => {
  it('lists each family once, with histogram series expanded', () => {
    for (const catalog of CATALOGS) {
      const names = catalog.families.map((f) => f.name);
      expect(new Set(names).size).toBe(names.length);
    }
    expect(seriesNames(KONG.families.find((f) => f.name === 'kong_request_latency_ms')!)).toEqual([
      'kong_request_latency_ms_bucket',
      'kong_request_latency_ms_sum',
      'kong_request_latency_ms_count',
    ]);
    expect(knownSeries().has('kong_request_latency_ms')).toBe(false);
  });

  it('uses Kong 3.x names, not the 2.x ones', () => {
    const kong = KONG.families.map((f) => f.name);
    expect(kong).toEqual(expect.arrayContaining(['kong_http_requests_total', 'kong_request_latency_ms', 'kong_upstream_target_health', 'kong_bandwidth_bytes']));
    for (const old of ['kong_http_status', 'kong_latency', 'kong_bandwidth', 'kong_nginx_http_current_connections']) expect(kong).not.toContain(old);
  });

  it('counters end in _total except where the exporter does not say so', () => {
    const exceptions = new Set(['redis_total_error_replies', 'kong_bandwidth_bytes', 'pilot_xds_pushes', 'pilot_total_xds_rejects', 'pilot_total_xds_internal_errors']);
    for (const f of CATALOGS.flatMap((c) => c.families)) {
      if (f.type === 'counter' && !exceptions.has(f.name)) expect([f.name, f.name.endsWith('_total')]).toEqual([f.name, true]);
    }
  });
});
