import { ApiObject, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MANAGED_BY, PART_OF } from '../../lib/labels';
import { MetricsSource, ScrapeEndpoint } from '../../lib/metrics';
import { NamespaceRegistry } from '../../lib/namespaces';
import { NAMESPACE_NAME_LABEL } from '../../lib/network-policy';
import { PortRef, TrafficGraph, TrafficRule } from '../../lib/traffic';
import { Peer, Workload } from '../../lib/workload';
import { CLUSTER_BUS_PORT_REF, REDIS_PORT_REF, RedisCluster } from '../redis-cluster';
import { EastWestGateway, EastWestGatewayProps, InjectionSelector } from './east-west-gateway';
import { byCodeUnit } from '../../lib/order';

export * from './east-west-gateway';

/** A Service of this program that the mesh configures client-side traffic for. */
export interface MeshService {
  /** Service name. */
  readonly name: string;
  readonly namespace: string;
  /** Its ports; HTTP connection-pool settings are added only when every port is HTTP (http-, http2-, grpc- names). */
  readonly ports: readonly PortRef[];
  /**
   * `failover`: locality load balancing that fails over to the other regions in order (stateless
   * services). `pinned`: traffic never leaves the region (per-region state such as a Redis Cluster,
   * whose data and password differ between regions). `passthrough`: a headless service whose
   * clients address pods directly; TLS and connection limits only.
   */
  readonly locality: 'failover' | 'pinned' | 'passthrough';
  /** Pods behind the Service; other regions reach failover services' pods through the east-west gateway. */
  readonly workload?: Workload;
}

/** Where the ingress gateway sends public API traffic (Kong's proxy), by reference to its Service and pods. */
export interface IngressTarget {
  readonly serviceName: string;
  readonly namespace: string;
  /** Container port the proxy listens on (what authorization and NetworkPolicies see). */
  readonly port: PortRef;
  /** Service port routed to `port`. @default port.port */
  readonly servicePort?: number;
  readonly workload: Workload;
}

export interface IngressProps {
  readonly target: IngressTarget;
  /** Public hosts; no Gateway or VirtualService is created while empty. */
  readonly hosts: readonly string[];
  /** TLS Secret in the ingress gateway workload's namespace. */
  readonly credentialName: string;
  /** Labels of the platform's ingress gateway pods. @default { istio: 'ingressgateway' } */
  readonly gatewaySelector?: Record<string, string>;
  /** @default 'istio-system' */
  readonly gatewayNamespace?: string;
  /** @default 'istio-ingressgateway-service-account' */
  readonly gatewayServiceAccount?: string;
  /** @default true */
  readonly httpsRedirect?: boolean;
  /** @default '15s' */
  readonly timeout?: string;
  /** @default { attempts: 2, perTryTimeout: '5s', retryOn: 'connect-failure,refused-stream,unavailable,cancelled' } */
  readonly retries?: { attempts: number; perTryTimeout: string; retryOn: string };
  /** Gateway and VirtualService name. @default 'fingerprint-api' */
  readonly name?: string;
}

export interface ConnectionPoolSettings {
  readonly maxConnections: number;
  readonly connectTimeout: string;
  readonly maxPendingRequests: number;
  readonly idleTimeout: string;
}

export interface OutlierDetectionSettings {
  readonly consecutiveErrors: number;
  readonly interval: string;
  readonly baseEjectionTime: string;
  readonly maxEjectionPercent: number;
}

export interface ExternalService {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly ports: readonly { number: number; name: string; protocol: string }[];
  /** Managed namespaces whose workloads may reach it. */
  readonly namespaces: readonly string[];
}

