import { PolicyPack } from '@pulumi/policy';
import { POLICIES } from './policies';

// `pulumi preview --policy-pack policy`: the same rules as `npm run check`, enforced on what the
// program registers.
new PolicyPack('fingerprint-infra', {
  description: 'Pod Security "restricted", reliability and secret-handling rules of fingerprint-infra (policy/rules)',
  enforcementLevel: 'mandatory',
  policies: POLICIES,
});
