import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { Dashboard } from '@grafana/schema';
import { Labels, standardLabels } from '../../lib/labels';
import { MetricsSource, ScrapeEndpoint } from '../../lib/metrics';
import { NamespaceRegistry } from '../../lib/namespaces';
import { TrafficGraph } from '../../lib/traffic';
import { Peer } from '../../lib/workload';
import { istioRules, kongRules, redisRules, RuleContext, RuleGroup, scrapeRules } from './alerts';
import { istioDashboard, kongDashboard, redisDashboard } from './dashboards';
import { Selector } from './promql';
import {
  ALERT_DEFAULTS,
  AlertThresholds,
  DEFAULT_RUNBOOK_BASE_URL,
  MonitoringMode,
  STANDALONE_DEFAULTS,
  STANDALONE_IMAGES,
} from './settings';
import {
  GatewayMetricsSource,
  ISTIO_MERGED_METRICS_PATH,
  ISTIO_MERGED_METRICS_PORT,
  ISTIO_SIDECAR_JOB,
  ISTIOD_JOB,
  ISTIOD_MONITORING_PORT,
  MeshMetricsSource,
  RedisMetricsSource,
} from './sources';
import {
  StandaloneAlertmanagerOptions,
  StandaloneGrafanaOptions,
  StandaloneMonitoring,
  StandalonePrometheusOptions,
} from './standalone';

export * from './alerts';
export * from './sources';
export { StandaloneMonitoring } from './standalone';

export interface GrafanaDashboardOptions {
  /** Label the dashboard sidecar watches. @default 'grafana_dashboard' */
  readonly dashboardLabel?: string;
  /** @default '1' */
  readonly dashboardLabelValue?: string;
  /** Annotation naming the folder. @default 'grafana_folder' */
  readonly folderAnnotation?: string;
  /** @default 'Fingerprint' */
  readonly folder?: string;
  /** Namespace the sidecar watches. @default the monitoring namespace */
  readonly namespace?: string;
}

export interface StandaloneOptions {
  readonly prometheus?: Partial<StandalonePrometheusOptions>;
  readonly alertmanager?: Partial<StandaloneAlertmanagerOptions>;
  readonly grafana?: Partial<StandaloneGrafanaOptions>;
}

export interface MonitoringProps {
  /** Region name; a target label on every series and the dashboards' default. */
  readonly region: string;
  /** Environment name; a target label on every series and the dashboards' default. */
  readonly environment: 'staging' | 'prod';
  /** `existing`: kube-prometheus-stack is there; `standalone`: deploy Prometheus, Alertmanager, Grafana. @default 'existing' */
  readonly mode?: MonitoringMode;
  /** The cluster's Prometheus pods (mode `existing`), allowed to scrape every endpoint. */
  readonly prometheus?: Peer;
  /** Namespace of the rules, dashboards and the standalone stack. @default 'monitoring' */
  readonly namespace?: string;
  /** Labels on every monitor and rule. @default { release: 'kube-prometheus-stack' } */
  readonly selectorLabels?: Labels;
  /** Scrape interval of endpoints that set none. @default '30s' */
  readonly scrapeInterval?: string;
  readonly grafana?: GrafanaDashboardOptions;
  /** @default the RUNBOOKS.md of this folder on the main branch */
  readonly runbookBaseUrl?: string;
  /** @default ALERT_DEFAULTS[environment] */
  readonly thresholds?: AlertThresholds;
  readonly redis?: RedisMetricsSource;
  readonly gateway?: GatewayMetricsSource;
  readonly mesh?: MeshMetricsSource;
  /** Further sources: scraped (monitor, traffic rule, missing-target alert) without rules or dashboards of their own. */
  readonly sources?: readonly MetricsSource[];
  /** Sizing of the standalone stack. @default STANDALONE_DEFAULTS[environment] */
  readonly standalone?: StandaloneOptions;
  /** Zones of the region (standalone replicas spread across them). @default [] */
  readonly zones?: readonly string[];
}

/** A scrape endpoint as monitored, with the port addressed by name or (for undeclared ports) number. */
export interface MonitoredEndpoint extends ScrapeEndpoint {
  readonly portByNumber: boolean;
  /** False for pods this program does not own (istiod): scraped, but no flow is declared to them. */
  readonly declareTraffic: boolean;
}

/**
 * Monitoring of one region: a PodMonitor per scrape endpoint (and the Prometheus -> workload flow in
 * the traffic graph), tested alert rules for Redis, Kong and Istio, and generated Grafana dashboards.
 * In mode `standalone` it also deploys Prometheus, Alertmanager and Grafana; otherwise everything
 * carries the labels the cluster's kube-prometheus-stack selects.
 */
