import { TrafficRule } from '../../lib/traffic';
import { Peer } from '../../lib/workload';

/**
 * An independent reading of synthesized manifests with Istio's authorization semantics: does every
 * declared flow have an explicit ALLOW rule (and no DENY), and does every managed namespace deny
 * by default with STRICT mTLS? It reads only the objects, not the mesh's own bookkeeping, so a
 * mistake in how the mesh derives policies shows up here.
 */

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

interface Source {
  principals?: string[];
  notPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  requestPrincipals?: string[];
}
interface Operation {
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  paths?: string[];
}
interface Rule {
  from?: { source?: Source }[];
  to?: { operation?: Operation }[];
  when?: unknown[];
}
interface PolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: unknown;
  targetRefs?: unknown[];
  action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  rules?: Rule[];
}

export interface CoverageOptions {
  readonly trustDomain?: string;
  /**
   * Sources that forward mTLS unterminated (the east-west gateway): destinations see the original
   * client, so their flows are covered when some identity is allowed on each port.
   */
  readonly passthroughPeers?: readonly Peer[];
}

const policiesIn = (objects: readonly Manifest[], namespace: string) =>
  objects.filter((o) => o.kind === 'AuthorizationPolicy' && o.metadata.namespace === namespace).map((o) => ({ name: o.metadata.name, spec: (o.spec ?? {}) as PolicySpec }));

function selects(spec: PolicySpec, podLabels: Readonly<Record<string, string>>): boolean {
  if (spec.targetRef || spec.targetRefs) return false;
  const wanted = spec.selector?.matchLabels ?? {};
  return Object.entries(wanted).every(([k, v]) => podLabels[k] === v);
}

function sourceMatches(source: Source | undefined, principal: string, namespace: string): boolean {
  if (!source) return true;
  if (source.requestPrincipals || source.ipBlocks) return false;
  if (source.notPrincipals?.includes(principal) || source.notNamespaces?.includes(namespace)) return false;
  if (source.principals && !source.principals.some((p) => p === '*' || p === principal)) return false;
  if (source.namespaces && !source.namespaces.includes(namespace)) return false;
  return true;
}

function portMatches(operation: Operation | undefined, port: number): boolean {
  if (!operation) return true;
  if (operation.notPorts?.includes(String(port))) return false;
  return !operation.ports || operation.ports.includes(String(port));
}

/** Does `rule` match a connection from `principal` (or any principal when undefined) to `port`? */
function ruleMatches(rule: Rule, principal: string | undefined, namespace: string, port: number): boolean {
  if (rule.when?.length) return false;
  const fromOk = !rule.from?.length || principal === undefined || rule.from.some((f) => sourceMatches(f.source, principal, namespace));
  const toOk = !rule.to?.length || rule.to.some((t) => portMatches(t.operation, port));
  return fromOk && toOk;
}

/** Every problem found; empty when each flow is allowed and each managed namespace is locked down. */
export function meshCoverageProblems(objects: readonly Manifest[], flows: readonly TrafficRule[], options: CoverageOptions = {}): string[] {
  const trustDomain = options.trustDomain ?? 'cluster.local';
  const problems: string[] = [];
  const namespaces = objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
  for (const ns of namespaces) {
    const denyAll = policiesIn(objects, ns).some(
      ({ spec }) => !spec.selector && !spec.targetRef && !spec.targetRefs && (spec.action ?? 'ALLOW') === 'ALLOW' && !(spec.rules ?? []).length,
    );
    if (!denyAll) problems.push(`namespace ${ns}: no default-deny AuthorizationPolicy (an ALLOW policy without selector or rules)`);
    const strict = objects.some(
      (o) => o.kind === 'PeerAuthentication' && o.metadata.namespace === ns && !(o.spec as { selector?: unknown }).selector && (o.spec as { mtls?: { mode?: string } }).mtls?.mode === 'STRICT',
    );
    if (!strict) problems.push(`namespace ${ns}: no namespace-wide STRICT PeerAuthentication`);
  }

  for (const flow of flows) {
    const passthrough = (options.passthroughPeers ?? []).includes(flow.from);
    const principal = passthrough ? undefined : `${trustDomain}/ns/${flow.from.namespace}/sa/${flow.from.serviceAccountName}`;
    const policies = policiesIn(objects, flow.to.namespace).filter(({ spec }) => selects(spec, flow.to.podLabels));
    for (const port of flow.ports) {
      const what = `${flow.from.description} -> ${flow.to.description} port ${port.port} (${flow.reason})`;
      const denied = policies.find(({ spec }) => spec.action === 'DENY' && (spec.rules ?? []).some((r) => ruleMatches(r, principal, flow.from.namespace, port.port)));
      if (denied) problems.push(`${what}: denied by AuthorizationPolicy ${flow.to.namespace}/${denied.name}`);
      const allowed = policies.some(
        ({ spec }) => (spec.action ?? 'ALLOW') === 'ALLOW' && (spec.rules ?? []).some((r) => ruleMatches(r, principal, flow.from.namespace, port.port)),
      );
      if (!allowed) problems.push(`${what}: no ALLOW rule in namespace ${flow.to.namespace} covers it`);
    }
  }
  return problems;
}
