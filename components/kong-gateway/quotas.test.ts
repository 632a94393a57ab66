import { placeholderSecretId } from '../../lib/secrets';
import { find, newChart, ofKind, synth } from '../../test/synth-helpers';
import { RedisCluster } from '../redis-cluster';
import { advancedRateLimitingConfig, KongGateway, KongGatewayProps, ossRateLimitingConfig, PROMETHEUS_PLUGIN_CONFIG, RateLimitRedis } from './index';

const tiers = {
  free: { perMinute: 60, perDay: 10_000 },
  pro: { perSecond: 20, perMinute: 600, perDay: 500_000 },
};
const consumers = [
  { name: 'acme', tier: 'free', keySecretId: 'kongConsumerKeyAcme' },
  { name: 'globex-eu', tier: 'pro', customId: 'cust-42', keySecretId: 'kongConsumerKeyGlobexXeu' },
];

function oss(props: Partial<KongGatewayProps> = {}) {
  const chart = newChart();
  const store = new RateLimitRedis(chart, 'counters');
  const gateway = new KongGateway(chart, 'kong', { rateLimitStore: store, tiers, consumers, ...props });
  return { gateway, store, objects: synth(chart) };
}

function enterprise(props: Partial<KongGatewayProps> = {}) {
  const chart = newChart();
  const redis = new RedisCluster(chart, 'redis', { masters: 3, replicasPerMaster: 1 });
  const gateway = new KongGateway(chart, 'kong', { edition: 'enterprise', rateLimitStore: redis, tiers, consumers, ...props });
  return { gateway, redis, objects: synth(chart) };
}

describe('rate limiting backed by Redis', () => {
  it('configures Kong OSS rate-limiting per tier: redis policy, fault tolerant, per consumer', () => {
    const { objects, store } = oss({ syncRateSeconds: 2 });
    const pro = find(objects, 'KongPlugin', 'kong-pro-rate-limiting', 'kong') as any;
    expect(pro.plugin).toBe('rate-limiting');
    expect(pro.config).toEqual({
      second: 20,
      minute: 600,
      day: 500_000,
      limit_by: 'consumer',
      policy: 'redis',
      fault_tolerant: true,
      hide_client_headers: false,
      sync_rate: 2,
      redis: { host: store.host, port: 6379, database: 0, timeout: 2000, ssl: false },
    });
    expect(store.host).toBe('kong-rate-limit-redis.kong.svc.cluster.local');
  });

  it('is synchronous by default', () => {
    const free = find(oss().objects, 'KongPlugin', 'kong-free-rate-limiting', 'kong') as any;
    expect(free.config.sync_rate).toBe(-1);
  });

  it('passes the Redis password by Secret reference, never in the custom resource', () => {
    const { objects, store } = oss();
    for (const plugin of ofKind(objects, 'KongPlugin') as any[]) {
      expect(plugin.configPatches).toEqual([{ path: '/redis/password', valueFrom: { secretKeyRef: { name: store.passwordSecret.name, key: 'password' } } }]);
      expect(JSON.stringify(plugin.config)).not.toMatch(/password/i);
    }
  });

  it('uses rate-limiting-advanced against the Redis Cluster nodes with edition enterprise', () => {
    const { objects, redis } = enterprise({ syncRateSeconds: 0.5 });
    const pro = find(objects, 'KongPlugin', 'kong-pro-rate-limiting-advanced', 'kong') as any;
    expect(pro.plugin).toBe('rate-limiting-advanced');
    expect(pro.config).toMatchObject({
      limit: [20, 600, 500_000],
      window_size: [1, 60, 86400],
      identifier: 'consumer',
      strategy: 'redis',
      sync_rate: 0.5,
      namespace: 'tier-pro',
    });
    expect(pro.config.redis.cluster_nodes).toEqual(redis.nodeHostnames.map((ip) => ({ ip, port: 6379 })));
    expect(pro.config.redis.cluster_nodes).toHaveLength(6);
    // The cluster's password is provided in the gateway namespace under the same Pulumi secret.
    const copy = find(objects, 'Secret', 'kong-rate-limit-store-auth', 'kong') as any;
    expect(placeholderSecretId(copy.stringData.password)).toBe('redisPassword');
    expect(pro.configPatches[0].valueFrom.secretKeyRef).toEqual({ name: 'kong-rate-limit-store-auth', key: 'password' });
    // ...and the cluster admits the gateway on its Redis port only.
    const clusterPolicy = find(objects, 'NetworkPolicy', 'redis', 'cache') as any;
    const fromKong = clusterPolicy.spec.ingress.filter((r: any) => r.from[0].podSelector.matchLabels['app.kubernetes.io/name'] === 'kong');
    expect(fromKong.map((r: any) => r.ports.map((p: any) => p.port))).toEqual([[6379]]);
  });

  it('runs the Enterprise image with its license from a Secret', () => {
    const { objects } = enterprise();
    const pod = (find(objects, 'Deployment', 'kong', 'kong') as any).spec.template.spec;
    const proxy = pod.containers.find((c: any) => c.name === 'proxy');
    expect(proxy.image).toBe('kong/kong-gateway:3.9');
    expect(proxy.env.find((e: any) => e.name === 'KONG_LICENSE_DATA').valueFrom.secretKeyRef).toEqual({ name: 'kong-license', key: 'license' });
    expect(placeholderSecretId((find(objects, 'Secret', 'kong-license', 'kong') as any).stringData.license)).toBe('kongLicense');
  });

  it('names tier plugins by plugin type, since KongPlugin.plugin is immutable', () => {
    const ossNames = ofKind(oss().objects, 'KongPlugin').map((p) => p.metadata.name);
    const entNames = ofKind(enterprise().objects, 'KongPlugin').map((p) => p.metadata.name);
    expect(ossNames.filter((n) => entNames.includes(n))).toEqual([]);
  });

  it('translates windows exactly', () => {
    expect(() => ossRateLimitingConfig({}, { mode: 'single', host: 'h', port: 1 }, { hideClientHeaders: false })).toThrow(/at least one window/);
    expect(() => ossRateLimitingConfig({ perMinute: 1 }, { mode: 'cluster', nodes: [] }, { hideClientHeaders: false })).toThrow(/does not support Redis Cluster/);
    expect(advancedRateLimitingConfig('t', { perHour: 5, perMonth: 100 }, { mode: 'single', host: 'h', port: 1 }, { hideClientHeaders: true })).toMatchObject({
      limit: [5, 100],
      window_size: [3600, 2_592_000],
      sync_rate: 0,
      hide_client_headers: true,
      redis: { host: 'h', port: 1 },
    });
  });
});