export interface IstioMeshProps {
  /** Mesh ID istiod was installed with; recorded on every mesh object. */
  readonly meshId: string;
  /** Istio network of this region's cluster. */
  readonly network: string;
  /** Locality (topology region) of this cluster's nodes. */
  readonly locality: string;
  /** Localities failover services fail over to, nearest first. @default [] */
  readonly failoverLocalities?: readonly string[];
  /** @default 'cluster.local' */
  readonly trustDomain?: string;
  /** @default 'cluster.local' */
  readonly clusterDomain?: string;
  /** @default 'istio-system' */
  readonly rootNamespace?: string;
  /** STRICT mTLS mesh-wide (PeerAuthentication `default` in the root namespace). @default false */
  readonly meshWideStrictMtls?: boolean;
  /** @default { mode: 'label' } */
  readonly injection?: InjectionSelector;
  /** @default 'REGISTRY_ONLY' */
  readonly outboundTrafficPolicy?: 'REGISTRY_ONLY' | 'ALLOW_ANY';
  /** @default { namespace: 'istio-system', podLabels: { app: 'istiod' } } */
  readonly controlPlane?: { readonly namespace: string; readonly podLabels: Record<string, string> };
  /** Services to write DestinationRules for. @default [] */
  readonly services?: readonly MeshService[];
  /** Components whose scrape endpoints Prometheus reads. @default [] */
  readonly metricsSources?: readonly MetricsSource[];
  /** `plaintext`: Prometheus is outside the mesh; scrape ports get a PERMISSIVE exception. @default 'plaintext' */
  readonly metricsScrape?: 'plaintext' | 'mtls';
  /** @default { maxConnections: 1024, connectTimeout: '2s', maxPendingRequests: 1024, idleTimeout: '300s' } */
  readonly connectionPool?: ConnectionPoolSettings;
  /** @default { consecutiveErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 100 } */
  readonly outlierDetection?: OutlierDetectionSettings;
  /** Public ingress through the platform's Istio ingress gateway. @default - none */
  readonly ingress?: IngressProps;
  /** The east-west gateway; `false` for a single-network mesh. */
  readonly eastWestGateway: Omit<EastWestGatewayProps, 'network' | 'injection' | 'controlPlane'> | false;
  /** @default [] */
  readonly externalServices?: readonly ExternalService[];
}

const HTTP_PORT_NAME = /^(http|http2|grpc|grpc-web)(-|$)/;
export const isHttpPort = (port: PortRef): boolean => HTTP_PORT_NAME.test(port.name);

/** The SPIFFE identity Istio gives `peer`'s pods, as AuthorizationPolicy principals spell it. */
export function principalOf(peer: Peer, trustDomain = 'cluster.local'): string {
  return `${trustDomain}/ns/${peer.namespace}/sa/${peer.serviceAccountName}`;
}

/** A Service in front of per-region state (e.g. a single Redis), kept in-region. */
export function pinnedService(target: { serviceName: string; namespace: string; workload: Workload }, ports: readonly PortRef[]): MeshService {
  return { name: target.serviceName, namespace: target.namespace, ports, locality: 'pinned', workload: target.workload };
}

/** The mesh services of a Redis Cluster: its client Service kept in-region, and its headless Service. */
export function redisMeshServices(redis: RedisCluster): MeshService[] {
  return [
    { name: redis.serviceName, namespace: redis.namespace, ports: [REDIS_PORT_REF], locality: 'pinned', workload: redis.workload },
    { name: redis.headlessServiceName, namespace: redis.namespace, ports: [REDIS_PORT_REF, CLUSTER_BUS_PORT_REF], locality: 'passthrough', workload: redis.workload },
  ];
}

/**
 * Istio configuration of the namespaces this program manages, for one region of a multi-primary,
 * multi-network mesh:
 * - every managed namespace is injected, STRICT mTLS, default-deny, REGISTRY_ONLY-scoped egress;
 * - each declared flow of the TrafficGraph becomes an ALLOW rule for the source's principal, so the
 *   mesh allows exactly what the NetworkPolicies allow (scrape ports of an out-of-mesh Prometheus
 *   get a port-level PERMISSIVE exception and a GET-only rule instead);
 * - DestinationRules: ISTIO_MUTUAL, connection limits, outlier detection and locality failover
 *   (or region pinning for per-region state);
 * - the ingress Gateway/VirtualService to Kong, and the east-west gateway for other networks.
 * Per-namespace and per-destination objects are created as namespaces and flows appear, so the
 * mesh may be constructed before or after the components it covers.
 */