export class Monitoring extends Construct {
  public readonly mode: MonitoringMode;
  public readonly namespace: string;
  /** The Prometheus that scrapes (the cluster's, or the standalone one). */
  public readonly prometheus: Peer;
  public readonly endpoints: readonly MonitoredEndpoint[];
  public readonly ruleGroups: readonly RuleGroup[];
  public readonly dashboards: ReadonlyMap<string, Dashboard>;
  public readonly standalone?: StandaloneMonitoring;
  public readonly selectorLabels: Labels;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.mode = props.mode ?? 'existing';
    this.namespace = props.namespace ?? 'monitoring';
    this.selectorLabels = { ...(props.selectorLabels ?? { release: 'kube-prometheus-stack' }) };
    if (Object.keys(this.selectorLabels).length === 0) throw new Error(`Monitoring ${id}: selectorLabels must not be empty (Prometheus selects monitors and rules by them)`);
    const scrapeInterval = props.scrapeInterval ?? '30s';
    const labels = standardLabels('monitoring', 'monitoring');
    const selected = { ...labels, ...this.selectorLabels };
    const grafana = {
      dashboardLabel: props.grafana?.dashboardLabel ?? 'grafana_dashboard',
      dashboardLabelValue: props.grafana?.dashboardLabelValue ?? '1',
      folderAnnotation: props.grafana?.folderAnnotation ?? 'grafana_folder',
      folder: props.grafana?.folder ?? 'Fingerprint',
      namespace: props.grafana?.namespace ?? this.namespace,
    };

