import { Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { Peer, Workload } from './workload';

export interface PortRef {
  /** Port name as on the Service/container; Istio protocol selection reads its prefix (tcp-, http-). */
  readonly name: string;
  readonly port: number;
}

/** One allowed flow: `from` may open connections to `to` on `ports`. */
export interface TrafficRule {
  readonly from: Peer;
  readonly to: Workload;
  readonly ports: readonly PortRef[];
  /** Why the flow exists; shown in generated policies and check reports. */
  readonly reason: string;
}

const GRAPH_ID = 'traffic-graph';

/**
 * The region's declared traffic. Components record flows here when they are wired by object
 * reference; NetworkPolicies (and, with the mesh, AuthorizationPolicies) are derived from it,
 * so a flow that is not declared is not allowed.
 */
export class TrafficGraph extends Construct {
  /** The graph of the chart `scope` belongs to, created on first use. */
  public static of(scope: IConstruct): TrafficGraph {
    const chart = Chart.of(scope);
    const existing = chart.node.tryFindChild(GRAPH_ID);
    return existing instanceof TrafficGraph ? existing : new TrafficGraph(chart, GRAPH_ID);
  }

  private readonly flows: TrafficRule[] = [];
  private readonly listeners: ((rule: TrafficRule) => void)[] = [];

  public allow(rule: TrafficRule): void {
    if (rule.ports.length === 0) {
      throw new Error(`traffic from ${rule.from.description} to ${rule.to.description}: at least one port is required`);
    }
    this.flows.push(rule);
    for (const listener of this.listeners) listener(rule);
  }

  /**
   * Runs `listener` for every flow, those declared so far now and later ones as they are declared, so
   * a component that creates objects per destination (the mesh's AuthorizationPolicies) may be
   * constructed before the components that declare traffic.
   */
  public forEachRule(listener: (rule: TrafficRule) => void): void {
    this.listeners.push(listener);
    for (const rule of [...this.flows]) listener(rule);
  }

  public get rules(): readonly TrafficRule[] {
    return this.flows;
  }

  public rulesTo(workload: Workload): TrafficRule[] {
    return this.flows.filter((rule) => rule.to === workload);
  }

  public rulesFrom(peer: Peer): TrafficRule[] {
    return this.flows.filter((rule) => rule.from === peer);
  }
}
