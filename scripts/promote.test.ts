import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { RawEntry, readStackFile, StackConfig, validateStackConfig } from '../stacks/config/load';
import { pulumiArgs, regionTargets } from '../stacks/pulumi-region';
import {
  checkHealth,
  checkPromotion,
  kubeconfigSecretName,
  main,
  parseWaveSetting,
  passphraseSecretName,
  planOutputs,
  previewMarker,
  previewReport,
  projectPulumiVersion,
  promotionPlan,
  PulumiRunner,
  runStackOperation,
  runWave,
  stackSteps,
  stagingEvidence,
  waveSteps,
  writeKubeconfigs,
} from './promote';

const prod = validateStackConfig(readStackFile('prod'));
const staging = validateStackConfig(readStackFile('staging'));

const COMMIT = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);

function region(name: string, wave: number) {
  return { name, wave, kubeContext: `ctx-${name}`, clusterId: `eks-${name}`, zones: [`${name}a`] };
}

/** A prod config with the given regions (validated like a stack file). */
function prodWith(regions: ReturnType<typeof region>[]): StackConfig {
  return validateStackConfig({ file: 'Pulumi.prod.yaml', stack: 'prod', entries: new Map<string, RawEntry>([['regions', { value: regions, secret: false }]]) });
}

/** Outputs as `pulumi stack output --json` prints them after a deploy of `config`. */
function healthyOutputs(config: StackConfig, only?: string[]) {
  const regions: Record<string, unknown> = {};
  for (const r of config.regions.filter((r) => !only || only.includes(r.name))) {
    regions[r.name] = { region: r.name, wave: r.wave, redisEndpoint: 'redis.cache.svc.cluster.local:6379', redisNodes: [], redisPasswordSecret: 'cache/redis-auth', objectCount: 40 };
  }
  return { regions };
}

/** Records pulumi invocations; `fail` picks which exit non-zero; `stack output` prints `outputs`. */
function fakePulumi(outputs: unknown, fail: (args: readonly string[]) => boolean = () => false) {
  const calls: string[][] = [];
  const runner: PulumiRunner = {
    run(args) {
      calls.push([...args]);
      return fail(args) ? 255 : 0;
    },
    capture(args) {
      calls.push([...args]);
      return { status: 0, stdout: JSON.stringify(outputs) };
    },
  };
  return { runner, calls };
}

