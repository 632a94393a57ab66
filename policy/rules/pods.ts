import type { KubeObject } from '../../stacks/synth';

/** Loosely typed manifest fields; rules read them defensively since any object may be malformed. */
export type Json = Record<string, any>;

export interface ContainerRef {
  readonly container: Json;
  /** Field path of the container, e.g. spec.template.spec.containers[0]. */
  readonly path: string;
  readonly kind: 'container' | 'init' | 'ephemeral';
  /** An init container with restartPolicy Always: a sidecar that runs as long as the pod. */
  readonly sidecar: boolean;
}

export interface PodTemplate {
  /** Path of the pod template (or Pod) metadata/spec parent, e.g. `spec.template`; '' for a Pod. */
  readonly path: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly spec: Json;
  /** Pods run until deleted (Deployments, StatefulSets, ...), unlike Job pods. */
  readonly longRunning: boolean;
}

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController']);
/** Workloads whose replica count is spec.replicas. */
export const SCALABLE_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

function join(base: string, field: string): string {
  return base ? `${base}.${field}` : field;
}

/** The pod template an object creates pods from (or the Pod itself); undefined for other kinds. */
export function podTemplateOf(obj: KubeObject): PodTemplate | undefined {
  const o = obj as Json;
  let path: string;
  let template: Json | undefined;
  let longRunning = true;
  if (obj.kind === 'Pod') {
    path = '';
    template = o;
    longRunning = !['Never', 'OnFailure'].includes(o.spec?.restartPolicy);
  } else if (TEMPLATE_KINDS.has(obj.kind)) {
    path = 'spec.template';
    template = o.spec?.template;
  } else if (obj.kind === 'Job') {
    path = 'spec.template';
    template = o.spec?.template;
    longRunning = false;
  } else if (obj.kind === 'CronJob') {
    path = 'spec.jobTemplate.spec.template';
    template = o.spec?.jobTemplate?.spec?.template;
    longRunning = false;
  } else {
    return undefined;
  }
  if (!template || typeof template !== 'object') return undefined;
  return {
    path,
    labels: template.metadata?.labels ?? {},
    annotations: template.metadata?.annotations ?? {},
    spec: template.spec ?? {},
    longRunning,
  };
}

/** Path of a field of the pod spec, e.g. specPath(t, 'hostNetwork') = spec.template.spec.hostNetwork. */
export function specPath(template: PodTemplate, field?: string): string {
  const spec = join(template.path, 'spec');
  return field ? `${spec}.${field}` : spec;
}

/** Every container of a pod template: regular, init and ephemeral, with their paths. */
export function containersOf(template: PodTemplate): ContainerRef[] {
  const out: ContainerRef[] = [];
  const lists: [string, ContainerRef['kind']][] = [
    ['containers', 'container'],
    ['initContainers', 'init'],
    ['ephemeralContainers', 'ephemeral'],
  ];
  for (const [field, kind] of lists) {
    const list = template.spec[field];
    if (!Array.isArray(list)) continue;
    list.forEach((container: Json, i: number) => {
      if (!container || typeof container !== 'object') return;
      out.push({ container, path: specPath(template, `${field}[${i}]`), kind, sidecar: kind === 'init' && container.restartPolicy === 'Always' });
    });
  }
  return out;
}

/** Containers that run for the pod's whole life: regular containers and sidecars. */
export function longRunningContainers(template: PodTemplate): ContainerRef[] {
  return containersOf(template).filter((c) => c.kind === 'container' || c.sidecar);
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label-selector semantics; an empty selector selects everything. */
export function selectorMatches(selector: LabelSelector | undefined | null, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expr.key);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        if (!has || !values.includes(labels[expr.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[expr.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A Service's map selector (`spec.selector`) as a label selector. */
export function mapSelectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function namespaceOf(obj: KubeObject): string {
  return obj.metadata?.namespace ?? 'default';
}

/** Objects of the region that create pods, with their templates. */
export function workloadsIn(all: readonly KubeObject[]): { obj: KubeObject; template: PodTemplate }[] {
  return all.flatMap((obj) => {
    const template = podTemplateOf(obj);
    return template ? [{ obj, template }] : [];
  });
}

/**
 * How many pods a workload runs at most: spec.replicas (default 1), or an HPA's maxReplicas when
 * one scales it. DaemonSets and Jobs are not replicated in this sense.
 */
export function maxReplicas(obj: KubeObject, all: readonly KubeObject[]): number {
  if (!SCALABLE_KINDS.has(obj.kind)) return 0;
  const replicas = typeof (obj as Json).spec?.replicas === 'number' ? (obj as Json).spec.replicas : 1;
  const hpa = all.find((o) => {
    const ref = (o as Json).spec?.scaleTargetRef;
    return o.kind === 'HorizontalPodAutoscaler' && namespaceOf(o) === namespaceOf(obj) && ref?.kind === obj.kind && ref?.name === obj.metadata.name;
  });
  const hpaMax = (hpa as Json | undefined)?.spec?.maxReplicas;
  return Math.max(replicas, typeof hpaMax === 'number' ? hpaMax : 0);
}
