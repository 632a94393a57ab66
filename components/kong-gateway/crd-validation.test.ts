import { SynthObject } from '../../stacks/synth';
import { newChart, synth } from '../../test/synth-helpers';
import { validConfig } from '../../test/helpers';
import { RedisCluster } from '../redis-cluster';
import { escapeCelProperty, KongCrdValidator } from './crd-validation';
import { kongFromConfig } from './from-config';
import { backendService, KongCrds, KongGateway, RateLimitRedis } from './index';
import { kongCrdManifestPath } from './crd-validation';

const validator = new KongCrdValidator();
const isKong = (o: SynthObject) => o.manifest.apiVersion.startsWith('configuration.konghq.com/');

const tiers = { free: { perMinute: 60, perDay: 1000 }, pro: { perSecond: 10, perMinute: 300, perHour: 5000, perDay: 50_000, perMonth: 1_000_000 } };
const consumers = [
  { name: 'acme', tier: 'free', keySecretId: 'kongConsumerKeyAcme' },
  { name: 'globex', tier: 'pro', customId: 'c-1', keySecretId: 'kongConsumerKeyGlobex' },
];
const api = backendService({ name: 'api', namespace: 'fingerprint', service: 'api', port: 80, podLabels: { app: 'api' }, serviceAccountName: 'api' });

function gatewayObjects(edition: 'oss' | 'enterprise', withCrds = false): SynthObject[] {
  const chart = newChart();
  const crds = withCrds ? new KongCrds(chart, 'crds', { manifestPath: kongCrdManifestPath() }) : undefined;
  const store = edition === 'oss' ? new RateLimitRedis(chart, 'counters') : new RedisCluster(chart, 'redis');
  new KongGateway(chart, 'kong', { edition, rateLimitStore: store, tiers, consumers, crds, routes: [{ name: 'r', path: '/v1', backend: api }] });
  return synth(chart);
}

describe('Kong custom resources against the CRD schemas of ../shared/crds/kong', () => {
  const cases: [string, SynthObject[]][] = [
    ['oss gateway', gatewayObjects('oss')],
    ['enterprise gateway', gatewayObjects('enterprise')],
    ...(['staging', 'prod'] as const).flatMap((stack) => {
      const config = validConfig(stack, {
        kong: { consumers: [{ name: 'acme', tier: 'free' }, { name: 'globex-eu', tier: 'enterprise', customId: 'cust-7' }] },
        kongConsumerKeys: { acme: { secure: 'v1:x' }, 'globex-eu': { secure: 'v1:y' } },
      });
      return config.regions.map((region): [string, SynthObject[]] => {
        const chart = newChart(region.name);
        const redis = new RedisCluster(chart, 'redis');
        kongFromConfig(chart, { settings: config.kong, sizing: region.kong, zones: region.zones, redis });
        return [`${stack}/${region.name} from stack config`, synth(chart)];
      });
    }),
  ];

  it.each(cases)('%s: every Kong custom resource validates (schema and x-kubernetes-validations)', (_name, objects) => {
    const kong = objects.filter(isKong);
    expect(kong.map((o) => o.manifest.kind).sort()).toEqual(expect.arrayContaining(['KongClusterPlugin', 'KongConsumer', 'KongPlugin']));
    for (const o of kong) expect([o.key, validator.validate(o.manifest)]).toEqual([o.key, []]);
  });

  it('keeps every object valid as an update when the edition is switched (transition rules)', () => {
    const before = new Map(gatewayObjects('oss').filter(isKong).map((o) => [o.key, o.manifest]));
    const after = gatewayObjects('enterprise').filter(isKong);
    const updated = after.filter((o) => before.has(o.key));
    expect(updated.length).toBeGreaterThan(3);
    for (const o of updated) expect([o.key, validator.validate(o.manifest, before.get(o.key))]).toEqual([o.key, []]);
  });
});

