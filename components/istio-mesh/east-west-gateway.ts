import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { selectorLabels, standardLabels } from '../../lib/labels';
import { NamespaceRegistry } from '../../lib/namespaces';
import { WorkloadNetworkPolicy } from '../../lib/network-policy';
import { PortRef } from '../../lib/traffic';
import { resourceRequirements, restrictedContainerSecurityContext, restrictedPodSecurityContext, spreadPods, Workload } from '../../lib/workload';

/** uid/gid istio-proxy runs as. */
export const ISTIO_PROXY_UID = 1337;
export const NETWORK_LABEL = 'topology.istio.io/network';

export const STATUS_PORT: PortRef = { name: 'status-port', port: 15021 };
/** Cross-network mTLS traffic, routed by SNI (AUTO_PASSTHROUGH). */
export const TLS_PORT: PortRef = { name: 'tls', port: 15443 };
/** istiod xDS and webhook, for primary-remote topologies that reach istiod through this gateway. */
export const ISTIOD_PORT: PortRef = { name: 'tls-istiod', port: 15012 };
export const WEBHOOK_PORT: PortRef = { name: 'tls-webhook', port: 15017 };

/** How the injector is told to inject this pod, matching the namespace's injection mode. */
export type InjectionSelector = { readonly mode: 'label' } | { readonly mode: 'revision'; readonly revision: string };

export interface EastWestGatewayProps {
  /** @default 'istio-eastwest' */
  readonly namespace?: string;
  /** @default 'istio-eastwestgateway' */
  readonly name?: string;
  /** Istio network of this cluster; the gateway and its Service carry it as topology.istio.io/network. */
  readonly network: string;
  readonly injection: InjectionSelector;
  /** @default 2 */
  readonly replicas?: number;
  /** An HPA scales up to this when larger than `replicas`. @default - no HPA */
  readonly maxReplicas?: number;
  /** @default { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '128Mi', memoryLimit: '512Mi' } */
  readonly resources?: { cpuRequest: string; cpuLimit: string; memoryRequest: string; memoryLimit: string };
  /** @default 'LoadBalancer' */
  readonly serviceType?: 'LoadBalancer' | 'NodePort';
  /** @default {} */
  readonly serviceAnnotations?: Record<string, string>;
  /** Source ranges of the other networks' sidecars. @default ['0.0.0.0/0'] */
  readonly allowedSourceCidrs?: readonly string[];
  /** Zones of the region; replicas spread across them. @default [] */
  readonly zones?: readonly string[];
  /** istiod pods, which the gateway's proxy reaches for its configuration. */
  readonly controlPlane: { readonly namespace: string; readonly podLabels: Record<string, string> };
}

/**
 * The east-west gateway of a multi-network mesh: the other regions' sidecars reach this cluster's
 * services through it on 15443 with their own end-to-end mTLS, routed by SNI. Installed as an
 * injected gateway (`image: auto` + the `gateway` injection template) so its proxy always matches
 * the control plane.
 */
