import * as path from 'path';
import { Construct } from 'constructs';
import { Peer } from '../../lib/workload';
import { RedisCluster } from '../redis-cluster';
import { consumerKeySecretId, COUNTER_REDIS_PASSWORD_SECRET_ID, EffectiveKong, KongSettings, LICENSE_SECRET_ID, PROJECT_ROOT } from './config';
import { KongCrds } from './crds';
import { backendService, KongGateway } from './index';
import { RateLimitRedis } from './rate-limit-redis';

export interface RegionKongProps {
  readonly settings: KongSettings;
  /** The region's sizing (overrides applied). */
  readonly sizing: EffectiveKong;
  readonly zones: readonly string[];
  /** The region's Redis Cluster; the counter store with edition enterprise. */
  readonly redis: RedisCluster;
  readonly metricsScraper?: Peer;
}

export interface RegionKong {
  readonly gateway: KongGateway;
  /** The dedicated counter store (edition oss). */
  readonly rateLimitRedis?: RateLimitRedis;
  /** Installed CRDs (crds.install). */
  readonly crds?: KongCrds;
}

/** The region's gateway as the stack config describes it, wired to the region's components by reference. */
export function kongFromConfig(scope: Construct, props: RegionKongProps): RegionKong {
  const { settings, sizing } = props;
  // CRDs first: the synthesized order is the registration order, and CRs depend on them.
  const crds = settings.crds.install
    ? new KongCrds(scope, 'kong-crds', { manifestPath: path.resolve(PROJECT_ROOT, settings.crds.manifest!) })
    : undefined;
  const rateLimitRedis =
    settings.edition === 'oss'
      ? new RateLimitRedis(scope, 'kong-rate-limit-redis', {
          namespace: settings.namespace,
          image: settings.rateLimiting.redis.image,
          exporterImage: settings.rateLimiting.redis.exporterImage,
          memory: settings.rateLimiting.redis.memory,
          cpuRequest: settings.rateLimiting.redis.cpuRequest,
          cpuLimit: settings.rateLimiting.redis.cpuLimit,
          passwordSecretId: COUNTER_REDIS_PASSWORD_SECRET_ID,
          metricsScraper: props.metricsScraper,
        })
      : undefined;
  const backends = Object.fromEntries(Object.entries(settings.backends).map(([name, b]) => [name, backendService({ name, ...b })]));
  const gateway = new KongGateway(scope, 'kong', {
    namespace: settings.namespace,
    edition: settings.edition,
    image: settings.edition === 'enterprise' ? settings.enterpriseImage : settings.image,
    controllerImage: settings.controllerImage,
    ingressClass: settings.ingressClass,
    ...sizing,
    targetCpuUtilization: settings.targetCpuUtilization,
    zones: props.zones,
    proxyServiceType: settings.proxy.serviceType,
    proxyServiceAnnotations: settings.proxy.annotations,
    proxySourceRanges: settings.proxy.sourceRanges,
    apiServer: settings.apiServer,
    crds,
    rateLimitStore: rateLimitRedis ?? props.redis,
    syncRateSeconds: settings.rateLimiting.syncRateSeconds,
    hideClientHeaders: settings.rateLimiting.hideClientHeaders,
    tiers: settings.tiers,
    consumers: settings.consumers.map((c) => ({ ...c, keySecretId: consumerKeySecretId(c.name) })),
    routes: settings.routes.map((r) => ({ name: r.name, path: r.path, backend: backends[r.backend], hosts: r.hosts, stripPath: r.stripPath })),
    metricsScraper: props.metricsScraper,
    licenseSecretId: LICENSE_SECRET_ID,
  });
  return { gateway, rateLimitRedis, crds };
}