describe('KongCrdValidator', () => {
  const plugin = { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', metadata: { name: 'p', namespace: 'kong' }, plugin: 'key-auth', config: {} };

  it('serves the kinds of the published manifest', () => {
    expect(validator.servedKinds).toEqual(expect.arrayContaining(['configuration.konghq.com/v1/KongPlugin', 'configuration.konghq.com/v1/KongConsumer', 'configuration.konghq.com/v1/KongClusterPlugin']));
  });

  it('accepts a minimal valid plugin', () => {
    expect(validator.validate(plugin)).toEqual([]);
  });

  it('reports missing required fields, unknown fields, wrong types and scope', () => {
    const { plugin: _omit, ...noPlugin } = plugin;
    expect(validator.validate(noPlugin).join('\n')).toMatch(/must have required property 'plugin'/);
    expect(validator.validate({ ...plugin, confg: {} }).join('\n')).toMatch(/additional properties \(confg\)/);
    expect(validator.validate({ ...plugin, disabled: 'yes' }).join('\n')).toMatch(/\/disabled: must be boolean/);
    expect(validator.validate({ ...plugin, run_on: 'sometimes' }).join('\n')).toMatch(/\/run_on: must be equal to one of the allowed values/);
    expect(validator.validate({ ...plugin, configPatches: [{ path: '/x', valueFrom: { secretKeyRef: { name: 's' } } }] }).join('\n')).toMatch(/required property 'key'/);
    expect(validator.validate({ ...plugin, metadata: { name: 'p' } }).join('\n')).toMatch(/metadata.namespace: required/);
    expect(validator.validate({ ...plugin, kind: 'KongClusterPlugin', metadata: { name: 'p', namespace: 'kong' } }).join('\n')).toMatch(/must be empty for a cluster-scoped kind/);
    expect(validator.validate({ ...plugin, metadata: { name: 'Bad_Name', namespace: 'kong' } }).join('\n')).toMatch(/not a DNS-1123 subdomain/);
  });

  it('evaluates the CEL rules: config and configFrom, configFrom and configPatches', () => {
    const configFrom = { secretKeyRef: { name: 's', key: 'k' } };
    expect(validator.validate({ ...plugin, configFrom })).toEqual(['<root>: Using both config and configFrom fields is not allowed.']);
    const { config: _c, ...noConfig } = plugin;
    expect(validator.validate({ ...noConfig, configFrom })).toEqual([]);
    expect(validator.validate({ ...noConfig, configFrom, configPatches: [{ path: '/a', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] })).toEqual([
      '<root>: Using both configFrom and configPatches fields is not allowed.',
    ]);
  });

  it('evaluates a KongConsumer needing a username or custom_id', () => {
    const consumer = { apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer', metadata: { name: 'c', namespace: 'kong' } };
    expect(validator.validate(consumer)).toEqual(['<root>: Need to provide either username or custom_id']);
    expect(validator.validate({ ...consumer, custom_id: 'x' })).toEqual([]);
  });

  it('evaluates nested rules on present fields only', () => {
    const consumer = { apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer', metadata: { name: 'c', namespace: 'kong' }, username: 'u' };
    expect(validator.validate({ ...consumer, spec: { tags: ['ok'] } })).toEqual([]);
    expect(validator.validate({ ...consumer, spec: { tags: ['x'.repeat(129)] } })).toEqual(['.spec.tags: tags entries must not be longer than 128 characters']);
  });

  it('runs transition rules only on updates', () => {
    expect(validator.validate(plugin)).toEqual([]);
    expect(validator.validate(plugin, { ...plugin })).toEqual([]);
    expect(validator.validate(plugin, { ...plugin, plugin: 'rate-limiting' })).toEqual(['<root>: The plugin field is immutable']);
  });

  it('escapes property names the way the API server does for CEL', () => {
    expect(escapeCelProperty('namespace')).toBe('__namespace__');
    expect(escapeCelProperty('a-b.c/d')).toBe('a__dash__b__dot__c__slash__d');
    expect(escapeCelProperty('x__y')).toBe('x__underscores__y');
    expect(escapeCelProperty('1abc')).toBeUndefined();
  });
});
