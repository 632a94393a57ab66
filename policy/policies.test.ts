import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from '@pulumi/policy';
import type { KubeObject } from '../stacks/synth';
import { clusterOf, manifestOf, POLICIES, RESOURCE_POLICIES, STACK_POLICIES } from './policies';
import { RULES } from './rules';
import { compliantApp, find, webPod } from './test-fixtures';

// Constructing a PolicyPack starts the analyzer server: the policies must be usable without loading
// @pulumi/policy at runtime (index.ts is the only place that does).
jest.mock('@pulumi/policy', () => {
  throw new Error('policy/policies.ts must not load @pulumi/policy at runtime');
});

/** The Pulumi type token the deploy layer registers an object under. */
function typeOf(obj: KubeObject): string {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['core', obj.apiVersion];
  return `kubernetes:${group}/${version}:${obj.kind}`;
}

/** Props as the engine passes them: typed resources carry apiVersion/kind like the manifest. */
function resource(obj: KubeObject, region: string, withProvider = true): PolicyResource {
  const name = `${region}/${obj.kind.toLowerCase()}/${obj.metadata.namespace ?? '_cluster'}/${obj.metadata.name}`;
  return {
    type: typeOf(obj),
    props: JSON.parse(JSON.stringify(obj)),
    urn: `urn:pulumi:prod::fingerprint-infra::fingerprint:infra:RegionStack$${typeOf(obj)}::${name}`,
    name,
    provider: withProvider ? { type: 'pulumi:providers:kubernetes', props: {}, urn: `urn:pulumi:prod::fingerprint-infra::pulumi:providers:kubernetes::${region}`, name: region } : undefined,
  } as unknown as PolicyResource;
}

function runResourcePolicy(id: string, obj: KubeObject): string[] {
  const policy = RESOURCE_POLICIES.find((p) => p.name === id);
  if (!policy || typeof policy.validateResource !== 'function') throw new Error(`no resource policy ${id}`);
  const messages: string[] = [];
  void policy.validateResource(resource(obj, 'us-east-1') as unknown as ResourceValidationArgs, (message) => messages.push(message));
  return messages;
}

function runStackPolicy(id: string, resources: PolicyResource[]): { message: string; urn?: string }[] {
  const policy = STACK_POLICIES.find((p) => p.name === id);
  if (!policy) throw new Error(`no stack policy ${id}`);
  const reported: { message: string; urn?: string }[] = [];
  void policy.validateStack({ resources } as unknown as StackValidationArgs, (message, urn) => reported.push({ message, urn }));
  return reported;
}

describe('CrossGuard policies', () => {
  it('has one policy per rule, stack-level rules as stack policies, all mandatory', () => {
    const deployable = RULES.filter((r) => r.stage !== 'rendered');
    expect(POLICIES.map((p) => p.name).sort()).toEqual(deployable.map((r) => r.id).sort());
    expect(STACK_POLICIES.map((p) => p.name).sort()).toEqual(deployable.filter((r) => r.scope === 'stack').map((r) => r.id).sort());
    expect(POLICIES.every((p) => p.enforcementLevel === 'mandatory' && p.description.length > 0)).toBe(true);
    // Secret values are substituted at deploy time; the placeholder rule checks rendered manifests only.
    expect(POLICIES.map((p) => p.name)).not.toContain('secret-placeholders');
  });

  it('maps Pulumi Kubernetes resources to manifests', () => {
    expect(manifestOf('kubernetes:core/v1:ConfigMap', { metadata: { name: 'c' } })).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
    expect(manifestOf('kubernetes:monitoring.coreos.com/v1:PodMonitor', { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: { name: 'p' } })?.kind).toBe(
      'PodMonitor',
    );
    expect(manifestOf('pulumi:providers:kubernetes', {})).toBeUndefined();
    expect(manifestOf('kubernetes:yaml/v2:ConfigGroup', {})).toBeUndefined();
    expect(manifestOf('kubernetes:apps/v1:DeploymentPatch', {})).toBeUndefined();
    expect(manifestOf('random:index/randomPassword:RandomPassword', {})).toBeUndefined();
  });

  it('resource policies report violations with the object and field, and pass compliant objects', () => {
    const objects = compliantApp();
    expect(runResourcePolicy('image-pinned', find(objects, 'Deployment') as KubeObject)).toEqual([]);
    webPod(objects).container.image = 'nginx';
    expect(runResourcePolicy('image-pinned', find(objects, 'Deployment') as KubeObject)).toEqual([
      'Deployment shop/web: spec.template.spec.containers[0].image: container "web": image "nginx" has no tag (it resolves to latest)',
    ]);
    webPod(objects).spec.hostNetwork = true;
    expect(runResourcePolicy('pss-host-namespaces', find(objects, 'Deployment') as KubeObject)).toHaveLength(1);
  });

  it('honours exemption annotations', () => {
    const objects = compliantApp();
    webPod(objects).container.image = 'nginx';
    find(objects, 'Deployment').metadata.annotations = { 'policy.fingerprint.io/exempt.image-pinned': 'mirrored by digest at admission' };
    expect(runResourcePolicy('image-pinned', find(objects, 'Deployment') as KubeObject)).toEqual([]);
    find(objects, 'Deployment').metadata.annotations = { 'policy.fingerprint.io/exempt.image-pinned': '' };
    expect(runResourcePolicy('policy-exemptions', find(objects, 'Deployment') as KubeObject)).toHaveLength(1);
  });

  it('stack policies evaluate each cluster (provider) on its own', () => {
    const complete = compliantApp();
    const withoutPdb = compliantApp().filter((o) => o.kind !== 'PodDisruptionBudget');
    const resources = [...complete.map((o) => resource(o, 'us-east-1')), ...withoutPdb.map((o) => resource(o, 'eu-west-1'))];
    const reported = runStackPolicy('pdb-required', resources);
    expect(reported).toEqual([
      {
        message: 'Deployment shop/web: spec.replicas: 2 replicas but no PodDisruptionBudget selects the pods',
        urn: resources.find((r) => r.name === 'eu-west-1/deployment/shop/web')!.urn,
      },
    ]);
    // A PDB in another region does not cover these pods.
    expect(runStackPolicy('pdb-required', withoutPdb.map((o) => resource(o, 'eu-west-1')))).toHaveLength(1);
    expect(runStackPolicy('network-policy-coverage', resources)).toEqual([]);
  });

  it('falls back to the region prefix of resource names without provider information', () => {
    expect(clusterOf(resource(compliantApp()[0], 'ap-southeast-1', false))).toBe('ap-southeast-1');
    const withoutPolicy = compliantApp().filter((o) => o.kind !== 'NetworkPolicy');
    const resources = [...compliantApp().map((o) => resource(o, 'us-east-1', false)), ...withoutPolicy.map((o) => resource(o, 'eu-west-1', false))];
    expect(runStackPolicy('network-policy-coverage', resources).map((r) => r.urn?.split('::').pop())).toEqual([
      'eu-west-1/deployment/shop/web',
      'eu-west-1/job/shop/web-migrate',
    ]);
  });
});