    // --- What is scraped ----------------------------------------------------------------------
    const byName = (ep: ScrapeEndpoint): MonitoredEndpoint => ({ ...ep, portByNumber: false, declareTraffic: true });
    const endpoints: MonitoredEndpoint[] = [];
    const seen = new Set<string>();
    for (const source of [props.redis, props.gateway, props.gateway?.rateLimitStore, props.mesh, ...(props.sources ?? [])]) {
      for (const ep of source?.scrapeEndpoints ?? []) {
        // One source may be passed twice (the Redis Cluster as the gateway's rate-limit store).
        const key = `${ep.job}/${ep.workload.namespace}/${ep.workload.name}/${ep.port.port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        endpoints.push(byName(ep));
      }
    }
    for (const workload of props.mesh?.sidecarWorkloads ?? []) {
      // The agent's merged port is not a declared container port, so it is addressed by number.
      endpoints.push({ job: ISTIO_SIDECAR_JOB, workload, port: ISTIO_MERGED_METRICS_PORT, path: ISTIO_MERGED_METRICS_PATH, portByNumber: true, declareTraffic: true });
    }
    const controlPlane = props.mesh?.controlPlane;
    if (controlPlane) {
      const istiod = { name: 'istiod', ...controlPlane, serviceAccountName: 'istiod', description: `istiod ${controlPlane.namespace}` };
      endpoints.push({ job: ISTIOD_JOB, workload: istiod, port: ISTIOD_MONITORING_PORT, path: '/metrics', portByNumber: true, declareTraffic: false });
    }
    this.endpoints = endpoints;

    // --- Dashboards (data first: the standalone Grafana mounts their ConfigMaps) -------------------
    const ctx = { region: props.region, environment: props.environment };
    const dashboards = new Map<string, Dashboard>();
    const redisSelector = props.redis ? Selector.of({ job: jobOf(props.redis, 'redis'), namespace: props.redis.namespace }) : undefined;
    const kongSelector = props.gateway?.scrapeEndpoints.length ? Selector.anyOf('job', props.gateway.scrapeEndpoints.map((e) => e.job)) : undefined;
    const istioJobs = [
      ...(props.mesh?.scrapeEndpoints.map((e) => e.job) ?? []),
      ...(props.mesh?.sidecarWorkloads?.length ? [ISTIO_SIDECAR_JOB] : []),
      ...(controlPlane ? [ISTIOD_JOB] : []),
    ];
    const istioSelector = istioJobs.length ? Selector.anyOf('job', istioJobs) : undefined;
    if (redisSelector) dashboards.set('redis-cluster', redisDashboard(redisSelector, ctx));
    if (kongSelector) dashboards.set('kong-gateway', kongDashboard(kongSelector, ctx));
    if (istioSelector) dashboards.set('istio-services', istioDashboard(istioSelector, ctx));
    this.dashboards = dashboards;
    const dashboardMaps = [...dashboards.entries()].map(([slug, dashboard]) => ({ name: `grafana-dashboard-${slug}`, key: `${slug}.json`, dashboard }));

    // --- The Prometheus ---------------------------------------------------------------------------
    if (this.mode === 'standalone') {
      if (grafana.namespace !== this.namespace) {
        throw new Error(`Monitoring ${id}: in standalone mode Grafana reads the dashboards from the monitoring namespace ${this.namespace} (got grafana.namespace ${grafana.namespace})`);
      }
      NamespaceRegistry.of(this).ensure(this.namespace);
      const d = STANDALONE_DEFAULTS[props.environment];
      const s = props.standalone ?? {};
      this.standalone = new StandaloneMonitoring(this, 'stack', {
        namespace: this.namespace,
        region: props.region,
        environment: props.environment,
        selectorLabels: this.selectorLabels,
        monitorNamespaces: endpoints.map((e) => e.workload.namespace),
        scrapeInterval,
        prometheus: { image: STANDALONE_IMAGES.prometheus, ...d.prometheus, ...defined(s.prometheus) },
        alertmanager: { image: STANDALONE_IMAGES.alertmanager, ...d.alertmanager, ...defined(s.alertmanager) },
        grafana: { image: STANDALONE_IMAGES.grafana, ...d.grafana, ...defined(s.grafana) },
        dashboards: dashboardMaps.map(({ name, key }) => ({ name, key })),
        dashboardFolder: grafana.folder,
        zones: props.zones ?? [],
        unownedTargets: endpoints.filter((e) => !e.declareTraffic).map((e) => ({ peer: e.workload, port: e.port })),
      });
      this.prometheus = this.standalone.prometheus;
    } else {
      if (!props.prometheus) throw new Error(`Monitoring ${id}: mode "existing" needs the cluster's Prometheus (prometheus prop) to allow its scrapes`);
      this.prometheus = props.prometheus;
    }

    // --- Scrape: traffic rule and PodMonitor per endpoint --------------------------------------------
    const graph = TrafficGraph.of(this);
    const monitorNames = new Set<string>();
    for (const ep of endpoints) {
      if (ep.declareTraffic) graph.allow({ from: this.prometheus, to: ep.workload, ports: [ep.port], reason: `metrics scrape (${ep.job})` });
      let name = ep.job;
      if (monitorNames.has(`${ep.workload.namespace}/${name}`)) name = `${ep.job}-${ep.workload.name}`;
      if (monitorNames.has(`${ep.workload.namespace}/${name}`)) throw new Error(`Monitoring ${id}: two scrape endpoints of job ${ep.job} on ${ep.workload.description}`);
      monitorNames.add(`${ep.workload.namespace}/${name}`);
      new ApiObject(this, `monitor-${ep.workload.namespace}-${name}`, {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PodMonitor',
        metadata: { name, namespace: ep.workload.namespace, labels: selected },
        spec: {
          selector: { matchLabels: { ...ep.workload.podLabels } },
          podMetricsEndpoints: [
            {
              ...(ep.portByNumber ? { portNumber: ep.port.port } : { port: ep.port.name }),
              path: ep.path ?? '/metrics',
              interval: ep.interval ?? scrapeInterval,
              scheme: 'http',
              relabelings: [
                // Rules and dashboards select by these; the job must not depend on the monitor's name.
                { action: 'replace', targetLabel: 'job', replacement: ep.job },
                { action: 'replace', targetLabel: 'region', replacement: props.region },
                { action: 'replace', targetLabel: 'environment', replacement: props.environment },
              ],
            },
          ],
        },
      });
    }

    // --- Alert rules ---------------------------------------------------------------------------------
    const ruleCtx: RuleContext = {
      thresholds: props.thresholds ?? ALERT_DEFAULTS[props.environment],
      runbookBaseUrl: props.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL,
    };
    const groups: RuleGroup[] = [];
    if (props.redis && redisSelector) groups.push(redisRules({ selector: redisSelector, masters: props.redis.masters }, ruleCtx));
    if (kongSelector) {
      const store = props.gateway?.rateLimitStore;
      const storeSelector = store?.scrapeEndpoints.length ? Selector.of({ job: store.scrapeEndpoints[0].job, namespace: store.namespace }) : undefined;
      groups.push(kongRules({ selector: kongSelector, rateLimitStore: storeSelector }, ruleCtx));
    }
    if (istioSelector) groups.push(istioRules({ selector: istioSelector }, ruleCtx));
    if (endpoints.length) groups.push(scrapeRules(endpoints.map((e) => ({ job: e.job, namespace: e.portByNumber ? undefined : e.workload.namespace })), ruleCtx));
    this.ruleGroups = groups;
    for (const group of groups) {
      new ApiObject(this, `rules-${group.name}`, {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: `fingerprint-${group.name}`, namespace: this.namespace, labels: selected },
        spec: { groups: [{ name: `fingerprint-${group.name}`, rules: group.rules.map((r) => ({ ...r, labels: { ...r.labels }, annotations: { ...r.annotations } })) }] },
      });
    }

    // --- Dashboard ConfigMaps (the sidecar in existing mode, provisioning in standalone mode) --------
    for (const { name, key, dashboard } of dashboardMaps) {
      new k8s.KubeConfigMap(this, name, {
        metadata: {
          name,
          namespace: grafana.namespace,
          labels: { ...labels, [grafana.dashboardLabel]: grafana.dashboardLabelValue },
          annotations: { [grafana.folderAnnotation]: grafana.folder },
        },
        data: { [key]: `${JSON.stringify(dashboard, null, 2)}\n` },
      });
    }
  }
}

function jobOf(source: MetricsSource, what: string): string {
  const jobs = [...new Set(source.scrapeEndpoints.map((e) => e.job))];
  if (jobs.length !== 1) throw new Error(`Monitoring: ${what} must expose exactly one scrape job (got ${jobs.join(', ') || 'none'})`);
  return jobs[0];
}

function defined<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
