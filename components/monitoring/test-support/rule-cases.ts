/**
 * Synthetic series for `promtool test rules`: for every alert, series on which it must fire (with the
 * exact labels it fires with) and series on which it must stay quiet, plus one healthy region on
 * which no alert at all may fire. Input values use promtool's expanding notation (`0+60x20`: start
 * at 0, add 60 per 1m step, 20 steps).
 */

export type LabelSet = Record<string, string>;

export interface InputSeries {
  readonly metric: string;
  readonly labels: LabelSet;
  readonly values: string;
}

export interface AlertCase {
  readonly alert: string;
  /** What the series show. */
  readonly name: string;
  readonly series: readonly InputSeries[];
  readonly evalTime: string;
  /** Label sets (without alertname and the rule's static labels) of the alerts that must be firing; empty: quiet. */
  readonly firing: readonly LabelSet[];
}

export function seriesText(s: InputSeries): string {
  return `${s.metric}{${Object.entries(s.labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

/** Scrape jobs and namespaces the cases use; the rules under test must be built for the same ones. */
export const CASE_TARGETS = {
  redis: { job: 'redis-exporter', namespace: 'cache' },
  kong: { job: 'kong-gateway', namespace: 'kong' },
  rateLimitStore: { job: 'kong-rate-limit-redis', namespace: 'kong' },
  istiod: { job: 'istiod', namespace: 'istio-system' },
  sidecars: { job: 'istio-proxy', namespace: 'api' },
} as const;

const redisNode = (pod: string): LabelSet => ({ ...CASE_TARGETS.redis, pod, instance: `${pod}:9121` });
const kongPod: LabelSet = { ...CASE_TARGETS.kong, pod: 'kong-0', instance: 'kong-0:8100' };
const store: LabelSet = { ...CASE_TARGETS.rateLimitStore, pod: 'kong-rate-limit-redis-0', instance: 'kong-rate-limit-redis-0:9121' };
const istiod: LabelSet = { ...CASE_TARGETS.istiod, pod: 'istiod-0', instance: 'istiod-0:15014' };
const sidecar: LabelSet = { ...CASE_TARGETS.sidecars, pod: 'api-0', instance: 'api-0:15020' };
const SERVICE = 'api.api.svc.cluster.local';

function s(metric: string, labels: LabelSet, values: string): InputSeries {
  return { metric, labels, values };
}

const MASTERS = ['redis-0', 'redis-1', 'redis-2'];
const REPLICAS = ['redis-3', 'redis-4', 'redis-5'];

function info(pod: string, role: 'master' | 'slave', policy = 'allkeys-lru', values = '1x40'): InputSeries {
  return s('redis_instance_info', { ...redisNode(pod), role, maxmemory_policy: policy, redis_version: '7.2.5', redis_mode: 'cluster' }, values);
}

/** Kong request counters: per-second rates become per-minute increments. */
function kongRequests(code: string, perSecond: number, extra: LabelSet = {}): InputSeries {
  return s('kong_http_requests_total', { ...kongPod, service: 'fingerprint-api', route: 'fingerprint', code, source: code === '429' ? 'kong' : 'service', consumer: 'acme', ...extra }, `0+${perSecond * 60}x40`);
}

/** A latency histogram where every observation falls into bucket `le` (so p99 is just below it). */
function histogram(metric: string, labels: LabelSet, bounds: readonly number[], le: number, perSecond: number): InputSeries[] {
  const inc = perSecond * 60;
  return [
    ...bounds.map((b) => s(`${metric}_bucket`, { ...labels, le: String(b) }, b >= le ? `0+${inc}x40` : '0x40')),
    s(`${metric}_bucket`, { ...labels, le: '+Inf' }, `0+${inc}x40`),
    s(`${metric}_count`, labels, `0+${inc}x40`),
  ];
}

function istioRequests(code: string, perSecond: number, reporter = 'destination'): InputSeries {
  return s('istio_requests_total', { ...sidecar, reporter, destination_service: SERVICE, source_workload: 'kong', response_code: code }, `0+${perSecond * 60}x40`);
}

/** Every series of a healthy region: 3 masters and 3 replicas, a full LRU cache, normal gateway and mesh traffic. */
export function healthyRegion(): InputSeries[] {
  const nodes = [...MASTERS, ...REPLICAS];
  return [
    ...nodes.flatMap((pod) => [
      s('up', redisNode(pod), '1x40'),
      s('redis_up', redisNode(pod), '1x40'),
      s('redis_cluster_state', redisNode(pod), '1x40'),
      s('redis_cluster_slots_fail', redisNode(pod), '0x40'),
      s('redis_cluster_slots_pfail', redisNode(pod), '0x40'),
      // A full cache with an eviction policy sits at maxmemory and evicts steadily.
      s('redis_memory_used_bytes', redisNode(pod), '99x40'),
      s('redis_memory_max_bytes', redisNode(pod), '100x40'),
      s('redis_evicted_keys_total', redisNode(pod), '0+3000x40'),
      s('redis_rejected_connections_total', redisNode(pod), '0x40'),
      s('redis_connected_clients', redisNode(pod), '120x40'),
      s('redis_config_maxclients', redisNode(pod), '10000x40'),
    ]),
    ...MASTERS.map((pod) => info(pod, 'master')),
    ...REPLICAS.map((pod) => info(pod, 'slave')),
    ...REPLICAS.map((pod) => s('redis_master_link_up', redisNode(pod), '1x40')),
    s('up', kongPod, '1x40'),
    kongRequests('200', 50),
    kongRequests('500', 0.05),
    kongRequests('429', 2),
    ...histogram('kong_request_latency_ms', { ...kongPod, service: 'fingerprint-api', route: 'fingerprint' }, [25, 100, 1000, 2000], 100, 50),
    s('kong_upstream_target_health', { ...kongPod, upstream: 'api', target: 'api:80', address: '10.0.0.1:80', state: 'healthy', subsystem: 'http' }, '1x40'),
    s('kong_upstream_target_health', { ...kongPod, upstream: 'api', target: 'api:80', address: '10.0.0.1:80', state: 'unhealthy', subsystem: 'http' }, '0x40'),
    s('up', store, '1x40'),
    s('redis_up', store, '1x40'),
    s('redis_total_error_replies', store, '3x40'),
    s('up', istiod, '1x40'),
    s('up', sidecar, '1x40'),
    istioRequests('200', 40),
    istioRequests('503', 0.02),
    ...histogram('istio_request_duration_milliseconds', { ...sidecar, reporter: 'destination', destination_service: SERVICE }, [10, 50, 1000, 2000], 50, 40),
    s('pilot_xds_pushes', { ...istiod, type: 'cds' }, '0+30x40'),
    s('pilot_xds_pushes', { ...istiod, type: 'cds_senderr' }, '2x40'),
    s('pilot_total_xds_rejects', istiod, '1x40'),
  ];
}

/** The evaluation time at which the healthy region is checked (every `for` has elapsed). */
export const HEALTHY_EVAL_TIME = '30m';

export function alertCases(): AlertCase[] {
  const r0 = redisNode('redis-0');
  return [
    // --- Redis ---------------------------------------------------------------------------
    { alert: 'RedisExporterDown', name: 'scrape fails for 2m', evalTime: '6m', series: [s('up', r0, '1 1 0x10')], firing: [r0] },
    { alert: 'RedisExporterDown', name: 'one failed scrape', evalTime: '6m', series: [s('up', r0, '1 0 1x10')], firing: [] },
    { alert: 'RedisDown', name: 'exporter up, redis not answering', evalTime: '5m', series: [s('up', r0, '1x10'), s('redis_up', r0, '1 1 0x10')], firing: [r0] },
    { alert: 'RedisDown', name: 'redis answering', evalTime: '5m', series: [s('redis_up', r0, '1x10')], firing: [] },
    { alert: 'RedisClusterStateNotOk', name: 'cluster_state fail', evalTime: '5m', series: [s('redis_cluster_state', r0, '1 1 0x10')], firing: [r0] },
    { alert: 'RedisClusterStateNotOk', name: 'cluster_state ok', evalTime: '5m', series: [s('redis_cluster_state', r0, '1x10')], firing: [] },
    {
      alert: 'RedisClusterSlotsFailing',
      name: 'a shard stays failed',
      evalTime: '5m',
      series: [s('redis_cluster_slots_fail', r0, '0 0 5461x10'), s('redis_cluster_slots_pfail', r0, '0x12'), s('redis_cluster_slots_fail', redisNode('redis-1'), '0x12'), s('redis_cluster_slots_pfail', redisNode('redis-1'), '0 0 5461x10')],
      firing: [{ namespace: 'cache' }],
    },
    {
      alert: 'RedisClusterSlotsFailing',
      name: 'pfail during a failover that completes',
      evalTime: '4m',
      series: [s('redis_cluster_slots_fail', r0, '0x10'), s('redis_cluster_slots_pfail', r0, '0 5461 0x10')],
      firing: [],
    },
    {
      alert: 'RedisClusterMastersMissing',
      name: 'a shard lost its master and no replica took over',
      evalTime: '10m',
      series: [info('redis-0', 'master'), info('redis-1', 'master'), info('redis-3', 'slave'), info('redis-4', 'slave')],
      firing: [{ namespace: 'cache' }],
    },
    {
      alert: 'RedisClusterMastersMissing',
      name: 'three masters (several masters are the normal cluster shape)',
      evalTime: '10m',
      series: [...MASTERS.map((pod) => info(pod, 'master')), ...REPLICAS.map((pod) => info(pod, 'slave'))],
      firing: [],
    },
    {
      alert: 'RedisClusterMastersMissing',
      name: 'four masters during a scale-up',
      evalTime: '10m',
      series: [...[...MASTERS, 'redis-6'].map((pod) => info(pod, 'master'))],
      firing: [],
    },
    {
      alert: 'RedisMemoryHigh',
      name: 'noeviction node at 95% of maxmemory',
      evalTime: '15m',
      series: [s('redis_memory_used_bytes', r0, '95x20'), s('redis_memory_max_bytes', r0, '100x20'), info('redis-0', 'master', 'noeviction')],
      firing: [r0],
    },
    {
      alert: 'RedisMemoryHigh',
      name: 'full LRU cache at 99% (steady state)',
      evalTime: '15m',
      series: [s('redis_memory_used_bytes', r0, '99x20'), s('redis_memory_max_bytes', r0, '100x20'), info('redis-0', 'master', 'allkeys-lru')],
      firing: [],
    },
    {
      alert: 'RedisMemoryHigh',
      name: 'noeviction node at 50%',
      evalTime: '15m',
      series: [s('redis_memory_used_bytes', r0, '50x20'), s('redis_memory_max_bytes', r0, '100x20'), info('redis-0', 'master', 'noeviction')],
      firing: [],
    },
    {
      alert: 'RedisMemoryHigh',
      name: 'no maxmemory set (unlimited)',
      evalTime: '15m',
      series: [s('redis_memory_used_bytes', r0, '95x20'), s('redis_memory_max_bytes', r0, '0x20'), info('redis-0', 'master', 'noeviction')],
      firing: [],
    },
    { alert: 'RedisEvictionSpike', name: '1000 evictions/s', evalTime: '20m', series: [s('redis_evicted_keys_total', r0, '0+60000x30')], firing: [r0] },
    { alert: 'RedisEvictionSpike', name: '50 evictions/s (a full cache)', evalTime: '20m', series: [s('redis_evicted_keys_total', r0, '0+3000x30')], firing: [] },
    { alert: 'RedisRejectedConnections', name: 'maxclients reached', evalTime: '5m', series: [s('redis_rejected_connections_total', r0, '0 0 0 5x10')], firing: [r0] },
    { alert: 'RedisRejectedConnections', name: 'rejections long ago', evalTime: '15m', series: [s('redis_rejected_connections_total', r0, '0 0 0 5x20')], firing: [] },
    { alert: 'RedisReplicaLinkDown', name: 'replica lost its master', evalTime: '5m', series: [s('redis_master_link_up', redisNode('redis-3'), '1 1 0x10')], firing: [redisNode('redis-3')] },
    { alert: 'RedisReplicaLinkDown', name: 'replica linked', evalTime: '5m', series: [s('redis_master_link_up', redisNode('redis-3'), '1x10')], firing: [] },
    {
      alert: 'RedisTooManyConnections',
      name: '90% of maxclients',
      evalTime: '10m',
      series: [s('redis_connected_clients', r0, '9000x20'), s('redis_config_maxclients', r0, '10000x20')],
      firing: [r0],
    },
    {
      alert: 'RedisTooManyConnections',
      name: '1% of maxclients',
      evalTime: '10m',
      series: [s('redis_connected_clients', r0, '100x20'), s('redis_config_maxclients', r0, '10000x20')],
      firing: [],
    },
    // --- Kong ----------------------------------------------------------------------------
    { alert: 'KongHigh5xxRatio', name: '9% 5xx at 11 req/s', evalTime: '15m', series: [kongRequests('200', 10), kongRequests('500', 1)], firing: [{ service: 'fingerprint-api' }] },
    { alert: 'KongHigh5xxRatio', name: '1% 5xx', evalTime: '15m', series: [kongRequests('200', 10), kongRequests('500', 0.1)], firing: [] },
    { alert: 'KongHigh5xxRatio', name: '50% 5xx at 0.2 req/s (too little traffic)', evalTime: '15m', series: [kongRequests('200', 0.1), kongRequests('500', 0.1)], firing: [] },
    {
      alert: 'KongHighP99Latency',
      name: 'requests take 1-2s',
      evalTime: '20m',
      series: histogram('kong_request_latency_ms', { ...kongPod, service: 'fingerprint-api', route: 'fingerprint' }, [25, 100, 1000, 2000], 2000, 10),
      firing: [{ service: 'fingerprint-api' }],
    },
    {
      alert: 'KongHighP99Latency',
      name: 'requests take under 100ms',
      evalTime: '20m',
      series: histogram('kong_request_latency_ms', { ...kongPod, service: 'fingerprint-api', route: 'fingerprint' }, [25, 100, 1000, 2000], 100, 10),
      firing: [],
    },
    {
      alert: 'KongUpstreamTargetUnhealthy',
      name: 'health checks fail',
      evalTime: '5m',
      series: ['healthy', 'unhealthy'].map((state) => s('kong_upstream_target_health', { ...kongPod, upstream: 'api', target: 'api:80', address: '10.0.0.1:80', state, subsystem: 'http' }, state === 'unhealthy' ? '1x10' : '0x10')),
      firing: [{ upstream: 'api', target: 'api:80' }],
    },
    {
      alert: 'KongUpstreamTargetUnhealthy',
      name: 'health checks off',
      evalTime: '5m',
      series: ['healthchecks_off', 'unhealthy', 'dns_error'].map((state) => s('kong_upstream_target_health', { ...kongPod, upstream: 'api', target: 'api:80', address: '10.0.0.1:80', state, subsystem: 'http' }, state === 'healthchecks_off' ? '1x10' : '0x10')),
      firing: [],
    },
    {
      alert: 'KongRateLimitStoreErrors',
      name: 'store answers with errors',
      evalTime: '10m',
      series: [s('up', store, '1x20'), s('redis_up', store, '1x20'), s('redis_total_error_replies', store, '0+120x20')],
      firing: [{ namespace: 'kong' }],
    },
    {
      alert: 'KongRateLimitStoreErrors',
      name: 'store down',
      evalTime: '10m',
      series: [s('up', store, '1x20'), s('redis_up', store, '1 1 0x20'), s('redis_total_error_replies', store, '3x20')],
      firing: [{ namespace: 'kong' }],
    },
    {
      alert: 'KongRateLimitStoreErrors',
      name: 'old errors only',
      evalTime: '10m',
      series: [s('up', store, '1x20'), s('redis_up', store, '1x20'), s('redis_total_error_replies', store, '3x20')],
      firing: [],
    },
    // --- Istio ---------------------------------------------------------------------------
    { alert: 'IstioHigh5xxRatio', name: '9% 5xx', evalTime: '15m', series: [istioRequests('200', 10), istioRequests('503', 1)], firing: [{ destination_service: SERVICE }] },
    { alert: 'IstioHigh5xxRatio', name: '0.5% 5xx', evalTime: '15m', series: [istioRequests('200', 20), istioRequests('503', 0.1)], firing: [] },
    {
      alert: 'IstioHigh5xxRatio',
      name: '5xx reported by the client side only (counted once, by the destination)',
      evalTime: '15m',
      series: [istioRequests('200', 10), istioRequests('200', 10, 'source'), istioRequests('503', 5, 'source')],
      firing: [],
    },
    {
      alert: 'IstioHighP99Latency',
      name: 'requests take 1-2s',
      evalTime: '20m',
      series: histogram('istio_request_duration_milliseconds', { ...sidecar, reporter: 'destination', destination_service: SERVICE }, [10, 50, 1000, 2000], 2000, 10),
      firing: [{ destination_service: SERVICE }],
    },
    {
      alert: 'IstioHighP99Latency',
      name: 'requests take under 50ms',
      evalTime: '20m',
      series: histogram('istio_request_duration_milliseconds', { ...sidecar, reporter: 'destination', destination_service: SERVICE }, [10, 50, 1000, 2000], 50, 10),
      firing: [],
    },
    { alert: 'IstioXdsPushErrors', name: 'cds send errors', evalTime: '15m', series: [s('pilot_xds_pushes', { ...istiod, type: 'cds_senderr' }, '0+30x20')], firing: [{}] },
    {
      alert: 'IstioXdsPushErrors',
      name: 'pushes succeed',
      evalTime: '15m',
      series: [s('pilot_xds_pushes', { ...istiod, type: 'cds' }, '0+30x20'), s('pilot_xds_pushes', { ...istiod, type: 'cds_senderr' }, '2x20')],
      firing: [],
    },
    { alert: 'IstioXdsConfigRejected', name: 'proxies keep rejecting', evalTime: '15m', series: [s('pilot_total_xds_rejects', istiod, '0+1x20')], firing: [{}] },
    { alert: 'IstioXdsConfigRejected', name: 'no new rejects', evalTime: '15m', series: [s('pilot_total_xds_rejects', istiod, '1x20')], firing: [] },
  ];
}
