import { ApiObject, ApiObjectMetadata, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { selectorLabels, standardLabels } from '../../lib/labels';
import { MetricsSource, ScrapeEndpoint } from '../../lib/metrics';
import { NamespaceRegistry } from '../../lib/namespaces';
import { NAMESPACE_NAME_LABEL, WorkloadNetworkPolicy } from '../../lib/network-policy';
import { parseCpu } from '../../lib/quantity';
import { DeployTimeSecret, SecretKeyRef } from '../../lib/secrets';
import { PortRef, TrafficGraph } from '../../lib/traffic';
import {
  MESHED_POD_ANNOTATIONS,
  Peer,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  spreadPods,
  Workload,
} from '../../lib/workload';
import { RedisCluster } from '../redis-cluster';
import { KONG_GROUP, KongCrds } from './crds';
import {
  advancedRateLimitingConfig,
  KEY_AUTH_PLUGIN_CONFIG,
  ossRateLimitingConfig,
  PROMETHEUS_PLUGIN_CONFIG,
  QuotaTier,
  RateLimitRedisTarget,
} from './quotas';
import { RateLimitRedis } from './rate-limit-redis';

export * from './crds';
export * from './quotas';
export * from './rate-limit-redis';

/** uid/gid of the kong user in the Kong images. */
export const KONG_UID = 1000;
export const PROXY_HTTP_PORT: PortRef = { name: 'http-proxy', port: 8000 };
export const PROXY_TLS_PORT: PortRef = { name: 'https-proxy', port: 8443 };
/** Kong status listener: /status, /status/ready and the prometheus plugin's /metrics. */
export const STATUS_PORT: PortRef = { name: 'http-status', port: 8100 };
/** Admin API; bound to loopback, so only the controller in the same pod reaches it. */
export const ADMIN_PORT = 8001;
export const CONTROLLER_HEALTH_PORT: PortRef = { name: 'http-kic-health', port: 10254 };
export const CONTROLLER_METRICS_PORT: PortRef = { name: 'http-kic-metric', port: 10255 };
const KONG_PREFIX = '/kong_prefix';
const CONTROLLER_NAME = 'ingress-controllers.konghq.com/kong';

/**
 * A Service in front of backend pods this program does not own (e.g. the fingerprint API),
 * declared in stack config so routes reference it as an object.
 */
export interface BackendService extends Workload {
  /** Service name (the Ingress backend). */
  readonly service: string;
  /** Service port. */
  readonly port: number;
  /** Container port the pods listen on; Kong connects to pod endpoints directly. */
  readonly targetPort: number;
}

/** Builds a BackendService reference; `name` identifies it in policies. */
export function backendService(props: {
  name: string;
  namespace: string;
  service: string;
  port: number;
  targetPort?: number;
  podLabels: Record<string, string>;
  serviceAccountName: string;
}): BackendService {
  return {
    name: props.name,
    namespace: props.namespace,
    service: props.service,
    port: props.port,
    targetPort: props.targetPort ?? props.port,
    podLabels: { ...props.podLabels },
    serviceAccountName: props.serviceAccountName,
    description: `backend ${props.namespace}/${props.service}`,
  };
}

export interface KongRoute {
  /** Ingress name (in the backend's namespace). */
  readonly name: string;
  /** Path prefix. */
  readonly path: string;
  readonly backend: BackendService;
  /** @default - any host */
  readonly hosts?: readonly string[];
  /** @default false */
  readonly stripPath?: boolean;
}

export interface KongConsumerSpec {
  /** Kong username and object name stem. */
  readonly name: string;
  /** Key of `tiers`. */
  readonly tier: string;
  readonly customId?: string;
  /** Id of the Pulumi secret holding the consumer's key-auth key. */
  readonly keySecretId: string;
}

/** Where rate-limiting counters live: a single-endpoint store, or (enterprise only) a Redis Cluster. */
export type RateLimitStore = RateLimitRedis | RedisCluster;

export interface KongGatewayProps {
  /** @default 'kong' */
  readonly namespace?: string;
  /** Base name of the Deployment, Services and RBAC objects. @default 'kong' */
  readonly name?: string;
  /** @default 'oss' */
  readonly edition?: 'oss' | 'enterprise';
  /** Kong Gateway image, pinned. @default 'kong:3.9.1' (oss), 'kong/kong-gateway:3.9' (enterprise) */
  readonly image?: string;
  /** Kong Ingress Controller image, pinned. @default 'kong/kubernetes-ingress-controller:3.5.1' */
  readonly controllerImage?: string;
  /** @default 'kong' */
  readonly ingressClass?: string;
  /** @default 2 */
  readonly minReplicas?: number;
  /** @default 10 */
  readonly maxReplicas?: number;
  /** @default 70 */
  readonly targetCpuUtilization?: number;
  /** Proxy container. @default 1 / 2 CPU, 1Gi / 2Gi memory */
  readonly cpuRequest?: string;
  readonly cpuLimit?: string;
  readonly memoryRequest?: string;
  readonly memoryLimit?: string;
  /** Zones of the region; pods spread across them. @default [] */
  readonly zones?: readonly string[];
  /** @default 'LoadBalancer' */
  readonly proxyServiceType?: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
  /** @default {} */
  readonly proxyServiceAnnotations?: Record<string, string>;
  /** Client CIDRs allowed to reach the proxy. @default ['0.0.0.0/0'] */
  readonly proxySourceRanges?: readonly string[];
  /** Kubernetes API endpoints the controller may reach. @default 0.0.0.0/0 on 443 and 6443 */
  readonly apiServer?: { readonly cidrs: readonly string[]; readonly ports: readonly number[] };
  /** The installed CRDs; every Kong custom resource and the controller wait for them. @default - assumed present */
  readonly crds?: KongCrds;
  /** Counter store of the per-tier rate limits; its host, port, password and network rule are derived from it. */
  readonly rateLimitStore: RateLimitStore;
  /** Seconds between counter syncs. @default - synchronous */
  readonly syncRateSeconds?: number;
  /** @default false */
  readonly hideClientHeaders?: boolean;
  /** Quota tiers by name. @default {} */
  readonly tiers?: Readonly<Record<string, QuotaTier>>;
  /** @default [] */
  readonly consumers?: readonly KongConsumerSpec[];
  /** @default [] */
  readonly routes?: readonly KongRoute[];
  /** Who scrapes the status and controller metrics. @default - nobody */
  readonly metricsScraper?: Peer;
  /** Id of the Pulumi secret holding the Enterprise license (edition enterprise). @default 'kongLicense' */
  readonly licenseSecretId?: string;
}

/** Finds the DeployTimeSecret behind a secret reference, so a copy in another namespace carries the same value. */
function secretIdOf(scope: Construct, namespace: string, ref: SecretKeyRef): string {
  const found = Chart.of(scope)
    .node.findAll()
    .find((c): c is DeployTimeSecret => c instanceof DeployTimeSecret && c.name === ref.name && c.namespace === namespace);
  const id = found?.entries[ref.key];
  if (!id) throw new Error(`no DeployTimeSecret ${namespace}/${ref.name} with key "${ref.key}" in this chart`);
  return id;
}

/**
 * Kong API gateway of one region: Kong in DB-less mode driven by the Kong Ingress Controller in the
 * same pod, autoscaled and spread across zones, with per-consumer quotas counted in Redis, key-auth
 * credentials from Pulumi secrets, Prometheus metrics, and network rules derived from the routes.
 */
export class KongGateway extends Construct implements MetricsSource {
  public readonly name: string;
  public readonly namespace: string;
  public readonly edition: 'oss' | 'enterprise';
  public readonly ingressClass: string;
  public readonly workload: Workload;
  public readonly proxyServiceName: string;
  public readonly deployment: k8s.KubeDeployment;
  /** Name of the KongClusterPlugin enforcing key-auth on every route. */
  public readonly keyAuthPluginName: string;
  /** Tier name -> KongPlugin name. */
  public readonly tierPluginNames: Readonly<Record<string, string>>;
  /** Namespaces the controller watches (its own and every backend's). */
  public readonly watchNamespaces: readonly string[];
  private readonly customResources: ApiObject[] = [];

  constructor(scope: Construct, id: string, props: KongGatewayProps) {
    super(scope, id);
    this.name = props.name ?? 'kong';
    this.namespace = props.namespace ?? 'kong';
    this.edition = props.edition ?? 'oss';
    this.ingressClass = props.ingressClass ?? 'kong';
    this.proxyServiceName = `${this.name}-proxy`;
    const image = props.image ?? (this.edition === 'enterprise' ? 'kong/kong-gateway:3.9' : 'kong:3.9.1');
    const controllerImage = props.controllerImage ?? 'kong/kubernetes-ingress-controller:3.5.1';
    const minReplicas = props.minReplicas ?? 2;
    const maxReplicas = props.maxReplicas ?? 10;
    if (maxReplicas < minReplicas) throw new Error(`KongGateway ${id}: maxReplicas ${maxReplicas} is below minReplicas ${minReplicas}`);
    const store = props.rateLimitStore;
    if (this.edition === 'oss' && store instanceof RedisCluster) {
      throw new Error(
        `KongGateway ${id}: Kong OSS rate-limiting talks to one Redis endpoint and does not support Redis Cluster; ` +
          'use edition "enterprise" (rate-limiting-advanced) or a RateLimitRedis as rateLimitStore',
      );
    }
    const tiers = props.tiers ?? {};
    const consumers = props.consumers ?? [];
    const routes = props.routes ?? [];
    for (const c of consumers) {
      if (!tiers[c.tier]) throw new Error(`KongGateway ${id}: consumer "${c.name}" has unknown tier "${c.tier}" (tiers: ${Object.keys(tiers).join(', ') || 'none'})`);
    }
    const duplicate = (names: string[]) => names.find((n, i) => names.indexOf(n) !== i);
    const dupConsumer = duplicate(consumers.map((c) => c.name));
    if (dupConsumer) throw new Error(`KongGateway ${id}: consumer "${dupConsumer}" is listed twice`);
    const dupRoute = duplicate(routes.map((r) => `${r.backend.namespace}/${r.name}`));
    if (dupRoute) throw new Error(`KongGateway ${id}: route ${dupRoute} is listed twice`);

    NamespaceRegistry.of(this).ensure(this.namespace);
    const version = image.split(':')[1];
    const labels = standardLabels(this.name, 'api-gateway', version);
    const podLabels = selectorLabels(this.name, 'api-gateway');
    const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: this.namespace, labels, ...extra });
    const classAnnotation = { 'kubernetes.io/ingress.class': this.ingressClass };

    this.workload = {
      name: this.name,
      namespace: this.namespace,
      podLabels,
      serviceAccountName: this.name,
      description: `Kong gateway ${this.namespace}/${this.name}`,
    };

    // Backends, deduplicated: one watched namespace, Role and network rule each.
    const backends = new Map<string, { backend: BackendService; routes: KongRoute[] }>();
    for (const route of routes) {
      const key = `${route.backend.namespace}/${route.backend.name}`;
      const entry = backends.get(key) ?? { backend: route.backend, routes: [] };
      entry.routes.push(route);
      backends.set(key, entry);
    }
    this.watchNamespaces = [...new Set([this.namespace, ...[...backends.values()].map((b) => b.backend.namespace)])];

    // --- RBAC: read what the controller translates, only in the watched namespaces.
    new k8s.KubeServiceAccount(this, 'service-account', { metadata: meta(this.name), automountServiceAccountToken: false });
    const subject = { kind: 'ServiceAccount', name: this.name, namespace: this.namespace };
    const read = ['get', 'list', 'watch'];
    const statusWrite = ['get', 'patch', 'update'];
    const namespacedKongResources = [
      'kongplugins',
      'kongconsumers',
      'kongconsumergroups',
      'kongingresses',
      'kongupstreampolicies',
      'kongcustomentities',
      'ingressclassparameterses',
    ];
    const namespacedRules: k8s.PolicyRule[] = [
      { apiGroups: [''], resources: ['services', 'pods', 'secrets'], verbs: read },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: read },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: statusWrite },
      { apiGroups: [KONG_GROUP], resources: namespacedKongResources, verbs: read },
      { apiGroups: [KONG_GROUP], resources: namespacedKongResources.map((r) => `${r}/status`), verbs: statusWrite },
    ];
    const bindings: Construct[] = [];
    for (const ns of this.watchNamespaces) {
      const roleName = ns === this.namespace ? `${this.name}-ingress-controller` : `${this.namespace}-${this.name}-ingress-controller`;
      const rules = ns === this.namespace
        ? [...namespacedRules, { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] }]
        : namespacedRules;
      new k8s.KubeRole(this, `role-${ns}`, { metadata: { name: roleName, namespace: ns, labels }, rules });
      bindings.push(
        new k8s.KubeRoleBinding(this, `role-binding-${ns}`, {
          metadata: { name: roleName, namespace: ns, labels },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
          subjects: [subject],
        }),
      );
    }
    const clusterRoleName = `${this.namespace}-${this.name}-ingress-controller`;
    new k8s.KubeClusterRole(this, 'cluster-role', {
      metadata: { name: clusterRoleName, labels },
      rules: [
        { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: read },
        { apiGroups: [KONG_GROUP], resources: ['kongclusterplugins', 'konglicenses', 'kongvaults'], verbs: read },
        { apiGroups: [KONG_GROUP], resources: ['kongclusterplugins/status', 'konglicenses/status', 'kongvaults/status'], verbs: statusWrite },
        // The controller enables the controllers whose CRDs exist.
        { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['list', 'watch'] },
      ],
    });
    bindings.push(
      new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', {
        metadata: { name: clusterRoleName, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName },
        subjects: [subject],
      }),
    );

    new k8s.KubeIngressClass(this, 'ingress-class', {
      metadata: { name: this.ingressClass, labels },
      spec: { controller: CONTROLLER_NAME },
    });

    // --- Proxy Service: the only way in; the admin API has no Service and listens on loopback.
    const serviceType = props.proxyServiceType ?? 'LoadBalancer';
    const sourceRanges = [...(props.proxySourceRanges ?? ['0.0.0.0/0'])];
    const external = serviceType !== 'ClusterIP';
    new k8s.KubeService(this, 'proxy-service', {
      metadata: meta(this.proxyServiceName, props.proxyServiceAnnotations && Object.keys(props.proxyServiceAnnotations).length ? { annotations: { ...props.proxyServiceAnnotations } } : {}),
      spec: {
        type: serviceType,
        selector: podLabels,
        ports: [
          { name: PROXY_HTTP_PORT.name, port: 80, targetPort: k8s.IntOrString.fromString(PROXY_HTTP_PORT.name), protocol: 'TCP' },
          { name: PROXY_TLS_PORT.name, port: 443, targetPort: k8s.IntOrString.fromString(PROXY_TLS_PORT.name), protocol: 'TCP' },
        ],
        // Keeps the client address for logs and per-IP decisions, and avoids a second hop.
        ...(external ? { externalTrafficPolicy: 'Local' } : {}),
        ...(serviceType === 'LoadBalancer' ? { loadBalancerSourceRanges: sourceRanges } : {}),
      },
    });

    // --- Secrets the proxy and plugins use, all in the gateway namespace.
    let licenseRef: SecretKeyRef | undefined;
    if (this.edition === 'enterprise') {
      licenseRef = new DeployTimeSecret(this, 'license', {
        name: `${this.name}-license`,
        namespace: this.namespace,
        labels,
        entries: { license: props.licenseSecretId ?? 'kongLicense' },
      }).keyRef('license');
    }
    // KongPlugin secret references resolve in the plugin's namespace, so the store's password is
    // provided there under the same Pulumi secret.
    const storeSecretId = secretIdOf(this, store.namespace, store.passwordSecret);
    const storePassword =
      store.namespace === this.namespace
        ? store.passwordSecret
        : new DeployTimeSecret(this, 'rate-limit-store-auth', {
            name: `${this.name}-rate-limit-store-auth`,
            namespace: this.namespace,
            labels: { ...labels, 'konghq.com/secret': 'true' },
            entries: { password: storeSecretId },
          }).keyRef('password');
    store.allowFrom(this.workload, 'rate-limiting counters of the API gateway');

    // --- Workload.
    const cpuLimitMillis = parseCpu(props.cpuLimit ?? '2');
    if (cpuLimitMillis === undefined) throw new Error(`KongGateway ${id}: cpuLimit "${props.cpuLimit}" is not a CPU quantity`);
    // One nginx worker per whole CPU of the limit, so workers are not throttled against each other.
    const workers = Math.max(1, Math.floor(cpuLimitMillis / 1000));
    const kongEnv: k8s.EnvVar[] = [
      { name: 'KONG_DATABASE', value: 'off' },
      { name: 'KONG_ROLE', value: 'traditional' },
      { name: 'KONG_KIC', value: 'on' },
      { name: 'KONG_PREFIX', value: KONG_PREFIX },
      { name: 'KONG_PROXY_LISTEN', value: `0.0.0.0:${PROXY_HTTP_PORT.port} reuseport backlog=16384, 0.0.0.0:${PROXY_TLS_PORT.port} http2 ssl reuseport backlog=16384` },
      { name: 'KONG_ADMIN_LISTEN', value: `127.0.0.1:${ADMIN_PORT}` },
      { name: 'KONG_ADMIN_GUI_LISTEN', value: 'off' },
      { name: 'KONG_STATUS_LISTEN', value: `0.0.0.0:${STATUS_PORT.port}` },
      { name: 'KONG_STREAM_LISTEN', value: 'off' },
      { name: 'KONG_NGINX_WORKER_PROCESSES', value: String(workers) },
      { name: 'KONG_PLUGINS', value: 'bundled' },
      { name: 'KONG_ANONYMOUS_REPORTS', value: 'off' },
      { name: 'KONG_PROXY_ACCESS_LOG', value: '/dev/stdout' },
      { name: 'KONG_PROXY_ERROR_LOG', value: '/dev/stderr' },
      { name: 'KONG_ADMIN_ACCESS_LOG', value: 'off' },
      { name: 'KONG_ADMIN_ERROR_LOG', value: '/dev/stderr' },
      { name: 'KONG_STATUS_ACCESS_LOG', value: 'off' },
      { name: 'KONG_STATUS_ERROR_LOG', value: '/dev/stderr' },
      { name: 'KONG_LUA_SSL_TRUSTED_CERTIFICATE', value: 'system' },
      { name: 'KONG_NGINX_DAEMON', value: 'off' },
      ...(licenseRef ? [{ name: 'KONG_LICENSE_DATA', valueFrom: { secretKeyRef: { name: licenseRef.name, key: licenseRef.key } } }] : []),
    ];
    const statusProbe = (path: string) => ({ httpGet: { path, port: k8s.IntOrString.fromString(STATUS_PORT.name), scheme: 'HTTP' } });
    const proxyContainer: k8s.Container = {
      name: 'proxy',
      image,
      imagePullPolicy: 'IfNotPresent',
      env: kongEnv,
      ports: [PROXY_HTTP_PORT, PROXY_TLS_PORT, STATUS_PORT].map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
      resources: resourceRequirements({
        cpuRequest: props.cpuRequest ?? '1',
        cpuLimit: props.cpuLimit ?? '2',
        memoryRequest: props.memoryRequest ?? '1Gi',
        memoryLimit: props.memoryLimit ?? '2Gi',
      }),
      startupProbe: { ...statusProbe('/status'), periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 60 },
      livenessProbe: { ...statusProbe('/status'), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
      // Ready only once the controller has pushed a configuration (DB-less /status/ready).
      readinessProbe: { ...statusProbe('/status/ready'), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
      // Stop accepting new connections and let in-flight requests finish before SIGTERM.
      lifecycle: { preStop: { exec: { command: ['kong', 'quit', '--wait=15'] } } },
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [
        { name: 'kong-prefix', mountPath: KONG_PREFIX },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    };
    const controllerEnv: k8s.EnvVar[] = [
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
      { name: 'CONTROLLER_KONG_ADMIN_URL', value: `http://127.0.0.1:${ADMIN_PORT}` },
      { name: 'CONTROLLER_PUBLISH_SERVICE', value: `${this.namespace}/${this.proxyServiceName}` },
      { name: 'CONTROLLER_INGRESS_CLASS', value: this.ingressClass },
      { name: 'CONTROLLER_ELECTION_ID', value: `kong-ingress-controller-leader-${this.ingressClass}` },
      { name: 'CONTROLLER_WATCH_NAMESPACE', value: this.watchNamespaces.join(',') },
      { name: 'CONTROLLER_ANONYMOUS_REPORTS', value: 'false' },
      { name: 'CONTROLLER_ADMISSION_WEBHOOK_LISTEN', value: 'off' },
      { name: 'CONTROLLER_HEALTH_PROBE_BIND_ADDRESS', value: `:${CONTROLLER_HEALTH_PORT.port}` },
      { name: 'CONTROLLER_METRICS_BIND_ADDRESS', value: `:${CONTROLLER_METRICS_PORT.port}` },
      { name: 'CONTROLLER_LOG_FORMAT', value: 'json' },
      // Routes are Ingresses; the controllers for other APIs stay off and need no RBAC.
      { name: 'CONTROLLER_ENABLE_CONTROLLER_GWAPI_GATEWAY', value: 'false' },
      { name: 'CONTROLLER_ENABLE_CONTROLLER_GWAPI_HTTPROUTE', value: 'false' },
      { name: 'CONTROLLER_ENABLE_CONTROLLER_GWAPI_REFERENCE_GRANT', value: 'false' },
      { name: 'CONTROLLER_ENABLE_CONTROLLER_TCPINGRESS', value: 'false' },
      { name: 'CONTROLLER_ENABLE_CONTROLLER_UDPINGRESS', value: 'false' },
    ];
    const controllerProbe = (path: string) => ({ httpGet: { path, port: k8s.IntOrString.fromString(CONTROLLER_HEALTH_PORT.name), scheme: 'HTTP' } });
    const controllerContainer: k8s.Container = {
      name: 'ingress-controller',
      image: controllerImage,
      imagePullPolicy: 'IfNotPresent',
      env: controllerEnv,
      ports: [CONTROLLER_HEALTH_PORT, CONTROLLER_METRICS_PORT].map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
      resources: resourceRequirements({ cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '512Mi' }),
      livenessProbe: { ...controllerProbe('/healthz'), initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
      readinessProbe: { ...controllerProbe('/readyz'), initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
      securityContext: restrictedContainerSecurityContext(),
    };

    this.deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: meta(this.name),
      spec: {
        // No replicas: the HorizontalPodAutoscaler owns the count.
        selector: { matchLabels: podLabels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } },
        minReadySeconds: 5,
        template: {
          metadata: { labels: { ...labels, ...podLabels }, annotations: { ...MESHED_POD_ANNOTATIONS } },
          spec: {
            serviceAccountName: this.name,
            // The controller reads the Kubernetes API.
            automountServiceAccountToken: true,
            enableServiceLinks: false,
            // kong quit waits up to 15s for in-flight requests; the rest is headroom.
            terminationGracePeriodSeconds: 30,
            securityContext: restrictedPodSecurityContext(KONG_UID),
            ...spreadPods(podLabels, { zones: props.zones ?? [], onePodPerNode: false }),
            containers: [proxyContainer, controllerContainer],
            volumes: [
              { name: 'kong-prefix', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
            ],
          },
        },
      },
    });
    for (const binding of bindings) this.deployment.node.addDependency(binding);
    if (props.crds) this.deployment.node.addDependency(props.crds);

    new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
      metadata: meta(this.name),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
        minReplicas,
        maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: props.targetCpuUtilization ?? 70 } } }],
        behavior: {
          // Scale up fast on bursts, down slowly so a dip does not drop capacity needed a minute later.
          scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 30 }] },
          scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
        },
      },
    });
    new k8s.KubePodDisruptionBudget(this, 'pdb', {
      metadata: meta(this.name),
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: podLabels } },
    });

    // --- Plugins and consumers.
    this.customResource('prometheus-plugin', {
      apiVersion: `${KONG_GROUP}/v1`,
      kind: 'KongClusterPlugin',
      metadata: { name: `${this.name}-prometheus`, labels: { ...labels, global: 'true' }, annotations: classAnnotation },
      plugin: 'prometheus',
      config: { ...PROMETHEUS_PLUGIN_CONFIG },
    });
    this.keyAuthPluginName = `${this.name}-key-auth`;
    this.customResource('key-auth-plugin', {
      apiVersion: `${KONG_GROUP}/v1`,
      kind: 'KongClusterPlugin',
      metadata: { name: this.keyAuthPluginName, labels, annotations: classAnnotation },
      plugin: 'key-auth',
      config: { ...KEY_AUTH_PLUGIN_CONFIG, key_names: [...KEY_AUTH_PLUGIN_CONFIG.key_names] },
    });

    const target: RateLimitRedisTarget =
      store instanceof RedisCluster
        ? { mode: 'cluster', nodes: store.nodeHostnames.map((host) => ({ host, port: store.port })) }
        : { mode: 'single', host: store.host, port: store.port };
    const rateOptions = { syncRateSeconds: props.syncRateSeconds, hideClientHeaders: props.hideClientHeaders ?? false };
    const pluginType = this.edition === 'enterprise' ? 'rate-limiting-advanced' : 'rate-limiting';
    const tierPluginNames: Record<string, string> = {};
    for (const [tierName, tier] of Object.entries(tiers)) {
      // The plugin type is in the name: KongPlugin.plugin is immutable, so switching edition creates new objects.
      const pluginName = `${this.name}-${tierName}-${pluginType}`;
      tierPluginNames[tierName] = pluginName;
      this.customResource(`tier-${tierName}`, {
        apiVersion: `${KONG_GROUP}/v1`,
        kind: 'KongPlugin',
        metadata: { name: pluginName, namespace: this.namespace, labels: { ...labels, 'fingerprint.io/quota-tier': tierName }, annotations: classAnnotation },
        plugin: pluginType,
        config: this.edition === 'enterprise' ? advancedRateLimitingConfig(tierName, tier, target, rateOptions) : ossRateLimitingConfig(tier, target, rateOptions),
        // The password stays in its Secret; the controller patches it into the plugin config.
        configPatches: [{ path: '/redis/password', valueFrom: { secretKeyRef: { name: storePassword.name, key: storePassword.key } } }],
      });
    }
    this.tierPluginNames = tierPluginNames;

    for (const consumer of consumers) {
      const credentialName = `${this.name}-consumer-${consumer.name}-key-auth`;
      const credential = new DeployTimeSecret(this, `consumer-${consumer.name}-credential`, {
        name: credentialName,
        namespace: this.namespace,
        labels: { ...labels, 'konghq.com/credential': 'key-auth' },
        entries: { key: consumer.keySecretId },
      });
      const kongConsumer = this.customResource(`consumer-${consumer.name}`, {
        apiVersion: `${KONG_GROUP}/v1`,
        kind: 'KongConsumer',
        metadata: {
          name: `${this.name}-consumer-${consumer.name}`,
          namespace: this.namespace,
          labels: { ...labels, 'fingerprint.io/quota-tier': consumer.tier },
          annotations: { ...classAnnotation, 'konghq.com/plugins': tierPluginNames[consumer.tier] },
        },
        username: consumer.name,
        ...(consumer.customId ? { custom_id: consumer.customId } : {}),
        credentials: [credentialName],
      });
      kongConsumer.node.addDependency(credential);
    }

    // --- Routes: one Ingress per route, in the backend's namespace.
    const graph = TrafficGraph.of(this);
    for (const { backend, routes: backendRoutes } of backends.values()) {
      const port: PortRef = { name: 'http', port: backend.targetPort };
      graph.allow({ from: this.workload, to: backend, ports: [port], reason: `API gateway routes ${backendRoutes.map((r) => r.path).join(', ')}` });
      new BackendIngressPolicy(this, `backend-policy-${backend.namespace}-${backend.name}`, { gateway: this.workload, backend, labels });
      for (const route of backendRoutes) {
        const paths = [{ path: route.path, pathType: 'Prefix', backend: { service: { name: backend.service, port: { number: backend.port } } } }];
        new k8s.KubeIngress(this, `route-${backend.namespace}-${route.name}`, {
          metadata: {
            name: route.name,
            namespace: backend.namespace,
            labels,
            annotations: {
              'konghq.com/plugins': this.keyAuthPluginName,
              'konghq.com/strip-path': String(route.stripPath ?? false),
              // The backend Service is not managed here; waiting for its endpoints could stall a deploy.
              'pulumi.com/skipAwait': 'true',
            },
          },
          spec: {
            ingressClassName: this.ingressClass,
            rules: (route.hosts?.length ? route.hosts : [undefined]).map((host) => ({ ...(host ? { host } : {}), http: { paths } })),
          },
        });
      }
    }

    // --- Network: proxy from the allowed client ranges, metrics from the scraper, API server egress.
    if (props.metricsScraper) {
      graph.allow({ from: props.metricsScraper, to: this.workload, ports: [STATUS_PORT, CONTROLLER_METRICS_PORT], reason: 'metrics scrape of Kong and its controller' });
    }
    const apiServer = props.apiServer ?? { cidrs: ['0.0.0.0/0'], ports: [443, 6443] };
    new WorkloadNetworkPolicy(this, 'network-policy', {
      workload: this.workload,
      labels,
      extraIngress: [
        {
          from: sourceRanges.map((cidr) => ({ ipBlock: { cidr } })),
          ports: [PROXY_HTTP_PORT, PROXY_TLS_PORT].map((p) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(p.port) })),
        },
      ],
      extraEgress: [
        {
          to: apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
          ports: apiServer.ports.map((port) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) })),
        },
      ],
    });
    if (props.crds) for (const cr of this.customResources) cr.node.addDependency(props.crds);
  }

  /** Kong's status listener (prometheus plugin) and the controller's metrics. */
  public get scrapeEndpoints(): ScrapeEndpoint[] {
    return [
      { job: 'kong', workload: this.workload, port: STATUS_PORT, path: '/metrics', interval: '30s' },
      { job: 'kong-ingress-controller', workload: this.workload, port: CONTROLLER_METRICS_PORT, path: '/metrics', interval: '30s' },
    ];
  }

  /** Every Kong custom resource the gateway emits (plugins and consumers). */
  public get kongResources(): readonly ApiObject[] {
    return this.customResources;
  }

  private customResource(id: string, body: { apiVersion: string; kind: string; metadata: ApiObjectMetadata; [k: string]: unknown }): ApiObject {
    const object = new ApiObject(this, id, body);
    this.customResources.push(object);
    return object;
  }
}

export interface BackendIngressPolicyProps {
  readonly gateway: Workload;
  readonly backend: BackendService;
  readonly labels?: Record<string, string>;
}

/**
 * Ingress-only NetworkPolicy on backend pods this program does not own: allows exactly the
 * gateway's declared flows to them. Their egress and other callers stay with their owners
 * (NetworkPolicies are additive).
 */
export class BackendIngressPolicy extends Construct {
  constructor(scope: Construct, id: string, props: BackendIngressPolicyProps) {
    super(scope, id);
    const { gateway, backend } = props;
    const graph = TrafficGraph.of(this);
    const rules = graph.rulesTo(backend).filter((rule) => rule.from === gateway);
    new k8s.KubeNetworkPolicy(this, 'resource', {
      metadata: { name: `${backend.name}-from-${gateway.name}`, namespace: backend.namespace, labels: props.labels },
      spec: {
        podSelector: { matchLabels: { ...backend.podLabels } },
        policyTypes: ['Ingress'],
        ingress: rules.map((rule) => ({
          from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: gateway.namespace } }, podSelector: { matchLabels: { ...gateway.podLabels } } }],
          ports: rule.ports.map((p) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(p.port) })),
        })),
      },
    });
  }
}
