import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Labels } from './labels';
import { PortRef, TrafficGraph } from './traffic';
import { Peer, Workload } from './workload';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function peerSelector(peer: Peer): k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peer.namespace } },
    podSelector: { matchLabels: { ...peer.podLabels } },
  };
}

function tcpPorts(ports: readonly PortRef[]): k8s.NetworkPolicyPort[] {
  return ports.map((p) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(p.port) }));
}

/** Cluster DNS; every workload resolves service names. */
export const DNS_EGRESS: k8s.NetworkPolicyEgressRule = {
  to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [
    { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
    { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
  ],
};

export interface WorkloadNetworkPolicyProps {
  readonly workload: Workload;
  readonly labels?: Labels;
  /** Egress beyond DNS and the flows declared in the traffic graph (e.g. the Kubernetes API). */
  readonly extraEgress?: k8s.NetworkPolicyEgressRule[];
  /** Ingress beyond the flows declared in the traffic graph (e.g. a public proxy port reached from outside the cluster). */
  readonly extraIngress?: k8s.NetworkPolicyIngressRule[];
}

/**
 * Default-deny NetworkPolicy for one workload whose ingress and egress are exactly the flows
 * recorded in the region's TrafficGraph (resolved at synthesis, after every component is wired).
 */
export class WorkloadNetworkPolicy extends Construct {
  constructor(scope: Construct, id: string, props: WorkloadNetworkPolicyProps) {
    super(scope, id);
    const graph = TrafficGraph.of(this);
    const { workload } = props;
    new k8s.KubeNetworkPolicy(this, 'resource', {
      metadata: { name: workload.name, namespace: workload.namespace, labels: props.labels },
      spec: {
        podSelector: { matchLabels: { ...workload.podLabels } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: Lazy.any({
          produce: () => [
            ...graph.rulesTo(workload).map((rule) => ({ from: [peerSelector(rule.from)], ports: tcpPorts(rule.ports) })),
            ...(props.extraIngress ?? []),
          ],
        }),
        egress: Lazy.any({
          produce: () => [
            DNS_EGRESS,
            ...graph.rulesFrom(workload).map((rule) => ({ to: [peerSelector(rule.to)], ports: tcpPorts(rule.ports) })),
            ...(props.extraEgress ?? []),
          ],
        }),
      },
    });
  }
}
