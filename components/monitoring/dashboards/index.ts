import type { Dashboard } from '@grafana/schema';
import { re, Selector } from '../promql';
import { DashboardBuilder, templated } from './builder';

export * from './builder';

/** Where a dashboard is deployed; the default of its region and environment variables. */
export interface DashboardContext {
  readonly region: string;
  readonly environment: string;
}

const RATE = '$__rate_interval';

/** Redis Cluster overview: throughput, hit ratio, memory, evictions, clients, slots, replication, per node. */
export function redisDashboard(target: Selector, ctx: DashboardContext): Dashboard {
  const s = templated(target);
  return new DashboardBuilder({
    uid: 'fp-redis-cluster',
    title: 'Redis Cluster overview',
    description: 'Redis Cluster of the fingerprint cache, from the redis_exporter sidecar of every member.',
    tags: ['fingerprint', 'redis'],
    ...ctx,
  })
    .row('Cluster')
    .panel({ kind: 'stat', title: 'Cluster state', description: 'Lowest cluster_state over the members (1 = ok).', queries: [{ expr: `min(redis_cluster_state${s})`, instant: true }], width: 6, height: 4 })
    .panel({ kind: 'stat', title: 'Masters', description: 'Members reporting the master role.', queries: [{ expr: `count(redis_instance_info${s.with({ role: 'master' })})`, instant: true }], width: 6, height: 4 })
    .panel({ kind: 'stat', title: 'Slots failing', description: 'Hash slots in fail or pfail (worst member view).', queries: [{ expr: `max(redis_cluster_slots_fail${s} + redis_cluster_slots_pfail${s})`, instant: true }], width: 6, height: 4 })
    .panel({ kind: 'stat', title: 'Hit ratio', description: 'Keyspace hits / lookups over the dashboard interval.', unit: 'percentunit', min: 0, max: 1, queries: [{ expr: `sum(rate(redis_keyspace_hits_total${s}[${RATE}])) / (sum(rate(redis_keyspace_hits_total${s}[${RATE}])) + sum(rate(redis_keyspace_misses_total${s}[${RATE}])))`, instant: true }], width: 6, height: 4 })
    .panel({ kind: 'timeseries', title: 'Slots', description: 'Slots ok, pfail and fail as each member sees them.', queries: [
      { expr: `max(redis_cluster_slots_ok${s})`, legend: 'ok' },
      { expr: `max(redis_cluster_slots_pfail${s})`, legend: 'pfail' },
      { expr: `max(redis_cluster_slots_fail${s})`, legend: 'fail' },
    ] })
    .panel({ kind: 'timeseries', title: 'Known nodes', description: 'Cluster members each node knows of.', queries: [{ expr: `redis_cluster_known_nodes${s}`, legend: '{{pod}}' }] })
    .row('Throughput')
    .panel({ kind: 'timeseries', title: 'Operations per second', description: 'Commands processed per member.', unit: 'ops', queries: [{ expr: `sum by (pod) (rate(redis_commands_processed_total${s}[${RATE}]))`, legend: '{{pod}}' }] })
    .panel({ kind: 'timeseries', title: 'Hit ratio per member', description: 'Keyspace hits / lookups per member.', unit: 'percentunit', min: 0, max: 1, queries: [{ expr: `sum by (pod) (rate(redis_keyspace_hits_total${s}[${RATE}])) / (sum by (pod) (rate(redis_keyspace_hits_total${s}[${RATE}])) + sum by (pod) (rate(redis_keyspace_misses_total${s}[${RATE}])))`, legend: '{{pod}}' }] })
    .panel({ kind: 'timeseries', title: 'Top commands', description: 'The most frequent commands over all members.', unit: 'ops', queries: [{ expr: `topk(10, sum by (cmd) (rate(redis_commands_total${s}[${RATE}])))`, legend: '{{cmd}}' }] })
    .panel({ kind: 'timeseries', title: 'Network', description: 'Bytes in and out per member.', unit: 'Bps', queries: [
      { expr: `sum by (pod) (rate(redis_net_input_bytes_total${s}[${RATE}]))`, legend: '{{pod}} in' },
      { expr: `sum by (pod) (rate(redis_net_output_bytes_total${s}[${RATE}]))`, legend: '{{pod}} out' },
    ] })
    .row('Memory')
    .panel({ kind: 'timeseries', title: 'Memory used vs maxmemory', description: 'used_memory and maxmemory per member.', unit: 'bytes', queries: [
      { expr: `redis_memory_used_bytes${s}`, legend: '{{pod}} used' },
      { expr: `redis_memory_max_bytes${s}`, legend: '{{pod}} maxmemory' },
    ] })
    .panel({ kind: 'timeseries', title: 'Memory used / maxmemory', description: 'Share of maxmemory in use; a full cache with an eviction policy sits near 100%.', unit: 'percentunit', min: 0, queries: [{ expr: `redis_memory_used_bytes${s} / (redis_memory_max_bytes${s} > 0)`, legend: '{{pod}}' }] })
    .panel({ kind: 'timeseries', title: 'Evictions', description: 'Keys evicted per second to stay under maxmemory.', unit: 'ops', queries: [{ expr: `sum by (pod) (rate(redis_evicted_keys_total${s}[${RATE}]))`, legend: '{{pod}}' }] })
    .panel({ kind: 'timeseries', title: 'Expirations and keys', description: 'Keys expired per second, and keys per member.', queries: [
      { expr: `sum by (pod) (rate(redis_expired_keys_total${s}[${RATE}]))`, legend: '{{pod}} expired/s' },
      { expr: `sum by (pod) (redis_db_keys${s})`, legend: '{{pod}} keys' },
    ] })
    .row('Clients and replication')
    .panel({ kind: 'timeseries', title: 'Connected clients', description: 'Client connections per member against maxclients.', queries: [
      { expr: `redis_connected_clients${s}`, legend: '{{pod}}' },
      { expr: `max(redis_config_maxclients${s})`, legend: 'maxclients' },
    ] })
    .panel({ kind: 'timeseries', title: 'Rejected connections', description: 'Connections refused because maxclients was reached.', unit: 'ops', queries: [{ expr: `sum by (pod) (rate(redis_rejected_connections_total${s}[${RATE}]))`, legend: '{{pod}}' }] })
    .panel({ kind: 'timeseries', title: 'Replicas per master', description: 'connected_slaves of each master.', queries: [{ expr: `redis_connected_slaves${s} and on (namespace, pod) redis_instance_info${s.with({ role: 'master' })}`, legend: '{{pod}}' }] })
    .panel({ kind: 'timeseries', title: 'Replica link', description: 'master_link_status of each replica (1 = up).', min: 0, max: 1, queries: [{ expr: `redis_master_link_up${s}`, legend: '{{pod}}' }] })
    .row('Per node')
    .panel({ kind: 'table', title: 'Members', description: 'Role, version and eviction policy of every member.', width: 24, queries: [{ expr: `redis_instance_info${s}`, instant: true }] })
    .panel({ kind: 'timeseries', title: 'Member up', description: 'Exporter scraped (up) and Redis answering (redis_up) per member.', min: 0, max: 1, width: 24, queries: [
      { expr: `up${s}`, legend: '{{pod}} scraped' },
      { expr: `redis_up${s}`, legend: '{{pod}} redis' },
    ] })
    .build();
}