export class IstioMesh extends Construct {
  public readonly trustDomain: string;
  public readonly eastWestGateway?: EastWestGateway;
  /** The platform's ingress gateway, as a traffic source. */
  public readonly ingressGateway?: Peer;
  private readonly scrapePorts = new Map<string, { workload: Workload; ports: Map<number, ScrapeEndpoint> }>();
  private readonly allowPolicies = new Map<string, ApiObject>();
  private readonly defaultDeny = new Map<string, ApiObject>();
  private readonly plaintextScrape: boolean;

  constructor(scope: Construct, id: string, props: IstioMeshProps) {
    super(scope, id);
    this.trustDomain = props.trustDomain ?? 'cluster.local';
    const clusterDomain = props.clusterDomain ?? 'cluster.local';
    const rootNamespace = props.rootNamespace ?? 'istio-system';
    const injection = props.injection ?? { mode: 'label' };
    const controlPlane = props.controlPlane ?? { namespace: 'istio-system', podLabels: { app: 'istiod' } };
    const outbound = props.outboundTrafficPolicy ?? 'REGISTRY_ONLY';
    this.plaintextScrape = (props.metricsScrape ?? 'plaintext') === 'plaintext';
    const pool = props.connectionPool ?? { maxConnections: 1024, connectTimeout: '2s', maxPendingRequests: 1024, idleTimeout: '300s' };
    const outlier = props.outlierDetection ?? { consecutiveErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 100 };
    const failover = props.failoverLocalities ?? [];
    if (failover.includes(props.locality)) throw new Error(`IstioMesh ${id}: failover localities must not include the region's own locality "${props.locality}"`);
    const labels = (component: string) => ({
      'app.kubernetes.io/part-of': PART_OF,
      'app.kubernetes.io/managed-by': MANAGED_BY,
      'app.kubernetes.io/component': component,
      'fingerprint.io/mesh-id': props.meshId,
    });
    const graph = TrafficGraph.of(this);
    const registry = NamespaceRegistry.of(this);

    // Scrape endpoints first: allow policies consult them when flows arrive.
    for (const source of props.metricsSources ?? []) {
      for (const endpoint of source.scrapeEndpoints) {
        const key = `${endpoint.workload.namespace}/${endpoint.workload.name}`;
        let entry = this.scrapePorts.get(key);
        if (!entry) this.scrapePorts.set(key, (entry = { workload: endpoint.workload, ports: new Map() }));
        entry.ports.set(endpoint.port.port, endpoint);
      }
    }
    if (this.plaintextScrape) {
      for (const { workload, ports } of this.scrapePorts.values()) this.scrapeException(workload, [...ports.values()], labels('mtls'));
    }

    if (props.meshWideStrictMtls) {
      new ApiObject(this, 'mesh-wide-mtls', {
        apiVersion: 'security.istio.io/v1',
        kind: 'PeerAuthentication',
        metadata: { name: 'default', namespace: rootNamespace, labels: labels('mtls') },
        spec: { mtls: { mode: 'STRICT' } },
      });
    }

    const injectionLabels: Record<string, string> = injection.mode === 'revision' ? { 'istio.io/rev': injection.revision } : { 'istio-injection': 'enabled' };
    const externalByNamespace = new Map<string, ExternalService[]>();
    for (const ext of props.externalServices ?? []) {
      for (const ns of ext.namespaces) externalByNamespace.set(ns, [...(externalByNamespace.get(ns) ?? []), ext]);
    }

    registry.forEachNamespace((ns, namespace) => {
      for (const [key, value] of Object.entries(injectionLabels)) namespace.metadata.addLabel(key, value);
      const scope = new Construct(this, `ns-${ns}`);
      new ApiObject(scope, 'peer-authentication', {
        apiVersion: 'security.istio.io/v1',
        kind: 'PeerAuthentication',
        metadata: { name: 'default', namespace: ns, labels: labels('mtls') },
        spec: { mtls: { mode: 'STRICT' } },
      });
      // An ALLOW policy without rules matches nothing: every request not allowed by a workload's
      // own ALLOW policy is denied.
      const deny = new ApiObject(scope, 'default-deny', {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'default-deny', namespace: ns, labels: labels('authorization') },
        spec: {},
      });
      this.defaultDeny.set(ns, deny);
      // On a first deploy the allow rules land before the deny, so declared traffic never drops.
      for (const [key, allow] of this.allowPolicies) if (key.startsWith(`${ns}/`)) deny.node.addDependency(allow);
      const externals = externalByNamespace.get(ns) ?? [];
      for (const ext of externals) {
        new ApiObject(scope, `external-${ext.name}`, {
          apiVersion: 'networking.istio.io/v1',
          kind: 'ServiceEntry',
          metadata: { name: ext.name, namespace: ns, labels: labels('egress') },
          spec: {
            hosts: [...ext.hosts],
            location: 'MESH_EXTERNAL',
            // Wildcard hosts cannot be resolved; the proxy forwards to the address the client resolved.
            resolution: ext.hosts.some((h) => h.startsWith('*.')) ? 'NONE' : 'DNS',
            ports: ext.ports.map((p) => ({ number: p.number, name: p.name, protocol: p.protocol })),
            exportTo: ['.'],
          },
        });
      }
      new ApiObject(scope, 'sidecar', {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Sidecar',
        metadata: { name: 'default', namespace: ns, labels: labels('egress') },
        spec: {
          egress: [
            {
              hosts: Lazy.any({
                produce: () => {
                  const targets = graph.rules.filter((r) => r.from.namespace === ns && r.to.namespace !== ns).map((r) => `${r.to.namespace}/*`);
                  // The control plane's namespace holds istiod and the mesh's shared services; the API
                  // server is listed for workloads that need it (their NetworkPolicy decides).
                  return ['./*', `${controlPlane.namespace}/*`, `default/kubernetes.default.svc.${clusterDomain}`, ...[...new Set(targets)].sort()];
                },
              }),
            },
          ],
          outboundTrafficPolicy: { mode: outbound },
        },
      });
      // Sidecars fetch configuration and certificates from istiod; workload NetworkPolicies only
      // know application flows, and NetworkPolicies add up.
      new k8s.KubeNetworkPolicy(scope, 'control-plane-egress', {
        metadata: { name: 'istio-proxy-control-plane', namespace: ns, labels: labels('network-policy') },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: controlPlane.namespace } }, podSelector: { matchLabels: { ...controlPlane.podLabels } } }],
              ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(15012) }],
            },
          ],
        },
      });
    });

    if (props.ingress) this.ingressGateway = this.addIngress(props.ingress, clusterDomain, labels('ingress'));

    const services = [...(props.services ?? [])];
    if (props.ingress) {
      const t = props.ingress.target;
      if (!services.some((s) => s.name === t.serviceName && s.namespace === t.namespace)) {
        services.push({ name: t.serviceName, namespace: t.namespace, ports: [t.port], locality: 'failover', workload: t.workload });
      }
    }
    const fqdn = (s: MeshService) => `${s.name}.${s.namespace}.svc.${clusterDomain}`;
    for (const service of services) this.destinationRule(service, fqdn(service), props.locality, failover, pool, outlier, labels('traffic'));

    if (props.eastWestGateway !== false) {
      const gateway = new EastWestGateway(this, 'east-west-gateway', { ...props.eastWestGateway, network: props.network, injection, controlPlane });
      this.eastWestGateway = gateway;
      const exposed = services.filter((s) => s.locality === 'failover');
      if (exposed.length) gateway.exposeServices(exposed.map(fqdn));
      for (const service of exposed) {
        if (!service.workload) continue;
        graph.allow({
          from: gateway.workload,
          to: service.workload,
          ports: service.ports,
          reason: 'failover traffic from other regions through the east-west gateway',
        });
      }
    }

    graph.forEachRule((rule) => this.allowPolicyFor(rule.to, graph, labels('authorization')));
  }

  /** True when `rule` arrives through a gateway that passes mTLS through, so the destination sees the original client. */
  private isPassthrough(rule: TrafficRule): boolean {
    return this.eastWestGateway !== undefined && rule.from === this.eastWestGateway.workload;
  }

  private allowPolicyFor(target: Workload, graph: TrafficGraph, labels: Record<string, string>): void {
    // Keyed by namespace/name: two components may describe the same pods with separate objects.
    const key = `${target.namespace}/${target.name}`;
    if (this.allowPolicies.has(key)) return;
    const flowsTo = () => graph.rules.filter((r) => `${r.to.namespace}/${r.to.name}` === key);
    const rulesFor = () => flowsTo().filter((r) => !this.isPassthrough(r));
    const policy = new ApiObject(this, `allow-${target.namespace}-${target.name}`, {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: {
        name: `allow-${target.name}`,
        namespace: target.namespace,
        labels,
        annotations: {
          'fingerprint.io/flows': Lazy.any({
            produce: () =>
              flowsTo().map((r) => `${r.from.description} -> ${r.ports.map((p) => p.port).join(',')}: ${r.reason}${this.isPassthrough(r) ? ' (authorized by the original client principal)' : ''}`)
                .join('\n'),
          }),
        },
      },
      spec: {
        selector: { matchLabels: { ...target.podLabels } },
        action: 'ALLOW',
        rules: Lazy.any({ produce: () => this.authorizationRules(target, rulesFor()) }),
      },
    });
    this.allowPolicies.set(key, policy);
    this.defaultDeny.get(target.namespace)?.node.addDependency(policy);
  }

  /** One rule per source principal (ports merged); plaintext scrape ports get a source-less GET rule. */
  private authorizationRules(target: Workload, flows: readonly TrafficRule[]): unknown[] {
    const scrape = this.plaintextScrape ? this.scrapePorts.get(`${target.namespace}/${target.name}`)?.ports : undefined;
    const byPrincipal = new Map<string, Set<number>>();
    const scrapeRules = new Map<number, ScrapeEndpoint>();
    for (const flow of flows) {
      for (const port of flow.ports) {
        const endpoint = scrape?.get(port.port);
        if (endpoint) {
          scrapeRules.set(port.port, endpoint);
          continue;
        }
        const principal = principalOf(flow.from, this.trustDomain);
        if (!byPrincipal.has(principal)) byPrincipal.set(principal, new Set());
        byPrincipal.get(principal)!.add(port.port);
      }
    }
    const rules: unknown[] = [...byPrincipal.entries()]
      .sort(([a], [b]) => byCodeUnit(a, b))
      .map(([principal, ports]) => ({
        from: [{ source: { principals: [principal] } }],
        to: [{ operation: { ports: [...ports].sort((a, b) => a - b).map(String) } }],
      }));
    for (const [port, endpoint] of [...scrapeRules.entries()].sort(([a], [b]) => a - b)) {
      // A plaintext scrape carries no identity; the NetworkPolicy admits only Prometheus, and on an
      // HTTP port the mesh narrows it to reading the metrics path.
      const operation = isHttpPort(endpoint.port) ? { ports: [String(port)], methods: ['GET'], paths: [endpoint.path ?? '/metrics'] } : { ports: [String(port)] };
      rules.push({ to: [{ operation }] });
    }
    return rules;
  }

  private scrapeException(workload: Workload, endpoints: ScrapeEndpoint[], labels: Record<string, string>): void {
    const ports = [...new Set(endpoints.map((e) => e.port.port))].sort((a, b) => a - b);
    new ApiObject(this, `scrape-mtls-${workload.namespace}-${workload.name}`, {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: {
        name: `${workload.name}-metrics-scrape`,
        namespace: workload.namespace,
        labels,
        annotations: {
          'fingerprint.io/reason': endpoints
            .map((e) => `port ${e.port.port} (${e.job} ${e.path ?? '/metrics'}): Prometheus runs outside the mesh and scrapes in plaintext`)
            .join('; '),
        },
      },
      spec: {
        selector: { matchLabels: { ...workload.podLabels } },
        mtls: { mode: 'STRICT' },
        portLevelMtls: Object.fromEntries(ports.map((p) => [String(p), { mode: 'PERMISSIVE' }])),
      },
    });
  }

  private destinationRule(
    service: MeshService,
    host: string,
    locality: string,
    failover: readonly string[],
    pool: ConnectionPoolSettings,
    outlier: OutlierDetectionSettings,
    labels: Record<string, string>,
  ): void {
    const http = service.ports.every(isHttpPort);
    const tcp = { maxConnections: pool.maxConnections, connectTimeout: pool.connectTimeout, tcpKeepalive: { time: '300s', interval: '30s' } };
    const trafficPolicy: Record<string, unknown> = {
      tls: { mode: 'ISTIO_MUTUAL' },
      // Opaque TCP (Redis) gets no HTTP settings: HTTP retries or pooling would break its protocol.
      connectionPool: http
        ? { tcp, http: { http1MaxPendingRequests: pool.maxPendingRequests, http2MaxRequests: pool.maxConnections, idleTimeout: pool.idleTimeout, maxRetries: 3 } }
        : { tcp },
    };
    if (service.locality !== 'passthrough') {
      // Locality load balancing only acts on endpoints outlier detection has ejected; for TCP,
      // connect failures count as errors.
      trafficPolicy.outlierDetection = {
        consecutive5xxErrors: outlier.consecutiveErrors,
        interval: outlier.interval,
        baseEjectionTime: outlier.baseEjectionTime,
        maxEjectionPercent: outlier.maxEjectionPercent,
      };
      const localityLbSetting =
        service.locality === 'pinned'
          ? { enabled: true, distribute: [{ from: `${locality}/*`, to: { [`${locality}/*`]: 100 } }] }
          : failover.length
            ? // Istio fails over to one named region first, then to the remaining ones.
              { enabled: true, failover: [{ from: locality, to: failover[0] }] }
            : { enabled: true };
      trafficPolicy.loadBalancer = { simple: 'LEAST_REQUEST', localityLbSetting };
    }
    new ApiObject(this, `dr-${service.namespace}-${service.name}`, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: {
        name: service.name,
        namespace: service.namespace,
        labels,
        annotations: {
          'fingerprint.io/locality':
            service.locality === 'failover'
              ? `failover: ${[locality, ...failover].join(' > ')}`
              : service.locality === 'pinned'
                ? `pinned to ${locality}: per-region state`
                : 'passthrough: clients address pods directly',
        },
      },
      spec: { host, trafficPolicy },
    });
  }

  private addIngress(ingress: IngressProps, clusterDomain: string, labels: Record<string, string>): Peer {
    const { target } = ingress;
    const gatewayPeer: Peer = {
      namespace: ingress.gatewayNamespace ?? 'istio-system',
      podLabels: { ...(ingress.gatewaySelector ?? { istio: 'ingressgateway' }) },
      serviceAccountName: ingress.gatewayServiceAccount ?? 'istio-ingressgateway-service-account',
      description: 'Istio ingress gateway',
    };
    TrafficGraph.of(this).allow({ from: gatewayPeer, to: target.workload, ports: [target.port], reason: 'public API traffic from the Istio ingress gateway' });
    if (ingress.hosts.length === 0) return gatewayPeer;

    const name = ingress.name ?? 'fingerprint-api';
    const hosts = [...ingress.hosts];
    const servers: unknown[] = [
      {
        port: { number: 443, name: `https-${name}`, protocol: 'HTTPS' },
        hosts,
        tls: { mode: 'SIMPLE', credentialName: ingress.credentialName, minProtocolVersion: 'TLSV1_2' },
      },
    ];
    if (ingress.httpsRedirect ?? true) {
      servers.push({ port: { number: 80, name: `http-${name}`, protocol: 'HTTP' }, hosts, tls: { httpsRedirect: true } });
    }
    new ApiObject(this, 'ingress-gateway', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name, namespace: target.namespace, labels },
      spec: { selector: { ...gatewayPeer.podLabels }, servers },
    });
    const retries = ingress.retries ?? { attempts: 2, perTryTimeout: '5s', retryOn: 'connect-failure,refused-stream,unavailable,cancelled' };
    new ApiObject(this, 'ingress-route', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name, namespace: target.namespace, labels },
      spec: {
        hosts,
        gateways: [`${target.namespace}/${name}`],
        http: [
          {
            name: 'kong-proxy',
            route: [{ destination: { host: `${target.serviceName}.${target.namespace}.svc.${clusterDomain}`, port: { number: target.servicePort ?? target.port.port } } }],
            timeout: ingress.timeout ?? '15s',
            retries:
              retries.attempts > 0
                ? { attempts: retries.attempts, perTryTimeout: retries.perTryTimeout, retryOn: retries.retryOn, retryRemoteLocalities: true }
                : { attempts: 0 },
          },
        ],
      },
    });
    return gatewayPeer;
  }
}
