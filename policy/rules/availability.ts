import { Json, LabelSelector, maxReplicas, namespaceOf, podTemplateOf, selectorMatches, specPath } from './pods';
import { Rule, Violation } from './types';

function percent(value: unknown): number | undefined {
  return typeof value === 'string' && /^[0-9]+%$/.test(value) ? Number(value.slice(0, -1)) : undefined;
}

export const pdbRequired: Rule = {
  id: 'pdb-required',
  description: 'Every replicated workload has exactly one PodDisruptionBudget, and it allows at least one eviction',
  scope: 'stack',
  validate(obj, { all }) {
    const template = podTemplateOf(obj);
    const replicas = maxReplicas(obj, all);
    if (!template || replicas < 2) return [];
    const pdbs = all.filter(
      (o) => o.kind === 'PodDisruptionBudget' && namespaceOf(o) === namespaceOf(obj) && selectorMatches((o as Json).spec?.selector as LabelSelector, template.labels),
    );
    if (pdbs.length === 0) return [{ path: 'spec.replicas', message: `${replicas} replicas but no PodDisruptionBudget selects the pods` }];
    if (pdbs.length > 1) {
      return [{ path: 'spec.replicas', message: `pods are selected by ${pdbs.length} PodDisruptionBudgets (${pdbs.map((p) => p.metadata.name).join(', ')}); evictions fail with more than one` }];
    }
    const spec = (pdbs[0] as Json).spec ?? {};
    const out: Violation[] = [];
    const where = `PodDisruptionBudget ${pdbs[0].metadata.name}`;
    if (spec.maxUnavailable === 0 || percent(spec.maxUnavailable) === 0) out.push({ path: 'spec.replicas', message: `${where} has maxUnavailable 0: no pod can ever be evicted (node drains block)` });
    const minPct = percent(spec.minAvailable);
    const minAvailable = typeof spec.minAvailable === 'number' ? spec.minAvailable : minPct !== undefined ? Math.ceil((minPct * replicas) / 100) : undefined;
    if (minAvailable !== undefined && minAvailable >= replicas) {
      out.push({ path: 'spec.replicas', message: `${where} has minAvailable ${spec.minAvailable} with ${replicas} replicas: no pod can be evicted (node drains block)` });
    }
    return out;
  },
};

function selectsPods(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  return !!selector && Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length > 0 && selectorMatches(selector, labels);
}

export const replicaSpread: Rule = {
  id: 'replica-spread',
  description: 'Replicated workloads spread their pods: pod anti-affinity or a topology spread constraint selecting their own pods',
  scope: 'stack',
  validate(obj, { all }) {
    const template = podTemplateOf(obj);
    const replicas = maxReplicas(obj, all);
    if (!template || replicas < 2) return [];
    const anti: Json = template.spec.affinity?.podAntiAffinity ?? {};
    const terms: Json[] = [
      ...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p: Json) => p?.podAffinityTerm ?? {}),
    ];
    const spread: Json[] = template.spec.topologySpreadConstraints ?? [];
    const ok = terms.some((t) => t?.topologyKey && selectsPods(t.labelSelector, template.labels)) || spread.some((c) => c?.topologyKey && selectsPods(c.labelSelector, template.labels));
    return ok
      ? []
      : [{ path: specPath(template, 'affinity'), message: `${replicas} replicas but neither pod anti-affinity nor a topology spread constraint selects the workload's own pods` }];
  },
};

export const AVAILABILITY_RULES: readonly Rule[] = [pdbRequired, replicaSpread];
