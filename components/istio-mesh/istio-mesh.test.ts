import { Chart } from 'cdk8s';
import { find, newChart, ofKind, synth } from '../../test/synth-helpers';
import { KubeObject } from '../../stacks/synth';
import { NamespaceRegistry } from '../../lib/namespaces';
import { MetricsSource } from '../../lib/metrics';
import { TrafficGraph } from '../../lib/traffic';
import { Peer, Workload } from '../../lib/workload';
import { RedisCluster } from '../redis-cluster';
import { IngressTarget, IstioMesh, IstioMeshProps, redisMeshServices } from './index';

const prometheus: Peer = { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' }, serviceAccountName: 'prometheus', description: 'Prometheus' };
const api: Peer = { namespace: 'api', podLabels: { app: 'fingerprint-api' }, serviceAccountName: 'fingerprint-api', description: 'fingerprint API' };

/** Stands in for the Kong component: a workload in a managed namespace behind a proxy Service. */
function fakeKong(chart: Chart): { target: IngressTarget; metrics: MetricsSource } {
  NamespaceRegistry.of(chart).ensure('kong');
  const workload: Workload = { name: 'kong', namespace: 'kong', podLabels: { 'app.kubernetes.io/name': 'kong' }, serviceAccountName: 'kong', description: 'Kong' };
  const port = { name: 'http-proxy', port: 8000 };
  return {
    target: { serviceName: 'kong-proxy', namespace: 'kong', port, servicePort: 80, workload },
    metrics: { scrapeEndpoints: [{ job: 'kong', workload, port: { name: 'http-status', port: 8100 } }] },
  };
}

function build(overrides: Partial<IstioMeshProps> = {}, opts: { hosts?: string[] } = {}) {
  const chart = newChart();
  const redis = new RedisCluster(chart, 'redis', { zones: ['a', 'b', 'c'] });
  // The scrape flow as the monitoring component declares it.
  for (const ep of redis.scrapeEndpoints) TrafficGraph.of(chart).allow({ from: prometheus, to: ep.workload, ports: [ep.port], reason: `metrics scrape (${ep.job})` });
  redis.allowFrom(api);
  const kong = fakeKong(chart);
  const mesh = new IstioMesh(chart, 'mesh', {
    meshId: 'fingerprint-test',
    network: 'us-east-1',
    locality: 'us-east-1',
    failoverLocalities: ['eu-west-1', 'ap-southeast-1'],
    services: redisMeshServices(redis),
    metricsSources: [redis, kong.metrics],
    ingress: { target: kong.target, hosts: opts.hosts ?? ['api.example.test'], credentialName: 'api-tls' },
    eastWestGateway: { replicas: 2, maxReplicas: 4, zones: ['a', 'b', 'c'] },
    ...overrides,
  });
  return { chart, redis, kong, mesh, objects: () => synth(chart) };
}

const spec = (o: KubeObject) => o.spec as any;

describe('IstioMesh namespaces', () => {
  it('labels every managed namespace for injection, including namespaces created after the mesh', () => {
    const { chart, objects } = build();
    NamespaceRegistry.of(chart).ensure('late');
    for (const ns of ['cache', 'kong', 'istio-eastwest', 'late']) {
      const labels = find(objects(), 'Namespace', ns).metadata.labels!;
      expect(labels['istio-injection']).toBe('enabled');
      expect(labels['istio.io/rev']).toBeUndefined();
      expect(labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
    // The late namespace gets its policies too.
    expect(find(objects(), 'AuthorizationPolicy', 'default-deny', 'late')).toBeDefined();
  });

  it('uses istio.io/rev (and no istio-injection label) in revision mode', () => {
    const { objects } = build({ injection: { mode: 'revision', revision: '1-24' } });
    const labels = find(objects(), 'Namespace', 'cache').metadata.labels!;
    expect(labels['istio.io/rev']).toBe('1-24');
    expect(labels['istio-injection']).toBeUndefined();
    const pod = spec(find(objects(), 'Deployment', 'istio-eastwestgateway', 'istio-eastwest')).template.metadata.labels;
    expect(pod['istio.io/rev']).toBe('1-24');
    expect(pod['sidecar.istio.io/inject']).toBeUndefined();
  });
});

describe('IstioMesh mTLS', () => {
  it('is STRICT in every managed namespace, and mesh-wide only when asked', () => {
    const { objects } = build();
    const pas = ofKind(objects(), 'PeerAuthentication').filter((p) => p.metadata.name === 'default');
    expect(pas.map((p) => p.metadata.namespace).sort()).toEqual(['cache', 'istio-eastwest', 'kong']);
    for (const p of pas) expect(spec(p)).toEqual({ mtls: { mode: 'STRICT' } });
    const meshWide = build({ meshWideStrictMtls: true, rootNamespace: 'istio-root' }).objects();
    expect(spec(find(meshWide, 'PeerAuthentication', 'default', 'istio-root'))).toEqual({ mtls: { mode: 'STRICT' } });
  });

  it('opens a PERMISSIVE exception on scrape ports only, with the reason', () => {
    const { objects } = build();
    const redisScrape = find(objects(), 'PeerAuthentication', 'redis-metrics-scrape', 'cache');
    expect(spec(redisScrape)).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/component': 'cache' } },
      mtls: { mode: 'STRICT' },
      portLevelMtls: { '9121': { mode: 'PERMISSIVE' } },
    });
    expect(redisScrape.metadata.annotations!['fingerprint.io/reason']).toMatch(/9121 \(redis-exporter \/metrics\).*plaintext/);
    expect(Object.keys(spec(find(objects(), 'PeerAuthentication', 'kong-metrics-scrape', 'kong')).portLevelMtls)).toEqual(['8100']);
  });

  it('opens no exception when Prometheus is in the mesh', () => {
    const objects = build({ metricsScrape: 'mtls' }).objects();
    expect(ofKind(objects, 'PeerAuthentication').filter((p) => spec(p).portLevelMtls)).toEqual([]);
    const redisRules = spec(find(objects, 'AuthorizationPolicy', 'allow-redis', 'cache')).rules;
    expect(redisRules).toContainEqual({ from: [{ source: { principals: ['cluster.local/ns/monitoring/sa/prometheus'] } }], to: [{ operation: { ports: ['9121'] } }] });
  });
});

describe('IstioMesh authorization', () => {
  it('denies by default in every managed namespace', () => {
    const { objects } = build();
    const denies = ofKind(objects(), 'AuthorizationPolicy').filter((p) => p.metadata.name === 'default-deny');
    expect(denies.map((p) => p.metadata.namespace).sort()).toEqual(['cache', 'istio-eastwest', 'kong']);
    for (const p of denies) expect(p.spec).toEqual({});
  });

  it('creates the default deny after the namespace\'s allow policies, whatever the construction order', () => {
    const { chart, objects } = build();
    NamespaceRegistry.of(chart).ensure('late');
    const w: Workload = { name: 'w', namespace: 'late', podLabels: { app: 'w' }, serviceAccountName: 'w', description: 'w' };
    TrafficGraph.of(chart).allow({ from: api, to: w, ports: [{ name: 'http', port: 8080 }], reason: 'test' });
    const deps = (ns: string) => objects().find((o) => o.key === `security.istio.io/v1/AuthorizationPolicy/${ns}/default-deny`)!.dependsOn;
    expect(deps('cache')).toContain('security.istio.io/v1/AuthorizationPolicy/cache/allow-redis');
    expect(deps('late')).toContain('security.istio.io/v1/AuthorizationPolicy/late/allow-w');
  });

  it('allows exactly the declared flows, by principal and port', () => {
    const { objects } = build();
    const policy = find(objects(), 'AuthorizationPolicy', 'allow-redis', 'cache');
    expect(spec(policy).selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/component': 'cache' } });
    expect(spec(policy).action).toBe('ALLOW');
    expect(spec(policy).rules).toEqual([
      { from: [{ source: { principals: ['cluster.local/ns/api/sa/fingerprint-api'] } }], to: [{ operation: { ports: ['6379'] } }] },
      { from: [{ source: { principals: ['cluster.local/ns/cache/sa/redis'] } }], to: [{ operation: { ports: ['6379', '16379'] } }] },
      // Plaintext scrape: no identity to check, so the rule is narrowed to reading the metrics path.
      { to: [{ operation: { ports: ['9121'], methods: ['GET'], paths: ['/metrics'] } }] },
    ]);
    expect(policy.metadata.annotations!['fingerprint.io/flows']).toContain('fingerprint API -> 6379: client of Redis Cluster cache/redis');
  });

  it('covers flows declared after the mesh was constructed, with the configured trust domain', () => {
    const { chart, redis, objects } = build({ trustDomain: 'fp.example' });
    const late: Peer = { namespace: 'jobs', podLabels: { app: 'late' }, serviceAccountName: 'late-job', description: 'late job' };
    redis.allowFrom(late);
    const other: Workload = { name: 'other', namespace: 'cache', podLabels: { app: 'other' }, serviceAccountName: 'other', description: 'other' };
    TrafficGraph.of(chart).allow({ from: late, to: other, ports: [{ name: 'tcp-x', port: 7000 }], reason: 'test' });
    const rules = spec(find(objects(), 'AuthorizationPolicy', 'allow-redis', 'cache')).rules;
    expect(rules).toContainEqual({ from: [{ source: { principals: ['fp.example/ns/jobs/sa/late-job'] } }], to: [{ operation: { ports: ['6379'] } }] });
    expect(spec(find(objects(), 'AuthorizationPolicy', 'allow-other', 'cache')).rules).toEqual([
      { from: [{ source: { principals: ['fp.example/ns/jobs/sa/late-job'] } }], to: [{ operation: { ports: ['7000'] } }] },
    ]);
  });

  it('lets the ingress gateway reach Kong and keeps east-west arrivals under the original client identity', () => {
    const { objects, mesh, chart, kong } = build();
    const rules = spec(find(objects(), 'AuthorizationPolicy', 'allow-kong', 'kong')).rules;
    expect(rules).toContainEqual({
      from: [{ source: { principals: ['cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'] } }],
      to: [{ operation: { ports: ['8000'] } }],
    });
    // The east-west gateway forwards failover traffic to Kong (NetworkPolicy flow), but its own
    // principal is never presented there, so it gets no ALLOW rule.
    const ew = mesh.eastWestGateway!.workload;
    expect(TrafficGraph.of(chart).rules.some((r) => r.from === ew && r.to === kong.target.workload)).toBe(true);
    expect(JSON.stringify(rules)).not.toContain('istio-eastwestgateway');
  });
});

describe('IstioMesh DestinationRules', () => {
  it('keeps Redis plain TCP, pinned to its region, with outlier detection', () => {
    const dr = spec(find(build().objects(), 'DestinationRule', 'redis', 'cache'));
    expect(dr.host).toBe('redis.cache.svc.cluster.local');
    expect(dr.trafficPolicy.tls).toEqual({ mode: 'ISTIO_MUTUAL' });
    expect(Object.keys(dr.trafficPolicy.connectionPool)).toEqual(['tcp']);
    expect(dr.trafficPolicy.connectionPool.tcp).toMatchObject({ maxConnections: 1024, connectTimeout: '2s' });
    expect(dr.trafficPolicy.outlierDetection).toEqual({ consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 100 });
    expect(dr.trafficPolicy.loadBalancer.localityLbSetting).toEqual({ enabled: true, distribute: [{ from: 'us-east-1/*', to: { 'us-east-1/*': 100 } }] });
    const headless = spec(find(build().objects(), 'DestinationRule', 'redis-headless', 'cache'));
    expect(headless.trafficPolicy).toEqual({ tls: { mode: 'ISTIO_MUTUAL' }, connectionPool: { tcp: expect.any(Object) } });
  });

  it('fails HTTP services over to the next region, with HTTP limits and outlier detection', () => {
    const dr = spec(find(build().objects(), 'DestinationRule', 'kong-proxy', 'kong'));
    expect(dr.host).toBe('kong-proxy.kong.svc.cluster.local');
    expect(dr.trafficPolicy.tls).toEqual({ mode: 'ISTIO_MUTUAL' });
    expect(dr.trafficPolicy.connectionPool.http).toEqual({ http1MaxPendingRequests: 1024, http2MaxRequests: 1024, idleTimeout: '300s', maxRetries: 3 });
    expect(dr.trafficPolicy.outlierDetection.consecutive5xxErrors).toBe(5);
    expect(dr.trafficPolicy.loadBalancer).toEqual({ simple: 'LEAST_REQUEST', localityLbSetting: { enabled: true, failover: [{ from: 'us-east-1', to: 'eu-west-1' }] } });
  });

  it('refuses a failover order that names its own locality', () => {
    expect(() => build({ failoverLocalities: ['us-east-1'] })).toThrow(/must not include the region's own locality "us-east-1"/);
  });
});

describe('IstioMesh ingress', () => {
  it('routes the hosts to Kong through a TLS Gateway with timeout and retries', () => {
    const objects = build().objects();
    const gw = spec(find(objects, 'Gateway', 'fingerprint-api', 'kong'));
    expect(gw.selector).toEqual({ istio: 'ingressgateway' });
    expect(gw.servers[0]).toEqual({
      port: { number: 443, name: 'https-fingerprint-api', protocol: 'HTTPS' },
      hosts: ['api.example.test'],
      tls: { mode: 'SIMPLE', credentialName: 'api-tls', minProtocolVersion: 'TLSV1_2' },
    });
    expect(gw.servers[1].tls).toEqual({ httpsRedirect: true });
    const vs = spec(find(objects, 'VirtualService', 'fingerprint-api', 'kong'));
    expect(vs.gateways).toEqual(['kong/fingerprint-api']);
    expect(vs.hosts).toEqual(['api.example.test']);
    expect(vs.http[0].route).toEqual([{ destination: { host: 'kong-proxy.kong.svc.cluster.local', port: { number: 80 } } }]);
    expect(vs.http[0].timeout).toBe('15s');
    expect(vs.http[0].retries).toEqual({ attempts: 2, perTryTimeout: '5s', retryOn: 'connect-failure,refused-stream,unavailable,cancelled', retryRemoteLocalities: true });
  });

  it('creates no Gateway or VirtualService without hosts, but still declares the gateway flow', () => {
    const { objects, chart, kong } = build({}, { hosts: [] });
    expect(ofKind(objects(), 'Gateway').map((g) => g.metadata.name)).toEqual(['cross-network-gateway']);
    expect(ofKind(objects(), 'VirtualService')).toEqual([]);
    expect(TrafficGraph.of(chart).rulesTo(kong.target.workload).map((r) => r.from.description)).toContain('Istio ingress gateway');
  });
});

describe('IstioMesh egress', () => {
  it('scopes each namespace to its own services and the namespaces it calls, REGISTRY_ONLY by default', () => {
    const { objects, chart } = build();
    const client: Workload = { name: 'c', namespace: 'kong', podLabels: { app: 'c' }, serviceAccountName: 'c', description: 'c' };
    TrafficGraph.of(chart).allow({ from: client, to: { ...client, namespace: 'cache', name: 'x' }, ports: [{ name: 'tcp-x', port: 1 }], reason: 'test' });
    const sidecar = spec(find(objects(), 'Sidecar', 'default', 'kong'));
    expect(sidecar.outboundTrafficPolicy).toEqual({ mode: 'REGISTRY_ONLY' });
    expect(sidecar.egress[0].hosts).toEqual(['./*', 'istio-system/*', 'default/kubernetes.default.svc.cluster.local', 'cache/*']);
    expect(spec(find(build({ outboundTrafficPolicy: 'ALLOW_ANY' }).objects(), 'Sidecar', 'default', 'cache')).outboundTrafficPolicy).toEqual({ mode: 'ALLOW_ANY' });
  });

  it('lets every sidecar reach istiod, whatever the workload NetworkPolicies say', () => {
    const np = spec(find(build().objects(), 'NetworkPolicy', 'istio-proxy-control-plane', 'cache'));
    expect(np.podSelector).toEqual({});
    expect(np.policyTypes).toEqual(['Egress']);
    expect(np.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'istiod' } } }],
        ports: [{ protocol: 'TCP', port: 15012 }],
      },
    ]);
  });

  it('declares external services only in the namespaces that use them', () => {
    const objects = build({
      externalServices: [
        { name: 'aws-s3', hosts: ['*.s3.amazonaws.com'], ports: [{ number: 443, name: 'https', protocol: 'TLS' }], namespaces: ['cache'] },
        { name: 'license', hosts: ['license.example.test'], ports: [{ number: 443, name: 'https', protocol: 'TLS' }], namespaces: ['kong', 'cache'] },
      ],
    }).objects();
    const entries = ofKind(objects, 'ServiceEntry').map((e) => `${e.metadata.namespace}/${e.metadata.name}:${spec(e).resolution}`);
    expect(entries.sort()).toEqual(['cache/aws-s3:NONE', 'cache/license:DNS', 'kong/license:DNS']);
    expect(spec(find(objects, 'ServiceEntry', 'license', 'kong'))).toMatchObject({ location: 'MESH_EXTERNAL', exportTo: ['.'] });
  });
});

