import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readStackFile, validateStackConfig } from './config/load';
import { main, pulumiArgs, regionTargets, REGION_STACK_TYPE_NAME, resolveRegions, Runner, spawnRunner, stackShortName } from './pulumi-region';

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(prefix);
  tempDirs.push(dir);
  return dir;
}
afterAll(() => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/**
 * Pulumi's `--target` glob matcher, ported from pkg/resource/deploy/deployment.go (UrnTargets.getMatcher,
 * v3.276.0): `**` matches anything, `*` anything but ':', everything else literally; a target
 * without '*' is a literal URN.
 */
function pulumiTargetMatches(target: string, urn: string): boolean {
  if (!target.includes('*')) return target === urn;
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = target
    .split('**')
    .map((seg) => seg.split('*').map(quote).join('[^:]*'))
    .join('.*');
  return new RegExp(`^${re}$`).test(urn);
}

function recordingRunner(exit = 0): { runner: Runner; calls: { command: string; args: readonly string[] }[] } {
  const calls: { command: string; args: readonly string[] }[] = [];
  return { calls, runner: (command, args) => (calls.push({ command, args }), exit) };
}

function captureStderr<T>(fn: () => T): { result: T; stderr: string } {
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    return { result: fn(), stderr: lines.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

describe('region targets', () => {
  it('uses the type the Pulumi program gives each region', async () => {
    const { REGION_STACK_TYPE } = await import('./region-stack');
    expect(REGION_STACK_TYPE_NAME).toBe(REGION_STACK_TYPE);
  });

  it('select exactly one region\'s resources among the URNs the program registers', async () => {
    // The real registrations of the prod program under the SDK's mocks, with the URNs the mock
    // monitor forms from each resource's parent (a child's type is prefixed with its parent's, as
    // the engine does).
    const pulumi = await import('@pulumi/pulumi');
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
      'fingerprint-infra',
      'prod',
      true,
    );
    const stackConfig = validateStackConfig(readStackFile('prod'));
    const { deployStack } = await import('./program');
    deployStack(stackConfig);
    const { getMonitor } = await import('@pulumi/pulumi/runtime/settings');
    const monitor = getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
    // Registrations complete asynchronously; wait until no new resource arrives.
    let registered: string[] = [];
    for (let last = -1, i = 0; i < 400 && registered.length !== last; i++) {
      last = registered.length;
      await new Promise((r) => setTimeout(r, 25));
      registered = [...monitor.getRegisteredResources().keys()];
    }
    const urns = registered.map((urn) => ({ urn, name: urn.split('::').pop()! }));
    expect(urns.length).toBeGreaterThan(50);
    const regions = stackConfig.regions.map((r) => r.name);
    expect(regions).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1']);
    for (const region of regions) {
      const targets = regionTargets('prod', region);
      const selected = urns.filter((u) => targets.some((t) => pulumiTargetMatches(t, u.urn)));
      const expected = urns.filter((u) => u.name === region || u.name.startsWith(`${region}/`));
      expect(selected.map((u) => u.urn).sort()).toEqual(expected.map((u) => u.urn).sort());
      // The component, its provider, the Redis StatefulSet and the generated password are all in.
      expect(selected.map((u) => u.urn)).toEqual(
        expect.arrayContaining([
          `urn:pulumi:prod::fingerprint-infra::fingerprint:infra:RegionStack::${region}`,
          `urn:pulumi:prod::fingerprint-infra::pulumi:providers:kubernetes::${region}`,
          `urn:pulumi:prod::fingerprint-infra::fingerprint:infra:RegionStack$kubernetes:apps/v1:StatefulSet::${region}/statefulset/cache/redis`,
          `urn:pulumi:prod::fingerprint-infra::fingerprint:infra:RegionStack$random:index/randomPassword:RandomPassword::${region}/redisPassword`,
        ]),
      );
    }
  });

  it('do not match a region whose name extends another region\'s name', () => {
    const other = 'urn:pulumi:prod::fingerprint-infra::fingerprint:infra:RegionStack$kubernetes:core/v1:Service::us-east-1b/service/cache/redis';
    expect(regionTargets('prod', 'us-east-1').some((t) => pulumiTargetMatches(t, other))).toBe(false);
    expect(regionTargets('prod', 'us-east-1b').some((t) => pulumiTargetMatches(t, other))).toBe(true);
  });

  it('use the short stack name of a fully qualified Pulumi Cloud stack', () => {
    expect(stackShortName('acme/fingerprint-infra/prod')).toBe('prod');
    expect(regionTargets('acme/fingerprint-infra/prod', 'eu-west-1')[0]).toBe('urn:pulumi:prod::fingerprint-infra::fingerprint:infra:RegionStack::eu-west-1');
  });
});

describe('pulumi arguments', () => {
  it('puts the command, the stack, one --target per glob, then the passed-through arguments', () => {
    const args = pulumiArgs({ command: 'up', stack: 'prod', regions: ['eu-west-1', 'ap-southeast-1'], extra: ['--yes', '-m', 'two words'] });
    expect(args.slice(0, 3)).toEqual(['up', '--stack', 'prod']);
    const targets = args.slice(3, -3);
    expect(targets.filter((_, i) => i % 2 === 0).every((a) => a === '--target')).toBe(true);
    expect(targets.filter((_, i) => i % 2 === 1)).toEqual([...regionTargets('prod', 'eu-west-1'), ...regionTargets('prod', 'ap-southeast-1')]);
    expect(args.slice(-3)).toEqual(['--yes', '-m', 'two words']);
  });

  it('targets nothing (the whole stack) without regions', () => {
    expect(pulumiArgs({ command: 'preview', stack: 'staging', regions: [], extra: ['--expect-no-changes'] })).toEqual(['preview', '--stack', 'staging', '--expect-no-changes']);
  });
});

describe('npm run preview / up', () => {
  it('runs pulumi for one region, passing unknown arguments through in order', () => {
    const { runner, calls } = recordingRunner();
    const { result } = captureStderr(() => main(['preview', '--stack', 'prod', '--region', 'eu-west-1', '--diff', '--expect-no-changes'], runner));
    expect(result).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0].command).toBe('pulumi');
    expect(calls[0].args).toEqual(pulumiArgs({ command: 'preview', stack: 'prod', regions: ['eu-west-1'], extra: ['--diff', '--expect-no-changes'] }));
  });

  it('targets every region of a wave with --wave', () => {
    const { runner, calls } = recordingRunner();
    captureStderr(() => main(['up', '--stack', 'prod', '--wave', '3', '--yes'], runner));
    expect(calls[0].args).toEqual(pulumiArgs({ command: 'up', stack: 'prod', regions: ['ap-southeast-1'], extra: ['--yes'] }));
  });

  it('passes arguments after -- untouched, even ones it knows', () => {
    const { runner, calls } = recordingRunner();
    captureStderr(() => main(['up', '--stack', 'staging', '--region', 'us-east-1', '--', '--region', 'x'], runner));
    expect(calls[0].args.slice(-2)).toEqual(['--region', 'x']);
  });

  it('returns pulumi\'s exit code', () => {
    const { runner } = recordingRunner(255);
    expect(captureStderr(() => main(['preview', '--stack', 'prod', '--region', 'us-east-1'], runner)).result).toBe(255);
  });

  it('refuses an unknown region, listing the known ones, without running pulumi', () => {
    const { runner, calls } = recordingRunner();
    const { result, stderr } = captureStderr(() => main(['up', '--stack', 'prod', '--region', 'eu-central-1', '--yes'], runner));
    expect(result).toBe(1);
    expect(calls).toHaveLength(0);
    expect(stderr).toContain('Pulumi.prod.yaml: unknown region eu-central-1 (stack prod has: us-east-1, eu-west-1, ap-southeast-1)');
  });

  it('refuses an unknown wave, an unknown stack, and a missing region', () => {
    const { runner, calls } = recordingRunner();
    expect(captureStderr(() => main(['up', '--stack', 'prod', '--wave', '4'], runner)).stderr).toContain('no region in wave 4 (stack prod has waves 1, 2, 3)');
    expect(captureStderr(() => main(['up', '--stack', 'qa', '--region', 'us-east-1'], runner)).stderr).toContain('Pulumi.qa.yaml: no such stack file (known stacks:');
    expect(captureStderr(() => main(['preview', '--stack', 'staging'], runner)).stderr).toContain('name the regions with --region (stack staging has: us-east-1, eu-west-1)');
    expect(captureStderr(() => main(['preview', '--stack', 'staging', '--region', 'us-east-1', '--wave', '1'], runner)).stderr).toContain('either --region or --wave');
    expect(calls).toHaveLength(0);
  });

  it('validates the stack config before running anything', () => {
    const dir = tempDir(path.join(os.tmpdir(), 'pulumi-region-'));
    fs.writeFileSync(path.join(dir, 'Pulumi.prod.yaml'), 'config:\n  fingerprint-infra:regions:\n    - name: us-east-1\n      wave: 2\n      kubeContext: c\n      clusterId: c\n      zones: [a]\n');
    const { runner, calls } = recordingRunner();
    const { result, stderr } = captureStderr(() => main(['up', '--stack', 'prod', '--region', 'us-east-1'], runner, dir));
    expect(result).toBe(1);
    expect(calls).toHaveLength(0);
    expect(stderr).toContain('Pulumi.prod.yaml: fingerprint-infra:regions: rollout waves must be consecutive from 1');
  });

  it('resolves regions in config order', () => {
    const config = validateStackConfig(readStackFile('prod'));
    expect(resolveRegions('prod', { region: ['ap-southeast-1', 'us-east-1'] }).map((r) => r.name)).toEqual(
      config.regions.filter((r) => ['ap-southeast-1', 'us-east-1'].includes(r.name)).map((r) => r.name),
    );
  });

  it('says so when pulumi is not on PATH', () => {
    const saved = process.env.PATH;
    process.env.PATH = tempDir(path.join(os.tmpdir(), 'empty-path-'));
    try {
      const { result, stderr } = captureStderr(() => spawnRunner('pulumi', ['version']));
      expect(result).toBe(127);
      expect(stderr).toContain('pulumi: not found on PATH');
    } finally {
      process.env.PATH = saved;
    }
  });
});