function quiet<T>(fn: () => T): { result: T; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    return { result: fn(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const tmpDirs: string[] = [];
function tmp(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('promotion plan', () => {
  it('orders the prod waves from the config, canary first', () => {
    const plan = promotionPlan(prod);
    expect(plan.waves).toEqual([
      { wave: 1, regions: ['us-east-1'], action: 'up' },
      { wave: 2, regions: ['eu-west-1'], action: 'up' },
      { wave: 3, regions: ['ap-southeast-1'], action: 'up' },
    ]);
    expect(plan.converge).toBe(true);
  });

  it('follows the config, not the order regions are listed in, and groups a wave\'s regions', () => {
    const plan = promotionPlan(prodWith([region('c-region', 2), region('b-region', 1), region('a-region', 2), region('d-region', 3)]));
    expect(plan.waves.map((w) => [w.wave, w.regions])).toEqual([
      [1, ['b-region']],
      [2, ['a-region', 'c-region']],
      [3, ['d-region']],
    ]);
  });

  it('pauses after a wave: later waves are skipped and the whole-stack check does not run', () => {
    const plan = promotionPlan(prod, { pauseAfterWave: 1 });
    expect(plan.waves.map((w) => w.action)).toEqual(['up', 'skip', 'skip']);
    expect(plan.converge).toBe(false);
    expect(promotionPlan(prod, { pauseAfterWave: 0 }).waves.map((w) => w.action)).toEqual(['skip', 'skip', 'skip']);
    expect(promotionPlan(prod, { pauseAfterWave: 3 }).converge).toBe(true);
  });

  it('resumes at a wave: earlier waves are verified, not redeployed', () => {
    expect(promotionPlan(prod, { resumeFromWave: 2 }).waves.map((w) => w.action)).toEqual(['verify', 'up', 'up']);
    const both = promotionPlan(prod, { resumeFromWave: 2, pauseAfterWave: 2 });
    expect(both.waves.map((w) => w.action)).toEqual(['verify', 'up', 'skip']);
    expect(both.converge).toBe(false);
  });

  it('refuses settings outside the stack\'s waves', () => {
    expect(() => promotionPlan(prod, { pauseAfterWave: 4 })).toThrow('pause after wave 4: stack prod has waves 1..3');
    expect(() => promotionPlan(prod, { resumeFromWave: 0 })).toThrow('resume from wave 0');
    expect(() => promotionPlan(prod, { pauseAfterWave: 1, resumeFromWave: 2 })).toThrow('nothing would be deployed');
  });

  it('parses workflow inputs and repository variables', () => {
    expect(parseWaveSetting('pause_after_wave', undefined, 0, 3)).toBeUndefined();
    expect(parseWaveSetting('pause_after_wave', '', 0, 3)).toBeUndefined();
    expect(parseWaveSetting('pause_after_wave', ' None ', 0, 3)).toBeUndefined();
    expect(parseWaveSetting('pause_after_wave', ' 2 ', 0, 3)).toBe(2);
    expect(parseWaveSetting('pause_after_wave', '0', 0, 3)).toBe(0);
    expect(() => parseWaveSetting('pause_after_wave', 'two', 0, 3)).toThrow('pause_after_wave must be a wave number or "none" (got "two")');
    expect(() => parseWaveSetting('resume_from_wave', '0', 1, 3)).toThrow('between 1 and 3');
    expect(() => parseWaveSetting('pause_after_wave', '-1', 0, 3)).toThrow('must be a wave number');
  });

  it('gives the workflow one output per wave and whether to converge', () => {
    expect(planOutputs(promotionPlan(prod, { pauseAfterWave: 2 }))).toEqual({ wave_1: 'up', wave_2: 'up', wave_3: 'skip', converge: 'skip', waves: '1 2 3' });
  });
});

describe('pulumi commands', () => {
  it('deploys a wave with a targeted up, then checks the same targets have no changes left', () => {
    const [up, check] = waveSteps('prod', { wave: 2, regions: ['eu-west-1'], action: 'up' }, COMMIT);
    expect(up.args).toEqual(pulumiArgs({ command: 'up', stack: 'prod', regions: ['eu-west-1'], extra: ['--yes', '--message', `${COMMIT.slice(0, 12)} prod wave 2 (eu-west-1)`] }));
    expect(check.args).toEqual(pulumiArgs({ command: 'preview', stack: 'prod', regions: ['eu-west-1'], extra: ['--expect-no-changes'] }));
    expect(up.args).toEqual(expect.arrayContaining(regionTargets('prod', 'eu-west-1')));
    expect(up.args.some((a) => a.includes('us-east-1') || a.includes('ap-southeast-1'))).toBe(false);
  });

  it('only verifies a resumed wave and does nothing for a paused one', () => {
    expect(waveSteps('prod', { wave: 1, regions: ['us-east-1'], action: 'verify' }).map((s) => s.args[0])).toEqual(['preview']);
    expect(waveSteps('prod', { wave: 3, regions: ['ap-southeast-1'], action: 'skip' })).toEqual([]);
  });

  it('checks drift by refreshing the whole stack and expecting no changes', () => {
    expect(stackSteps('prod', 'drift')[0].args).toEqual(['preview', '--stack', 'prod', '--refresh', '--expect-no-changes']);
    expect(stackSteps('staging', 'verify')[0].args).toEqual(['preview', '--stack', 'staging', '--expect-no-changes']);
    expect(stackSteps('staging', 'up', COMMIT)[0].args.slice(0, 4)).toEqual(['up', '--stack', 'staging', '--yes']);
    expect(stackSteps('prod', 'preview')[0].args).toEqual(['preview', '--stack', 'prod', '--diff', '--color', 'never']);
  });
});

describe('running a wave', () => {
  it('deploys, checks for no changes, then reads the health outputs of the wave\'s regions', () => {
    const { runner, calls } = fakePulumi(healthyOutputs(prod, ['us-east-1']));
    quiet(() => runWave(prod, 'prod', promotionPlan(prod).waves[0], runner, COMMIT));
    expect(calls.map((c) => c[0])).toEqual(['up', 'preview', 'stack']);
    expect(calls[2]).toEqual(['stack', 'output', '--stack', 'prod', '--json']);
  });

  it('stops at a failed up: no check, no health, and an error naming the wave', () => {
    const { runner, calls } = fakePulumi(healthyOutputs(prod), (args) => args[0] === 'up');
    expect(() => quiet(() => runWave(prod, 'prod', promotionPlan(prod).waves[1], runner, COMMIT))).toThrow('wave 2: deploy eu-west-1: pulumi exited with 255');
    expect(calls).toHaveLength(1);
  });

  it('fails when changes remain after the up', () => {
    const { runner } = fakePulumi(healthyOutputs(prod), (args) => args.includes('--expect-no-changes'));
    expect(() => quiet(() => runWave(prod, 'prod', promotionPlan(prod).waves[0], runner, COMMIT))).toThrow('wave 1: no changes left in us-east-1');
  });

  it('fails when the wave\'s region reports unhealthy outputs', () => {
    const outputs = healthyOutputs(prod);
    (outputs.regions['eu-west-1'] as Record<string, unknown>).health = { redisReady: false };
    const { runner } = fakePulumi(outputs);
    expect(() => quiet(() => runWave(prod, 'prod', promotionPlan(prod).waves[1], runner, COMMIT))).toThrow('region eu-west-1: health output "health.redisReady" is false');
    // The canary's health does not depend on the other regions.
    expect(() => quiet(() => runWave(prod, 'prod', promotionPlan(prod).waves[0], runner, COMMIT))).not.toThrow();
  });

  it('runs nothing for a paused wave', () => {
    const { runner, calls } = fakePulumi(healthyOutputs(prod));
    quiet(() => runWave(prod, 'prod', promotionPlan(prod, { pauseAfterWave: 0 }).waves[0], runner));
    expect(calls).toEqual([]);
  });

  it('verifies a whole stack with a no-changes preview and every region\'s health', () => {
    const { runner, calls } = fakePulumi(healthyOutputs(staging, ['us-east-1']));
    expect(() => quiet(() => runStackOperation(staging, 'staging', 'verify', runner))).toThrow('region eu-west-1: no outputs');
    expect(calls[0]).toEqual(['preview', '--stack', 'staging', '--expect-no-changes']);
  });

  it('checks no health after a drift preview', () => {
    const { runner, calls } = fakePulumi(undefined);
    quiet(() => runStackOperation(prod, 'prod', 'drift', runner));
    expect(calls).toHaveLength(1);
  });
});

describe('health outputs', () => {
  it('accepts outputs matching the config', () => {
    expect(checkHealth(prod, healthyOutputs(prod))).toEqual([]);
  });

  it('names each problem with stack and region', () => {
    const outputs = healthyOutputs(prod);
    delete outputs.regions['ap-southeast-1'];
    Object.assign(outputs.regions['us-east-1'] as object, { wave: 2, objectCount: 0 });
    Object.assign(outputs.regions['eu-west-1'] as object, { redisEndpoint: '', ready: false });
    outputs.regions['sa-east-1'] = { region: 'sa-east-1' };
    expect(checkHealth(prod, outputs)).toEqual([
      'stack prod, region us-east-1: output "wave" is 2, config says 1',
      'stack prod, region us-east-1: output "objectCount" is 0',
      'stack prod, region eu-west-1: output "redisEndpoint" is "", expected host:port',
      'stack prod, region eu-west-1: health output "ready" is false',
      'stack prod, region ap-southeast-1: no outputs (region not deployed?)',
      'stack prod: outputs name region sa-east-1, which is not in Pulumi.prod.yaml',
    ]);
  });

  it('reports a stack that exports no regions', () => {
    expect(checkHealth(prod, {})).toEqual(['stack prod: no "regions" output (has the stack been deployed?)']);
  });

  it('checks only the named regions during a wave', () => {
    expect(checkHealth(prod, healthyOutputs(prod, ['us-east-1']), ['us-east-1'])).toEqual([]);
  });
});

describe('promotion guard', () => {
  const evidence = stagingEvidence(staging, COMMIT, ['expect-no-changes', 'health'], new Date('2026-01-01T00:00:00Z'), '42');
  const history = [
    { version: 7, kind: 'update', result: 'succeeded', environment: { 'git.head': COMMIT, 'git.dirty': 'false' } },
    { version: 6, kind: 'update', result: 'succeeded', environment: { 'git.head': OTHER, 'git.dirty': 'false' } },
  ];

  it('lets any tested commit into staging', () => {
    expect(checkPromotion({ target: 'staging', commit: COMMIT }).allowed).toBe(true);
  });

  it('lets a commit into prod when staging verified it and staging\'s history shows its update', () => {
    expect(checkPromotion({ target: 'prod', commit: COMMIT, evidence, stagingHistory: history })).toEqual({ allowed: true, reasons: [`commit ${COMMIT} passed staging`] });
  });

  it.each([
    ['no evidence', { evidence: undefined }, 'no staging evidence'],
    ['evidence of another commit', { evidence: { ...evidence, commit: OTHER } }, `staging verified commit ${OTHER}, not ${COMMIT}`],
    ['evidence missing a check', { evidence: { ...evidence, checks: ['health'] } }, 'staging evidence lacks the checks: expect-no-changes'],
    ['evidence in another format', { evidence: { commit: COMMIT } }, 'staging evidence has an unknown format'],
    ['evidence from prod', { evidence: { ...evidence, environment: 'prod' } }, 'evidence is from environment "prod", not staging'],
    ['no history', { stagingHistory: undefined }, 'no staging update history'],
    ['history without the commit', { stagingHistory: history.slice(1) }, `staging history has no successful update of commit ${COMMIT}`],
    [
      'only a failed update of the commit',
      { stagingHistory: [{ kind: 'update', result: 'failed', environment: { 'git.head': COMMIT } }] },
      `staging history has no successful update of commit ${COMMIT} (1 other operation(s): update failed)`,
    ],
    ['only a preview-like operation', { stagingHistory: [{ kind: 'refresh', result: 'succeeded', environment: { 'git.head': COMMIT } }] }, 'refresh succeeded'],
    ['an update from a modified tree', { stagingHistory: [{ kind: 'update', result: 'succeeded', environment: { 'git.head': COMMIT, 'git.dirty': 'true' } }] }, 'only from a modified working tree'],
  ])('refuses prod with %s', (_what, override, reason) => {
    const decision = checkPromotion({ target: 'prod', commit: COMMIT, evidence, stagingHistory: history, ...override });
    expect(decision.allowed).toBe(false);
    expect(decision.reasons.join('\n')).toContain(reason);
  });

  it('refuses an abbreviated commit', () => {
    expect(checkPromotion({ target: 'prod', commit: COMMIT.slice(0, 12), evidence, stagingHistory: history }).reasons[0]).toContain('full 40-character SHA');
  });

  it('records evidence only for staging, a full commit and every required check', () => {
    expect(evidence).toMatchObject({ stack: 'staging', environment: 'staging', commit: COMMIT, runId: '42', verifiedAt: '2026-01-01T00:00:00.000Z' });
    expect(() => stagingEvidence(prod, COMMIT, ['expect-no-changes', 'health'], new Date())).toThrow('only a staging stack');
    expect(() => stagingEvidence(staging, 'abc', ['expect-no-changes', 'health'], new Date())).toThrow('full 40-character SHA');
    expect(() => stagingEvidence(staging, COMMIT, ['health'], new Date())).toThrow('missing expect-no-changes');
  });
});

describe('kubeconfigs', () => {
  const kubeconfig = (context: string) =>
    stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: context, cluster: { server: 'https://127.0.0.1:6443' } }], contexts: [{ name: context, context: { cluster: context, user: context } }], users: [{ name: context, user: {} }] });

  it('names one repository secret per stack and region', () => {
    expect(kubeconfigSecretName('prod', 'ap-southeast-1')).toBe('KUBECONFIG_PROD_AP_SOUTHEAST_1');
    expect(kubeconfigSecretName('acme/fingerprint-infra/staging', 'us-east-1')).toBe('KUBECONFIG_STAGING_US_EAST_1');
    expect(passphraseSecretName('prod')).toBe('PULUMI_CONFIG_PASSPHRASE_PROD');
  });

  it('writes each region\'s kubeconfig privately and lists them for KUBECONFIG', () => {
    const dir = tmp('kube-');
    const regions = prod.regions.filter((r) => r.wave === 1);
    const value = writeKubeconfigs('prod', regions, { KUBECONFIG_PROD_US_EAST_1: kubeconfig('prod-us-east-1') }, dir);
    expect(value).toBe(path.join(dir, 'us-east-1.yaml'));
    expect(fs.statSync(value).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(value, 'utf8')).toBe(kubeconfig('prod-us-east-1'));
    const all = writeKubeconfigs('staging', staging.regions, { KUBECONFIG_STAGING_US_EAST_1: kubeconfig('staging-us-east-1'), KUBECONFIG_STAGING_EU_WEST_1: kubeconfig('staging-eu-west-1') }, dir);
    expect(all.split(path.delimiter)).toHaveLength(2);
  });

  it('fails naming the missing secret, or the missing context, never printing contents', () => {
    const dir = tmp('kube-');
    const wrong = kubeconfig('someone-else');
    expect(() => writeKubeconfigs('prod', prod.regions, { KUBECONFIG_PROD_US_EAST_1: wrong, KUBECONFIG_PROD_EU_WEST_1: ': not yaml: [' }, dir)).toThrow(
      new Error(
        [
          'KUBECONFIG_PROD_US_EAST_1 has no context "prod-us-east-1" (the kubeContext of us-east-1; it has: someone-else)',
          'KUBECONFIG_PROD_EU_WEST_1 is not valid YAML',
          'KUBECONFIG_PROD_AP_SOUTHEAST_1 is empty: add the repository secret KUBECONFIG_PROD_AP_SOUTHEAST_1 (the kubeconfig of ap-southeast-1) and map it in the workflow job',
        ].join('\n'),
      ),
    );
    expect(fs.existsSync(path.join(dir, 'us-east-1.yaml'))).toBe(false);
  });
});

