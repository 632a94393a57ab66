import { App, Chart } from 'cdk8s';
import { CacheManagement } from '../components/cache-management';
import { kongFromConfig, RegionKong } from '../components/kong-gateway/from-config';
import { IstioMesh, pinnedService, redisMeshServices } from '../components/istio-mesh';
import { meshFromConfig } from '../components/istio-mesh/from-config';
import { PROXY_HTTP_PORT } from '../components/kong-gateway';
import { COUNTER_REDIS_PORT_REF } from '../components/kong-gateway/rate-limit-redis';
import { RedisCluster } from '../components/redis-cluster';
import { Monitoring } from '../components/monitoring';
import { monitoringFromConfig } from '../components/monitoring/from-config';
import { istioMetricsSource } from '../components/monitoring/sources';
import { RegionConfig, StackConfig } from './config/load';

/** The constructs of one region, and what the deploy layer and outputs need from them. */
export interface RegionChart {
  readonly region: RegionConfig;
  readonly chart: Chart;
  readonly redis: RedisCluster;
  readonly cacheManagement: CacheManagement;
  /** API gateway, its counter store (edition oss) and CRDs (when installed). */
  readonly kong: RegionKong;
  /** Istio configuration of the region's namespaces, ingress and east-west gateway. */
  readonly mesh: IstioMesh;
  /** Scrape monitors, alert rules and dashboards (and, in mode standalone, Prometheus, Alertmanager and Grafana). */
  readonly monitoring: Monitoring;
}

/**
 * Composes one region's components. Pure cdk8s: no Pulumi import, so it synthesizes and tests
 * alone; the Pulumi program and the offline render both call it. A new component is one more
 * construct here, wired to the others by object reference.
 */
export function buildRegionChart(config: StackConfig, region: RegionConfig): RegionChart {
  const app = new App();
  const chart = new Chart(app, region.name, {
    disableResourceNameHashes: true,
    labels: { 'fingerprint.io/region': region.name, 'fingerprint.io/environment': config.environment },
  });
  const redis = new RedisCluster(chart, 'redis', {
    namespace: region.redis.namespace,
    masters: region.redis.masters,
    replicasPerMaster: region.redis.replicasPerMaster,
    image: region.redis.image,
    exporterImage: region.redis.exporterImage,
    cpuRequest: region.redis.cpuRequest,
    cpuLimit: region.redis.cpuLimit,
    memory: region.redis.memory,
    maxmemoryBytes: region.redis.maxmemoryBytes,
    maxmemoryPolicy: region.redis.maxmemoryPolicy,
    nodeTimeoutMs: region.redis.nodeTimeoutMs,
    storageSize: region.redis.storageSize,
    storageClassName: region.redis.storageClassName,
    zones: region.zones,
  });
  const cacheManagement = new CacheManagement(chart, 'cache-management', {
    cluster: redis,
    healthCheckSchedule: region.redis.healthCheckSchedule,
    snapshotSchedule: region.redis.snapshotSchedule,
    defaultTtlSeconds: config.cachePolicy.defaultTtlSeconds,
    ttlRules: config.cachePolicy.prefixes,
  });
  const kong = kongFromConfig(chart, { settings: config.kong, sizing: region.kong, zones: region.zones, redis });
  const mesh = meshFromConfig(chart, {
    settings: config.mesh,
    region: region.mesh,
    zones: region.zones,
    services: [...redisMeshServices(redis), ...(kong.rateLimitRedis ? [pinnedService(kong.rateLimitRedis, [COUNTER_REDIS_PORT_REF])] : [])],
    metricsSources: [redis, kong.gateway, ...(kong.rateLimitRedis ? [kong.rateLimitRedis] : [])],
    // Kong's proxy Service maps port 80 to its HTTP listener.
    ingressTarget: { serviceName: kong.gateway.proxyServiceName, namespace: kong.gateway.namespace, port: PROXY_HTTP_PORT, servicePort: 80, workload: kong.gateway.workload },
  });

  // Declares the Prometheus -> workload flow of every scrape endpoint (so last, after the sources).
  const monitoring = monitoringFromConfig(chart, {
    settings: config.monitoring,
    region: region.name,
    environment: config.environment,
    zones: region.zones,
    redis,
    gateway: { scrapeEndpoints: kong.gateway.scrapeEndpoints, rateLimitStore: kong.rateLimitRedis ?? redis },
    mesh: istioMetricsSource({
      controlPlane: config.mesh.controlPlane,
      sidecarWorkloads: [redis.workload, kong.gateway.workload, ...(kong.rateLimitRedis ? [kong.rateLimitRedis.workload] : [])],
    }),
  });

  return { region, chart, redis, cacheManagement, kong, mesh, monitoring };
}