/** Kong: requests, status codes, latency percentiles, rate-limited requests per consumer, upstream health. */
export function kongDashboard(target: Selector, ctx: DashboardContext): Dashboard {
  const s = templated(target);
  const quantile = (q: number, metric: string) => `histogram_quantile(${q}, sum by (le) (rate(${metric}_bucket${s}[${RATE}])))`;
  return new DashboardBuilder({
    uid: 'fp-kong-gateway',
    title: 'Kong gateway',
    description: 'Kong gateway traffic from the Prometheus plugin (Kong 3.x metrics).',
    tags: ['fingerprint', 'kong'],
    ...ctx,
  })
    .row('Traffic')
    .panel({ kind: 'timeseries', title: 'Requests per second', description: 'Requests per Kong service.', unit: 'reqps', queries: [{ expr: `sum by (service) (rate(kong_http_requests_total${s}[${RATE}]))`, legend: '{{service}}' }] })
    .panel({ kind: 'timeseries', title: 'Status codes', description: 'Responses per status code.', unit: 'reqps', queries: [{ expr: `sum by (code) (rate(kong_http_requests_total${s}[${RATE}]))`, legend: '{{code}}' }] })
    .panel({ kind: 'timeseries', title: '5xx ratio per service', description: 'Share of 5xx responses per service.', unit: 'percentunit', min: 0, queries: [{ expr: `sum by (service) (rate(kong_http_requests_total${s.with([re('code', '5..')])}[${RATE}])) / sum by (service) (rate(kong_http_requests_total${s}[${RATE}]))`, legend: '{{service}}' }] })
    .panel({ kind: 'timeseries', title: 'Responses generated by Kong', description: 'Responses Kong answered itself (auth, rate limiting, errors) rather than the upstream.', unit: 'reqps', queries: [{ expr: `sum by (code) (rate(kong_http_requests_total${s.with({ source: 'kong' })}[${RATE}]))`, legend: '{{code}}' }] })
    .row('Latency')
    .panel({ kind: 'timeseries', title: 'Request latency percentiles', description: 'Total request latency (Kong and upstream).', unit: 'ms', queries: [
      { expr: quantile(0.5, 'kong_request_latency_ms'), legend: 'p50' },
      { expr: quantile(0.9, 'kong_request_latency_ms'), legend: 'p90' },
      { expr: quantile(0.99, 'kong_request_latency_ms'), legend: 'p99' },
    ] })
    .panel({ kind: 'timeseries', title: 'Kong vs upstream latency (p99)', description: 'Latency added by Kong and its plugins, and by the upstream.', unit: 'ms', queries: [
      { expr: quantile(0.99, 'kong_kong_latency_ms'), legend: 'kong' },
      { expr: quantile(0.99, 'kong_upstream_latency_ms'), legend: 'upstream' },
    ] })
    .panel({ kind: 'timeseries', title: 'p99 latency per service', description: 'Total request latency per service.', unit: 'ms', width: 24, queries: [{ expr: `histogram_quantile(0.99, sum by (service, le) (rate(kong_request_latency_ms_bucket${s}[${RATE}])))`, legend: '{{service}}' }] })
    .row('Rate limiting and upstreams')
    .panel({ kind: 'timeseries', title: 'Rate-limited requests per consumer', description: '429 responses per consumer.', unit: 'reqps', queries: [{ expr: `sum by (consumer) (rate(kong_http_requests_total${s.with({ code: '429' })}[${RATE}]))`, legend: '{{consumer}}' }] })
    .panel({ kind: 'timeseries', title: 'Requests per consumer', description: 'Requests per consumer.', unit: 'reqps', queries: [{ expr: `sum by (consumer) (rate(kong_http_requests_total${s}[${RATE}]))`, legend: '{{consumer}}' }] })
    .panel({ kind: 'table', title: 'Unhealthy upstream targets', description: 'Targets whose health checks fail or whose name does not resolve.', width: 24, queries: [{ expr: `max by (upstream, target, state) (kong_upstream_target_health${s.with([re('state', 'unhealthy|dns_error')])}) == 1`, instant: true }] })
    .panel({ kind: 'timeseries', title: 'Connections', description: 'nginx connections by state.', queries: [{ expr: `sum by (state) (kong_nginx_connections_total${s.with([re('state', 'active|reading|writing|waiting')])})`, legend: '{{state}}' }] })
    .panel({ kind: 'timeseries', title: 'Bandwidth', description: 'Bytes through the gateway by direction.', unit: 'Bps', queries: [{ expr: `sum by (direction) (rate(kong_bandwidth_bytes${s}[${RATE}]))`, legend: '{{direction}}' }] })
    .build();
}

