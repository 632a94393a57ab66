import * as path from 'path';
import { parse } from 'yaml';
import { RESOURCE_POLICIES, STACK_POLICIES } from '../../policy/policies';
import { regionTargets } from '../../stacks/pulumi-region';
import {
  changedNames,
  E2E_TIMEOUT_MS,
  E2EStack,
  engine,
  EventLog,
  npmRender,
  POLICY_PACK,
  readTree,
  regionsOf,
  renderMismatches,
  setRegionRedisMemory,
} from './support';

/**
 * The staging stack on the real Pulumi engine (Automation API, file:// backend, render mode):
 * preview, up, the render equals `npm run render`, convergence, per-region changes and targeting,
 * the CrossGuard pack refusing a violating change, destroy.
 */

jest.setTimeout(E2E_TIMEOUT_MS);

const STACK = 'staging';
let e2e: E2EStack;

beforeAll(async () => {
  e2e = await E2EStack.create(STACK);
});

afterAll(() => e2e?.cleanup());

describe('staging on the Pulumi engine (render mode)', () => {
  it('previews every resource of every region on the empty stack, writing nothing', async () => {
    const log = new EventLog();
    const result = await engine('preview', () => e2e.stack.preview({ onEvent: log.onEvent }));
    expect(e2e.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(result.changeSummary).toEqual({ create: e2e.expectedResourceCount() });
    expect(regionsOf(log.changes(), e2e.regions)).toEqual(['(stack)', 'eu-west-1', 'us-east-1']);
    expect(readTree(e2e.renderDir).size).toBe(0);
  });

  it('up renders each region into its own folder, with the CrossGuard pack enforced', async () => {
    const log = new EventLog();
    const result = await engine('up', () => e2e.stack.up({ policyPacks: [POLICY_PACK], onEvent: log.onEvent }));
    expect(result.summary.result).toBe('succeeded');
    expect(result.summary.resourceChanges).toEqual({ create: e2e.expectedResourceCount() });
    // Every resource went through every resource policy of the pack, and the stack through its stack policies.
    expect(log.violations).toEqual([]);
    expect(log.analyzed).toHaveLength(e2e.expectedResourceCount());
    for (const summary of log.analyzed) expect(summary).toMatchObject({ pack: 'fingerprint-infra', failed: [] });
    expect([...new Set(log.analyzed.flatMap((s) => s.passed))].sort()).toEqual(RESOURCE_POLICIES.map((p) => p.name).sort());
    expect(log.stackPolicies.map((s) => [s.pack, [...s.passed].sort(), s.failed])).toEqual([['fingerprint-infra', STACK_POLICIES.map((p) => p.name).sort(), []]]);

    const outputs = result.outputs.regions.value as Record<string, { wave: number; objectCount: number }>;
    expect(Object.keys(outputs).sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(outputs['us-east-1'].wave).toBe(1);
    expect(outputs['eu-west-1'].wave).toBe(2);
    for (const region of e2e.regions) {
      const files = e2e.regionFiles(region);
      expect(files.size).toBe(outputs[region].objectCount);
      expect(files.has('1-manifest/apps_v1-statefulset-cache-redis.yaml')).toBe(true);
    }
  });

  it('writes the same manifests as `npm run render`, secrets as placeholders only', () => {
    const npmDir = npmRender(STACK, path.join(e2e.tmp, 'npm-render'));
    expect(renderMismatches(e2e.renderDir, npmDir)).toEqual([]);

    const secret = parse(e2e.regionFiles('us-east-1').get('1-manifest/v1-secret-cache-redis-auth.yaml')!);
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('<secret:redisPassword>');
    // The passwords set in the stack config never reach a file.
    const everything = [...readTree(e2e.renderDir).values()].join('\n');
    expect(e2e.secretValues.length).toBeGreaterThanOrEqual(2);
    for (const value of e2e.secretValues) expect(everything.includes(value)).toBe(false);
  });

  it('a second preview with --expect-no-changes reports zero changes', async () => {
    const log = new EventLog();
    const result = await engine('preview --expect-no-changes', () => e2e.stack.preview({ expectNoChanges: true, onEvent: log.onEvent }));
    expect(result.changeSummary).toEqual({ same: e2e.expectedResourceCount() });
    expect(log.changes()).toEqual([]);
  });

  it("changing one value of one region changes only that region's resources", async () => {
    e2e.editConfig((config) => setRegionRedisMemory(config, 'eu-west-1', '3Gi'));
    const log = new EventLog();
    await engine('preview', () => e2e.stack.preview({ onEvent: log.onEvent }));
    expect(regionsOf(log.changes(), e2e.regions)).toEqual(['eu-west-1']);
    expect(changedNames(log.changes())).toContain('update eu-west-1/statefulset/cache/redis');
  });

  it('a targeted up of one region touches only that region, though another has pending changes', async () => {
    e2e.editConfig((config) => setRegionRedisMemory(config, 'us-east-1', '2Gi'));
    const untouched = e2e.regionFiles('us-east-1');
    const log = new EventLog();
    const result = await engine('up --target eu-west-1', () => e2e.stack.up({ target: regionTargets(STACK, 'eu-west-1'), onEvent: log.onEvent }));
    expect(result.summary.result).toBe('succeeded');
    expect(regionsOf(log.changes(), e2e.regions)).toEqual(['eu-west-1']);
    expect(changedNames(log.changes())).toContain('update eu-west-1/statefulset/cache/redis');
    expect(e2e.regionFiles('us-east-1')).toEqual(untouched);
    const sts = parse(e2e.regionFiles('eu-west-1').get('1-manifest/apps_v1-statefulset-cache-redis.yaml')!);
    expect(sts.spec.template.spec.containers.find((c: { name: string }) => c.name === 'redis').resources.limits.memory).toBe('3Gi');
  });

  it("a whole-stack up then applies only the other region's pending change and converges", async () => {
    const log = new EventLog();
    await engine('up', () => e2e.stack.up({ onEvent: log.onEvent }));
    expect(regionsOf(log.changes(), e2e.regions)).toEqual(['us-east-1']);
    const after = await engine('preview --expect-no-changes', () => e2e.stack.preview({ expectNoChanges: true }));
    expect(after.changeSummary).toEqual({ same: e2e.expectedResourceCount() });
  });

  it('the CrossGuard pack refuses a change that puts the Redis pods on the host network', async () => {
    const wrapped = await e2e.wrappedProgram(`(args) => {
      if (args.type !== 'kubernetes:apps/v1:StatefulSet') return undefined;
      const props = JSON.parse(JSON.stringify(args.props));
      props.spec.template.spec.hostNetwork = true;
      return { props, opts: args.opts };
    }`);
    const before = readTree(e2e.renderDir);
    const refusals = (log: EventLog) =>
      log.violations.filter((v) => v.level === 'mandatory').map((v) => `${v.pack} ${v.policy} ${v.urn?.split('::').pop()}: ${v.message.trim().split('\n').pop()}`);
    const hostNetwork = (region: string) =>
      `fingerprint-infra pss-host-namespaces ${region}/statefulset/cache/redis: StatefulSet cache/redis: spec.template.spec.hostNetwork: must not be true (shares the node's network namespace)`;

    const preview = new EventLog();
    await expect(wrapped.preview({ policyPacks: [POLICY_PACK], onEvent: preview.onEvent })).rejects.toThrow(/pss-host-namespaces/);
    expect(refusals(preview).sort()).toEqual([hostNetwork('eu-west-1'), hostNetwork('us-east-1')]);

    // The update stops at the canary's StatefulSet; wave 2 depends on wave 1 and is never reached.
    const up = new EventLog();
    await expect(wrapped.up({ policyPacks: [POLICY_PACK], onEvent: up.onEvent })).rejects.toThrow(/pss-host-namespaces/);
    expect(refusals(up)).toEqual([hostNetwork('us-east-1')]);
    // Nothing was applied: files and state are still those of the real program.
    expect(readTree(e2e.renderDir)).toEqual(before);
    await engine('preview --expect-no-changes', () => e2e.stack.preview({ expectNoChanges: true }));
  });

  it('destroy deletes every rendered file and leaves the state empty', async () => {
    expect((await e2e.stateResources()).length).toBe(e2e.expectedResourceCount());
    const result = await engine('destroy', () => e2e.stack.destroy());
    expect(result.summary.resourceChanges).toEqual({ delete: e2e.expectedResourceCount() });
    expect(await e2e.stateResources()).toEqual([]);
    expect(readTree(e2e.renderDir).size).toBe(0);
  });
});
