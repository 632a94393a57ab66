import { readStackFile, validateStackConfig } from '../../stacks/config/load';
import { problemsOf, rawConfig, region, validConfig } from '../../test/helpers';
import { consumerKeySecretId } from './config';

const regions = [region('us-east-1', 1), region('eu-west-1', 2)];
const key = 'k'.repeat(32);

describe('kong config section', () => {
  it('applies per-environment defaults (min 2 replicas in prod)', () => {
    const staging = validConfig('staging');
    const prod = validConfig('prod');
    expect(staging.kong).toMatchObject({ namespace: 'kong', edition: 'oss', image: 'kong:3.9.1', controllerImage: 'kong/kubernetes-ingress-controller:3.5.1', minReplicas: 1 });
    expect(prod.kong.minReplicas).toBe(2);
    expect(prod.regions[0].kong).toMatchObject({ minReplicas: 2, maxReplicas: 10, cpuLimit: '2' });
    expect(staging.kong.crds).toEqual({ install: false });
    expect(staging.kong.proxy.serviceType).toBe('LoadBalancer');
    expect(Object.keys(staging.kong.tiers)).toEqual(['free', 'pro', 'enterprise']);
    expect(staging.secrets.kongRateLimitRedisPassword).toEqual({ from: 'generated', length: 40 });
  });

  it('accepts both committed stack files', () => {
    for (const stack of ['staging', 'prod']) expect(validateStackConfig(readStackFile(stack)).kong.edition).toBe('oss');
  });

  it('applies region overrides', () => {
    const config = validConfig('prod', { regions: [region('us-east-1', 1, { kong: { minReplicas: 4, maxReplicas: 20 } }), region('eu-west-1', 2)] });
    expect(config.regions.map((r) => [r.name, r.kong.minReplicas, r.kong.maxReplicas])).toEqual([
      ['us-east-1', 4, 20],
      ['eu-west-1', 2, 10],
    ]);
    expect(problemsOf(rawConfig('prod', { regions: [region('us-east-1', 1, { kong: { maxReplicas: 1 } })] }))).toEqual([
      'Pulumi.prod.yaml: fingerprint-infra:regions[0].kong.maxReplicas: must be at least minReplicas (2) (region us-east-1)',
    ]);
  });

  it('maps each consumer to its own secret in kongConsumerKeys', () => {
    const config = validateStackConfig(
      rawConfig('staging', { regions, kong: { consumers: [{ name: 'acme', tier: 'pro' }, { name: 'globex-eu', tier: 'free' }] }, kongConsumerKeys: JSON.stringify({ acme: key, 'globex-eu': key }) }, ['kongConsumerKeys']),
    );
    expect(config.secrets[consumerKeySecretId('acme')]).toEqual({ from: 'config', key: 'kongConsumerKeys', path: ['acme'] });
    expect(config.secrets[consumerKeySecretId('globex-eu')]).toEqual({ from: 'config', key: 'kongConsumerKeys', path: ['globex-eu'] });
  });

  it('derives distinct placeholder-safe secret ids from consumer names', () => {
    const names = ['a-1', 'a1', 'ab-c', 'a-bc', 'x', 'x-y'];
    const ids = names.map(consumerKeySecretId);
    expect(new Set(ids).size).toBe(names.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
  });

  it('accepts per-consumer secure values in the stack file', () => {
    const raw = rawConfig('staging', { regions, kong: { consumers: [{ name: 'acme', tier: 'pro' }] }, kongConsumerKeys: { acme: { secure: 'v1:abc' } } });
    expect(problemsOf(raw)).toEqual([]);
  });

  it.each([
    [
      'a consumer without a key',
      rawConfig('staging', { regions, kong: { consumers: [{ name: 'acme', tier: 'pro' }, { name: 'initech', tier: 'free' }] }, kongConsumerKeys: { acme: { secure: 'v1:a' } } }),
      [`Pulumi.staging.yaml: fingerprint-infra:kongConsumerKeys.initech: is required: consumer "initech" has no key (run: pulumi config set --secret --path 'kongConsumerKeys["initech"]' <key>)`],
    ],
    [
      'consumers and no kongConsumerKeys at all',
      rawConfig('staging', { regions, kong: { consumers: [{ name: 'acme', tier: 'pro' }] } }),
      [`Pulumi.staging.yaml: fingerprint-infra:kongConsumerKeys: is required: every consumer needs a key-auth key (run: pulumi config set --secret --path 'kongConsumerKeys["acme"]' <key>)`],
    ],
    [
      'a key stored in plaintext in the stack file',
      rawConfig('staging', { regions, kong: { consumers: [{ name: 'acme', tier: 'pro' }] }, kongConsumerKeys: { acme: key } }),
      [`Pulumi.staging.yaml: fingerprint-infra:kongConsumerKeys.acme: must be stored as a secret, not in plaintext (run: pulumi config set --secret --path 'kongConsumerKeys["acme"]' <key>)`],
    ],
    [
      'a key that is too short (engine view)',
      rawConfig('staging', { regions, kong: { consumers: [{ name: 'acme', tier: 'pro' }] }, kongConsumerKeys: JSON.stringify({ acme: 'short' }) }, ['kongConsumerKeys']),
      ['Pulumi.staging.yaml: fingerprint-infra:kongConsumerKeys.acme: must be at least 24 characters of letters, digits, "_" or "-"'],
    ],
    [
      'a key for an unknown consumer',
      rawConfig('staging', { regions, kongConsumerKeys: { ghost: { secure: 'v1:a' } } }),
      ['Pulumi.staging.yaml: fingerprint-infra:kongConsumerKeys.ghost: no consumer "ghost" in kong.consumers (remove the key or add the consumer)'],
    ],
    [
      'an unknown tier and a duplicate consumer',
      rawConfig('staging', { regions, kong: { consumers: [{ name: 'acme', tier: 'gold' }, { name: 'acme', tier: 'free' }] }, kongConsumerKeys: { acme: { secure: 'v1:a' } } }),
      [
        'Pulumi.staging.yaml: fingerprint-infra:kong.consumers[0].tier: unknown tier (tiers: free, pro, enterprise) (got "gold")',
        'Pulumi.staging.yaml: fingerprint-infra:kong.consumers[1].name: duplicate consumer (also consumers[0]) (got "acme")',
      ],
    ],
    [
      'a tier whose longer window is below its shorter one',
      rawConfig('staging', { regions, kong: { tiers: { odd: { perMinute: 100, perDay: 50 } } } }),
      ['Pulumi.staging.yaml: fingerprint-infra:kong.tiers.odd.perDay: must be at least perMinute (100), or perMinute can never be reached (got 50)'],
    ],
    [
      'a tier with no limit',
      rawConfig('staging', { regions, kong: { tiers: { none: {} } } }),
      ['Pulumi.staging.yaml: fingerprint-infra:kong.tiers.none: must set at least one of perSecond, perMinute, perHour, perDay, perMonth (got {})'],
    ],
    [
      'a route to an undeclared backend',
      rawConfig('staging', { regions, kong: { routes: [{ name: 'fp', path: '/v1/fingerprint', backend: 'api' }] } }),
      ['Pulumi.staging.yaml: fingerprint-infra:kong.routes[0].backend: unknown backend (backends: none) (got "api")'],
    ],
    [
      'enterprise without a license',
      rawConfig('staging', { regions, kong: { edition: 'enterprise' } }),
      ['Pulumi.staging.yaml: fingerprint-infra:kongLicense: is required when kong.edition is "enterprise" (run: pulumi config set --secret kongLicense < license.json)'],
    ],
    [
      'CRD installation without a manifest',
      rawConfig('staging', { regions, kong: { crds: { install: true } } }),
      ['Pulumi.staging.yaml: fingerprint-infra:kong.crds.manifest: is required when crds.install is true (path of Kong\'s CRD manifest for the controller version) (got nothing)'],
    ],
    [
      'a manifest path that does not exist',
      rawConfig('staging', { regions, kong: { crds: { install: true, manifest: 'vendor/kong/crds.yaml' } } }),
      ['Pulumi.staging.yaml: fingerprint-infra:kong.crds.manifest: does not exist (relative paths resolve against the project root) (got "vendor/kong/crds.yaml")'],
    ],
    [
      'an unpinned image and a typo',
      rawConfig('staging', { regions, kong: { image: 'kong:latest', minReplica: 2 } }),
      [
        'Pulumi.staging.yaml: fingerprint-infra:kong: unknown key "minReplica" (check the spelling)',
        'Pulumi.staging.yaml: fingerprint-infra:kong.image: must be pinned to a version tag or digest (not untagged or :latest) (got "kong:latest")',
      ],
    ],
  ])('reports %s with the stack file and key path', (_name, raw, expected) => {
    expect(problemsOf(raw).sort()).toEqual([...expected].sort());
  });

  it('never echoes a key value in a problem', () => {
    const secretValue = 'tooShortSecretValue';
    const problems = problemsOf(rawConfig('staging', { regions, kong: { consumers: [{ name: 'acme', tier: 'pro' }] }, kongConsumerKeys: JSON.stringify({ acme: secretValue }) }, ['kongConsumerKeys']));
    expect(problems).toHaveLength(1);
    expect(problems.join('\n')).not.toContain(secretValue);
  });
});