export class EastWestGateway extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly network: string;
  public readonly workload: Workload;
  /** Labels that select exactly this gateway's pods (Gateway resources use them). */
  public readonly selector: Record<string, string>;
  public readonly deployment: k8s.KubeDeployment;
  public readonly service: k8s.KubeService;

  constructor(scope: Construct, id: string, props: EastWestGatewayProps) {
    super(scope, id);
    this.name = props.name ?? 'istio-eastwestgateway';
    this.namespace = props.namespace ?? 'istio-eastwest';
    this.network = props.network;
    const replicas = props.replicas ?? 2;
    if (replicas < 1) throw new Error(`EastWestGateway ${id}: replicas must be at least 1 (got ${replicas})`);
    if (props.maxReplicas !== undefined && props.maxReplicas < replicas) {
      throw new Error(`EastWestGateway ${id}: maxReplicas ${props.maxReplicas} is below replicas ${replicas}`);
    }
    NamespaceRegistry.of(this).ensure(this.namespace);

    this.selector = selectorLabels(this.name, 'eastwest-gateway');
    const labels = { ...standardLabels(this.name, 'eastwest-gateway'), [NETWORK_LABEL]: this.network };
    const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: this.namespace, labels, ...extra });
    this.workload = {
      name: this.name,
      namespace: this.namespace,
      podLabels: this.selector,
      serviceAccountName: this.name,
      description: `east-west gateway ${this.namespace}/${this.name}`,
    };

    new k8s.KubeServiceAccount(this, 'service-account', { metadata: meta(this.name), automountServiceAccountToken: false });

    const injectLabel: Record<string, string> =
      props.injection.mode === 'revision' ? { 'istio.io/rev': props.injection.revision } : { 'sidecar.istio.io/inject': 'true' };
    const ports = [STATUS_PORT, TLS_PORT, ISTIOD_PORT, WEBHOOK_PORT];
    const resources = props.resources ?? { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '128Mi', memoryLimit: '512Mi' };

    this.deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: meta(this.name, {
        annotations: {
          'policy.fingerprint.io/exempt.image-pinned': 'image "auto" is replaced at admission by the injector with the proxy image pinned by the installed control plane',
        },
      }),
      spec: {
        replicas: props.maxReplicas !== undefined && props.maxReplicas > replicas ? undefined : replicas,
        selector: { matchLabels: this.selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } },
        template: {
          metadata: {
            labels: { ...labels, ...this.selector, istio: 'eastwestgateway', app: this.name, ...injectLabel },
            annotations: {
              // The gateway template replaces `image: auto` and adds the proxy's volumes and bootstrap.
              'inject.istio.io/templates': 'gateway',
            },
          },
          spec: {
            serviceAccountName: this.name,
            // The proxy authenticates to istiod with the projected istio-token the injector mounts.
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 30,
            securityContext: restrictedPodSecurityContext(ISTIO_PROXY_UID),
            ...spreadPods(this.selector, { zones: props.zones ?? [], onePodPerNode: false }),
            containers: [
              {
                name: 'istio-proxy',
                image: 'auto',
                ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
                env: [{ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: this.network }],
                resources: resourceRequirements(resources),
                // Liveness only asks whether the agent answers: a gateway that lost istiod keeps routing
                // with its last configuration, and restarting it would drop that.
                livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromNumber(STATUS_PORT.port) }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 6 },
                readinessProbe: {
                  httpGet: { path: '/healthz/ready', port: k8s.IntOrString.fromNumber(STATUS_PORT.port), scheme: 'HTTP' },
                  initialDelaySeconds: 1,
                  periodSeconds: 2,
                  timeoutSeconds: 3,
                  failureThreshold: 30,
                },
                securityContext: { ...restrictedContainerSecurityContext(), runAsUser: ISTIO_PROXY_UID, runAsGroup: ISTIO_PROXY_UID },
              },
            ],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, 'service', {
      metadata: meta(this.name, { annotations: { ...(props.serviceAnnotations ?? {}) } }),
      spec: {
        type: props.serviceType ?? 'LoadBalancer',
        selector: this.selector,
        ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromNumber(p.port), protocol: 'TCP' })),
      },
    });

    if (replicas >= 2) {
      new k8s.KubePodDisruptionBudget(this, 'pdb', {
        metadata: meta(this.name),
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.selector } },
      });
    }
    if (props.maxReplicas !== undefined && props.maxReplicas > replicas) {
      new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
        metadata: meta(this.name),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
          minReplicas: replicas,
          maxReplicas: props.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
        },
      });
    }

    const cidrs = props.allowedSourceCidrs ?? ['0.0.0.0/0'];
    const tcp = (p: PortRef): k8s.NetworkPolicyPort => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(p.port) });
    new WorkloadNetworkPolicy(this, 'network-policy', {
      workload: this.workload,
      labels,
      // Other networks' sidecars arrive through the load balancer, so sources are address ranges,
      // not pods; the health port serves the load balancer's checks.
      extraIngress: [{ from: cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcp(TLS_PORT), tcp(STATUS_PORT)] }],
      extraEgress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': props.controlPlane.namespace } }, podSelector: { matchLabels: { ...props.controlPlane.podLabels } } }],
          ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(15012) }],
        },
      ],
    });
  }

  /**
   * Exposes `hosts` (FQDNs of this cluster's services) to the other networks with AUTO_PASSTHROUGH:
   * the gateway never terminates their mTLS, so destinations authorize the original client identity.
   */
  public exposeServices(hosts: readonly string[]): ApiObject {
    if (hosts.length === 0) throw new Error(`EastWestGateway ${this.node.id}: exposeServices needs at least one host`);
    new ApiObject(this, 'allow-passthrough', {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: {
        name: `${this.name}-passthrough`,
        namespace: this.namespace,
        labels: standardLabels(this.name, 'eastwest-gateway'),
        annotations: {
          'fingerprint.io/reason':
            'other networks reach the exposed services on 15443; the gateway passes their mTLS through unterminated, so it sees no principal and the destinations authorize the client',
        },
      },
      spec: { selector: { matchLabels: { ...this.selector } }, action: 'ALLOW', rules: [{ to: [{ operation: { ports: [String(TLS_PORT.port)] } }] }] },
    });
    return new ApiObject(this, 'cross-network-gateway', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'cross-network-gateway', namespace: this.namespace, labels: standardLabels(this.name, 'eastwest-gateway') },
      spec: {
        selector: { ...this.selector },
        servers: [{ port: { number: TLS_PORT.port, name: TLS_PORT.name, protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: [...hosts] }],
      },
    });
  }
}
