import * as path from 'path';
import { parse } from 'yaml';
import { RESOURCE_POLICIES } from '../../policy/policies';
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
 * The prod stack on the real Pulumi engine (Automation API, file:// backend, render mode): three
 * regions in three waves, per-region changes and targeting, protected StatefulSets that block
 * destroy until unprotected.
 */

jest.setTimeout(E2E_TIMEOUT_MS);

const STACK = 'prod';
const STATEFULSET = 'kubernetes:apps/v1:StatefulSet';
let e2e: E2EStack;

beforeAll(async () => {
  e2e = await E2EStack.create(STACK);
});

afterAll(() => e2e?.cleanup());

function redisMemory(region: string): string {
  const sts = parse(e2e.regionFiles(region).get('1-manifest/apps_v1-statefulset-cache-redis.yaml')!);
  return sts.spec.template.spec.containers.find((c: { name: string }) => c.name === 'redis').resources.limits.memory;
}

describe('prod on the Pulumi engine (render mode)', () => {
  it('previews every resource of every region on the empty stack', async () => {
    const log = new EventLog();
    const result = await engine('preview', () => e2e.stack.preview({ onEvent: log.onEvent }));
    expect(e2e.regions).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1']);
    expect(result.changeSummary).toEqual({ create: e2e.expectedResourceCount() });
    expect(regionsOf(log.changes(), e2e.regions)).toEqual(['(stack)', 'ap-southeast-1', 'eu-west-1', 'us-east-1']);
  });

  it('up renders the three regions, passes the CrossGuard pack and protects the StatefulSets', async () => {
    const log = new EventLog();
    const result = await engine('up', () => e2e.stack.up({ policyPacks: [POLICY_PACK], onEvent: log.onEvent }));
    expect(result.summary.resourceChanges).toEqual({ create: e2e.expectedResourceCount() });
    expect(log.violations).toEqual([]);
    expect(log.analyzed).toHaveLength(e2e.expectedResourceCount());
    expect([...new Set(log.analyzed.flatMap((s) => s.failed))]).toEqual([]);
    expect([...new Set(log.analyzed.flatMap((s) => s.passed))].sort()).toEqual(RESOURCE_POLICIES.map((p) => p.name).sort());

    const outputs = result.outputs.regions.value as Record<string, { wave: number; objectCount: number }>;
    expect(Object.fromEntries(Object.entries(outputs).map(([r, o]) => [r, o.wave]))).toEqual({ 'us-east-1': 1, 'eu-west-1': 2, 'ap-southeast-1': 3 });
    for (const region of e2e.regions) expect(e2e.regionFiles(region).size).toBe(outputs[region].objectCount);
    expect(redisMemory('ap-southeast-1')).toBe('2Gi');

    const state = await e2e.stateResources();
    const protectedTypes = [...new Set(state.filter((r) => r.protect).map((r) => r.type))];
    expect(protectedTypes).toEqual([STATEFULSET]);
    expect(state.filter((r) => r.type === STATEFULSET).every((r) => r.protect)).toBe(true);
  });

  it('writes the same manifests as `npm run render`', () => {
    const npmDir = npmRender(STACK, path.join(e2e.tmp, 'npm-render'));
    expect(renderMismatches(e2e.renderDir, npmDir)).toEqual([]);
    const everything = [...readTree(e2e.renderDir).values()].join('\n');
    for (const value of e2e.secretValues) expect(everything.includes(value)).toBe(false);
  });

  it('a second preview with --expect-no-changes reports zero changes', async () => {
    const log = new EventLog();
    const result = await engine('preview --expect-no-changes', () => e2e.stack.preview({ expectNoChanges: true, onEvent: log.onEvent }));
    expect(result.changeSummary).toEqual({ same: e2e.expectedResourceCount() });
    expect(log.changes()).toEqual([]);
  });

  it("changing one value of one region changes only that region's resources", async () => {
    e2e.editConfig((config) => setRegionRedisMemory(config, 'ap-southeast-1', '3Gi'));
    const log = new EventLog();
    await engine('preview', () => e2e.stack.preview({ onEvent: log.onEvent }));
    expect(regionsOf(log.changes(), e2e.regions)).toEqual(['ap-southeast-1']);
    expect(changedNames(log.changes())).toContain('update ap-southeast-1/statefulset/cache/redis');
  });

  it('a targeted up of the wave-2 region touches only it, though wave 3 has pending changes', async () => {
    e2e.editConfig((config) => setRegionRedisMemory(config, 'eu-west-1', '6Gi'));
    const others = ['us-east-1', 'ap-southeast-1'].map((r) => e2e.regionFiles(r));
    const log = new EventLog();
    await engine('up --target eu-west-1', () => e2e.stack.up({ target: regionTargets(STACK, 'eu-west-1'), onEvent: log.onEvent }));
    expect(regionsOf(log.changes(), e2e.regions)).toEqual(['eu-west-1']);
    expect(changedNames(log.changes())).toContain('update eu-west-1/statefulset/cache/redis');
    expect(['us-east-1', 'ap-southeast-1'].map((r) => e2e.regionFiles(r))).toEqual(others);
    expect(redisMemory('eu-west-1')).toBe('6Gi');
    expect(redisMemory('ap-southeast-1')).toBe('2Gi');
  });

  it("a whole-stack up then applies only wave 3's pending change and converges", async () => {
    const log = new EventLog();
    await engine('up', () => e2e.stack.up({ onEvent: log.onEvent }));
    expect(regionsOf(log.changes(), e2e.regions)).toEqual(['ap-southeast-1']);
    expect(redisMemory('ap-southeast-1')).toBe('3Gi');
    const after = await engine('preview --expect-no-changes', () => e2e.stack.preview({ expectNoChanges: true }));
    expect(after.changeSummary).toEqual({ same: e2e.expectedResourceCount() });
  });

  it('destroy is refused while the StatefulSets are protected', async () => {
    const state = await e2e.stateResources();
    expect(state.filter((r) => r.type === STATEFULSET && r.protect).map((r) => r.urn.split('::').pop()).sort()).toEqual([
      'ap-southeast-1/statefulset/cache/redis',
      'eu-west-1/statefulset/cache/redis',
      'us-east-1/statefulset/cache/redis',
    ]);
    await expect(e2e.stack.destroy({ previewOnly: true })).rejects.toThrow(/protect/);
    expect(await e2e.stateResources()).toHaveLength(state.length);
  });

  it('after `pulumi state unprotect --all`, destroy deletes everything and leaves the state empty', async () => {
    e2e.cli(['state', 'unprotect', '--all', '--yes']);
    expect((await e2e.stateResources()).filter((r) => r.protect)).toEqual([]);
    const result = await engine('destroy', () => e2e.stack.destroy());
    expect(result.summary.resourceChanges).toEqual({ delete: e2e.expectedResourceCount() });
    expect(await e2e.stateResources()).toEqual([]);
    expect(readTree(e2e.renderDir).size).toBe(0);
  });
});
