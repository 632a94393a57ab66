import * as fs from 'fs';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { readStackFile, validateStackConfig } from '../../stacks/config/load';
import { ENVIRONMENTS } from '../../stacks/config/schema';
import { projectPulumiVersion } from '../promote';
import {
  checkDeployGates,
  checkKubeconfigSteps,
  checkNoDeployOnPullRequest,
  checkPermissions,
  checkSecrets,
  checkStackConcurrency,
  checkWaveJobs,
  environmentOf,
  loadWorkflow,
  loadWorkflows,
  needsOf,
  parseWorkflow,
  promoteCalls,
  REPO_ROOT,
  runText,
  StackRegions,
  unpinnedActions,
  Workflow,
  WORKFLOWS_DIR,
  writeScopes,
} from './workflows';

const stacks: StackRegions[] = ENVIRONMENTS.map((env) => {
  const config = validateStackConfig(readStackFile(env));
  return { stack: config.stack, regions: config.regions.map((r) => ({ name: r.name, wave: r.wave })) };
});
const prodStack = stacks.find((s) => s.stack === 'prod')!;
const workflows = loadWorkflows();
const byFile = (name: string) => workflows.find((w) => w.file === `.github/workflows/${name}`)!;
const deploy = byFile('deploy.yml');
const SETUP_ACTION = path.join(REPO_ROOT, '.github', 'actions', 'setup', 'action.yml');

/** A copy of a workflow changed through its parsed document. */
function mutate(wf: Workflow, change: (doc: any) => void): Workflow {
  const doc = parse(wf.text);
  change(doc);
  return parseWorkflow(wf.file, stringify(doc));
}

function prodWaves(regions = prodStack.regions) {
  const waves = [...new Set(regions.map((r) => r.wave))].sort((a, b) => a - b);
  return waves.map((wave) => ({ wave, regions: regions.filter((r) => r.wave === wave).map((r) => r.name) }));
}

