import { readStackFile, validateStackConfig } from '../../stacks/config/load';
import { problemsOf, rawConfig, region } from '../../test/helpers';

const regions = [region('us-east-1', 1), region('eu-west-1', 2), region('ap-southeast-1', 3)];

describe('mesh config', () => {
  it('applies per-environment defaults', () => {
    const staging = validateStackConfig(rawConfig('staging', { regions }));
    const prod = validateStackConfig(rawConfig('prod', { regions }));
    expect(staging.mesh).toMatchObject({ meshId: 'fingerprint-staging', injection: 'label', trustDomain: 'cluster.local', outboundTrafficPolicy: 'REGISTRY_ONLY', metricsScrape: 'plaintext' });
    expect(prod.mesh.meshId).toBe('fingerprint-prod');
    expect(staging.mesh.connectionPool.maxConnections).toBe(256);
    expect(prod.mesh.connectionPool.maxConnections).toBe(2048);
    expect([staging.mesh.eastWestGateway.replicas, prod.mesh.eastWestGateway.replicas, prod.mesh.eastWestGateway.maxReplicas]).toEqual([2, 3, 6]);
    expect(prod.mesh.ingress).toMatchObject({ hosts: [], credentialName: 'fingerprint-api-tls', timeout: '15s', retries: { attempts: 2 } });
  });

  it('resolves network, locality and failover order per region', () => {
    const config = validateStackConfig(
      rawConfig('prod', {
        regions: [region('us-east-1', 1), region('eu-west-1', 2, { mesh: { network: 'net-euw1', locality: 'eu-west-1-x' } }), region('ap-southeast-1', 2, { mesh: { failover: ['us-east-1', 'eu-west-1'] } })],
      }),
    );
    const [use1, euw1, apse1] = ['us-east-1', 'eu-west-1', 'ap-southeast-1'].map((n) => config.regions.find((r) => r.name === n)!);
    // Wave order, then name (both others are wave 2).
    expect(use1.mesh).toEqual({ network: 'us-east-1', locality: 'us-east-1', failover: ['ap-southeast-1', 'eu-west-1'], failoverLocalities: ['ap-southeast-1', 'eu-west-1-x'] });
    expect(euw1.mesh.failover).toEqual(['us-east-1', 'ap-southeast-1']);
    expect(euw1.mesh.network).toBe('net-euw1');
    expect(apse1.mesh.failoverLocalities).toEqual(['us-east-1', 'eu-west-1-x']);
  });

  it('accepts both committed stack files', () => {
    for (const stack of ['staging', 'prod']) {
      const config = validateStackConfig(readStackFile(stack));
      for (const r of config.regions) expect(r.mesh.failover).toEqual(config.regions.map((o) => o.name).filter((n) => n !== r.name));
    }
  });

  it.each([
    ['revision mode without a revision', { regions, mesh: { injection: 'revision' } }, 'Pulumi.prod.yaml: fingerprint-infra:mesh.revision: is required when injection is "revision"'],
    ['a revision in label mode', { regions, mesh: { revision: 'stable' } }, 'fingerprint-infra:mesh.revision: is only used when injection is "revision"'],
    ['an unknown mesh key', { regions, mesh: { meshID: 'x' } }, 'fingerprint-infra:mesh: unknown key "meshID" (check the spelling)'],
    ['a bad outbound policy', { regions, mesh: { outboundTrafficPolicy: 'DENY' } }, 'fingerprint-infra:mesh.outboundTrafficPolicy: must be one of "REGISTRY_ONLY", "ALLOW_ANY"'],
    ['a malformed duration', { regions, mesh: { ingress: { timeout: '15 seconds' } } }, 'fingerprint-infra:mesh.ingress.timeout: must be a duration such as 500ms, 15s or 5m'],
    ['a zero duration', { regions, mesh: { outlierDetection: { interval: '0s' } } }, 'fingerprint-infra:mesh.outlierDetection.interval: must be at least 1ms'],
    ['a bad host', { regions, mesh: { ingress: { hosts: ['API.example.com'] } } }, 'fingerprint-infra:mesh.ingress.hosts[0]: must be a lowercase DNS name'],
    ['too few east-west replicas for maxReplicas', { regions, mesh: { eastWestGateway: { replicas: 4, maxReplicas: 2 } } }, 'fingerprint-infra:mesh.eastWestGateway.maxReplicas: maxReplicas must be at least replicas'],
    ['a bad CIDR', { regions, mesh: { eastWestGateway: { allowedSourceCidrs: ['10.0.0.0'] } } }, 'fingerprint-infra:mesh.eastWestGateway.allowedSourceCidrs[0]: must be a CIDR'],
    ['an external service without namespaces', { regions, mesh: { externalServices: [{ name: 's3', hosts: ['s3.amazonaws.com'], ports: [{ number: 443, name: 'https', protocol: 'TLS' }], namespaces: [] }] } }, 'fingerprint-infra:mesh.externalServices[0].namespaces: must name at least one namespace'],
    ['failover to an unknown region', { regions: [region('us-east-1', 1, { mesh: { failover: ['eu-central-1'] } }), region('eu-west-1', 2)] }, 'Pulumi.prod.yaml: fingerprint-infra:regions[0].mesh.failover[0]: unknown region "eu-central-1" (stack has: us-east-1, eu-west-1)'],
    ['failover to itself', { regions: [region('us-east-1', 1, { mesh: { failover: ['us-east-1'] } }), region('eu-west-1', 2)] }, 'fingerprint-infra:regions[0].mesh.failover[0]: must not name the region itself ("us-east-1")'],
    ['a repeated failover region', { regions: [region('us-east-1', 1, { mesh: { failover: ['eu-west-1', 'eu-west-1'] } }), region('eu-west-1', 2)] }, 'fingerprint-infra:regions[0].mesh.failover[1]: repeats region "eu-west-1"'],
    ['two regions on one network', { regions: [region('us-east-1', 1, { mesh: { network: 'shared' } }), region('eu-west-1', 2, { mesh: { network: 'shared' } })] }, 'fingerprint-infra:regions[1].mesh.network: network "shared" is also regions[0]\'s'],
  ])('reports %s with the file and key path', (_what, entries, expected) => {
    const problems = problemsOf(rawConfig('prod', entries));
    expect(problems.some((p) => p.includes(expected))).toBe(true);
  });
});