describe('EastWestGateway', () => {
  it('is an injected, hardened gateway workload with the network label', () => {
    const objects = build().objects();
    const deployment = find(objects, 'Deployment', 'istio-eastwestgateway', 'istio-eastwest');
    const template = spec(deployment).template;
    expect(template.metadata.annotations['inject.istio.io/templates']).toBe('gateway');
    expect(template.metadata.labels).toMatchObject({ 'sidecar.istio.io/inject': 'true', 'topology.istio.io/network': 'us-east-1', istio: 'eastwestgateway' });
    const pod = template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1337, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
    const [proxy] = pod.containers;
    expect(proxy.image).toBe('auto');
    expect(proxy.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, runAsUser: 1337 });
    expect(proxy.resources.requests).toBeDefined();
    expect(proxy.resources.limits).toBeDefined();
    expect(proxy.readinessProbe.httpGet).toEqual({ path: '/healthz/ready', port: 15021, scheme: 'HTTP' });
    expect(proxy.livenessProbe.tcpSocket).toEqual({ port: 15021 });
    expect(deployment.metadata.annotations!['policy.fingerprint.io/exempt.image-pinned']).toMatch(/injector/);
    expect(proxy.env).toContainEqual({ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: 'us-east-1' });
    const service = find(objects, 'Service', 'istio-eastwestgateway', 'istio-eastwest');
    expect(service.metadata.labels!['topology.istio.io/network']).toBe('us-east-1');
    expect(spec(service).ports.map((p: any) => p.port)).toEqual([15021, 15443, 15012, 15017]);
    expect(spec(service).type).toBe('LoadBalancer');
    expect(spec(find(objects, 'PodDisruptionBudget', 'istio-eastwestgateway', 'istio-eastwest')).maxUnavailable).toBe(1);
    const hpa = spec(find(objects, 'HorizontalPodAutoscaler', 'istio-eastwestgateway', 'istio-eastwest'));
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([2, 4]);
    // The HPA owns the replica count.
    expect(spec(deployment).replicas).toBeUndefined();
  });

  it('keeps a fixed replica count without an HPA when maxReplicas equals replicas', () => {
    const objects = build({ eastWestGateway: { replicas: 3, maxReplicas: 3 } }).objects();
    expect(spec(find(objects, 'Deployment', 'istio-eastwestgateway', 'istio-eastwest')).replicas).toBe(3);
    expect(ofKind(objects, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  it('exposes only failover services with AUTO_PASSTHROUGH, and lets 15443 through authorization', () => {
    const objects = build().objects();
    const gw = spec(find(objects, 'Gateway', 'cross-network-gateway', 'istio-eastwest'));
    expect(gw.selector).toEqual({ 'app.kubernetes.io/name': 'istio-eastwestgateway', 'app.kubernetes.io/component': 'eastwest-gateway' });
    expect(gw.servers).toEqual([{ port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['kong-proxy.kong.svc.cluster.local'] }]);
    expect(spec(find(objects, 'AuthorizationPolicy', 'istio-eastwestgateway-passthrough', 'istio-eastwest')).rules).toEqual([{ to: [{ operation: { ports: ['15443'] } }] }]);
  });

  it('admits other networks on 15443 and 15021 only, and reaches istiod and the exposed workloads', () => {
    const np = spec(find(build().objects(), 'NetworkPolicy', 'istio-eastwestgateway', 'istio-eastwest'));
    const cidrIngress = np.ingress.find((r: any) => r.from[0].ipBlock);
    expect(cidrIngress).toEqual({ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 15443 }, { protocol: 'TCP', port: 15021 }] });
    const egressPorts = np.egress.flatMap((r: any) => r.ports.map((p: any) => p.port));
    expect(egressPorts).toEqual(expect.arrayContaining([53, 8000, 15012]));
    expect(egressPorts).not.toContain(6379);
  });

  it('is left out for a single-network mesh', () => {
    const objects = build({ eastWestGateway: false }).objects();
    expect(ofKind(objects, 'Deployment').filter((d) => d.metadata.namespace === 'istio-eastwest')).toEqual([]);
    expect(ofKind(objects, 'Gateway').map((g) => g.metadata.name)).toEqual(['fingerprint-api']);
  });
});
