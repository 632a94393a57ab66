import { containersOf, Json, LabelSelector, mapSelectorMatches, namespaceOf, podTemplateOf, selectorMatches, workloadsIn } from './pods';
import { Rule } from './types';

export const networkPolicyCoverage: Rule = {
  id: 'network-policy-coverage',
  description: 'Every pod is selected by a NetworkPolicy in its namespace (no pod runs outside default-deny)',
  scope: 'stack',
  validate(obj, { all }) {
    const template = podTemplateOf(obj);
    if (!template) return [];
    const covered = all.some(
      (o) => o.kind === 'NetworkPolicy' && namespaceOf(o) === namespaceOf(obj) && selectorMatches(((o as Json).spec?.podSelector ?? null) as LabelSelector | null, template.labels),
    );
    return covered ? [] : [{ path: template.path ? `${template.path}.metadata.labels` : 'metadata.labels', message: `no NetworkPolicy in namespace ${namespaceOf(obj)} selects these pods` }];
  },
};

export const serviceSelector: Rule = {
  id: 'service-selector',
  description: "A Service's selector matches the pods of a workload, and its named target ports exist on them",
  scope: 'stack',
  validate(obj, { all }) {
    if (obj.kind !== 'Service') return [];
    const spec: Json = (obj as Json).spec ?? {};
    const selector: Record<string, string> | undefined = spec.selector;
    // ExternalName and selector-less Services (manual endpoints) select no pods by design.
    if (spec.type === 'ExternalName' || !selector || Object.keys(selector).length === 0) return [];
    const selected = workloadsIn(all).filter(({ obj: w, template }) => namespaceOf(w) === namespaceOf(obj) && mapSelectorMatches(selector, template.labels));
    if (selected.length === 0) {
      return [{ path: 'spec.selector', message: `selects no pods: no workload in namespace ${namespaceOf(obj)} has labels ${JSON.stringify(selector)}` }];
    }
    const ports: Json[] = Array.isArray(spec.ports) ? spec.ports : [];
    return ports.flatMap((port, i) => {
      if (typeof port?.targetPort !== 'string') return [];
      const missing = selected.filter(({ template }) =>
        !containersOf(template).some((c) => (Array.isArray(c.container.ports) ? c.container.ports : []).some((p: Json) => p?.name === port.targetPort)),
      );
      return missing.map(({ obj: w }) => ({ path: `spec.ports[${i}].targetPort`, message: `no container of ${w.kind} ${w.metadata.name} declares a port named "${port.targetPort}"` }));
    });
  },
};

export const NETWORK_RULES: readonly Rule[] = [networkPolicyCoverage, serviceSelector];
