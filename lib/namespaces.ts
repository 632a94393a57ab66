import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { MANAGED_BY } from './labels';

const REGISTRY_ID = 'namespaces';

/**
 * The namespaces of one region. Components ask for the namespace they live in; each is created
 * once, enforcing Pod Security "restricted". Other components (the mesh) may add labels.
 */
export class NamespaceRegistry extends Construct {
  public static of(scope: IConstruct): NamespaceRegistry {
    const chart = Chart.of(scope);
    const existing = chart.node.tryFindChild(REGISTRY_ID);
    return existing instanceof NamespaceRegistry ? existing : new NamespaceRegistry(chart, REGISTRY_ID);
  }

  private readonly byName = new Map<string, k8s.KubeNamespace>();
  private readonly hooks: ((name: string, namespace: k8s.KubeNamespace) => void)[] = [];

  /**
   * Runs `hook` for every namespace: those already created now, the others when they are created.
   * The mesh labels namespaces and adds its per-namespace policies this way, whatever the order
   * in which components are constructed.
   */
  public forEachNamespace(hook: (name: string, namespace: k8s.KubeNamespace) => void): void {
    this.hooks.push(hook);
    for (const [name, ns] of this.byName) hook(name, ns);
  }

  /** The namespace object named `name`, created on first use. */
  public ensure(name: string): k8s.KubeNamespace {
    let ns = this.byName.get(name);
    if (!ns) {
      ns = new k8s.KubeNamespace(this, name, {
        metadata: {
          name,
          labels: {
            'app.kubernetes.io/managed-by': MANAGED_BY,
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
            'pod-security.kubernetes.io/warn': 'restricted',
            'pod-security.kubernetes.io/audit': 'restricted',
          },
        },
      });
      this.byName.set(name, ns);
      for (const hook of this.hooks) hook(name, ns);
    }
    return ns;
  }

  public get names(): string[] {
    return [...this.byName.keys()];
  }

  public get objects(): k8s.KubeNamespace[] {
    return [...this.byName.values()];
  }
}