describe('the workflows', () => {
  it('are the expected set', () => {
    expect(workflows.map((w) => w.file).sort()).toEqual(
      ['checks.yml', 'deploy.yml', 'drift.yml', 'pull-request.yml', 'pulumi-preview.yml'].map((f) => `.github/workflows/${f}`),
    );
  });

  it('pin every action to a full commit SHA with its release as a comment', () => {
    const files = [...workflows.map((w) => path.join(REPO_ROOT, w.file)), SETUP_ACTION];
    const uses = files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l)));
    expect(uses.length).toBeGreaterThan(20);
    for (const f of files) expect(unpinnedActions(path.relative(REPO_ROOT, f), fs.readFileSync(f, 'utf8'))).toEqual([]);
  });

  it('deploy nothing on a pull request, also through called workflows', () => {
    expect(checkNoDeployOnPullRequest(workflows)).toEqual([]);
    const pr = byFile('pull-request.yml');
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    // The pull-request workflow does reach the previews: the check looks at something.
    expect(Object.values(pr.jobs).map((j) => j.uses)).toEqual(['./.github/workflows/checks.yml', './.github/workflows/pulumi-preview.yml', './.github/workflows/pulumi-preview.yml']);
  });

  it('preview both stacks on a pull request, after the checks, with the diff in the summary and a comment', () => {
    const pr = byFile('pull-request.yml');
    for (const stack of ENVIRONMENTS) {
      const job = pr.jobs[`preview-${stack}`];
      expect(job.with).toEqual({ stack });
      expect(needsOf(job)).toEqual(['checks']);
      expect(job.secrets).toMatchObject({ PULUMI_CONFIG_PASSPHRASE: `\${{ secrets.PULUMI_CONFIG_PASSPHRASE_${stack.toUpperCase()} }}` });
      expect(JSON.stringify(job.secrets)).not.toContain('KUBECONFIG');
    }
    const preview = byFile('pulumi-preview.yml').jobs.preview;
    const calls = (preview.steps ?? []).flatMap(promoteCalls);
    expect(calls.map((c) => c.command)).toEqual(['stack', 'preview-report']);
    expect(calls[0].opts.operation).toBe('preview');
    expect(runText(preview)).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(runText(preview)).toMatch(/gh api --method (POST|PATCH) .*comments/);
    expect(preview.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
  });

  it('gate every prod job behind staging and the production environment, waves in config order', () => {
    expect(checkDeployGates(deploy, stacks)).toEqual([]);
    const prodJobs = Object.keys(deploy.jobs).filter((id) => id.startsWith('prod-'));
    expect(prodJobs).toEqual([...prodWaves().map((w) => `prod-wave-${w.wave}`), 'prod-verify']);
    for (const id of prodJobs) expect(environmentOf(deploy.jobs[id])).toBe('production');
  });

  it('roll out the prod waves one job after the other, as the config orders them', () => {
    const waves = prodWaves();
    expect(waves.map((w) => w.regions)).toEqual([['us-east-1'], ['eu-west-1'], ['ap-southeast-1']]);
    waves.forEach((w, i) => {
      const job = deploy.jobs[`prod-wave-${w.wave}`];
      expect(needsOf(job)).toContain(i === 0 ? 'staging-verify' : `prod-wave-${waves[i - 1].wave}`);
      const wave = (job.steps ?? []).flatMap(promoteCalls).find((c) => c.command === 'wave')!;
      expect(wave.opts).toMatchObject({ stack: 'prod', wave: String(w.wave), action: '$ACTION' });
    });
    expect(needsOf(deploy.jobs['prod-verify'])).toContain(`prod-wave-${waves[waves.length - 1].wave}`);
    expect((deploy.jobs['prod-verify'].steps ?? []).flatMap(promoteCalls).find((c) => c.command === 'stack')?.opts).toMatchObject({ stack: 'prod', operation: 'verify' });
  });

  it('run on pushes to main and by hand, with pause and resume inputs', () => {
    expect(Object.keys(deploy.on).sort()).toEqual(['push', 'workflow_dispatch']);
    const inputs = (deploy.on.workflow_dispatch as { inputs: Record<string, unknown> }).inputs;
    expect(Object.keys(inputs).sort()).toEqual(['pause_after_wave', 'resume_from_wave']);
    const plan = deploy.jobs.plan.steps!.find((s) => s.id === 'plan')!;
    expect(plan.env).toMatchObject({ PAUSE_AFTER_WAVE: '${{ inputs.pause_after_wave || vars.PROD_PAUSE_AFTER_WAVE }}' });
  });

  it('never run two deploys of one stack at once', () => {
    for (const wf of workflows) expect(checkStackConcurrency(wf, stacks)).toEqual([]);
    expect((parse(deploy.text) as { concurrency: unknown }).concurrency).toEqual({ group: 'deploy', 'cancel-in-progress': false });
  });

  it('check every stack for drift nightly and fail loudly', () => {
    const drift = byFile('drift.yml');
    expect((drift.on.schedule as { cron: string }[])[0].cron).toMatch(/^\S+ \S+ \* \* \*$/);
    for (const stack of ENVIRONMENTS) {
      const job = drift.jobs[`drift-${stack}`];
      expect((job.steps ?? []).flatMap(promoteCalls).find((c) => c.command === 'stack')?.opts).toMatchObject({ stack, operation: 'drift' });
      const report = job.steps!.find((s) => s.if === 'failure()');
      expect(report?.run).toContain('report-drift.sh');
    }
    expect(checkKubeconfigSteps(drift, stacks)).toEqual([]);
  });

  it('ask only for the permissions each job needs', () => {
    for (const wf of workflows) expect(checkPermissions(wf)).toEqual([]);
    expect(workflows.flatMap(writeScopes).sort()).toEqual(
      [
        '.github/workflows/drift.yml: drift-prod: issues',
        '.github/workflows/drift.yml: drift-staging: issues',
        '.github/workflows/pull-request.yml: preview-prod: pull-requests',
        '.github/workflows/pull-request.yml: preview-staging: pull-requests',
        '.github/workflows/pulumi-preview.yml: preview: pull-requests',
      ].sort(),
    );
  });

  it('take credentials only from the named repository secrets, through env', () => {
    for (const wf of workflows) expect(checkSecrets(wf, stacks, wf.file.endsWith('pulumi-preview.yml') ? ['PULUMI_CONFIG_PASSPHRASE'] : [])).toEqual([]);
    expect(checkKubeconfigSteps(deploy, stacks)).toEqual([]);
  });

  it('install the Pulumi CLI at the project\'s version wherever pulumi runs', () => {
    const setup = fs.readFileSync(SETUP_ACTION, 'utf8');
    expect(setup).toContain('version="$(node -r ./scripts/ts-hook.js scripts/promote.ts pulumi-version)"');
    expect(setup).toContain('curl -fsSL https://get.pulumi.com | sh -s -- --version "$version"');
    expect(setup).toContain('if [ "$installed" != "v$version" ]');
    expect(projectPulumiVersion()).toMatch(/^3\.[0-9]+\.[0-9]+$/);
    for (const wf of workflows) {
      for (const [id, job] of Object.entries(wf.jobs)) {
        const runsPulumi = /\bpulumi\s|promote\.ts (stack|wave)\b/.test(runText(job));
        const setupStep = (job.steps ?? []).find((s) => s.uses === './.github/actions/setup');
        if (runsPulumi) expect({ id, pulumi: setupStep?.with?.pulumi }).toEqual({ id, pulumi: 'true' });
      }
    }
  });

  it('use the Node version of package.json', () => {
    const engines = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).engines.node as string;
    const node = (parse(fs.readFileSync(SETUP_ACTION, 'utf8')) as any).runs.steps[0].with['node-version'];
    expect(engines).toContain(`>=${node}`);
  });
});

