import { AVAILABILITY_RULES } from './availability';
import { CONTAINER_RULES } from './containers';
import { exemptionsRule } from './exemptions';
import { JOB_RULES } from './jobs';
import { NETWORK_RULES } from './network';
import { POD_SECURITY_RULES } from './pod-security';
import { SECRET_RULES } from './secrets';
import { SERVICE_ACCOUNT_RULES } from './service-account';
import { Rule } from './types';

export * from './types';
export { EXEMPTIONS_RULE_ID, exemptionsOf } from './exemptions';

const CHECKS: readonly Rule[] = [
  ...POD_SECURITY_RULES,
  ...CONTAINER_RULES,
  ...AVAILABILITY_RULES,
  ...NETWORK_RULES,
  ...SERVICE_ACCOUNT_RULES,
  ...SECRET_RULES,
  ...JOB_RULES,
];

/** Every policy rule, in report order; the last one checks the exemption annotations themselves. */
export const RULES: readonly Rule[] = [...CHECKS, exemptionsRule(CHECKS.map((r) => r.id))];