describe('consumers and quotas', () => {
  const { objects, gateway } = oss();

  it('creates one KongConsumer per consumer with its tier plugin attached', () => {
    const acme = find(objects, 'KongConsumer', 'kong-consumer-acme', 'kong') as any;
    expect(acme.username).toBe('acme');
    expect(acme.custom_id).toBeUndefined();
    expect(acme.metadata.annotations).toEqual({ 'kubernetes.io/ingress.class': 'kong', 'konghq.com/plugins': 'kong-free-rate-limiting' });
    expect(acme.credentials).toEqual(['kong-consumer-acme-key-auth']);
    const globex = find(objects, 'KongConsumer', 'kong-consumer-globex-eu', 'kong') as any;
    expect(globex.custom_id).toBe('cust-42');
    expect(globex.metadata.annotations['konghq.com/plugins']).toBe(gateway.tierPluginNames.pro);
  });

  it('keeps key-auth credentials in labelled Secrets whose values are placeholders', () => {
    const secret = find(objects, 'Secret', 'kong-consumer-acme-key-auth', 'kong') as any;
    expect(secret.metadata.labels['konghq.com/credential']).toBe('key-auth');
    expect(Object.keys(secret.stringData)).toEqual(['key']);
    expect(placeholderSecretId(secret.stringData.key)).toBe('kongConsumerKeyAcme');
  });

  it('orders each credential Secret before its consumer', () => {
    const consumer = objects.find((o) => o.key === 'configuration.konghq.com/v1/KongConsumer/kong/kong-consumer-acme')!;
    expect(consumer.dependsOn).toContain('v1/Secret/kong/kong-consumer-acme-key-auth');
  });

  it('enables the prometheus plugin globally with every optional metric family on', () => {
    const prom = find(objects, 'KongClusterPlugin', 'kong-prometheus') as any;
    expect(prom.plugin).toBe('prometheus');
    expect(prom.metadata.labels.global).toBe('true');
    expect(prom.config).toEqual(PROMETHEUS_PLUGIN_CONFIG);
    for (const flag of ['status_code_metrics', 'latency_metrics', 'bandwidth_metrics', 'upstream_health_metrics', 'per_consumer']) expect(prom.config[flag]).toBe(true);
  });

  it('authenticates routes with key-auth and keeps the key from upstreams', () => {
    const keyAuth = find(objects, 'KongClusterPlugin', gateway.keyAuthPluginName) as any;
    expect(keyAuth.plugin).toBe('key-auth');
    expect(keyAuth.config).toMatchObject({ key_names: ['apikey'], hide_credentials: true });
    expect(keyAuth.metadata.labels.global).toBeUndefined();
  });

  it('changes only the new consumer\'s objects when a consumer is added', () => {
    const before = new Map(objects.map((o) => [o.key, JSON.stringify(o.manifest)]));
    const after = oss({ consumers: [...consumers, { name: 'initech', tier: 'free', keySecretId: 'kongConsumerKeyInitech' }] }).objects;
    const changed = after.filter((o) => before.get(o.key) !== JSON.stringify(o.manifest)).map((o) => o.key);
    expect(changed.sort()).toEqual(['configuration.konghq.com/v1/KongConsumer/kong/kong-consumer-initech', 'v1/Secret/kong/kong-consumer-initech-key-auth']);
    expect(after).toHaveLength(objects.length + 2);
  });
});
