import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from '@pulumi/policy';
import { RESOURCE_POLICIES, STACK_POLICIES } from '../policy/policies';
import { engineConfig, runProgram } from './program-harness';

/**
 * The CrossGuard pack on what the Pulumi program really registers (its resource inputs, under the
 * SDK's mocks), the way `pulumi preview --policy-pack policy` evaluates it: every resource policy
 * on every resource, every stack policy on the whole stack. Zero violations expected.
 */
async function packViolations(stack: string): Promise<{ resources: number; violations: string[] }> {
  const { registered } = await runProgram(stack, engineConfig(stack));
  const resources = registered.map(
    (r) =>
      ({
        type: r.type,
        name: r.name,
        urn: `urn:pulumi:${stack}::fingerprint-infra::${r.type}::${r.name}`,
        props: r.inputs,
        // The engine names each resource's provider; the mocks pass its reference `<urn>::<id>`.
        provider: r.provider ? { urn: r.provider.split('::').slice(0, -1).join('::'), name: r.provider, type: 'pulumi:providers:kubernetes', props: {} } : undefined,
      }) as unknown as PolicyResource,
  );
  const violations: string[] = [];
  for (const policy of RESOURCE_POLICIES) {
    for (const resource of resources) {
      if (typeof policy.validateResource !== 'function') throw new Error(`${policy.name}: expected one validation function`);
      await policy.validateResource(resource as unknown as ResourceValidationArgs, (message) => violations.push(`${resource.name}: ${message} [${policy.name}]`));
    }
  }
  for (const policy of STACK_POLICIES) {
    await policy.validateStack({ resources } as unknown as StackValidationArgs, (message, urn) => violations.push(`${urn?.split('::').pop()}: ${message} [${policy.name}]`));
  }
  return { resources: resources.filter((r) => r.type.startsWith('kubernetes:')).length, violations };
}

describe.each(['staging', 'prod'])('CrossGuard pack on the %s program', (stack) => {
  it('finds no violation in what the program registers', async () => {
    const { resources, violations } = await packViolations(stack);
    expect(resources).toBeGreaterThan(50);
    if (violations.length) throw new Error(`\n${violations.join('\n')}`);
  });
});