describe('preview report', () => {
  const output = '\u001b[1mPreviewing update (prod)\u001b[0m\n  + kubernetes:core/v1:ConfigMap us-east-1/configmap/cache/x create\n\nResources:\n    + 1 to create\n    40 unchanged\n\nDuration: 3s\n';

  it('starts with the stack\'s marker, shows the status, the summary and the diff without ANSI codes', () => {
    const md = previewReport('prod', output, 0, { commit: COMMIT });
    expect(md.startsWith(`${previewMarker('prod')}\n`)).toBe(true);
    expect(md).toContain('### Pulumi preview: `prod` succeeded');
    expect(md).toContain('```\nResources:\n    + 1 to create\n    40 unchanged\n```');
    expect(md).toContain('```diff\nPreviewing update (prod)\n  + kubernetes:core/v1:ConfigMap');
    expect(md).not.toContain('\u001b');
    expect(md).toContain(`Commit \`${COMMIT.slice(0, 12)}\``);
  });

  it('flags a failed preview and stays under the comment size limit', () => {
    const md = previewReport('staging', 'x'.repeat(100000), 255, { maxChars: 1000 });
    expect(md).toContain('**failed** (exit code 255)');
    expect(md).toContain('... (99000 more characters; see the job log)');
    expect(md.length).toBeLessThan(1500);
  });

  it('uses another fence when the output contains one', () => {
    expect(previewReport('prod', 'a ``` b', 0)).toContain('~~~~diff\na ``` b\n~~~~');
  });
});

