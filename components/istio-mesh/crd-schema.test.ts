import { newChart, synth } from '../../test/synth-helpers';
import { NamespaceRegistry } from '../../lib/namespaces';
import { TrafficGraph } from '../../lib/traffic';
import { Peer, Workload } from '../../lib/workload';
import { RedisCluster } from '../redis-cluster';
import { CrdSchemaValidator, closeStructuralSchema } from './crd-schema';
import { IstioMesh, redisMeshServices } from './index';

const validator = CrdSchemaValidator.fromDirectory();

/** A mesh with every optional feature on, so every kind and field the component emits is checked. */
function fullMeshObjects() {
  const chart = newChart();
  const prometheus: Peer = { namespace: 'monitoring', podLabels: { app: 'prometheus' }, serviceAccountName: 'prometheus', description: 'Prometheus' };
  const redis = new RedisCluster(chart, 'redis');
  // The scrape flow as the monitoring component declares it.
  for (const ep of redis.scrapeEndpoints) TrafficGraph.of(chart).allow({ from: prometheus, to: ep.workload, ports: [ep.port], reason: `metrics scrape (${ep.job})` });
  NamespaceRegistry.of(chart).ensure('kong');
  const kong: Workload = { name: 'kong', namespace: 'kong', podLabels: { app: 'kong' }, serviceAccountName: 'kong', description: 'Kong' };
  new IstioMesh(chart, 'mesh', {
    meshId: 'm',
    network: 'n1',
    locality: 'us-east-1',
    failoverLocalities: ['eu-west-1'],
    meshWideStrictMtls: true,
    injection: { mode: 'revision', revision: 'stable' },
    services: redisMeshServices(redis),
    metricsSources: [redis],
    ingress: { target: { serviceName: 'kong-proxy', namespace: 'kong', port: { name: 'http-proxy', port: 8000 }, servicePort: 80, workload: kong }, hosts: ['api.example.test', '*.api.example.test'], credentialName: 'api-tls' },
    eastWestGateway: { replicas: 2, maxReplicas: 4 },
    externalServices: [
      { name: 's3', hosts: ['*.s3.amazonaws.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], namespaces: ['cache'] },
      { name: 'license', hosts: ['license.example.test'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], namespaces: ['kong'] },
    ],
  });
  return synth(chart).map((o) => o.manifest);
}

describe('Istio CRD schema validation', () => {
  it('knows the served versions of the Istio kinds the mesh emits', () => {
    for (const kind of ['AuthorizationPolicy', 'PeerAuthentication']) expect(validator.servedKinds).toContain(`security.istio.io/v1/${kind}`);
    for (const kind of ['DestinationRule', 'Gateway', 'VirtualService', 'ServiceEntry', 'Sidecar']) expect(validator.servedKinds).toContain(`networking.istio.io/v1/${kind}`);
  });

  it('accepts every Istio object of a mesh with every feature on', () => {
    const istio = fullMeshObjects().filter((o) => validator.handles(o.apiVersion));
    expect(new Set(istio.map((o) => o.kind))).toEqual(new Set(['PeerAuthentication', 'AuthorizationPolicy', 'DestinationRule', 'Gateway', 'VirtualService', 'ServiceEntry', 'Sidecar']));
    expect(istio.flatMap((o) => validator.validate(o))).toEqual([]);
  });

  const base = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'x', namespace: 'ns' } };
  it.each([
    ['an unknown field (the server would prune it)', { ...base, spec: { mtls: { mode: 'STRICT', strict: true } } }, /\/spec\/mtls: unknown field "strict"/],
    ['an unknown top-level field', { ...base, spec: {}, specs: {} }, /unknown field "specs"/],
    ['a value outside an enum', { ...base, spec: { mtls: { mode: 'REQUIRED' } } }, /\/spec\/mtls\/mode: must be equal to one of the allowed values/],
    ['a port-level exception without a selector (CEL rule)', { ...base, spec: { portLevelMtls: { '9121': { mode: 'PERMISSIVE' } } } }, /portLevelMtls requires selector/],
    ['a port number out of range (CEL rule)', { ...base, spec: { selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '70000': { mode: 'PERMISSIVE' } } } }, /port must be between 1-65535/],
    [
      'a zero duration (CEL rule)',
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'x' }, spec: { host: 'a', trafficPolicy: { outlierDetection: { interval: '0s' } } } },
      /interval: must be a valid duration greater than 1ms/,
    ],
    [
      'an int32 out of range',
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'x' }, spec: { host: 'a', trafficPolicy: { connectionPool: { tcp: { maxConnections: 2 ** 31 } } } } },
      /maxConnections: must match format "int32"/,
    ],
    ['an unknown kind', { apiVersion: 'security.istio.io/v1', kind: 'Peer', metadata: { name: 'x' } }, /no CRD in the schema folder defines security.istio.io\/v1\/Peer/],
    ['a missing name', { ...base, metadata: {}, spec: {} }, /metadata.name is required/],
  ])('rejects %s', (_what, object, message) => {
    const problems = validator.validate(object as never);
    expect(problems.join('\n')).toMatch(message);
  });

  it('keeps subtrees that preserve unknown fields open', () => {
    const closed = closeStructuralSchema({ type: 'object', properties: { a: { type: 'object', properties: { b: {} }, 'x-kubernetes-preserve-unknown-fields': true } } }) as any;
    expect(closed.additionalProperties).toBe(false);
    expect(closed.properties.a.additionalProperties).toBeUndefined();
  });
});
