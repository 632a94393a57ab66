import { Rule, Violation, EXEMPT_PREFIX } from './types';

export const EXEMPTIONS_RULE_ID = 'policy-exemptions';

/** Exemption annotations of an object: rule id -> reason (possibly empty). */
export function exemptionsOf(obj: { metadata?: { annotations?: Record<string, string> } }): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(obj.metadata?.annotations ?? {})) {
    if (key.startsWith(EXEMPT_PREFIX)) out.set(key.slice(EXEMPT_PREFIX.length), typeof value === 'string' ? value.trim() : '');
  }
  return out;
}

/**
 * Exemption annotations must name a known rule and give a reason; this rule itself cannot be
 * exempted, so every exemption stays visible and justified.
 */
export function exemptionsRule(knownRuleIds: readonly string[]): Rule {
  return {
    id: EXEMPTIONS_RULE_ID,
    description: `Exemption annotations (${EXEMPT_PREFIX}<rule-id>) name a known rule and give a reason`,
    scope: 'resource',
    validate(obj) {
      const out: Violation[] = [];
      for (const [ruleId, reason] of exemptionsOf(obj)) {
        const path = `metadata.annotations["${EXEMPT_PREFIX}${ruleId}"]`;
        if (ruleId === EXEMPTIONS_RULE_ID) out.push({ path, message: `${EXEMPTIONS_RULE_ID} cannot be exempted` });
        else if (!knownRuleIds.includes(ruleId)) out.push({ path, message: `exempts unknown rule "${ruleId}" (known: ${knownRuleIds.join(', ')})` });
        if (!reason) out.push({ path, message: 'an exemption needs a reason: the annotation value says why the rule does not apply' });
      }
      return out;
    },
  };
}
