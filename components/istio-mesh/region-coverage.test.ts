import { readStackFile, StackConfig, validateStackConfig } from '../../stacks/config/load';
import { buildRegionChart, RegionChart } from '../../stacks/region-chart';
import { KubeObject, synthesizeChart } from '../../stacks/synth';
import { TrafficGraph } from '../../lib/traffic';
import { meshCoverageProblems } from './coverage';
import { CrdSchemaValidator } from './crd-schema';

/**
 * The whole composed region of each committed stack: every flow any component declares must be
 * allowed by an explicit AuthorizationPolicy rule, every managed namespace must deny by default, and
 * every Istio object must be valid for the Istio CRDs.
 */

const validator = CrdSchemaValidator.fromDirectory();
const stacks: [string, StackConfig][] = ['staging', 'prod'].map((s) => [s, validateStackConfig(readStackFile(s))]);
const regions = stacks.flatMap(([stack, config]) => config.regions.map((r) => [stack, r.name, config, r] as const));

function compose(config: StackConfig, regionName: string): { built: RegionChart; objects: KubeObject[] } {
  const built = buildRegionChart(config, config.regions.find((r) => r.name === regionName)!);
  return { built, objects: synthesizeChart(built.chart).map((o) => o.manifest) };
}

function coverage(built: RegionChart, objects: readonly KubeObject[], config: StackConfig): string[] {
  const flows = TrafficGraph.of(built.chart).rules;
  const passthroughPeers = built.mesh.eastWestGateway ? [built.mesh.eastWestGateway.workload] : [];
  return meshCoverageProblems(objects, flows, { trustDomain: config.mesh.trustDomain, passthroughPeers });
}

describe.each(regions)('%s/%s composed region', (_stack, regionName, config) => {
  const { built, objects } = compose(config, regionName);

  it('allows every declared flow and denies by default in every managed namespace', () => {
    const flows = TrafficGraph.of(built.chart).rules;
    // Redis members, cache management, Kong and Prometheus at least.
    expect(flows.length).toBeGreaterThanOrEqual(5);
    const namespaces = objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    expect(namespaces).toEqual(expect.arrayContaining(['cache', config.kong.namespace, config.mesh.eastWestGateway.namespace]));
    expect(coverage(built, objects, config)).toEqual([]);
  });

  it('injects every managed namespace', () => {
    for (const ns of objects.filter((o) => o.kind === 'Namespace')) expect(ns.metadata.labels!['istio-injection']).toBe('enabled');
  });

  it('emits only Istio objects that validate against the CRD schemas', () => {
    const istio = objects.filter((o) => validator.handles(o.apiVersion));
    expect(istio.length).toBeGreaterThan(10);
    expect(istio.flatMap((o) => validator.validate(o))).toEqual([]);
  });

  it('fails over across the stack\'s other regions and keeps Redis in the region', () => {
    const region = config.regions.find((r) => r.name === regionName)!;
    const drs = objects.filter((o) => o.kind === 'DestinationRule');
    const kong = drs.find((d) => d.metadata.name === built.kong.gateway.proxyServiceName)!;
    expect((kong.spec as any).trafficPolicy.loadBalancer.localityLbSetting.failover).toEqual([{ from: region.mesh.locality, to: region.mesh.failoverLocalities[0] }]);
    const redis = drs.find((d) => d.metadata.name === built.redis.serviceName && d.metadata.namespace === built.redis.namespace)!;
    expect((redis.spec as any).trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to).toEqual({ [`${region.mesh.locality}/*`]: 100 });
  });
});

describe('the coverage check', () => {
  const [, config] = stacks[0];
  const regionName = config.regions[0].name;

  it('reports a declared flow whose ALLOW rule is missing', () => {
    const { built, objects } = compose(config, regionName);
    const tampered = objects.map((o) =>
      o.kind === 'AuthorizationPolicy' && o.metadata.name === 'allow-redis'
        ? { ...o, spec: { ...(o.spec as object), rules: ((o.spec as any).rules as any[]).filter((r) => !JSON.stringify(r).includes('16379')) } }
        : o,
    );
    const problems = coverage(built, tampered, config);
    expect(problems).toContainEqual(expect.stringMatching(/Redis Cluster cache\/redis -> Redis Cluster cache\/redis port 16379 .*: no ALLOW rule in namespace cache covers it/));
  });

  it('reports a managed namespace without default deny, and a DENY that blocks a flow', () => {
    const { built, objects } = compose(config, regionName);
    const withoutDeny = objects.filter((o) => !(o.kind === 'AuthorizationPolicy' && o.metadata.name === 'default-deny' && o.metadata.namespace === 'cache'));
    expect(coverage(built, withoutDeny, config)).toEqual(['namespace cache: no default-deny AuthorizationPolicy (an ALLOW policy without selector or rules)']);
    const deny = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'block', namespace: 'cache' }, spec: { action: 'DENY', rules: [{ to: [{ operation: { ports: ['6379'] } }] }] } };
    expect(coverage(built, [...objects, deny], config).join('\n')).toMatch(/port 6379 .*: denied by AuthorizationPolicy cache\/block/);
  });
});
