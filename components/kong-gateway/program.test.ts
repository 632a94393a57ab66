import { PROJECT } from '../../stacks/config/load';
import { engineConfig, mockPassword, Registered, runProgram as runMockProgram } from '../../test/program-harness';

/**
 * The Pulumi program under the SDK's mocks: one gateway per region with its plugins and consumers,
 * consumer keys only in Secrets, and a consumer added to the config touching only its own resources.
 */
const KEYS_KEY = `${PROJECT}:kongConsumerKeys`;

/** Two runs in one file: without a root Stack resource (see test/program-harness.ts). */
const runProgram = (stack: string, config: Record<string, string>, secretKeys: string[]) => runMockProgram(stack, config, secretKeys, { stackResource: false });

const keys = { acme: 'acmeKey_0123456789abcdefghijklmn', initech: 'initechKey_0123456789abcdefghijk' };

function kongConfig(stack: string, consumers: { name: string; tier: string }[]) {
  return engineConfig(stack, {
    [`${PROJECT}:kong`]: {
      consumers,
      backends: {
        'fingerprint-api': { namespace: 'fingerprint', service: 'fingerprint-api', port: 80, targetPort: 8080, podLabels: { app: 'fingerprint-api' }, serviceAccountName: 'fingerprint-api' },
      },
      routes: [{ name: 'fingerprint', path: '/v1/fingerprint', backend: 'fingerprint-api' }],
    },
    [KEYS_KEY]: Object.fromEntries(consumers.map((c) => [c.name, keys[c.name as keyof typeof keys]])),
  });
}

const byName = (registered: Registered[]) => new Map(registered.map((r) => [r.name, JSON.stringify(r.inputs)]));

describe('Pulumi program with the Kong gateway (mocks)', () => {
  let one: Awaited<ReturnType<typeof runProgram>>;
  let two: Awaited<ReturnType<typeof runProgram>>;

  beforeAll(async () => {
    one = await runProgram('prod', kongConfig('prod', [{ name: 'acme', tier: 'pro' }]), [KEYS_KEY]);
    const first = byName(one.registered);
    (one as { snapshot?: Map<string, string> }).snapshot = first;
    two = await runProgram('prod', kongConfig('prod', [{ name: 'acme', tier: 'pro' }, { name: 'initech', tier: 'free' }]), [KEYS_KEY]);
  });

  it('deploys one gateway per region, with its tier plugins, consumers and global plugins', () => {
    const regions = one.stackConfig.regions.map((r) => r.name);
    expect(regions).toHaveLength(3);
    const names = one.registered.map((r) => r.name);
    for (const region of regions) {
      expect(names.filter((n) => n === `${region}/deployment/kong/kong`)).toHaveLength(1);
      expect(names).toEqual(
        expect.arrayContaining([
          `${region}/horizontalpodautoscaler/kong/kong`,
          `${region}/kongclusterplugin/_cluster/kong-prometheus`,
          `${region}/kongclusterplugin/_cluster/kong-key-auth`,
          `${region}/kongplugin/kong/kong-free-rate-limiting`,
          `${region}/kongplugin/kong/kong-pro-rate-limiting`,
          `${region}/kongplugin/kong/kong-enterprise-rate-limiting`,
          `${region}/kongconsumer/kong/kong-consumer-acme`,
          `${region}/secret/kong/kong-consumer-acme-key-auth`,
          `${region}/deployment/kong/kong-rate-limit-redis`,
          `${region}/ingress/fingerprint/fingerprint`,
        ]),
      );
    }
    const deployments = one.registered.filter((r) => r.type === 'kubernetes:apps/v1:Deployment' && r.name.endsWith('/kong/kong'));
    expect(deployments).toHaveLength(3);
    const plugins = one.registered.filter((r) => r.type === 'kubernetes:configuration.konghq.com/v1:KongPlugin');
    expect(plugins).toHaveLength(3 * 3);
    expect(new Set(plugins.map((p) => p.inputs.plugin))).toEqual(new Set(['rate-limiting']));
    // Each region's consumer uses that region's provider.
    for (const region of regions) {
      const consumer = one.registered.find((r) => r.name === `${region}/kongconsumer/kong/kong-consumer-acme`)!;
      expect(consumer.provider).toContain(`::${region}::`);
      expect(consumer.inputs.metadata.annotations['konghq.com/plugins']).toBe('kong-pro-rate-limiting');
    }
  });

  it('puts consumer keys only into key-auth Secrets', () => {
    const carrying = one.registered.filter((r) => JSON.stringify(r.inputs).includes(keys.acme));
    expect(carrying.map((r) => r.name).sort()).toEqual(one.stackConfig.regions.map((r) => `${r.name}/secret/kong/kong-consumer-acme-key-auth`).sort());
    for (const r of carrying) expect(r.type).toBe('kubernetes:core/v1:Secret');
    expect(JSON.stringify(one.outputs)).not.toContain(keys.acme);
  });

  it('generates a separate counter-store password per region and gives it only to Secrets', () => {
    const passwords = one.registered.filter((r) => r.type === 'random:index/randomPassword:RandomPassword' && r.name.endsWith('/kongRateLimitRedisPassword'));
    expect(passwords.map((p) => p.name).sort()).toEqual(one.stackConfig.regions.map((r) => `${r.name}/kongRateLimitRedisPassword`).sort());
    for (const p of passwords) {
      const carrying = one.registered.filter((r) => r !== p && JSON.stringify(r.inputs).includes(mockPassword(p.name)));
      expect(carrying.map((r) => r.name)).toEqual([`${p.name.split('/')[0]}/secret/kong/kong-rate-limit-redis-auth`]);
    }
  });

  it('changes only the added consumer\'s resources when a consumer is added', () => {
    const before = (one as { snapshot?: Map<string, string> }).snapshot!;
    const after = byName(two.registered);
    const added = [...after.keys()].filter((n) => !before.has(n)).sort();
    const removed = [...before.keys()].filter((n) => !after.has(n));
    const changed = [...after.keys()].filter((n) => before.has(n) && before.get(n) !== after.get(n));
    const regions = two.stackConfig.regions.map((r) => r.name);
    expect(added).toEqual(regions.flatMap((r) => [`${r}/kongconsumer/kong/kong-consumer-initech`, `${r}/secret/kong/kong-consumer-initech-key-auth`]).sort());
    expect(removed).toEqual([]);
    expect(changed).toEqual([]);
  });
});
