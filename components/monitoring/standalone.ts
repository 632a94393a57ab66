import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { dump } from 'js-yaml';
import { contentHash } from '../../lib/files';
import { Labels, selectorLabels, standardLabels } from '../../lib/labels';
import { NAMESPACE_NAME_LABEL, WorkloadNetworkPolicy } from '../../lib/network-policy';
import { DeployTimeSecret } from '../../lib/secrets';
import { PortRef, TrafficGraph } from '../../lib/traffic';
import {
  Peer,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  spreadPods,
  Workload,
} from '../../lib/workload';

export const PROMETHEUS_PORT_REF: PortRef = { name: 'http-web', port: 9090 };
export const ALERTMANAGER_PORT_REF: PortRef = { name: 'http-web', port: 9093 };
export const ALERTMANAGER_CLUSTER_PORT_REF: PortRef = { name: 'tcp-mesh', port: 9094 };
export const GRAFANA_PORT_REF: PortRef = { name: 'http-grafana', port: 3000 };
/** uid of the `nobody` user the Prometheus and Alertmanager images run as. */
const PROMETHEUS_UID = 65534;
/** uid of the grafana user in the official image. */
const GRAFANA_UID = 472;
export const GRAFANA_DASHBOARDS_DIR = '/var/lib/grafana-dashboards';
const GRAFANA_PROVISIONING_DIR = '/var/lib/grafana-provisioning';
/**
 * The monitoring pods stay out of the mesh even in an injected namespace: Prometheus scrapes in
 * plaintext, as the mesh expects of an out-of-mesh Prometheus (its port-level exceptions).
 */
const OUT_OF_MESH = { 'sidecar.istio.io/inject': 'false' };

export interface StandalonePrometheusOptions {
  readonly image: string;
  readonly replicas: number;
  readonly retention: string;
  readonly retentionSize: string;
  readonly storageSize: string;
  readonly storageClassName?: string;
  readonly cpuRequest: string;
  readonly cpuLimit: string;
  readonly memory: string;
}

export interface StandaloneAlertmanagerOptions {
  readonly image: string;
  readonly replicas: number;
  readonly storageSize: string;
  readonly storageClassName?: string;
}

export interface StandaloneGrafanaOptions {
  readonly image: string;
  readonly replicas: number;
}

/** A dashboard ConfigMap Grafana provisions from. */
export interface DashboardConfigMapRef {
  readonly name: string;
  readonly key: string;
}

export interface StandaloneMonitoringProps {
  readonly namespace: string;
  readonly region: string;
  readonly environment: string;
  /** Labels the monitors and rules carry; the Prometheus selects exactly those. */
  readonly selectorLabels: Labels;
  /** Namespaces holding the PodMonitors (and the pods they select). */
  readonly monitorNamespaces: readonly string[];
  readonly scrapeInterval: string;
  readonly prometheus: StandalonePrometheusOptions;
  readonly alertmanager: StandaloneAlertmanagerOptions;
  readonly grafana: StandaloneGrafanaOptions;
  readonly dashboards: readonly DashboardConfigMapRef[];
  readonly dashboardFolder: string;
  readonly zones: readonly string[];
  /** Scrape targets this program does not own (no flow in the traffic graph): Prometheus egress only. @default [] */
  readonly unownedTargets?: readonly { readonly peer: Peer; readonly port: PortRef }[];
  /** Id of the Pulumi secret holding Grafana's admin password. @default 'grafanaAdminPassword' */
  readonly grafanaPasswordSecretId?: string;
  /** @default 'cluster.local' */
  readonly clusterDomain?: string;
}

