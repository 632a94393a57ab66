import { Json, namespaceOf, podTemplateOf, specPath } from './pods';
import { KubeObject, Rule } from './types';

/** Whether a RoleBinding/ClusterRoleBinding of the region grants `namespace/name` a role: the workload uses the API. */
function isBound(all: readonly KubeObject[], namespace: string, name: string): boolean {
  return all.some((o) => {
    if (o.kind !== 'RoleBinding' && o.kind !== 'ClusterRoleBinding') return false;
    const subjects: Json[] = Array.isArray((o as Json).subjects) ? (o as Json).subjects : [];
    return subjects.some((s) => s?.kind === 'ServiceAccount' && s.name === name && (s.namespace ?? (o.kind === 'RoleBinding' ? namespaceOf(o) : undefined)) === namespace);
  });
}

export const automountToken: Rule = {
  id: 'automount-token',
  description: 'Pods do not mount a service account token unless their service account is bound to a role (the workload needs the API)',
  scope: 'stack',
  validate(obj, { all }) {
    const template = podTemplateOf(obj);
    if (!template) return [];
    const namespace = namespaceOf(obj);
    const account: string = template.spec.serviceAccountName ?? template.spec.serviceAccount ?? 'default';
    const serviceAccount = all.find((o) => o.kind === 'ServiceAccount' && namespaceOf(o) === namespace && o.metadata.name === account) as Json | undefined;
    const mounted = template.spec.automountServiceAccountToken ?? serviceAccount?.automountServiceAccountToken ?? true;
    if (mounted === false || isBound(all, namespace, account)) return [];
    return [
      {
        path: specPath(template, 'automountServiceAccountToken'),
        message: `the token of service account ${namespace}/${account} is mounted, but no RoleBinding/ClusterRoleBinding in the stack grants it a role; set automountServiceAccountToken: false`,
      },
    ];
  },
};

export const SERVICE_ACCOUNT_RULES: readonly Rule[] = [automountToken];
