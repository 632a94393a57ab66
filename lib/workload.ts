import { k8s } from 'cdk8s-plus-28';
import { Labels } from './labels';

/**
 * Something that runs pods and can send or receive traffic: the unit that NetworkPolicies
 * and Istio AuthorizationPolicies are derived from. Components expose one per workload so
 * other components reference the object instead of copying names and labels.
 */
export interface Peer {
  /** Namespace the pods run in. */
  readonly namespace: string;
  /** Labels that select exactly the peer's pods. */
  readonly podLabels: Labels;
  /** Service account the pods run as; the Istio principal is derived from it. */
  readonly serviceAccountName: string;
  /** Human-readable description used in generated policy comments and errors. */
  readonly description: string;
}

/** A workload this program owns (it creates the pods). */
export interface Workload extends Peer {
  readonly name: string;
}

/**
 * Pod annotations for workloads in meshed namespaces. A native (init-container) sidecar starts
 * before the app containers and stops after them: scripts reach peers only once the proxy is up,
 * and Jobs complete instead of waiting forever on a running proxy.
 */
export const MESHED_POD_ANNOTATIONS: Readonly<Record<string, string>> = { 'sidecar.istio.io/nativeSidecar': 'true' };

/** Restricted Pod Security Standard at pod level; every workload uses it. */
export function restrictedPodSecurityContext(uid: number, gid = uid): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: gid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Restricted Pod Security Standard at container level, with a read-only root filesystem. */
export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export interface ResourceSpec {
  readonly cpuRequest: string;
  readonly cpuLimit: string;
  readonly memoryRequest: string;
  readonly memoryLimit: string;
}

export function resourceRequirements(spec: ResourceSpec): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8s.Quantity.fromString(spec.cpuRequest), memory: k8s.Quantity.fromString(spec.memoryRequest) },
    limits: { cpu: k8s.Quantity.fromString(spec.cpuLimit), memory: k8s.Quantity.fromString(spec.memoryLimit) },
  };
}

export const ZONE_TOPOLOGY_KEY = 'topology.kubernetes.io/zone';
export const NODE_TOPOLOGY_KEY = 'kubernetes.io/hostname';

export interface SpreadOptions {
  /** Zones the region's nodes live in; with two or more, pods are spread evenly across them. */
  readonly zones: readonly string[];
  /**
   * Hard node anti-affinity: never two pods on one node. Right for stateful members whose
   * copies must not share a failure domain (a Redis master and its replica); soft otherwise.
   */
  readonly onePodPerNode: boolean;
}

/** Anti-affinity across nodes plus topology spread across zones for a replicated workload. */
export function spreadPods(labels: Labels, options: SpreadOptions): Pick<k8s.PodSpec, 'affinity' | 'topologySpreadConstraints'> {
  const selector = { matchLabels: { ...labels } };
  const nodeTerm = { labelSelector: selector, topologyKey: NODE_TOPOLOGY_KEY };
  const podAntiAffinity: k8s.PodAntiAffinity = options.onePodPerNode
    ? { requiredDuringSchedulingIgnoredDuringExecution: [nodeTerm] }
    : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: nodeTerm }] };
  const zoned = options.zones.length >= 2;
  return {
    affinity: {
      podAntiAffinity,
      ...(zoned
        ? {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_TOPOLOGY_KEY, operator: 'In', values: [...options.zones] }] }],
              },
            },
          }
        : {}),
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: zoned ? ZONE_TOPOLOGY_KEY : NODE_TOPOLOGY_KEY,
        // A zone outage must not block rescheduling of the survivors, so zone spread is soft.
        whenUnsatisfiable: zoned ? 'ScheduleAnyway' : 'DoNotSchedule',
        labelSelector: selector,
      },
    ],
  };
}
