import { parseCpu, parseMemory } from '../../lib/quantity';
import { containersOf, Json, longRunningContainers, podTemplateOf } from './pods';
import { Rule, Violation } from './types';

const RESOURCES = ['cpu', 'memory'] as const;

export const containerResources: Rule = {
  id: 'container-resources',
  description: 'Every container sets cpu and memory requests and limits, requests not above limits',
  scope: 'resource',
  validate(obj) {
    const template = podTemplateOf(obj);
    if (!template) return [];
    const out: Violation[] = [];
    // Ephemeral containers cannot declare resources.
    for (const c of containersOf(template).filter((ref) => ref.kind !== 'ephemeral')) {
      const resources: Json = c.container.resources ?? {};
      for (const kind of ['requests', 'limits'] as const) {
        const missing = RESOURCES.filter((r) => resources[kind]?.[r] === undefined);
        if (missing.length) out.push({ path: `${c.path}.resources.${kind}`, message: `container "${c.container.name}": ${kind} of ${missing.join(' and ')} missing` });
      }
      for (const r of RESOURCES) {
        const parse = (q: unknown) => (typeof q === 'string' ? (r === 'cpu' ? parseCpu(q) : parseMemory(q)) : typeof q === 'number' ? q * (r === 'cpu' ? 1000 : 1) : undefined);
        const request = parse(resources.requests?.[r]);
        const limit = parse(resources.limits?.[r]);
        if (request !== undefined && limit !== undefined && request > limit) {
          out.push({ path: `${c.path}.resources.requests.${r}`, message: `container "${c.container.name}": ${r} request ${resources.requests[r]} exceeds the limit ${resources.limits[r]}` });
        }
      }
    }
    return out;
  },
};

/** Why an image reference is not pinned, or undefined when it is (a tag other than latest, or a digest). */
export function unpinnedReason(image: unknown): string | undefined {
  if (typeof image !== 'string' || image === '') return 'has no image';
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return undefined;
  const lastComponent = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastComponent.lastIndexOf(':');
  if (colon < 0) return `image "${image}" has no tag (it resolves to latest)`;
  if (lastComponent.slice(colon + 1) === 'latest') return `image "${image}" uses the latest tag`;
  return undefined;
}

export const imagePinned: Rule = {
  id: 'image-pinned',
  description: 'Images are pinned to a version tag or digest: no latest, no untagged images',
  scope: 'resource',
  validate(obj) {
    const template = podTemplateOf(obj);
    if (!template) return [];
    return containersOf(template).flatMap((c) => {
      const reason = unpinnedReason(c.container.image);
      return reason ? [{ path: `${c.path}.image`, message: `container "${c.container.name}": ${reason}` }] : [];
    });
  },
};

export const containerProbes: Rule = {
  id: 'container-probes',
  description: 'Long-running containers (not Job pods) have liveness and readiness probes',
  scope: 'resource',
  validate(obj) {
    const template = podTemplateOf(obj);
    if (!template?.longRunning) return [];
    return longRunningContainers(template).flatMap((c) =>
      (['livenessProbe', 'readinessProbe'] as const)
        .filter((probe) => !c.container[probe])
        .map((probe) => ({ path: `${c.path}.${probe}`, message: `container "${c.container.name}": ${probe} missing` })),
    );
  },
};

export const envNoDuplicates: Rule = {
  id: 'env-no-duplicates',
  description: 'No env var is set twice in a container (the later silently wins, and server-side apply rejects it)',
  scope: 'resource',
  validate(obj) {
    const template = podTemplateOf(obj);
    if (!template) return [];
    const out: Violation[] = [];
    for (const c of containersOf(template)) {
      const first = new Map<string, number>();
      (Array.isArray(c.container.env) ? c.container.env : []).forEach((env: Json, i: number) => {
        const at = first.get(env?.name);
        if (at !== undefined) out.push({ path: `${c.path}.env[${i}]`, message: `container "${c.container.name}": ${env.name} is already set at env[${at}]` });
        else first.set(env?.name, i);
      });
    }
    return out;
  },
};

export const CONTAINER_RULES: readonly Rule[] = [containerResources, imagePinned, containerProbes, envNoDuplicates];
