import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { placeholderSecretId } from '../../lib/secrets';
import { KubeObject, SynthObject } from '../synth';

type ResourceClass = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/**
 * Typed Pulumi resources for the kinds the components emit. Typed resources (unlike yaml/v2 or
 * Helm v4) diff client-side, so `pulumi preview` works without a reachable cluster.
 */
const TYPED: Record<string, ResourceClass> = {
  'v1/Namespace': k8s.core.v1.Namespace,
  'v1/ConfigMap': k8s.core.v1.ConfigMap,
  'v1/Secret': k8s.core.v1.Secret,
  'v1/Service': k8s.core.v1.Service,
  'v1/ServiceAccount': k8s.core.v1.ServiceAccount,
  'apps/v1/StatefulSet': k8s.apps.v1.StatefulSet,
  'apps/v1/Deployment': k8s.apps.v1.Deployment,
  'batch/v1/Job': k8s.batch.v1.Job,
  'batch/v1/CronJob': k8s.batch.v1.CronJob,
  'policy/v1/PodDisruptionBudget': k8s.policy.v1.PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': k8s.networking.v1.NetworkPolicy,
  'networking.k8s.io/v1/IngressClass': k8s.networking.v1.IngressClass,
  'networking.k8s.io/v1/Ingress': k8s.networking.v1.Ingress,
  'autoscaling/v2/HorizontalPodAutoscaler': k8s.autoscaling.v2.HorizontalPodAutoscaler,
  'rbac.authorization.k8s.io/v1/Role': k8s.rbac.v1.Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': k8s.rbac.v1.RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': k8s.rbac.v1.ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': k8s.rbac.v1.ClusterRoleBinding,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': k8s.apiextensions.v1.CustomResourceDefinition,
};

/** API groups whose objects are custom resources this program knows to emit. */
const CUSTOM_GROUPS = ['monitoring.coreos.com', 'configuration.konghq.com', 'networking.istio.io', 'security.istio.io', 'telemetry.istio.io'];

/** Pulumi resource name of an object: region first, so one region can be targeted alone. */
export function resourceName(region: string, m: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${region}/${m.kind.toLowerCase()}/${m.metadata.namespace ?? '_cluster'}/${m.metadata.name}`;
}

export interface RegisterOptions {
  readonly region: string;
  readonly provider: k8s.Provider;
  readonly parent: pulumi.Resource;
  /** Secret id -> value; substituted into Secret objects' placeholders, always as Pulumi secrets. */
  readonly secretValues: Readonly<Record<string, pulumi.Input<string>>>;
  readonly protectStatefulSets: boolean;
  /** Extra dependencies of every object (e.g. the previous rollout wave). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

function withSecrets(m: KubeObject, secretValues: RegisterOptions['secretValues']): KubeObject {
  const data = m.stringData as Record<string, string> | undefined;
  if (m.kind !== 'Secret' || !data) return m;
  const stringData: Record<string, pulumi.Input<string>> = {};
  for (const [key, value] of Object.entries(data)) {
    const id = placeholderSecretId(value);
    if (id === undefined) {
      stringData[key] = value;
      continue;
    }
    const secret = secretValues[id];
    if (secret === undefined) throw new Error(`Secret ${m.metadata.namespace}/${m.metadata.name}: no value for secret "${id}"`);
    stringData[key] = pulumi.secret(secret);
  }
  return { ...m, stringData } as unknown as KubeObject;
}

/** Guards against a placeholder leaking outside a Secret, where it would never be substituted. */
function assertNoStrayPlaceholders(m: KubeObject): void {
  if (m.kind === 'Secret') return;
  const visit = (v: unknown, path: string): void => {
    if (placeholderSecretId(v) !== undefined) throw new Error(`${m.kind} ${m.metadata.name}: secret placeholder at ${path} outside a Secret`);
    if (v && typeof v === 'object') for (const [k, child] of Object.entries(v)) visit(child, `${path}.${k}`);
  };
  visit(m, '');
}

/**
 * Registers a region's synthesized objects as typed Pulumi Kubernetes resources under the region's
 * provider, with explicit names, the dependencies the synthesis recorded, and deploy-time options.
 */
export function registerObjects(objects: readonly SynthObject[], opts: RegisterOptions): Map<string, pulumi.CustomResource> {
  const byKey = new Map<string, pulumi.CustomResource>();
  for (const { key, manifest, dependsOn } of objects) {
    assertNoStrayPlaceholders(manifest);
    const typeKey = `${manifest.apiVersion}/${manifest.kind}`;
    const args = withSecrets(manifest, opts.secretValues);
    const deps = dependsOn.map((d) => {
      const dep = byKey.get(d);
      if (!dep) throw new Error(`${key} depends on ${d}, which is not registered before it`);
      return dep;
    });
    const resourceOpts: pulumi.CustomResourceOptions = {
      parent: opts.parent,
      provider: opts.provider,
      dependsOn: [...deps, ...(opts.dependsOn ?? [])],
      protect: manifest.kind === 'StatefulSet' && opts.protectStatefulSets,
      // Job templates are immutable: a changed Job is replaced, and its fixed name must be freed first.
      deleteBeforeReplace: manifest.kind === 'Job' ? true : undefined,
      ...(manifest.kind === 'Job' ? { customTimeouts: { create: '20m', update: '20m' } } : {}),
      ...(manifest.kind === 'Secret' ? { additionalSecretOutputs: ['data', 'stringData'] } : {}),
    };
    const name = resourceName(opts.region, manifest);
    const Typed = TYPED[typeKey];
    let resource: pulumi.CustomResource;
    if (Typed) {
      resource = new Typed(name, args, resourceOpts);
    } else if (CUSTOM_GROUPS.includes(manifest.apiVersion.split('/')[0])) {
      resource = new k8s.apiextensions.CustomResource(name, args as k8s.apiextensions.CustomResourceArgs, resourceOpts);
    } else {
      throw new Error(`${key}: no Pulumi resource type is mapped for ${typeKey} (add it to stacks/deploy/register.ts)`);
    }
    byKey.set(key, resource);
  }
  return byKey;
}
