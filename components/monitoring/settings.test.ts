import { problemsOf, rawConfig, region, validConfig } from '../../test/helpers';
import { ofKind, synth } from '../../test/synth-helpers';
import { checkObjects, formatReport, problemCount } from '../../policy/check';
import { ManifestValidator } from '../../policy/schema/validator';
import { buildRegionChart } from '../../stacks/region-chart';
import { ALERT_DEFAULTS, STANDALONE_DEFAULTS } from './settings';

const regions = [region('us-east-1', 1)];

describe('monitoring config section', () => {
  it('defaults to plugging into kube-prometheus-stack, with the old prometheus peer unchanged', () => {
    const { monitoring } = validConfig('staging');
    expect(monitoring.mode).toBe('existing');
    expect(monitoring.prometheus).toEqual({ namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' }, serviceAccountName: 'kube-prometheus-stack-prometheus' });
    expect(monitoring.selectorLabels).toEqual({ release: 'kube-prometheus-stack' });
    expect(monitoring.grafana).toEqual({ dashboardLabel: 'grafana_dashboard', dashboardLabelValue: '1', folderAnnotation: 'grafana_folder', folder: 'Fingerprint' });
  });

  it('keeps accepting the monitoring.prometheus key as before', () => {
    const config = validConfig('prod', { monitoring: { prometheus: { namespace: 'observability', serviceAccountName: 'prom' } } });
    expect(config.monitoring.prometheus).toEqual({ namespace: 'observability', podLabels: { 'app.kubernetes.io/name': 'prometheus' }, serviceAccountName: 'prom' });
  });

  it('has per-environment thresholds and standalone sizing (2 Prometheus replicas in prod)', () => {
    const staging = validConfig('staging').monitoring;
    const prod = validConfig('prod').monitoring;
    expect(staging.alerts).toEqual(ALERT_DEFAULTS.staging);
    expect(prod.alerts).toEqual(ALERT_DEFAULTS.prod);
    expect(prod.alerts.kong.errorRatio).toBeLessThan(staging.alerts.kong.errorRatio);
    expect(prod.standalone.prometheus).toMatchObject(STANDALONE_DEFAULTS.prod.prometheus);
    expect(prod.standalone.prometheus.replicas).toBe(2);
    expect(staging.standalone.prometheus.replicas).toBe(1);
  });

  it('overrides one threshold and keeps the other defaults', () => {
    const { monitoring } = validConfig('prod', { monitoring: { alerts: { redis: { evictionsPerSecond: 2000 } } } });
    expect(monitoring.alerts.redis).toEqual({ ...ALERT_DEFAULTS.prod.redis, evictionsPerSecond: 2000 });
    expect(monitoring.alerts.kong).toEqual(ALERT_DEFAULTS.prod.kong);
  });

  it.each([
    [{ mode: 'sidecar' }, 'fingerprint-infra:monitoring.mode: must be one of "existing", "standalone" (got "sidecar")'],
    [{ alerts: { kong: { errorRatio: 5 } } }, 'fingerprint-infra:monitoring.alerts.kong.errorRatio: must be at most 1 (got 5)'],
    [{ selectorLabels: {} }, 'fingerprint-infra:monitoring.selectorLabels: must set at least one label'],
    [{ scrapeInterval: 'often' }, 'fingerprint-infra:monitoring.scrapeInterval: must be a Prometheus duration'],
    [{ runbookBaseUrl: 'runbooks' }, 'fingerprint-infra:monitoring.runbookBaseUrl: must be an absolute URL'],
    [{ standalone: { prometheus: { retentionSize: '100GB', storageSize: '50Gi' } } }, 'fingerprint-infra:monitoring.standalone.prometheus.retentionSize: must leave at least 10% of storageSize 50Gi'],
    [{ standalone: { grafana: { image: 'grafana/grafana:latest' } } }, 'fingerprint-infra:monitoring.standalone.grafana.image: must be pinned'],
    [{ alerting: {} }, 'fingerprint-infra:monitoring: unknown key "alerting"'],
  ])('reports %j with the stack file and key path', (monitoring, message) => {
    const problems = problemsOf(rawConfig('prod', { regions, monitoring }));
    expect(problems).toEqual([expect.stringContaining(`Pulumi.prod.yaml: ${message}`)]);
  });

  it('asks for a generated Grafana admin password only in standalone mode', () => {
    expect(validConfig('prod').secrets.grafanaAdminPassword).toBeUndefined();
    expect(validConfig('prod', { monitoring: { mode: 'standalone' } }).secrets.grafanaAdminPassword).toEqual({ from: 'generated', length: 32 });
  });

  it('wires the region chart: monitors for Redis, Kong and the mesh, rules and dashboards', () => {
    const config = validConfig('staging');
    const built = buildRegionChart(config, config.regions[0]);
    const objects = synth(built.chart);
    const monitors = ofKind(objects, 'PodMonitor').map((m) => `${m.metadata.namespace}/${m.metadata.name}`);
    expect(monitors).toEqual(expect.arrayContaining(['cache/redis-exporter', 'istio-system/istiod']));
    expect(monitors.some((m) => m.startsWith(`${config.kong.namespace}/`))).toBe(true);
    expect(ofKind(objects, 'PrometheusRule').length).toBeGreaterThanOrEqual(3);
    expect(built.monitoring.dashboards.size).toBe(3);
    // Prometheus reaches the Redis exporter through the flow the monitoring declared.
    const redisPolicy = ofKind(objects, 'NetworkPolicy').find((p) => p.metadata.name === 'redis' && p.metadata.namespace === 'cache') as any;
    expect(redisPolicy.spec.ingress.some((r: any) => r.from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'] === 'monitoring' && r.ports.some((p: any) => p.port === 9121))).toBe(true);
  });

  it('wires the standalone stack when asked, passing the schema and policy checks', () => {
    const config = validConfig('prod', { monitoring: { mode: 'standalone' } });
    const objects = synth(buildRegionChart(config, config.regions[0]).chart);
    expect(ofKind(objects, 'Prometheus').map((p) => (p.spec as any).replicas)).toEqual([2]);
    expect(ofKind(objects, 'Deployment').map((d) => d.metadata.name)).toContain('grafana');
    const check = checkObjects(config.regions[0].name, objects.map((o) => o.manifest), ManifestValidator.create({ kubernetesVersion: config.deploy.kubernetesVersion }));
    if (problemCount([check]) > 0) throw new Error(formatReport('standalone monitoring', [check]));
  }, 60_000);
});
