import { App, Chart } from 'cdk8s';
import { CacheManagement } from '../components/cache-management';
import { RedisCluster } from '../components/redis-cluster';
import { Peer } from '../lib/workload';
import { RegionConfig, StackConfig } from './config/load';

/** The constructs of one region, and what the deploy layer and outputs need from them. */
export interface RegionChart {
  readonly region: RegionConfig;
  readonly chart: Chart;
  readonly redis: RedisCluster;
  readonly cacheManagement: CacheManagement;
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
  const prometheus: Peer = { ...config.monitoring.prometheus, description: 'Prometheus' };

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
    metricsScraper: prometheus,
  });
  const cacheManagement = new CacheManagement(chart, 'cache-management', {
    cluster: redis,
    healthCheckSchedule: region.redis.healthCheckSchedule,
    snapshotSchedule: region.redis.snapshotSchedule,
    defaultTtlSeconds: config.cachePolicy.defaultTtlSeconds,
    ttlRules: config.cachePolicy.prefixes,
  });

  return { region, chart, redis, cacheManagement };
}
