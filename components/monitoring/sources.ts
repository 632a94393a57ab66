import { MetricsSource } from '../../lib/metrics';
import { Labels } from '../../lib/labels';
import { Workload } from '../../lib/workload';

/**
 * What the monitoring component needs from the components it watches, beyond their scrape endpoints.
 * Each is a small structural interface so that the components implement it without depending on
 * this folder (RedisCluster satisfies RedisMetricsSource as it is).
 */

/** A Redis Cluster whose redis_exporter sidecars are scraped. */
export interface RedisMetricsSource extends MetricsSource {
  readonly namespace: string;
  /** Shards; fewer masters than this means a shard has no master. */
  readonly masters: number;
}

/** The Kong gateway: its status endpoint serves the Prometheus plugin's metrics (Kong 3.x names). */
export interface GatewayMetricsSource extends MetricsSource {
  /**
   * The Redis holding the rate-limiting counters, when the gateway has one; its exporter is scraped
   * and its errors alert as rate-limit store errors.
   */
  readonly rateLimitStore?: MetricsSource & { readonly namespace: string };
}

/** The Istio mesh: the sidecars of the meshed workloads, and istiod. */
export interface MeshMetricsSource extends MetricsSource {
  /**
   * Workloads running an Istio sidecar. Each pod's merged metrics (application and Envoy, served by
   * the agent on 15020 at /stats/prometheus) are scraped.
   */
  readonly sidecarWorkloads?: readonly Workload[];
  /**
   * istiod, owned by the platform: scraped on its monitoring port, but no flow is declared for it
   * (a declared flow would give it NetworkPolicies and AuthorizationPolicies of this program).
   */
  readonly controlPlane?: { readonly namespace: string; readonly podLabels: Labels };
}

/** The mesh's metrics as the monitoring component reads them. */
export function istioMetricsSource(props: { controlPlane?: MeshMetricsSource['controlPlane']; sidecarWorkloads?: readonly Workload[] }): MeshMetricsSource {
  return { scrapeEndpoints: [], controlPlane: props.controlPlane, sidecarWorkloads: props.sidecarWorkloads };
}

/** The istio-agent's merged Prometheus endpoint on every sidecar. */
export const ISTIO_MERGED_METRICS_PORT = { name: 'http-merged-metrics', port: 15020 } as const;
export const ISTIO_MERGED_METRICS_PATH = '/stats/prometheus';
export const ISTIO_SIDECAR_JOB = 'istio-proxy';
/** istiod's Prometheus endpoint (pilot_* metrics). */
export const ISTIOD_MONITORING_PORT = { name: 'http-monitoring', port: 15014 } as const;
export const ISTIOD_JOB = 'istiod';