describe('the gate checks find broken workflows', () => {
  it('a wave that does not wait for the previous one', () => {
    const broken = mutate(deploy, (d) => (d.jobs['prod-wave-2'].needs = ['plan', 'staging-verify']));
    expect(checkDeployGates(broken, stacks)).toContain('.github/workflows/deploy.yml: job prod-wave-2: must need prod-wave-1 (waves run in config order)');
  });

  it('a prod job without the protected environment or the staging verification', () => {
    const broken = mutate(deploy, (d) => {
      delete d.jobs['prod-wave-1'].environment;
      d.jobs['prod-wave-1'].needs = ['plan'];
    });
    const problems = checkDeployGates(broken, stacks);
    expect(problems).toContain('.github/workflows/deploy.yml: job prod-wave-1: must use the protected environment "production"');
    expect(problems).toContain('.github/workflows/deploy.yml: job prod-wave-1: must need staging-verify');
    // The later waves still need staging directly, not only through wave 1.
    expect(problems.every((p) => p.includes('job prod-wave-1:'))).toBe(true);
  });

  it('waves swapped against the config', () => {
    const broken = mutate(deploy, (d) => {
      d.jobs['prod-wave-2'].steps.at(-1).run = d.jobs['prod-wave-2'].steps.at(-1).run.replace('--wave 2', '--wave 3');
    });
    expect(checkWaveJobs(broken, 'prod', prodWaves())).toContain('.github/workflows/deploy.yml: job prod-wave-2: must run promote.ts wave --stack prod --wave 2');
  });

  it('a wave added to the config without a job, or a region moved to another wave', () => {
    const added = prodWaves([...prodStack.regions, { name: 'sa-east-1', wave: 4 }]);
    const problems = checkWaveJobs(deploy, 'prod', added);
    expect(problems).toContain('.github/workflows/deploy.yml: job prod-wave-4: missing: wave 4 (sa-east-1) of prod has no job');
    expect(problems).toContain('.github/workflows/deploy.yml: job plan: must output wave_4');
    expect(problems).toContain('.github/workflows/deploy.yml: job prod-verify: must need prod-wave-4, the last wave');
    const moved = prodStack.regions.map((r) => (r.name === 'eu-west-1' ? { ...r, wave: 1 } : r.name === 'ap-southeast-1' ? { ...r, wave: 2 } : r));
    expect(checkWaveJobs(deploy, 'prod', prodWaves(moved))).toEqual(
      expect.arrayContaining([
        '.github/workflows/deploy.yml: job prod-wave-3: there is no wave 3 in the prod config (waves: 1, 2)',
        '.github/workflows/deploy.yml: job prod-wave-1: must hold exactly the kubeconfigs of wave 1: KUBECONFIG_PROD_EU_WEST_1, KUBECONFIG_PROD_US_EAST_1 (has KUBECONFIG_PROD_US_EAST_1)',
      ]),
    );
  });

  it('a wave that deploys before the promotion guard, or without it', () => {
    const late = mutate(deploy, (d) => {
      const steps = d.jobs['prod-wave-1'].steps;
      const guard = steps.findIndex((s: { name?: string }) => s.name?.startsWith('Promotion guard'));
      steps.push(steps.splice(guard, 1)[0]);
    });
    expect(checkDeployGates(late, stacks)).toContain('.github/workflows/deploy.yml: job prod-wave-1: must run the promotion guard (promote.ts guard --stack prod) before the wave');
  });

  it('a deploy on a pull request, directly or in a called workflow', () => {
    const pr = byFile('pull-request.yml');
    const direct = mutate(pr, (d) => {
      d.jobs.sneaky = { 'runs-on': 'ubuntu-24.04', permissions: {}, steps: [{ run: 'npm run up -- --stack prod --region us-east-1 --yes' }] };
    });
    expect(checkNoDeployOnPullRequest([direct])).toEqual(['.github/workflows/pull-request.yml: job sneaky (.github/workflows/pull-request.yml): runs "npm run up" on a pull request']);
    const viaDeploy = mutate(pr, (d) => (d.jobs.checks.uses = './.github/workflows/deploy.yml'));
    expect(checkNoDeployOnPullRequest([viaDeploy]).some((p) => p.includes('deploy.yml: job prod-wave-1') && p.includes('promote.ts wave'))).toBe(true);
    const onPr = mutate(deploy, (d) => (d.on.pull_request = { branches: ['main'] }));
    expect(checkDeployGates(onPr, stacks)).toContain('.github/workflows/deploy.yml: must not run on pull_request');
  });

  it('a deploy job outside the stack\'s concurrency group, or one that may be cancelled', () => {
    const broken = mutate(deploy, (d) => {
      d.jobs['staging-deploy'].concurrency = { group: 'staging', 'cancel-in-progress': false };
      d.jobs['prod-wave-1'].concurrency['cancel-in-progress'] = true;
    });
    expect(checkStackConcurrency(broken, stacks)).toEqual([
      '.github/workflows/deploy.yml: job staging-deploy: must be in concurrency group pulumi-staging (got staging)',
      '.github/workflows/deploy.yml: job prod-wave-1: must not cancel a deploy in progress (cancel-in-progress: false)',
    ]);
  });

  it('unpinned or uncommented actions', () => {
    const text = [
      'steps:',
      '  - uses: actions/checkout@v5',
      '  - uses: actions/setup-node@a0853c24544627f65ddf259abe73b1d18a591444',
      '  - uses: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684 # v4',
      '  - uses: ./.github/actions/setup',
      '  - uses: docker://alpine:3.20',
    ].join('\n');
    expect(unpinnedActions('x.yml', text)).toEqual([
      'x.yml:2: actions/checkout@v5 must be pinned to a full 40-character commit SHA',
      'x.yml:3: actions/setup-node@a0853c24544627f65ddf259abe73b1d18a591444 needs the exact release as a comment (# vX.Y.Z)',
      'x.yml:4: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684 needs the exact release as a comment (# vX.Y.Z)',
      'x.yml:6: docker://alpine:3.20 must be pinned to an image digest',
    ]);
  });

  it('broad permissions and secrets handled carelessly', () => {
    const broad = mutate(deploy, (d) => {
      d.permissions = 'write-all';
      delete d.jobs.plan.permissions;
    });
    expect(checkPermissions(broad)).toEqual([
      '.github/workflows/deploy.yml: top-level permissions must list scopes, not write-all',
      '.github/workflows/deploy.yml: job plan: must declare its permissions',
    ]);
    const careless = mutate(deploy, (d) => {
      d.jobs.plan.steps.push({ run: 'echo "${{ secrets.PULUMI_ACCESS_TOKEN }}" > token', name: 'leak' });
      d.jobs.plan.env = { ALL: '${{ toJSON(secrets) }}', AWS: '${{ secrets.AWS_SECRET_ACCESS_KEY }}' };
    });
    expect(checkSecrets(careless, stacks)).toEqual([
      '.github/workflows/deploy.yml: unexpected secret AWS_SECRET_ACCESS_KEY',
      '.github/workflows/deploy.yml: secrets must be named one by one (no secrets[...], toJSON(secrets) or secrets: inherit)',
      '.github/workflows/deploy.yml: job plan: step "leak" expands a secret inside its script; pass it through env',
    ]);
    const wrongSecret = mutate(deploy, (d) => {
      d.jobs['prod-wave-1'].steps.find((s: { name?: string }) => s.name === 'Kubeconfigs of the wave').env.KUBECONFIG_PROD_US_EAST_1 = '${{ secrets.KUBECONFIG_STAGING_US_EAST_1 }}';
    });
    const wrongPassphrase = mutate(deploy, (d) => {
      d.jobs['prod-wave-2'].steps.at(-1).env.PULUMI_CONFIG_PASSPHRASE = '${{ secrets.PULUMI_CONFIG_PASSPHRASE_STAGING }}';
    });
    expect(checkSecrets(wrongPassphrase, stacks)).toEqual([
      '.github/workflows/deploy.yml: job prod-wave-2: wave --stack prod must get the passphrase from PULUMI_CONFIG_PASSPHRASE_PROD (not PULUMI_CONFIG_PASSPHRASE_STAGING)',
    ]);
    expect(checkKubeconfigSteps(wrongSecret, stacks)).toEqual(['.github/workflows/deploy.yml: job prod-wave-1: KUBECONFIG_PROD_US_EAST_1 must come from the repository secret of the same name']);
  });
});

describe('workflow parsing', () => {
  it('reads promote.ts calls with their options', () => {
    expect(promoteCalls({ run: 'node -r ./scripts/ts-hook.js scripts/promote.ts wave --stack prod --wave 2 --action "$ACTION"\nnode x/promote.ts guard --stack prod' })).toEqual([
      { command: 'wave', opts: { stack: 'prod', wave: '2', action: '$ACTION' } },
      { command: 'guard', opts: { stack: 'prod' } },
    ]);
  });

  it('loads a workflow with its file relative to the repository', () => {
    expect(loadWorkflow(path.join(WORKFLOWS_DIR, 'drift.yml')).file).toBe('.github/workflows/drift.yml');
  });
});
