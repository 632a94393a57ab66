import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { describeRef, evaluateObject, refOf } from './engine';
import { KubeObject, Rule, RULES } from './rules';

/**
 * The CrossGuard policies, built from the pure rules. Kept apart from index.ts: constructing the
 * PolicyPack starts the analyzer server, while these objects can be imported and called directly.
 */

const NOT_MANIFESTS = /^(yaml|helm\.sh|kustomize)\//;

/**
 * The Kubernetes manifest behind a Pulumi resource: typed resources (kubernetes:apps/v1:StatefulSet,
 * kubernetes:core/v1:ConfigMap) and CustomResources (kubernetes:monitoring.coreos.com/v1:PodMonitor);
 * undefined for providers, component resources (yaml/helm) and patches.
 */
export function manifestOf(type: string, props: Record<string, any>): KubeObject | undefined {
  const [pkg, groupVersion, kind] = type.split(':');
  if (pkg !== 'kubernetes' || !groupVersion || !kind || NOT_MANIFESTS.test(groupVersion) || kind.endsWith('Patch') || kind.endsWith('List')) return undefined;
  const apiVersion = typeof props.apiVersion === 'string' ? props.apiVersion : groupVersion.replace(/^core\//, '');
  return { ...props, apiVersion, kind: typeof props.kind === 'string' ? props.kind : kind, metadata: props.metadata ?? {} } as KubeObject;
}

function report(reportViolation: ReportViolation, obj: KubeObject, rule: Rule, others: readonly KubeObject[], urn?: string): void {
  for (const v of evaluateObject(obj, others, [rule]).violations) {
    reportViolation(`${describeRef(refOf(obj))}: ${v.path}: ${v.message}`, urn);
  }
}

/**
 * Resources deployed to the same cluster: one provider per region (see stacks/region-stack.ts);
 * without provider information, the region prefix of the resource name (`<region>/<kind>/...`).
 */
export function clusterOf(resource: Pick<PolicyResource, 'provider' | 'name'>): string {
  return resource.provider?.urn ?? resource.name.split('/')[0];
}

const pack = (rule: Rule) => ({ name: rule.id, description: rule.description, enforcementLevel: 'mandatory' as const });
/** The deploy layer substitutes secret values, so rules about rendered placeholders do not apply here. */
const deployable = RULES.filter((rule) => rule.stage !== 'rendered');

export const RESOURCE_POLICIES: ResourceValidationPolicy[] = deployable
  .filter((rule) => rule.scope === 'resource')
  .map((rule) => ({
    ...pack(rule),
    validateResource: (args, reportViolation) => {
      const obj = manifestOf(args.type, args.props);
      if (obj) report(reportViolation, obj, rule, [obj]);
    },
  }));

export const STACK_POLICIES: StackValidationPolicy[] = deployable
  .filter((rule) => rule.scope === 'stack')
  .map((rule) => ({
    ...pack(rule),
    validateStack: (args, reportViolation) => {
      const clusters = new Map<string, { obj: KubeObject; urn: string }[]>();
      for (const resource of args.resources) {
        const obj = manifestOf(resource.type, resource.props);
        if (!obj) continue;
        const key = clusterOf(resource);
        clusters.set(key, [...(clusters.get(key) ?? []), { obj, urn: resource.urn }]);
      }
      for (const members of clusters.values()) {
        const objects = members.map((m) => m.obj);
        for (const { obj, urn } of members) report(reportViolation, obj, rule, objects, urn);
      }
    },
  }));

export const POLICIES: (ResourceValidationPolicy | StackValidationPolicy)[] = [...RESOURCE_POLICIES, ...STACK_POLICIES];
