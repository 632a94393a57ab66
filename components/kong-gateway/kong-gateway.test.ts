import { Chart } from 'cdk8s';
import { find, newChart, ofKind, podSpecs, synth } from '../../test/synth-helpers';
import { Peer } from '../../lib/workload';
import { RedisCluster } from '../redis-cluster';
import { backendService, KongGateway, KongGatewayProps, RateLimitRedis } from './index';

const prometheus: Peer = { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' }, serviceAccountName: 'prometheus', description: 'Prometheus' };
const api = backendService({
  name: 'fingerprint-api',
  namespace: 'fingerprint',
  service: 'fingerprint-api',
  port: 80,
  targetPort: 8080,
  podLabels: { app: 'fingerprint-api' },
  serviceAccountName: 'fingerprint-api',
});

function build(props: Partial<KongGatewayProps> = {}, chart: Chart = newChart()) {
  const store = new RateLimitRedis(chart, 'counters', { metricsScraper: prometheus });
  const gateway = new KongGateway(chart, 'kong', {
    rateLimitStore: store,
    zones: ['z1', 'z2', 'z3'],
    metricsScraper: prometheus,
    tiers: { free: { perMinute: 60, perDay: 1000 } },
    consumers: [{ name: 'acme', tier: 'free', keySecretId: 'kongConsumerKeyAcme' }],
    routes: [{ name: 'fingerprint', path: '/v1/fingerprint', backend: api }],
    ...props,
  });
  return { chart, store, gateway, objects: synth(chart) };
}

const container = (spec: any, name: string) => spec.containers.find((c: any) => c.name === name);
const env = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('KongGateway', () => {
  const { objects, gateway } = build();
  const deployment = find(objects, 'Deployment', 'kong', 'kong') as any;
  const pod = deployment.spec.template.spec;
  const proxy = container(pod, 'proxy');
  const controller = container(pod, 'ingress-controller');

  it('runs Kong in DB-less mode with the ingress controller in the same pod, versions pinned', () => {
    expect(proxy.image).toBe('kong:3.9.1');
    expect(controller.image).toBe('kong/kubernetes-ingress-controller:3.5.1');
    expect(env(proxy).KONG_DATABASE).toBe('off');
    expect(env(controller).CONTROLLER_KONG_ADMIN_URL).toBe('http://127.0.0.1:8001');
    expect(env(controller).CONTROLLER_PUBLISH_SERVICE).toBe('kong/kong-proxy');
    expect(env(controller).CONTROLLER_INGRESS_CLASS).toBe('kong');
  });

  it('binds the admin API to loopback and exposes no port or Service for it', () => {
    expect(env(proxy).KONG_ADMIN_LISTEN).toBe('127.0.0.1:8001');
    expect(env(proxy).KONG_ADMIN_GUI_LISTEN).toBe('off');
    const ports = pod.containers.flatMap((c: any) => c.ports.map((p: any) => p.containerPort));
    expect(ports).not.toContain(8001);
    expect(ports).not.toContain(8444);
    for (const svc of ofKind(objects, 'Service') as any[]) {
      for (const p of svc.spec.ports) expect([8001, 8444]).not.toContain(p.port);
    }
  });

  it('probes the status endpoint and drains with kong quit on stop', () => {
    expect(env(proxy).KONG_STATUS_LISTEN).toBe('0.0.0.0:8100');
    expect(proxy.readinessProbe.httpGet).toMatchObject({ path: '/status/ready', port: 'http-status' });
    expect(proxy.livenessProbe.httpGet).toMatchObject({ path: '/status', port: 'http-status' });
    expect(proxy.startupProbe).toBeDefined();
    expect(controller.readinessProbe.httpGet.path).toBe('/readyz');
    expect(controller.livenessProbe.httpGet.path).toBe('/healthz');
    expect(proxy.lifecycle.preStop.exec.command).toEqual(['kong', 'quit', '--wait=15']);
    // The grace period must outlast the drain.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(15);
  });

  it('uses restricted security contexts, requests and limits, and writable scratch volumes only', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
    }
    expect(proxy.volumeMounts.map((m: any) => m.mountPath).sort()).toEqual(['/kong_prefix', '/tmp']);
    expect(env(proxy).KONG_PREFIX).toBe('/kong_prefix');
  });

  it('sizes nginx workers from the CPU limit', () => {
    expect(env(proxy).KONG_NGINX_WORKER_PROCESSES).toBe('2');
    const small = find(build({ cpuLimit: '500m' }).objects, 'Deployment', 'kong', 'kong') as any;
    expect(env(container(small.spec.template.spec, 'proxy')).KONG_NGINX_WORKER_PROCESSES).toBe('1');
  });

  it('autoscales with an HPA that owns the replica count, and limits disruption', () => {
    expect(deployment.spec.replicas).toBeUndefined();
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'kong', 'kong') as any;
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: 'kong' } });
    const pdb = find(objects, 'PodDisruptionBudget', 'kong', 'kong') as any;
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(() => build({ minReplicas: 3, maxReplicas: 2 })).toThrow(/maxReplicas 2 is below minReplicas 3/);
  });

  it('spreads pods across nodes and zones', () => {
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(pod.topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
  });

  it('creates the proxy Service with a configurable type', () => {
    const lb = find(objects, 'Service', 'kong-proxy', 'kong') as any;
    expect(lb.spec.type).toBe('LoadBalancer');
    expect(lb.spec.loadBalancerSourceRanges).toEqual(['0.0.0.0/0']);
    expect(lb.spec.ports.map((p: any) => [p.port, p.targetPort])).toEqual([
      [80, 'http-proxy'],
      [443, 'https-proxy'],
    ]);
    const internal = find(build({ proxyServiceType: 'ClusterIP' }).objects, 'Service', 'kong-proxy', 'kong') as any;
    expect(internal.spec.type).toBe('ClusterIP');
    expect(internal.spec.loadBalancerSourceRanges).toBeUndefined();
    expect(internal.spec.externalTrafficPolicy).toBeUndefined();
  });

  it('registers its IngressClass', () => {
    expect((find(objects, 'IngressClass', 'kong') as any).spec.controller).toBe('ingress-controllers.konghq.com/kong');
  });

  it('grants the controller least-privilege RBAC: read-only, namespaced where possible, no wildcards', () => {
    expect(env(controller).CONTROLLER_WATCH_NAMESPACE).toBe('kong,fingerprint');
    const roles = ofKind(objects, 'Role') as any[];
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(['fingerprint', 'kong']);
    const clusterRoles = ofKind(objects, 'ClusterRole') as any[];
    expect(clusterRoles).toHaveLength(1);
    for (const role of [...roles, ...clusterRoles]) {
      for (const rule of role.rules) {
        expect(rule.verbs).not.toContain('*');
        expect(rule.resources).not.toContain('*');
        expect(rule.verbs).not.toContain('delete');
        const writes = rule.verbs.filter((v: string) => !['get', 'list', 'watch'].includes(v));
        if (writes.length) {
          // Writes only to status subresources, events and the leader-election lease.
          expect(rule.resources.every((r: string) => r.endsWith('/status') || r === 'events' || r === 'leases')).toBe(true);
        }
      }
    }
    // Secrets are readable only in the watched namespaces, never cluster-wide.
    expect(JSON.stringify(clusterRoles[0].rules)).not.toContain('secrets');
    const leases = roles.filter((r) => JSON.stringify(r.rules).includes('leases'));
    expect(leases.map((r) => r.metadata.namespace)).toEqual(['kong']);
    for (const binding of [...ofKind(objects, 'RoleBinding'), ...ofKind(objects, 'ClusterRoleBinding')] as any[]) {
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kong', namespace: 'kong' }]);
    }
    expect(pod.automountServiceAccountToken).toBe(true);
  });

  it('waits for its RBAC before starting the controller', () => {
    const synthDeployment = objects.find((o) => o.key === 'apps/v1/Deployment/kong/kong')!;
    expect(synthDeployment.dependsOn).toEqual(expect.arrayContaining(['rbac.authorization.k8s.io/v1/ClusterRoleBinding//kong-kong-ingress-controller', 'rbac.authorization.k8s.io/v1/RoleBinding/fingerprint/kong-kong-ingress-controller']));
  });

  it('routes each path to its backend Service through an Ingress that requires key-auth', () => {
    const ingress = find(objects, 'Ingress', 'fingerprint', 'fingerprint') as any;
    expect(ingress.spec.ingressClassName).toBe('kong');
    expect(ingress.metadata.annotations['konghq.com/plugins']).toBe(gateway.keyAuthPluginName);
    expect(ingress.spec.rules[0].http.paths[0]).toEqual({ path: '/v1/fingerprint', pathType: 'Prefix', backend: { service: { name: 'fingerprint-api', port: { number: 80 } } } });
    const withHosts = find(build({ routes: [{ name: 'fp', path: '/v1', backend: api, hosts: ['api.example.com', 'eu.example.com'] }] }).objects, 'Ingress', 'fp') as any;
    expect(withHosts.spec.rules.map((r: any) => r.host)).toEqual(['api.example.com', 'eu.example.com']);
  });

  it('derives network policies from the routes and the counter store: exactly that traffic', () => {
    const policy = find(objects, 'NetworkPolicy', 'kong', 'kong') as any;
    const egressPorts = policy.spec.egress.map((r: any) => [r.to[0].podSelector?.matchLabels ?? r.to[0].ipBlock, r.ports.map((p: any) => p.port)]);
    expect(egressPorts).toEqual([
      [{ 'k8s-app': 'kube-dns' }, [53, 53]],
      [{ 'app.kubernetes.io/name': 'kong-rate-limit-redis', 'app.kubernetes.io/component': 'rate-limit-store' }, [6379]],
      [{ app: 'fingerprint-api' }, [8080]],
      [{ cidr: '0.0.0.0/0' }, [443, 6443]],
    ]);
    const ingress = policy.spec.ingress.map((r: any) => r.ports.map((p: any) => p.port));
    expect(ingress).toEqual([[8100, 10255], [8000, 8443]]);
    expect(policy.spec.ingress[1].from).toEqual([{ ipBlock: { cidr: '0.0.0.0/0' } }]);

    const counters = find(objects, 'NetworkPolicy', 'kong-rate-limit-redis', 'kong') as any;
    expect(counters.spec.ingress.map((r: any) => [r.from[0].podSelector.matchLabels['app.kubernetes.io/name'], r.ports.map((p: any) => p.port)])).toEqual([
      ['prometheus', [9121]],
      ['kong', [6379]],
    ]);

    const backend = find(objects, 'NetworkPolicy', 'fingerprint-api-from-kong', 'fingerprint') as any;
    expect(backend.spec.policyTypes).toEqual(['Ingress']);
    expect(backend.spec.podSelector.matchLabels).toEqual({ app: 'fingerprint-api' });
    expect(backend.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kong' } }, podSelector: { matchLabels: gateway.workload.podLabels } }],
        ports: [{ protocol: 'TCP', port: 8080 }],
      },
    ]);
  });

  it('narrows proxy sources and API-server egress when configured', () => {
    const { objects: narrowed } = build({ proxySourceRanges: ['203.0.113.0/24'], apiServer: { cidrs: ['10.0.0.1/32'], ports: [443] } });
    const policy = find(narrowed, 'NetworkPolicy', 'kong', 'kong') as any;
    expect(policy.spec.ingress[1].from).toEqual([{ ipBlock: { cidr: '203.0.113.0/24' } }]);
    expect(policy.spec.egress[3]).toEqual({ to: [{ ipBlock: { cidr: '10.0.0.1/32' } }], ports: [{ protocol: 'TCP', port: 443 }] });
    expect((find(narrowed, 'Service', 'kong-proxy', 'kong') as any).spec.loadBalancerSourceRanges).toEqual(['203.0.113.0/24']);
  });

  it('exposes its metrics endpoints for the monitoring component', () => {
    expect(gateway.scrapeEndpoints.map((e) => [e.job, e.port.port, e.path])).toEqual([
      ['kong', 8100, '/metrics'],
      ['kong-ingress-controller', 10255, '/metrics'],
    ]);
    for (const e of gateway.scrapeEndpoints) expect(e.workload).toBe(gateway.workload);
  });

  it('gives every workload of the component probes, limits and a restricted context', () => {
    for (const { owner, spec } of podSpecs(objects)) {
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      for (const c of spec.containers) {
        expect([owner, c.name, c.readinessProbe !== undefined, c.livenessProbe !== undefined, c.resources?.limits !== undefined]).toEqual([owner, c.name, true, true, true]);
      }
    }
  });

  it('refuses Redis Cluster as the counter store of Kong OSS', () => {
    const chart = newChart();
    const redis = new RedisCluster(chart, 'redis');
    expect(() => new KongGateway(chart, 'kong', { rateLimitStore: redis })).toThrow(/does not support Redis Cluster.*enterprise/);
  });

  it('rejects consumers of unknown tiers and duplicates', () => {
    expect(() => build({ consumers: [{ name: 'x', tier: 'gold', keySecretId: 'k' }] })).toThrow(/consumer "x" has unknown tier "gold"/);
    expect(() =>
      build({ consumers: [{ name: 'x', tier: 'free', keySecretId: 'a' }, { name: 'x', tier: 'free', keySecretId: 'b' }] }),
    ).toThrow(/consumer "x" is listed twice/);
  });
});
