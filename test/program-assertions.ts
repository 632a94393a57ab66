import * as pulumi from '@pulumi/pulumi';
import { engineConfig, MOCK_PASSWORD, runProgram } from './program-harness';

/**
 * Assertions on the whole Pulumi program of one stack under the SDK's mocks. Each stack runs in its
 * own test file: the SDK's runtime state is per process and must not be shared between runs.
 */
export function describeProgram(stack: string): void {
  describe(`Pulumi program, ${stack} stack (mocks)`, () => {
    let result: Awaited<ReturnType<typeof runProgram>>;
    beforeAll(async () => {
      result = await runProgram(stack, engineConfig(stack));
    });

    it('creates one Kubernetes provider per region, with its kube context', () => {
      const providers = result.registered.filter((r) => r.type === 'pulumi:providers:kubernetes');
      const regions = result.stackConfig.regions;
      expect(providers.map((p) => p.name).sort()).toEqual(regions.map((r) => r.name).sort());
      for (const region of regions) {
        expect(providers.find((p) => p.name === region.name)!.inputs.context).toBe(region.kubeContext);
      }
    });

    it('puts the region first in every resource name and uses that region\'s provider', () => {
      const regions = result.stackConfig.regions.map((r) => r.name);
      const custom = result.registered.filter((r) => !r.type.startsWith('pulumi:providers:'));
      expect(custom.length).toBeGreaterThan(20 * regions.length);
      for (const r of custom) {
        const region = regions.find((name) => r.name === name || r.name.startsWith(`${name}/`));
        expect(region).toBeDefined();
        if (r.type.startsWith('kubernetes:')) expect(r.provider).toContain(`::${region}::`);
      }
    });

    it('registers namespaces before the objects that live in them', () => {
      const ns = result.transformed.find((t) => t.type === 'kubernetes:core/v1:Namespace')!;
      const sts = result.transformed.find((t) => t.type === 'kubernetes:apps/v1:StatefulSet')!;
      expect((sts.opts.dependsOn as pulumi.Resource[]).length).toBeGreaterThan(0);
      expect(ns.name.split('/')[0]).toBe(sts.name.split('/')[0]);
    });

    it('makes every region of a wave depend on the regions of the previous wave', () => {
      const components = result.transformed.filter((t) => t.type === 'fingerprint:infra:RegionStack');
      const waveOf = new Map(result.stackConfig.regions.map((r) => [r.name, r.wave]));
      for (const c of components) {
        const deps = (c.opts.dependsOn ?? []) as pulumi.Resource[];
        expect(deps).toHaveLength(result.stackConfig.regions.filter((r) => r.wave === waveOf.get(c.name)! - 1).length);
      }
      expect(components.filter((c) => ((c.opts.dependsOn ?? []) as unknown[]).length === 0).map((c) => waveOf.get(c.name))).toEqual([1]);
    });

    it(`protects StatefulSets only in prod`, () => {
      const statefulSets = result.transformed.filter((t) => t.type === 'kubernetes:apps/v1:StatefulSet');
      expect(statefulSets).toHaveLength(result.stackConfig.regions.length);
      for (const s of statefulSets) expect(s.opts.protect).toBe(stack === 'prod');
      const others = result.transformed.filter((t) => t.type.startsWith('kubernetes:') && t.type !== 'kubernetes:apps/v1:StatefulSet');
      for (const o of others) expect(o.opts.protect).toBeFalsy();
    });

    it('sends the generated password only to Secret resources, as a Pulumi secret', async () => {
      const carrying = result.registered.filter((r) => JSON.stringify(r.inputs).includes(MOCK_PASSWORD));
      expect(carrying.map((r) => r.type).filter((t) => t !== 'kubernetes:core/v1:Secret' && t !== 'random:index/randomPassword:RandomPassword')).toEqual([]);
      const secrets = result.transformed.filter((t) => t.type === 'kubernetes:core/v1:Secret' && t.name.endsWith('/redis-auth'));
      expect(secrets).toHaveLength(result.stackConfig.regions.length);
      for (const s of secrets) {
        const password = (s.props.stringData as Record<string, pulumi.Output<string>>).password;
        expect(await pulumi.isSecret(password)).toBe(true);
      }
    });

    it('exports endpoints and secret names, never secret values', () => {
      const text = JSON.stringify(result.outputs);
      expect(text).not.toContain(MOCK_PASSWORD);
      for (const region of result.stackConfig.regions) {
        expect(result.outputs[region.name]).toMatchObject({
          redisEndpoint: 'redis.cache.svc.cluster.local:6379',
          redisPasswordSecret: 'cache/redis-auth',
        });
      }
    });

    it('uses a separate generated password per region', () => {
      const passwords = result.registered.filter((r) => r.type === 'random:index/randomPassword:RandomPassword');
      const generated = Object.entries(result.stackConfig.secrets).filter(([, source]) => source.from === 'generated').map(([id]) => id);
      expect(generated).toContain('redisPassword');
      const expected = result.stackConfig.regions.flatMap((r) => generated.map((id) => `${r.name}/${id}`));
      expect(passwords.map((p) => p.name).sort()).toEqual(expected.sort());
    });
  });
}
