import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';

/** A plain Kubernetes manifest. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [field: string]: unknown;
}

/** One synthesized object with the objects it must wait for. */
export interface SynthObject {
  /** `apiVersion/kind/namespace/name`, unique within a region. */
  readonly key: string;
  readonly manifest: KubeObject;
  readonly dependsOn: readonly string[];
}

export function objectKey(m: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${m.apiVersion}/${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
}

function apiObjectsIn(construct: IConstruct): ApiObject[] {
  return construct.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
}

/**
 * Synthesizes a chart to manifests in a stable order (definition order), keeping the explicit
 * dependencies declared between constructs (`node.addDependency`), plus the implicit ones every
 * deploy needs: namespaces before what lives in them, CRDs before their custom resources.
 */
export function synthesizeChart(chart: Chart): SynthObject[] {
  const apiObjects = apiObjectsIn(chart);
  const manifests = apiObjects.map((o) => o.toJson() as KubeObject);
  const keyOf = new Map(apiObjects.map((o, i) => [o, objectKey(manifests[i])]));
  const seen = new Set<string>();
  for (const key of keyOf.values()) {
    if (seen.has(key)) throw new Error(`two objects synthesize to ${key}; object names must be unique per kind and namespace`);
    seen.add(key);
  }
  const namespaces = new Map(manifests.filter((m) => m.kind === 'Namespace').map((m) => [m.metadata.name, objectKey(m)]));
  const crdsByKind = new Map<string, string>();
  for (const m of manifests) {
    if (m.kind !== 'CustomResourceDefinition') continue;
    const spec = m.spec as { group: string; names: { kind: string } };
    crdsByKind.set(`${spec.group}/${spec.names.kind}`, objectKey(m));
  }

  const objects = apiObjects.map((o, i) => {
    const manifest = manifests[i];
    const deps = new Set<string>();
    for (const dep of o.node.dependencies) for (const target of apiObjectsIn(dep)) deps.add(keyOf.get(target)!);
    const ns = manifest.metadata.namespace && namespaces.get(manifest.metadata.namespace);
    if (ns) deps.add(ns);
    const crd = crdsByKind.get(`${manifest.apiVersion.split('/')[0]}/${manifest.kind}`);
    if (crd && manifest.apiVersion.includes('/')) deps.add(crd);
    deps.delete(keyOf.get(o)!);
    return { key: keyOf.get(o)!, manifest, dependsOn: [...deps].sort() };
  });
  return dependencyOrder(objects);
}

/**
 * Definition order, except that every object comes after what it depends on (the deploy layer
 * registers in this order). Namespaces are created lazily by the first component that needs
 * one, so they are often defined after their first object.
 */
function dependencyOrder(objects: SynthObject[]): SynthObject[] {
  const byKey = new Map(objects.map((o) => [o.key, o]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: SynthObject[] = [];
  const visit = (o: SynthObject) => {
    if (done.has(o.key)) return;
    if (visiting.has(o.key)) throw new Error(`dependency cycle through ${o.key}`);
    visiting.add(o.key);
    for (const dep of o.dependsOn) {
      const target = byKey.get(dep);
      if (target) visit(target);
    }
    visiting.delete(o.key);
    done.add(o.key);
    out.push(o);
  };
  objects.forEach(visit);
  return out;
}
