import type { KubeObject } from '../../stacks/synth';

export type { KubeObject };

/** One way an object breaks a rule; `path` is the offending field (e.g. spec.template.spec.hostNetwork). */
export interface Violation {
  readonly path: string;
  readonly message: string;
}

export interface RuleContext {
  /** Every object of the region (the cluster the object lands in), including `obj` itself. */
  readonly all: readonly KubeObject[];
}

/**
 * A policy rule: a pure function over manifests, shared by `npm run check`, the test suite and the
 * CrossGuard pack.
 */
export interface Rule {
  /** Stable id, used in reports, in exemption annotations and as the CrossGuard policy name. */
  readonly id: string;
  readonly description: string;
  /**
   * `stack`: the rule reads other objects (context.all), so the CrossGuard pack runs it as a stack
   * policy; `resource`: the object alone decides.
   */
  readonly scope: 'resource' | 'stack';
  /**
   * `rendered`: the rule checks the manifests as rendered (before the deploy layer substitutes secret
   * values), so the CrossGuard pack, which sees substituted values, skips it.
   */
  readonly stage?: 'rendered';
  validate(obj: KubeObject, context: RuleContext): Violation[];
}

/** Annotation exempting one object from one rule: `policy.fingerprint.io/exempt.<rule-id>: "<reason>"`. */
export const EXEMPT_PREFIX = 'policy.fingerprint.io/exempt.';

export function exemptionAnnotation(ruleId: string): string {
  return `${EXEMPT_PREFIX}${ruleId}`;
}
