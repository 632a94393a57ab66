import { find, newChart, ofKind, podSpecs, synth } from '../../test/synth-helpers';
import { KubeObject } from '../../stacks/synth';
import { TrafficGraph } from '../../lib/traffic';
import { Monitoring } from '.';
import { buildRegion, clusterPrometheus, gateway, mesh } from './test-support/fixtures';
import { CrdValidator } from './test-support/crds';

const crds = new CrdValidator();
const MONITORING_KINDS = ['PodMonitor', 'ServiceMonitor', 'PrometheusRule', 'Prometheus', 'Alertmanager'];
const monitoringObjects = (objects: ReturnType<typeof synth>) => objects.map((o) => o.manifest).filter((m) => m.apiVersion.startsWith('monitoring.coreos.com/'));

function ingressFrom(policy: KubeObject) {
  return ((policy.spec as any).ingress as any[]).map((r) => ({
    ns: r.from[0].namespaceSelector?.matchLabels['kubernetes.io/metadata.name'],
    pods: r.from[0].podSelector.matchLabels,
    ports: r.ports.map((p: any) => p.port),
  }));
}

describe('Monitoring, mode existing (kube-prometheus-stack)', () => {
  const { chart, monitoring } = buildRegion();
  const objects = synth(chart);

  it('creates a PodMonitor per scrape endpoint, next to the pods it selects', () => {
    const monitors = ofKind(objects, 'PodMonitor');
    expect(monitors.map((m) => `${m.metadata.namespace}/${m.metadata.name}`).sort()).toEqual(
      ['api/istio-proxy', 'cache/redis-exporter', 'istio-system/istiod', 'kong/kong-gateway', 'kong/kong-rate-limit-redis'].sort(),
    );
    const redis = find(objects, 'PodMonitor', 'redis-exporter', 'cache') as any;
    expect(redis.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/component': 'cache' } });
    expect(redis.spec.podMetricsEndpoints).toEqual([
      {
        port: 'http-metrics',
        path: '/metrics',
        interval: '30s',
        scheme: 'http',
        relabelings: [
          { action: 'replace', targetLabel: 'job', replacement: 'redis-exporter' },
          { action: 'replace', targetLabel: 'region', replacement: 'us-east-1' },
          { action: 'replace', targetLabel: 'environment', replacement: 'staging' },
        ],
      },
    ]);
  });

  it('scrapes the sidecars\' merged metrics on 15020 and istiod on its monitoring port', () => {
    const sidecars = find(objects, 'PodMonitor', 'istio-proxy', 'api') as any;
    expect(sidecars.spec.podMetricsEndpoints[0]).toMatchObject({ portNumber: 15020, path: '/stats/prometheus' });
    expect(sidecars.spec.podMetricsEndpoints[0].port).toBeUndefined();
    const istiod = find(objects, 'PodMonitor', 'istiod', 'istio-system') as any;
    expect(istiod.spec.selector).toEqual({ matchLabels: { app: 'istiod' } });
    expect(istiod.spec.podMetricsEndpoints[0]).toMatchObject({ portNumber: 15014, path: '/metrics' });
  });

  it('puts the configured selector labels on every monitor and rule', () => {
    const custom = synth(buildRegion({ selectorLabels: { release: 'prom-stack', team: 'platform' } }).chart);
    for (const objs of [objects, custom]) {
      const selected = monitoringObjects(objs);
      expect(selected.length).toBeGreaterThanOrEqual(9);
      const want = objs === objects ? { release: 'kube-prometheus-stack' } : { release: 'prom-stack', team: 'platform' };
      for (const m of selected) expect([m.kind, m.metadata.name, m.metadata.labels]).toEqual([m.kind, m.metadata.name, expect.objectContaining(want)]);
    }
  });

  it('puts the rules in the monitoring namespace, one PrometheusRule per group', () => {
    const rules = ofKind(objects, 'PrometheusRule');
    expect(rules.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort()).toEqual(
      ['monitoring/fingerprint-istio', 'monitoring/fingerprint-kong', 'monitoring/fingerprint-redis', 'monitoring/fingerprint-scrape-targets'],
    );
    const redis = find(objects, 'PrometheusRule', 'fingerprint-redis', 'monitoring') as any;
    expect(redis.spec.groups[0].rules.map((r: any) => r.alert)).toEqual(monitoring.ruleGroups.find((g) => g.name === 'redis')!.rules.map((r) => r.alert));
  });

  it('validates every monitoring object against the prometheus-operator CRD schemas', () => {
    const all = monitoringObjects(objects);
    expect(all.every((m) => MONITORING_KINDS.includes(m.kind))).toBe(true);
    expect(all.flatMap((m) => crds.problems(m))).toEqual([]);
    // The schemas are enforced: a wrong field type is reported.
    const broken = { ...all[0], spec: { ...(all[0].spec as object), podMetricsEndpoints: [{ port: 9121 }] } };
    expect(crds.problems(broken).join('\n')).toMatch(/podMetricsEndpoints\/0\/port/);
  });

  it('lets the cluster\'s Prometheus reach exactly the scrape ports', () => {
    const redisPolicy = find(objects, 'NetworkPolicy', 'redis', 'cache');
    expect(ingressFrom(redisPolicy)).toContainEqual({ ns: 'monitoring', pods: { 'app.kubernetes.io/name': 'prometheus' }, ports: [9121] });
    const flows = TrafficGraph.of(chart).rules.filter((r) => r.from === clusterPrometheus);
    expect(flows.map((f) => `${f.to.namespace}/${f.to.name}:${f.ports.map((p) => p.port).join(',')}`).sort()).toEqual(
      ['api/api:15020', 'cache/redis:9121', 'kong/kong:8100', 'kong/kong-rate-limit-redis:9121'].sort(),
    );
    // istiod belongs to the platform: scraped, but no flow (and so no policy of this program) targets it.
    expect(TrafficGraph.of(chart).rules.filter((r) => r.to.namespace === 'istio-system')).toEqual([]);
    expect(monitoring.prometheus).toBe(clusterPrometheus);
  });

  it('deploys no Prometheus, Alertmanager, Grafana or namespace of its own', () => {
    expect(ofKind(objects, 'Prometheus')).toEqual([]);
    expect(ofKind(objects, 'Alertmanager')).toEqual([]);
    expect(ofKind(objects, 'Deployment')).toEqual([]);
    expect(ofKind(objects, 'Namespace').map((n) => n.metadata.name)).not.toContain('monitoring');
  });

  it('needs the cluster\'s Prometheus to know who scrapes', () => {
    expect(() => new Monitoring(newChart(), 'm', { region: 'r', environment: 'prod', gateway })).toThrow('mode "existing" needs the cluster\'s Prometheus');
  });
});

describe('Monitoring, mode standalone', () => {
  const build = (environment: 'staging' | 'prod') => {
    const built = buildRegion({ mode: 'standalone', environment, prometheus: undefined });
    return { ...built, objects: synth(built.chart) };
  };
  const prod = build('prod');
  const staging = build('staging');

  it('deploys Prometheus with retention, storage, resources, external labels and 2 replicas in prod', () => {
    const p = find(prod.objects, 'Prometheus', 'fingerprint', 'monitoring') as any;
    expect(p.spec).toMatchObject({
      replicas: 2,
      retention: '15d',
      retentionSize: '90GB',
      version: 'v2.54.1',
      externalLabels: { region: 'us-east-1', environment: 'prod' },
      storage: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Gi' } } } } },
      resources: { requests: { cpu: '1', memory: '8Gi' }, limits: { cpu: '2', memory: '8Gi' } },
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(p.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone' });
    expect(find(prod.objects, 'PodDisruptionBudget', 'prometheus', 'monitoring')).toBeDefined();
    const s = find(staging.objects, 'Prometheus', 'fingerprint', 'monitoring') as any;
    expect(s.spec).toMatchObject({ replicas: 1, retention: '7d', externalLabels: { environment: 'staging' } });
    expect(ofKind(staging.objects, 'PodDisruptionBudget').map((x) => x.metadata.name)).not.toContain('prometheus');
  });

  it('selects exactly the monitors and rules this program creates', () => {
    const p = find(prod.objects, 'Prometheus', 'fingerprint', 'monitoring') as any;
    const matches = (selector: any, labels: Record<string, string> = {}) => Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    const inNamespaces = (selector: any, ns: string) =>
      (selector.matchExpressions ?? []).every((e: any) => e.operator === 'In' && e.values.includes(ns)) && matches(selector, { 'kubernetes.io/metadata.name': ns });
    const monitors = ofKind(prod.objects, 'PodMonitor');
    expect(monitors.length).toBe(5);
    for (const m of monitors) {
      expect([m.metadata.name, matches(p.spec.podMonitorSelector, m.metadata.labels)]).toEqual([m.metadata.name, true]);
      expect([m.metadata.name, inNamespaces(p.spec.podMonitorNamespaceSelector, m.metadata.namespace!)]).toEqual([m.metadata.name, true]);
    }
    for (const r of ofKind(prod.objects, 'PrometheusRule')) {
      expect(matches(p.spec.ruleSelector, r.metadata.labels)).toBe(true);
      expect(inNamespaces(p.spec.ruleNamespaceSelector, r.metadata.namespace!)).toBe(true);
    }
    // Something without the labels is not selected.
    expect(matches(p.spec.podMonitorSelector, { 'app.kubernetes.io/name': 'other' })).toBe(false);
  });

  it('lets Prometheus discover pods only in the scraped namespaces', () => {
    const roles = ofKind(prod.objects, 'Role').filter((r) => r.metadata.name === 'prometheus-monitoring-discovery');
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(['api', 'cache', 'istio-system', 'kong']);
    expect(ofKind(prod.objects, 'ClusterRole')).toEqual([]);
    const binding = find(prod.objects, 'RoleBinding', 'prometheus-monitoring-discovery', 'cache') as any;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'monitoring' }]);
  });

  it('deploys Alertmanager wired to Prometheus', () => {
    const am = find(prod.objects, 'Alertmanager', 'fingerprint', 'monitoring') as any;
    expect(am.spec).toMatchObject({ replicas: 2, version: 'v0.27.0', securityContext: { runAsNonRoot: true } });
    const p = find(prod.objects, 'Prometheus', 'fingerprint', 'monitoring') as any;
    // The operator's governing Service of the Alertmanager pods.
    expect(p.spec.alerting.alertmanagers).toEqual([{ namespace: 'monitoring', name: 'alertmanager-operated', port: 'web', apiVersion: 'v2' }]);
  });

  it('deploys a hardened Grafana with the Prometheus datasource, the dashboards and the admin password from a Secret', () => {
    const [grafana] = podSpecs(prod.objects).filter((p) => p.owner.includes('/Deployment/monitoring/grafana'));
    const spec = grafana.spec;
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 472, seccompProfile: { type: 'RuntimeDefault' } });
    const [c] = spec.containers;
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits).toBeDefined();
    expect(c.readinessProbe.httpGet.path).toBe('/api/health');
    expect(c.livenessProbe).toBeDefined();
    expect(c.env).toContainEqual({ name: 'GF_SECURITY_ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: 'grafana-admin', key: 'admin-password' } } });
    expect(JSON.stringify(c.env)).not.toMatch(/"value":"<secret:/);
    const secret = find(prod.objects, 'Secret', 'grafana-admin', 'monitoring') as any;
    expect(secret.stringData).toEqual({ 'admin-password': '<secret:grafanaAdminPassword>' });

    const datasources = find(prod.objects, 'ConfigMap', 'grafana-datasources', 'monitoring') as any;
    expect(datasources.data['prometheus.yaml']).toContain('url: http://prometheus-operated.monitoring.svc.cluster.local:9090');
    expect(datasources.data['prometheus.yaml']).toContain('uid: prometheus');
    const projected = spec.volumes.find((v: any) => v.name === 'dashboards').projected.sources.map((s: any) => s.configMap.name);
    expect(projected.sort()).toEqual(['grafana-dashboard-istio-services', 'grafana-dashboard-kong-gateway', 'grafana-dashboard-redis-cluster']);
    for (const name of projected) expect(find(prod.objects, 'ConfigMap', name, 'monitoring')).toBeDefined();
  });

  it('restricts Prometheus, Alertmanager and Grafana with NetworkPolicies derived from the traffic', () => {
    const prom = find(prod.objects, 'NetworkPolicy', 'prometheus', 'monitoring');
    expect(ingressFrom(prom)).toEqual([{ ns: 'monitoring', pods: { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/component': 'monitoring' }, ports: [9090] }]);
    const egressPorts = ((prom.spec as any).egress as any[]).flatMap((e) => e.ports.map((p: any) => p.port));
    expect(egressPorts).toEqual(expect.arrayContaining([9121, 8100, 15014, 15020, 9093, 443, 6443]));
    const am = find(prod.objects, 'NetworkPolicy', 'alertmanager', 'monitoring') as any;
    expect(am.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort()).toEqual(['TCP/9093', 'TCP/9094', 'UDP/9094']);
    expect(find(prod.objects, 'NetworkPolicy', 'grafana', 'monitoring')).toBeDefined();
    // The scraped workloads admit the standalone Prometheus, not the cluster's.
    const redisPolicy = find(prod.objects, 'NetworkPolicy', 'redis', 'cache');
    expect(ingressFrom(redisPolicy)).toContainEqual({ ns: 'monitoring', pods: { 'app.kubernetes.io/name': 'prometheus', prometheus: 'fingerprint' }, ports: [9121] });
    expect(prod.monitoring.prometheus).toBe(prod.monitoring.standalone!.prometheus);
  });

  it('creates the monitoring namespace with Pod Security restricted', () => {
    const ns = find(prod.objects, 'Namespace', 'monitoring') as any;
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('validates against the prometheus-operator CRD schemas', () => {
    const all = monitoringObjects(prod.objects);
    expect(all.map((m) => m.kind)).toEqual(expect.arrayContaining(['Prometheus', 'Alertmanager', 'PodMonitor', 'PrometheusRule']));
    expect(all.flatMap((m) => crds.problems(m))).toEqual([]);
  });

  it('keeps the monitoring objects apart from the mesh and gateway objects', () => {
    const built = new Monitoring(newChart(), 'm', { region: 'r', environment: 'staging', mode: 'standalone', mesh });
    expect(built.standalone).toBeDefined();
    expect(built.endpoints.map((e) => e.job).sort()).toEqual(['istio-proxy', 'istiod']);
  });
});
