import { EXEMPTIONS_RULE_ID, exemptionsOf, KubeObject, Rule, RULES, Violation } from './rules';

/** How reports name an object. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export function refOf(obj: KubeObject): ObjectRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata?.namespace, name: obj.metadata?.name };
}

/** `Kind namespace/name` (or `Kind name` when cluster-scoped). */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

export interface Finding extends Violation {
  readonly object: ObjectRef;
  readonly ruleId: string;
}

/** An exemption annotation with a reason, and the violations it waived (none: the exemption is unused). */
export interface Exemption {
  readonly object: ObjectRef;
  readonly ruleId: string;
  readonly reason: string;
  readonly waived: readonly Violation[];
}

export interface PolicyResult {
  readonly violations: Finding[];
  readonly exemptions: Exemption[];
}

/**
 * Runs `rules` on one object. A violation is waived when the object carries
 * `policy.fingerprint.io/exempt.<rule-id>` with a non-empty reason; every such exemption is returned.
 */
export function evaluateObject(obj: KubeObject, all: readonly KubeObject[], rules: readonly Rule[] = RULES): PolicyResult {
  const result: PolicyResult = { violations: [], exemptions: [] };
  const exempt = exemptionsOf(obj);
  const object = refOf(obj);
  for (const rule of rules) {
    const found = rule.validate(obj, { all });
    const reason = rule.id === EXEMPTIONS_RULE_ID ? undefined : exempt.get(rule.id);
    if (reason) result.exemptions.push({ object, ruleId: rule.id, reason, waived: found });
    else result.violations.push(...found.map((v) => ({ ...v, object, ruleId: rule.id })));
  }
  return result;
}

/** Runs every rule on every object of one region (one cluster). */
export function evaluate(objects: readonly KubeObject[], rules: readonly Rule[] = RULES): PolicyResult {
  const result: PolicyResult = { violations: [], exemptions: [] };
  for (const obj of objects) {
    const one = evaluateObject(obj, objects, rules);
    result.violations.push(...one.violations);
    result.exemptions.push(...one.exemptions);
  }
  return result;
}