describe('Pulumi CLI version', () => {
  it('is the npm SDK version, which the locally built CLI pins too', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    expect(projectPulumiVersion()).toBe(pkg.dependencies['@pulumi/pulumi']);
    const env = path.join(__dirname, 'pulumi-tools', 'versions.env');
    if (fs.existsSync(env)) expect(fs.readFileSync(env, 'utf8')).toMatch(new RegExp(`^PULUMI_VERSION=${projectPulumiVersion().replace(/\./g, '\\.')}$`, 'm'));
  });

  it('refuses a mismatch or a range', () => {
    const dir = tmp('version-');
    fs.mkdirSync(path.join(dir, 'scripts', 'pulumi-tools'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ dependencies: { '@pulumi/pulumi': '3.276.0' } }));
    fs.writeFileSync(path.join(dir, 'scripts', 'pulumi-tools', 'versions.env'), 'PULUMI_VERSION=3.200.0\n');
    expect(() => projectPulumiVersion(dir)).toThrow('PULUMI_VERSION=3.200.0 differs from package.json @pulumi/pulumi 3.276.0');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ dependencies: { '@pulumi/pulumi': '^3.276.0' } }));
    expect(() => projectPulumiVersion(dir)).toThrow('must be pinned to an exact version');
  });
});

describe('promote CLI', () => {
  it('plan writes the wave outputs for the workflow and prints the rollout', () => {
    const file = path.join(tmp('gh-'), 'output');
    const { result, out } = quiet(() => main(['plan', '--stack', 'prod', '--pause-after-wave', '1', '--resume-from-wave', ''], undefined, { GITHUB_OUTPUT: file }));
    expect(result).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe('wave_1=up\nwave_2=skip\nwave_3=skip\nconverge=skip\nwaves=1 2 3\n');
    expect(out).toContain('wave 1 (canary): us-east-1 -> deploy');
    expect(out).toContain('resume with resume_from_wave=2');
  });

  it('plan fails when the workflow has no job for a wave of the config', () => {
    const workflow = path.join(tmp('wf-'), 'deploy.yml');
    const real = fs.readFileSync(path.join(__dirname, '..', '.github', 'workflows', 'deploy.yml'), 'utf8');
    fs.writeFileSync(workflow, real.replace(/\n  prod-wave-3:[\s\S]*?(?=\n  prod-verify:)/, '\n'));
    const { result, err } = quiet(() => main(['plan', '--stack', 'prod', '--workflow', workflow], undefined, {}));
    expect(result).toBe(1);
    expect(err).toContain('job prod-wave-3: missing: wave 3 (ap-southeast-1) of prod has no job');
  });

  it('plan refuses an invalid pause setting', () => {
    const { result, err } = quiet(() => main(['plan', '--stack', 'prod', '--pause-after-wave', '7'], undefined, {}));
    expect(result).toBe(1);
    expect(err).toContain('pause_after_wave must be between 0 and 3');
  });

  it('record then guard: prod accepts the recorded commit and refuses another', () => {
    const dir = tmp('evidence-');
    const evidence = path.join(dir, 'staging-verified.json');
    const history = path.join(dir, 'history.json');
    fs.writeFileSync(history, JSON.stringify([{ kind: 'update', result: 'succeeded', environment: { 'git.head': COMMIT, 'git.dirty': 'false' } }]));
    expect(quiet(() => main(['record', '--stack', 'staging', '--commit', COMMIT, '--out', evidence], undefined, {})).result).toBe(0);
    expect(JSON.parse(fs.readFileSync(evidence, 'utf8'))).toMatchObject({ commit: COMMIT, checks: ['expect-no-changes', 'health'] });
    expect(quiet(() => main(['guard', '--stack', 'prod', '--commit', COMMIT, '--evidence', evidence, '--staging-history', history], undefined, {})).result).toBe(0);
    const refused = quiet(() => main(['guard', '--stack', 'prod', '--commit', OTHER, '--evidence', evidence, '--staging-history', history], undefined, {}));
    expect(refused.result).toBe(1);
    expect(refused.out).toContain(`REFUSED: staging verified commit ${COMMIT}, not ${OTHER}`);
    expect(refused.err).toContain('promotion to prod refused');
    expect(quiet(() => main(['guard', '--stack', 'prod', '--commit', COMMIT, '--evidence', path.join(dir, 'none.json'), '--staging-history', history], undefined, {})).result).toBe(1);
  });

  it('wave runs the plan\'s action for the wave with the given runner', () => {
    const { runner, calls } = fakePulumi(healthyOutputs(prod));
    expect(quiet(() => main(['wave', '--stack', 'prod', '--wave', '2', '--action', 'verify', '--commit', COMMIT], runner, {})).result).toBe(0);
    expect(calls.map((c) => c[0])).toEqual(['preview', 'stack']);
    expect(calls[0]).toEqual(expect.arrayContaining(regionTargets('prod', 'eu-west-1')));
    expect(quiet(() => main(['wave', '--stack', 'prod', '--wave', '2', '--action', 'deploy'], runner, {})).err).toContain('--action must be up, verify or skip');
  });

  it('kubeconfig exports KUBECONFIG for the later steps', () => {
    const dir = tmp('kube-');
    const envFile = path.join(dir, 'env');
    const text = stringify({ contexts: [{ name: 'prod-eu-west-1', context: {} }] });
    expect(quiet(() => main(['kubeconfig', '--stack', 'prod', '--wave', '2', '--dir', dir], undefined, { KUBECONFIG_PROD_EU_WEST_1: text, GITHUB_ENV: envFile })).result).toBe(0);
    expect(fs.readFileSync(envFile, 'utf8')).toBe(`KUBECONFIG=${path.join(dir, 'eu-west-1.yaml')}\n`);
  });
});
