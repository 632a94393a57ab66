/** Recommended Kubernetes labels shared by every object the program creates. */
export const PART_OF = 'fingerprint-platform';
export const MANAGED_BY = 'fingerprint-infra';

export type Labels = Record<string, string>;

/** Labels identifying one component instance; also used as pod selectors, so keep them stable. */
export function selectorLabels(name: string, component: string): Labels {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
  };
}

export function standardLabels(name: string, component: string, version?: string): Labels {
  return {
    ...selectorLabels(name, component),
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    ...(version ? { 'app.kubernetes.io/version': version } : {}),
  };
}
