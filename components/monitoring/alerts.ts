import { Selector, re } from './promql';
import { AlertThresholds } from './settings';

/**
 * Alert rules as data (the PrometheusRule spec.groups shape). Every rule carries severity, summary,
 * description and runbook_url; annotations only template `$labels` (never `$value`), so the rule
 * tests can state the exact annotations they expect.
 */

export type Severity = 'critical' | 'warning';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: Severity } & Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

export interface RuleContext {
  readonly thresholds: AlertThresholds;
  /** Base URL of RUNBOOKS.md; each rule links to its section. */
  readonly runbookBaseUrl: string;
}

function rule(
  ctx: RuleContext,
  alert: string,
  severity: Severity,
  pending: string,
  expr: string,
  summary: string,
  description: string,
): AlertRule {
  return {
    alert,
    expr,
    for: pending,
    labels: { severity },
    annotations: { summary, description, runbook_url: `${ctx.runbookBaseUrl}#${alert.toLowerCase()}` },
  };
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

/** The redis_exporter sidecars of one Redis Cluster. */
export interface RedisRuleTarget {
  readonly selector: Selector;
  readonly masters: number;
}

export function redisRules(target: RedisRuleTarget, ctx: RuleContext): RuleGroup {
  const s = target.selector;
  const t = ctx.thresholds.redis;
  const where = '{{ $labels.namespace }}/{{ $labels.pod }}';
  return {
    name: 'redis',
    rules: [
      rule(ctx, 'RedisExporterDown', 'warning', '2m', `up${s} == 0`,
        `Redis member ${where} is not scraped`,
        `Prometheus cannot scrape the redis_exporter of ${where}: the pod is gone or not ready, or a NetworkPolicy drops the scrape.`),
      rule(ctx, 'RedisDown', 'critical', '1m', `redis_up${s} == 0`,
        `Redis on ${where} does not answer`,
        `The redis_exporter of ${where} runs but cannot reach its Redis server (stopped, loading, or refusing the password).`),
      rule(ctx, 'RedisClusterStateNotOk', 'critical', '1m', `redis_cluster_state${s} == 0`,
        `Redis Cluster state is fail on ${where}`,
        `${where} reports cluster_state:fail: it cannot reach a majority of masters and refuses queries.`),
      rule(ctx, 'RedisClusterSlotsFailing', 'critical', '1m',
        `max by (namespace) (redis_cluster_slots_fail${s} + redis_cluster_slots_pfail${s}) > 0`,
        'Redis Cluster {{ $labels.namespace }} has hash slots in fail or pfail',
        'Some hash slots of the cluster in {{ $labels.namespace }} are served by a master that is failing and was not replaced by a replica: keys in them cannot be read or written.'),
      rule(ctx, 'RedisClusterMastersMissing', 'critical', '5m',
        `count by (namespace) (redis_instance_info${s.with({ role: 'master' })}) < ${target.masters}`,
        'Redis Cluster {{ $labels.namespace }} has fewer than ' + `${target.masters} masters`,
        `Fewer than the ${target.masters} configured masters report the master role: a shard lost its master and no replica took over. More masters than configured is normal during a scale-up and does not alert.`),
      rule(ctx, 'RedisMemoryHigh', 'warning', '10m',
        `(redis_memory_used_bytes${s} / (redis_memory_max_bytes${s} > 0)) > ${t.memoryRatio} and on (namespace, pod) redis_instance_info${s.with({ maxmemory_policy: 'noeviction' })}`,
        `Redis ${where} uses more than ${percent(t.memoryRatio)} of maxmemory`,
        `${where} runs with maxmemory-policy noeviction and is above ${percent(t.memoryRatio)} of maxmemory; once full it refuses writes with OOM errors. With an eviction policy a full cache is the normal steady state and RedisEvictionSpike is the capacity signal.`),
      rule(ctx, 'RedisEvictionSpike', 'warning', '10m', `rate(redis_evicted_keys_total${s}[5m]) > ${t.evictionsPerSecond}`,
        `Redis ${where} evicts more than ${t.evictionsPerSecond} keys/s`,
        `${where} has evicted more than ${t.evictionsPerSecond} keys per second for 10 minutes: the working set no longer fits in maxmemory and the hit ratio drops.`),
      rule(ctx, 'RedisRejectedConnections', 'warning', '1m', `increase(redis_rejected_connections_total${s}[5m]) > 0`,
        `Redis ${where} rejects connections`,
        `${where} refused client connections in the last 5 minutes because maxclients was reached.`),
      rule(ctx, 'RedisReplicaLinkDown', 'critical', '2m', `redis_master_link_up${s} == 0`,
        `Replica ${where} lost its master`,
        `The replication link of replica ${where} is down: its shard has no up-to-date copy for failover.`),
      rule(ctx, 'RedisTooManyConnections', 'warning', '5m',
        `redis_connected_clients${s} / redis_config_maxclients${s} > ${t.connectionsRatio}`,
        `Redis ${where} uses more than ${percent(t.connectionsRatio)} of maxclients`,
        `${where} has more than ${percent(t.connectionsRatio)} of maxclients connected; new connections are rejected once it is full (client connection leak or pool sizing).`),
    ],
  };
}

/** Kong's Prometheus plugin (Kong 3.x metric names), and optionally its rate-limit counter store. */
export interface KongRuleTarget {
  readonly selector: Selector;
  readonly rateLimitStore?: Selector;
}

export function kongRules(target: KongRuleTarget, ctx: RuleContext): RuleGroup {
  const s = target.selector;
  const t = ctx.thresholds.kong;
  const requests = `sum by (service) (rate(kong_http_requests_total${s}[5m]))`;
  const rules: AlertRule[] = [
    rule(ctx, 'KongHigh5xxRatio', 'critical', '5m',
      `(sum by (service) (rate(kong_http_requests_total${s.with([re('code', '5..')])}[5m])) / ${requests}) > ${t.errorRatio} and ${requests} > ${t.minRequestsPerSecond}`,
      `Kong service {{ $labels.service }} answers more than ${percent(t.errorRatio)} 5xx`,
      `More than ${percent(t.errorRatio)} of the requests to Kong service {{ $labels.service }} ended in a 5xx for 5 minutes.`),
    rule(ctx, 'KongHighP99Latency', 'warning', '10m',
      `histogram_quantile(0.99, sum by (service, le) (rate(kong_request_latency_ms_bucket${s}[5m]))) > ${t.p99LatencyMs} and sum by (service) (rate(kong_request_latency_ms_count${s}[5m])) > ${t.minRequestsPerSecond}`,
      `Kong service {{ $labels.service }} p99 latency above ${t.p99LatencyMs}ms`,
      `The 99th percentile of the total request latency of Kong service {{ $labels.service }} has been above ${t.p99LatencyMs}ms for 10 minutes.`),
    rule(ctx, 'KongUpstreamTargetUnhealthy', 'warning', '2m',
      `max by (upstream, target) (kong_upstream_target_health${s.with([re('state', 'unhealthy|dns_error')])}) == 1`,
      'Kong upstream {{ $labels.upstream }} target {{ $labels.target }} is unhealthy',
      'Kong health checks mark target {{ $labels.target }} of upstream {{ $labels.upstream }} unhealthy (or its name does not resolve); Kong stops routing to it.'),
  ];
  if (target.rateLimitStore) {
    const st = target.rateLimitStore;
    rules.push(
      rule(ctx, 'KongRateLimitStoreErrors', 'warning', '2m',
        `(sum by (namespace) (rate(redis_total_error_replies${st}[5m])) > ${t.rateLimitStoreErrorsPerSecond}) or (min by (namespace) (redis_up${st}) == 0) or (min by (namespace) (up${st}) == 0)`,
        'Kong rate-limit store in {{ $labels.namespace }} is failing',
        'The Redis holding Kong rate-limiting counters is down or answers commands with errors. Kong is fault tolerant: requests pass without rate limiting until it recovers.'),
    );
  }
  return { name: 'kong', rules };
}

/** Istio sidecars (istio_* standard metrics) and istiod (pilot_* metrics). */
export interface IstioRuleTarget {
  readonly selector: Selector;
}

export function istioRules(target: IstioRuleTarget, ctx: RuleContext): RuleGroup {
  const s = target.selector.with({ reporter: 'destination' });
  const t = ctx.thresholds.istio;
  const requests = `sum by (destination_service) (rate(istio_requests_total${s}[5m]))`;
  return {
    name: 'istio',
    rules: [
      rule(ctx, 'IstioHigh5xxRatio', 'critical', '5m',
        `(sum by (destination_service) (rate(istio_requests_total${s.with([re('response_code', '5..')])}[5m])) / ${requests}) > ${t.errorRatio} and ${requests} > ${t.minRequestsPerSecond}`,
        `Service {{ $labels.destination_service }} answers more than ${percent(t.errorRatio)} 5xx`,
        `More than ${percent(t.errorRatio)} of the requests to {{ $labels.destination_service }} (as its sidecars report them) ended in a 5xx for 5 minutes.`),
      rule(ctx, 'IstioHighP99Latency', 'warning', '10m',
        `histogram_quantile(0.99, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket${s}[5m]))) > ${t.p99LatencyMs} and sum by (destination_service) (rate(istio_request_duration_milliseconds_count${s}[5m])) > ${t.minRequestsPerSecond}`,
        `Service {{ $labels.destination_service }} p99 latency above ${t.p99LatencyMs}ms`,
        `The 99th percentile of the request duration of {{ $labels.destination_service }} has been above ${t.p99LatencyMs}ms for 10 minutes.`),
      rule(ctx, 'IstioXdsPushErrors', 'warning', '5m',
        `sum(rate(pilot_xds_pushes${target.selector.with([re('type', '.+_senderr')])}[5m])) > 0`,
        'istiod fails to push configuration to proxies',
        'istiod could not send xDS updates (cds/eds/lds/rds send errors) for 5 minutes: sidecars run with stale routes and endpoints.'),
      rule(ctx, 'IstioXdsConfigRejected', 'warning', '5m',
        `sum(increase(pilot_total_xds_rejects${target.selector}[5m])) > 0`,
        'Proxies reject configuration pushed by istiod',
        'Envoy proxies rejected xDS configuration from istiod in the last 5 minutes (usually an invalid VirtualService, DestinationRule or EnvoyFilter); they keep their previous configuration.'),
    ],
  };
}

/** One scrape job whose targets must exist. */
export interface ScrapeJobTarget {
  readonly job: string;
  readonly namespace?: string;
}

/**
 * A monitor that selects nothing (wrong labels, namespace or port name) scrapes silently nothing;
 * these rules turn that into an alert.
 */
export function scrapeRules(jobs: readonly ScrapeJobTarget[], ctx: RuleContext): RuleGroup {
  const selectors = new Map<string, Selector>();
  for (const j of jobs) {
    const sel = Selector.of({ job: j.job, ...(j.namespace ? { namespace: j.namespace } : {}) });
    selectors.set(sel.toString(), sel);
  }
  if (selectors.size === 0) return { name: 'scrape-targets', rules: [] };
  // One rule: Prometheus lints same-named rules with equal labels as duplicates.
  const expr = [...selectors.keys()].sort().map((sel) => `absent(up${sel})`).join(' or ');
  return {
    name: 'scrape-targets',
    rules: [
      rule(ctx, 'ScrapeTargetsMissing', 'warning', '15m', expr,
        'Prometheus has no target for job {{ $labels.job }}',
        'No scrape target of job {{ $labels.job }} exists: the PodMonitor selects no pod (labels, namespace or port name) or the Prometheus does not select the monitor (selector labels).'),
    ],
  };
}