/** Istio service traffic: requests, errors and latency per destination service; istiod pushes. */
export function istioDashboard(target: Selector, ctx: DashboardContext): Dashboard {
  const s = templated(target);
  const d = s.with({ reporter: 'destination' });
  return new DashboardBuilder({
    uid: 'fp-istio-services',
    title: 'Istio service traffic',
    description: 'Traffic between meshed services as their sidecars report it, and istiod configuration pushes.',
    tags: ['fingerprint', 'istio'],
    ...ctx,
  })
    .row('Services')
    .panel({ kind: 'timeseries', title: 'Requests per service', description: 'Requests received per destination service.', unit: 'reqps', queries: [{ expr: `sum by (destination_service) (rate(istio_requests_total${d}[${RATE}]))`, legend: '{{destination_service}}' }] })
    .panel({ kind: 'timeseries', title: '5xx ratio per service', description: 'Share of 5xx responses per destination service.', unit: 'percentunit', min: 0, queries: [{ expr: `sum by (destination_service) (rate(istio_requests_total${d.with([re('response_code', '5..')])}[${RATE}])) / sum by (destination_service) (rate(istio_requests_total${d}[${RATE}]))`, legend: '{{destination_service}}' }] })
    .panel({ kind: 'timeseries', title: 'p50 latency per service', description: 'Median request duration per destination service.', unit: 'ms', queries: [{ expr: `histogram_quantile(0.5, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket${d}[${RATE}])))`, legend: '{{destination_service}}' }] })
    .panel({ kind: 'timeseries', title: 'p99 latency per service', description: '99th percentile request duration per destination service.', unit: 'ms', queries: [{ expr: `histogram_quantile(0.99, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket${d}[${RATE}])))`, legend: '{{destination_service}}' }] })
    .panel({ kind: 'table', title: 'Traffic between workloads', description: 'Requests per second from each source workload to each destination service.', width: 24, queries: [{ expr: `sum by (source_workload, destination_service, response_code) (rate(istio_requests_total${d}[${RATE}]))`, instant: true }] })
    .panel({ kind: 'timeseries', title: 'TCP traffic', description: 'Bytes sent and received over TCP connections per destination service.', unit: 'Bps', width: 24, queries: [
      { expr: `sum by (destination_service) (rate(istio_tcp_sent_bytes_total${d}[${RATE}]))`, legend: '{{destination_service}} sent' },
      { expr: `sum by (destination_service) (rate(istio_tcp_received_bytes_total${d}[${RATE}]))`, legend: '{{destination_service}} received' },
    ] })
    .row('Control plane')
    .panel({ kind: 'timeseries', title: 'xDS pushes', description: 'Configuration pushes per type; *_senderr are failures.', unit: 'ops', queries: [{ expr: `sum by (type) (rate(pilot_xds_pushes${s}[${RATE}]))`, legend: '{{type}}' }] })
    .panel({ kind: 'timeseries', title: 'Rejected configuration', description: 'xDS responses the proxies rejected.', queries: [{ expr: `sum(increase(pilot_total_xds_rejects${s}[${RATE}]))`, legend: 'rejects' }] })
    .panel({ kind: 'timeseries', title: 'Connected proxies', description: 'Proxies connected to istiod.', queries: [{ expr: `sum(pilot_xds${s})`, legend: 'proxies' }] })
    .panel({ kind: 'timeseries', title: 'Proxy convergence (p99)', description: 'Time from a configuration change to the proxies having it.', unit: 's', queries: [{ expr: `histogram_quantile(0.99, sum by (le) (rate(pilot_proxy_convergence_time_bucket${s}[${RATE}])))`, legend: 'p99' }] })
    .build();
}
