/**
 * Metric families the exporters and proxies this program monitors actually expose, per version.
 * Rules and dashboards may only read metrics listed here (tested); the Redis list is also checked
 * against a real redis_exporter scraping a real Redis Cluster in the live test.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  /** Labels the family carries besides the target labels Prometheus adds. */
  readonly labels?: readonly string[];
  /** Only present on some members (e.g. replicas); the live test does not require it everywhere. */
  readonly note?: string;
}

export interface MetricSourceCatalog {
  readonly source: string;
  /** Version the list was taken from (and the image tag the program deploys, where it deploys one). */
  readonly version: string;
  readonly families: readonly MetricFamily[];
}

/** Series Prometheus itself attaches to every scrape. */
export const PROMETHEUS_SCRAPE: MetricSourceCatalog = {
  source: 'prometheus scrape',
  version: '2.x',
  families: [
    { name: 'up', type: 'gauge' },
    { name: 'scrape_duration_seconds', type: 'gauge' },
    { name: 'scrape_samples_scraped', type: 'gauge' },
  ],
};

/** oliver006/redis_exporter (v1.67.0 deployed; Debian's 1.45.0 in the live test exposes the same names). */
export const REDIS_EXPORTER: MetricSourceCatalog = {
  source: 'redis_exporter',
  version: 'v1.67.0',
  families: [
    { name: 'redis_up', type: 'gauge' },
    { name: 'redis_instance_info', type: 'gauge', labels: ['role', 'redis_version', 'redis_mode', 'maxmemory_policy'] },
    { name: 'redis_uptime_in_seconds', type: 'gauge' },
    { name: 'redis_cluster_enabled', type: 'gauge' },
    { name: 'redis_cluster_state', type: 'gauge' },
    { name: 'redis_cluster_slots_assigned', type: 'gauge' },
    { name: 'redis_cluster_slots_ok', type: 'gauge' },
    { name: 'redis_cluster_slots_pfail', type: 'gauge' },
    { name: 'redis_cluster_slots_fail', type: 'gauge' },
    { name: 'redis_cluster_known_nodes', type: 'gauge' },
    { name: 'redis_cluster_size', type: 'gauge' },
    { name: 'redis_memory_used_bytes', type: 'gauge' },
    { name: 'redis_memory_max_bytes', type: 'gauge' },
    { name: 'redis_memory_used_rss_bytes', type: 'gauge' },
    { name: 'redis_mem_fragmentation_ratio', type: 'gauge' },
    { name: 'redis_evicted_keys_total', type: 'counter' },
    { name: 'redis_expired_keys_total', type: 'counter' },
    { name: 'redis_keyspace_hits_total', type: 'counter' },
    { name: 'redis_keyspace_misses_total', type: 'counter' },
    { name: 'redis_db_keys', type: 'gauge', labels: ['db'] },
    { name: 'redis_commands_processed_total', type: 'counter' },
    { name: 'redis_commands_total', type: 'counter', labels: ['cmd'] },
    { name: 'redis_commands_duration_seconds_total', type: 'counter', labels: ['cmd'] },
    { name: 'redis_total_error_replies', type: 'counter' },
    { name: 'redis_connected_clients', type: 'gauge' },
    { name: 'redis_blocked_clients', type: 'gauge' },
    { name: 'redis_config_maxclients', type: 'gauge' },
    { name: 'redis_config_maxmemory', type: 'gauge' },
    { name: 'redis_rejected_connections_total', type: 'counter' },
    { name: 'redis_connections_received_total', type: 'counter' },
    { name: 'redis_connected_slaves', type: 'gauge' },
    { name: 'redis_master_link_up', type: 'gauge', note: 'replicas only' },
    { name: 'redis_net_input_bytes_total', type: 'counter' },
    { name: 'redis_net_output_bytes_total', type: 'counter' },
  ],
};