function imageTag(image: string): string {
  const tag = /:([A-Za-z0-9._-]+)(@sha256:[a-f0-9]{64})?$/.exec(image.replace(/^[^/]+:[0-9]+\//, ''));
  if (!tag) throw new Error(`image ${image} has no version tag`);
  return tag[1];
}

function pvcTemplate(size: string, storageClassName?: string) {
  return {
    volumeClaimTemplate: {
      spec: {
        accessModes: ['ReadWriteOnce'],
        ...(storageClassName ? { storageClassName } : {}),
        resources: { requests: { storage: size } },
      },
    },
  };
}

function plainResources(cpuRequest: string, cpuLimit: string, memoryRequest: string, memoryLimit: string) {
  return { requests: { cpu: cpuRequest, memory: memoryRequest }, limits: { cpu: cpuLimit, memory: memoryLimit } };
}

/**
 * Prometheus and Alertmanager as prometheus-operator custom resources (the operator and its CRDs
 * must be installed), and Grafana provisioned with the Prometheus datasource and this program's
 * dashboards: the monitoring stack for a cluster that has none.
 */
export class StandaloneMonitoring extends Construct {
  public readonly prometheus: Workload;
  public readonly alertmanager: Workload;
  public readonly grafana: Workload;
  /** Governing Services the operator creates for the pods of every Prometheus and Alertmanager. */
  public readonly prometheusServiceName = 'prometheus-operated';
  public readonly alertmanagerServiceName = 'alertmanager-operated';
  public readonly grafanaServiceName = 'grafana';
  public readonly grafanaAdminSecret: DeployTimeSecret;
  /** Name of the Prometheus and Alertmanager custom resources. */
  public readonly instanceName = 'fingerprint';

  constructor(scope: Construct, id: string, props: StandaloneMonitoringProps) {
    super(scope, id);
    const { namespace } = props;
    const domain = props.clusterDomain ?? 'cluster.local';
    const graph = TrafficGraph.of(this);
    const name = this.instanceName;

    // Pod labels the operator sets on the pods it creates.
    this.prometheus = {
      name: 'prometheus',
      namespace,
      podLabels: { 'app.kubernetes.io/name': 'prometheus', prometheus: name },
      serviceAccountName: 'prometheus',
      description: `Prometheus ${namespace}/${name}`,
    };
    this.alertmanager = {
      name: 'alertmanager',
      namespace,
      podLabels: { 'app.kubernetes.io/name': 'alertmanager', alertmanager: name },
      serviceAccountName: 'alertmanager',
      description: `Alertmanager ${namespace}/${name}`,
    };
    const grafanaPodLabels = selectorLabels('grafana', 'monitoring');
    this.grafana = { name: 'grafana', namespace, podLabels: grafanaPodLabels, serviceAccountName: 'grafana', description: `Grafana ${namespace}/grafana` };

    const labelsOf = (component: string, image: string) => standardLabels(component, 'monitoring', imageTag(image));
    const promLabels = labelsOf('prometheus', props.prometheus.image);
    const amLabels = labelsOf('alertmanager', props.alertmanager.image);
    const grafanaLabels = labelsOf('grafana', props.grafana.image);
    const meta = (objectName: string, labels: Labels, ns = namespace) => ({ name: objectName, namespace: ns, labels });

    // --- Prometheus -------------------------------------------------------------------------
    new k8s.KubeServiceAccount(this, 'prometheus-sa', { metadata: meta('prometheus', promLabels), automountServiceAccountToken: false });
    // Discovery of the scraped pods only, namespace by namespace: no cluster-wide read access.
    for (const ns of [...new Set(props.monitorNamespaces)].sort()) {
      const roleName = `prometheus-${namespace}-discovery`;
      new k8s.KubeRole(this, `discovery-role-${ns}`, {
        metadata: meta(roleName, promLabels, ns),
        rules: [
          { apiGroups: [''], resources: ['pods', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        ],
      });
      new k8s.KubeRoleBinding(this, `discovery-binding-${ns}`, {
        metadata: meta(roleName, promLabels, ns),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
        subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace }],
      });
    }

    const matchSelected = { matchLabels: { ...props.selectorLabels } };
    const monitorNamespaces = { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...new Set(props.monitorNamespaces)].sort() }] };
    const p = props.prometheus;
    const promSpread = p.replicas > 1 ? spreadPods(this.prometheus.podLabels, { zones: props.zones, onePodPerNode: false }) : {};
    new ApiObject(this, 'prometheus', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'Prometheus',
      metadata: meta(name, promLabels),
      spec: {
        image: p.image,
        version: imageTag(p.image),
        replicas: p.replicas,
        serviceAccountName: 'prometheus',
        // Service discovery reads the Kubernetes API with the service account token.
        automountServiceAccountToken: true,
        podMetadata: { labels: { ...promLabels }, annotations: { ...OUT_OF_MESH } },
        retention: p.retention,
        retentionSize: p.retentionSize,
        walCompression: true,
        storage: pvcTemplate(p.storageSize, p.storageClassName),
        resources: plainResources(p.cpuRequest, p.cpuLimit, p.memory, p.memory),
        scrapeInterval: props.scrapeInterval,
        evaluationInterval: props.scrapeInterval,
        externalLabels: { region: props.region, environment: props.environment },
        podMonitorSelector: matchSelected,
        podMonitorNamespaceSelector: monitorNamespaces,
        serviceMonitorSelector: matchSelected,
        serviceMonitorNamespaceSelector: monitorNamespaces,
        ruleSelector: matchSelected,
        ruleNamespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
        alerting: { alertmanagers: [{ namespace, name: this.alertmanagerServiceName, port: 'web', apiVersion: 'v2' }] },
        securityContext: restrictedPodSecurityContext(PROMETHEUS_UID),
        containers: [
          { name: 'prometheus', securityContext: restrictedContainerSecurityContext() },
          { name: 'config-reloader', securityContext: restrictedContainerSecurityContext() },
        ],
        initContainers: [{ name: 'init-config-reloader', securityContext: restrictedContainerSecurityContext() }],
        ...promSpread,
      },
    });
    if (p.replicas > 1) {
      new k8s.KubePodDisruptionBudget(this, 'prometheus-pdb', {
        metadata: meta('prometheus', promLabels),
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { ...this.prometheus.podLabels } } },
      });
    }

    // --- Alertmanager -----------------------------------------------------------------------
    new k8s.KubeServiceAccount(this, 'alertmanager-sa', { metadata: meta('alertmanager', amLabels), automountServiceAccountToken: false });
    const a = props.alertmanager;
    new ApiObject(this, 'alertmanager', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'Alertmanager',
      metadata: meta(name, amLabels),
      spec: {
        image: a.image,
        version: imageTag(a.image),
        replicas: a.replicas,
        serviceAccountName: 'alertmanager',
        automountServiceAccountToken: false,
        podMetadata: { labels: { ...amLabels }, annotations: { ...OUT_OF_MESH } },
        retention: '120h',
        storage: pvcTemplate(a.storageSize, a.storageClassName),
        resources: plainResources('50m', '200m', '128Mi', '128Mi'),
        alertmanagerConfigSelector: matchSelected,
        alertmanagerConfigNamespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
        securityContext: restrictedPodSecurityContext(PROMETHEUS_UID),
        containers: [
          { name: 'alertmanager', securityContext: restrictedContainerSecurityContext() },
          { name: 'config-reloader', securityContext: restrictedContainerSecurityContext() },
        ],
        initContainers: [{ name: 'init-config-reloader', securityContext: restrictedContainerSecurityContext() }],
        ...(a.replicas > 1 ? spreadPods(this.alertmanager.podLabels, { zones: props.zones, onePodPerNode: false }) : {}),
      },
    });
    if (a.replicas > 1) {
      new k8s.KubePodDisruptionBudget(this, 'alertmanager-pdb', {
        metadata: meta('alertmanager', amLabels),
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { ...this.alertmanager.podLabels } } },
      });
    }

    // --- Grafana ----------------------------------------------------------------------------
    new k8s.KubeServiceAccount(this, 'grafana-sa', { metadata: meta('grafana', grafanaLabels), automountServiceAccountToken: false });
    this.grafanaAdminSecret = new DeployTimeSecret(this, 'grafana-admin', {
      name: 'grafana-admin',
      namespace,
      labels: grafanaLabels,
      entries: { 'admin-password': props.grafanaPasswordSecretId ?? 'grafanaAdminPassword' },
    });
    const grafanaIni = [
      '[paths]',
      'data = /var/lib/grafana',
      'logs = /var/log/grafana',
      'plugins = /var/lib/grafana/plugins',
      `provisioning = ${GRAFANA_PROVISIONING_DIR}`,
      '[server]',
      `http_port = ${GRAFANA_PORT_REF.port}`,
      '[analytics]',
      'reporting_enabled = false',
      'check_for_updates = false',
      'check_for_plugin_updates = false',
      '[security]',
      'disable_gravatar = true',
      'disable_initial_admin_creation = false',
      '[users]',
      'allow_sign_up = false',
      '[auth.anonymous]',
      'enabled = false',
      '[log]',
      'mode = console',
      '',
    ].join('\n');
    const datasources = dump({
      apiVersion: 1,
      datasources: [
        {
          name: 'Prometheus',
          uid: 'prometheus',
          type: 'prometheus',
          access: 'proxy',
          url: `http://${this.prometheusServiceName}.${namespace}.svc.${domain}:${PROMETHEUS_PORT_REF.port}`,
          isDefault: true,
          editable: false,
          jsonData: { timeInterval: props.scrapeInterval },
        },
      ],
    });
    const providers = dump({
      apiVersion: 1,
      providers: [
        {
          name: 'fingerprint',
          folder: props.dashboardFolder,
          type: 'file',
          disableDeletion: true,
          allowUiUpdates: false,
          updateIntervalSeconds: 60,
          options: { path: GRAFANA_DASHBOARDS_DIR },
        },
      ],
    });
    const configMap = new k8s.KubeConfigMap(this, 'grafana-config', { metadata: meta('grafana-config', grafanaLabels), data: { 'grafana.ini': grafanaIni } });
    const datasourcesMap = new k8s.KubeConfigMap(this, 'grafana-datasources', { metadata: meta('grafana-datasources', grafanaLabels), data: { 'prometheus.yaml': datasources } });
    const providersMap = new k8s.KubeConfigMap(this, 'grafana-dashboard-providers', { metadata: meta('grafana-dashboard-providers', grafanaLabels), data: { 'fingerprint.yaml': providers } });

    const g = props.grafana;
    const httpProbe = { httpGet: { path: '/api/health', port: k8s.IntOrString.fromString(GRAFANA_PORT_REF.name) }, timeoutSeconds: 3 };
    new k8s.KubeDeployment(this, 'grafana', {
      metadata: meta('grafana', grafanaLabels),
      spec: {
        replicas: g.replicas,
        selector: { matchLabels: grafanaPodLabels },
        template: {
          metadata: {
            labels: { ...grafanaLabels, ...grafanaPodLabels },
            annotations: { 'checksum/config': contentHash(grafanaIni, datasources, providers, props.dashboards), ...OUT_OF_MESH },
          },
          spec: {
            serviceAccountName: 'grafana',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurityContext(GRAFANA_UID),
            ...(g.replicas > 1 ? spreadPods(grafanaPodLabels, { zones: props.zones, onePodPerNode: false }) : {}),
            containers: [
              {
                name: 'grafana',
                image: g.image,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ name: GRAFANA_PORT_REF.name, containerPort: GRAFANA_PORT_REF.port, protocol: 'TCP' }],
                env: [
                  { name: 'GF_SECURITY_ADMIN_USER', value: 'admin' },
                  { name: 'GF_SECURITY_ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: this.grafanaAdminSecret.name, key: 'admin-password' } } },
                ],
                resources: resourceRequirements({ cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi' }),
                startupProbe: { ...httpProbe, periodSeconds: 5, failureThreshold: 60 },
                readinessProbe: { ...httpProbe, periodSeconds: 10, failureThreshold: 3 },
                livenessProbe: { ...httpProbe, periodSeconds: 20, failureThreshold: 6 },
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/grafana', readOnly: true },
                  { name: 'datasources', mountPath: `${GRAFANA_PROVISIONING_DIR}/datasources`, readOnly: true },
                  { name: 'providers', mountPath: `${GRAFANA_PROVISIONING_DIR}/dashboards`, readOnly: true },
                  { name: 'dashboards', mountPath: GRAFANA_DASHBOARDS_DIR, readOnly: true },
                  { name: 'data', mountPath: '/var/lib/grafana' },
                  { name: 'logs', mountPath: '/var/log/grafana' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: configMap.name } },
              { name: 'datasources', configMap: { name: datasourcesMap.name } },
              { name: 'providers', configMap: { name: providersMap.name } },
              {
                name: 'dashboards',
                projected: { sources: props.dashboards.map((d) => ({ configMap: { name: d.name, items: [{ key: d.key, path: d.key }] } })) },
              },
              // Everything Grafana keeps is provisioned from ConfigMaps, so its database may be ephemeral.
              { name: 'data', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
              { name: 'logs', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
      },
    });
    new k8s.KubeService(this, 'grafana-service', {
      metadata: meta(this.grafanaServiceName, grafanaLabels),
      spec: {
        type: 'ClusterIP',
        selector: grafanaPodLabels,
        ports: [{ name: GRAFANA_PORT_REF.name, port: GRAFANA_PORT_REF.port, targetPort: k8s.IntOrString.fromString(GRAFANA_PORT_REF.name), protocol: 'TCP' }],
      },
    });
    if (g.replicas > 1) {
      new k8s.KubePodDisruptionBudget(this, 'grafana-pdb', {
        metadata: meta('grafana', grafanaLabels),
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: grafanaPodLabels } },
      });
    }

    // --- Traffic ----------------------------------------------------------------------------
    graph.allow({ from: this.grafana, to: this.prometheus, ports: [PROMETHEUS_PORT_REF], reason: 'dashboard queries' });
    graph.allow({ from: this.prometheus, to: this.alertmanager, ports: [ALERTMANAGER_PORT_REF], reason: 'alert delivery' });
    if (a.replicas > 1) {
      graph.allow({ from: this.alertmanager, to: this.alertmanager, ports: [ALERTMANAGER_CLUSTER_PORT_REF], reason: 'Alertmanager cluster gossip' });
    }
    const selfPeer = { podSelector: { matchLabels: { ...this.alertmanager.podLabels } } };
    const gossipUdp = [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(ALERTMANAGER_CLUSTER_PORT_REF.port) }];
    const apiServer = [443, 6443].map((port) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) }));
    new WorkloadNetworkPolicy(this, 'prometheus-network-policy', {
      workload: this.prometheus,
      labels: promLabels,
      // Service discovery; the API server is not a pod, so only its ports can be named.
      extraEgress: [
        { ports: apiServer },
        ...(props.unownedTargets ?? []).map((t) => ({
          to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: t.peer.namespace } }, podSelector: { matchLabels: { ...t.peer.podLabels } } }],
          ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(t.port.port) }],
        })),
      ],
    });
    new WorkloadNetworkPolicy(this, 'alertmanager-network-policy', {
      workload: this.alertmanager,
      labels: amLabels,
      // Gossip also uses UDP, which the traffic graph (TCP) does not express.
      ...(a.replicas > 1 ? { extraIngress: [{ from: [selfPeer], ports: gossipUdp }], extraEgress: [{ to: [selfPeer], ports: gossipUdp }] } : {}),
    });
    new WorkloadNetworkPolicy(this, 'grafana-network-policy', { workload: this.grafana, labels: grafanaLabels });
  }
}