/** Kong Gateway 3.x Prometheus plugin (status_code, latency, bandwidth, upstream_health and per_consumer metrics on). */
export const KONG: MetricSourceCatalog = {
  source: 'kong prometheus plugin',
  version: '3.x',
  families: [
    { name: 'kong_http_requests_total', type: 'counter', labels: ['service', 'route', 'code', 'source', 'consumer'] },
    { name: 'kong_stream_sessions_total', type: 'counter', labels: ['service', 'route', 'code', 'source'] },
    { name: 'kong_request_latency_ms', type: 'histogram', labels: ['service', 'route'] },
    { name: 'kong_upstream_latency_ms', type: 'histogram', labels: ['service', 'route'] },
    { name: 'kong_kong_latency_ms', type: 'histogram', labels: ['service', 'route'] },
    { name: 'kong_session_duration_ms', type: 'histogram', labels: ['service', 'route'] },
    { name: 'kong_bandwidth_bytes', type: 'counter', labels: ['service', 'route', 'direction', 'consumer'] },
    { name: 'kong_upstream_target_health', type: 'gauge', labels: ['upstream', 'target', 'address', 'state', 'subsystem'] },
    { name: 'kong_nginx_connections_total', type: 'gauge', labels: ['node_id', 'subsystem', 'state'] },
    { name: 'kong_nginx_requests_total', type: 'gauge', labels: ['node_id', 'subsystem'] },
    { name: 'kong_nginx_timers', type: 'gauge', labels: ['state'] },
    { name: 'kong_datastore_reachable', type: 'gauge' },
    { name: 'kong_node_info', type: 'gauge', labels: ['node_id', 'version'] },
    { name: 'kong_memory_workers_lua_vms_bytes', type: 'gauge', labels: ['node_id', 'pid', 'kong_subsystem'] },
    { name: 'kong_memory_lua_shared_dict_bytes', type: 'gauge', labels: ['node_id', 'shared_dict', 'kong_subsystem'] },
    { name: 'kong_memory_lua_shared_dict_total_bytes', type: 'gauge', labels: ['node_id', 'shared_dict', 'kong_subsystem'] },
    { name: 'kong_nginx_metric_errors_total', type: 'counter' },
  ],
};

/** Istio 1.2x standard metrics (sidecars' merged endpoint) and istiod. */
export const ISTIO: MetricSourceCatalog = {
  source: 'istio',
  version: '1.2x',
  families: [
    {
      name: 'istio_requests_total',
      type: 'counter',
      labels: ['reporter', 'source_workload', 'source_workload_namespace', 'destination_service', 'destination_workload', 'destination_workload_namespace', 'response_code', 'response_flags', 'connection_security_policy'],
    },
    { name: 'istio_request_duration_milliseconds', type: 'histogram', labels: ['reporter', 'source_workload', 'destination_service', 'response_code'] },
    { name: 'istio_request_bytes', type: 'histogram' },
    { name: 'istio_response_bytes', type: 'histogram' },
    { name: 'istio_tcp_sent_bytes_total', type: 'counter' },
    { name: 'istio_tcp_received_bytes_total', type: 'counter' },
    { name: 'istio_tcp_connections_opened_total', type: 'counter' },
    { name: 'istio_tcp_connections_closed_total', type: 'counter' },
    { name: 'pilot_xds_pushes', type: 'counter', labels: ['type'] },
    { name: 'pilot_xds', type: 'gauge', labels: ['version'] },
    { name: 'pilot_total_xds_rejects', type: 'counter' },
    { name: 'pilot_total_xds_internal_errors', type: 'counter' },
    { name: 'pilot_xds_push_time', type: 'histogram', labels: ['type'] },
    { name: 'pilot_proxy_convergence_time', type: 'histogram' },
    { name: 'pilot_services', type: 'gauge' },
  ],
};

export const CATALOGS: readonly MetricSourceCatalog[] = [PROMETHEUS_SCRAPE, REDIS_EXPORTER, KONG, ISTIO];

/** Series names a family yields in PromQL (histograms: _bucket, _sum, _count). */
export function seriesNames(family: MetricFamily): string[] {
  return family.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => `${family.name}${s}`) : [family.name];
}

/** Every queryable series name -> the catalog that provides it. */
export function knownSeries(catalogs: readonly MetricSourceCatalog[] = CATALOGS): Map<string, MetricSourceCatalog> {
  const out = new Map<string, MetricSourceCatalog>();
  for (const catalog of catalogs) for (const family of catalog.families) for (const name of seriesNames(family)) out.set(name, catalog);
  return out;
}
