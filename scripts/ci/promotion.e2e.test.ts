import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { readStackFile, StackConfig, validateStackConfig } from '../../stacks/config/load';
import { copyRepository, E2E_TIMEOUT_MS, engineEnv, randomSecret, readTree, REPO_ROOT, requireEngine, stackFileCopy } from '../../test/e2e/support';
import {
  checkPromotion,
  promotionPlan,
  PulumiRunner,
  REQUIRED_STAGING_CHECKS,
  runStackOperation,
  runWave,
  stackSteps,
  stagingEvidence,
} from '../promote';

/**
 * The promotion with the real Pulumi engine (test/e2e/support.ts: CLI, language host and
 * Kubernetes provider built by scripts/pulumi-tools/build.sh) on a local file backend, with the
 * Kubernetes providers in render mode: staging up and verified, the guard reading staging's real
 * update history, prod paused after the canary, resumed at wave 2, converged with zero changes.
 *
 * Both stacks run from one scratch copy of the repository committed to a throwaway git
 * repository, as CI runs them from one checkout: the engine records that commit (`git.head`, clean
 * tree) for the guard to check, and the repository's own stack files stay untouched.
 */

jest.setTimeout(2 * E2E_TIMEOUT_MS);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'promotion-e2e-'));
const project = path.join(tmp, 'project');
const rendered = path.join(tmp, 'rendered');
const env: NodeJS.ProcessEnv = { ...process.env, ...engineEnv(tmp) };
// The CI system's variables would override what the engine records about the commit.
for (const key of Object.keys(env)) if (key.startsWith('GITHUB_') || key === 'CI') delete env[key];
const transcript: string[] = [];

function pulumi(args: readonly string[]): { status: number; stdout: string } {
  const r = spawnSync('pulumi', [...args, '--non-interactive'], { cwd: project, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  transcript.push(`$ pulumi ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`);
  return { status: r.status ?? 1, stdout: r.stdout ?? '' };
}

/** What the workflows use (scripts/promote.ts), pointed at the scratch project. */
const runner: PulumiRunner = { run: (args) => pulumi(args).status, capture: (args) => pulumi(args) };

/** Runs a step; on failure the error carries the end of the engine's output. */
function step(what: string, fn: () => void): void {
  const from = transcript.length;
  try {
    fn();
  } catch (e) {
    const tail = transcript.slice(from).join('\n').split('\n').slice(-60).join('\n');
    throw new Error(`${what}: ${(e as Error).message}\n--- pulumi output ---\n${tail}`);
  }
}

function git(...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=promotion-e2e', '-c', 'user.email=promotion-e2e@example.invalid', ...args], { cwd: project, encoding: 'utf8' }).trim();
}

/**
 * A throwaway stack from the repository's stack file: render mode on (`<tmp>/rendered/<stack>/<region>`),
 * fresh secrets for its secure values and for every password the program would generate with
 * @pulumi/random (not among the engine binaries built offline).
 */
function initStack(stack: string): void {
  const copy = stackFileCopy(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), 'utf8'));
  const doc = parse(copy.text) as { config: Record<string, any> };
  doc.config['fingerprint-infra:deploy'] = { ...(doc.config['fingerprint-infra:deploy'] ?? {}), renderYamlToDirectory: path.join(rendered, stack) };
  fs.writeFileSync(path.join(project, `Pulumi.${stack}.yaml`), stringify(doc));
  step(`stack init ${stack}`, () => {
    const ok = (args: string[]) => {
      if (pulumi(args).status !== 0) throw new Error(`pulumi ${args.slice(0, 3).join(' ')} failed`);
    };
    ok(['stack', 'init', stack, '--secrets-provider', 'passphrase']);
    for (const secret of copy.secrets) {
      const key = `fingerprint-infra:${secret.key}${secret.path ? `[${JSON.stringify(secret.path)}]` : ''}`;
      ok(['config', 'set', '--stack', stack, '--secret', ...(secret.path ? ['--path'] : []), key, randomSecret()]);
    }
    for (const [id, source] of Object.entries(validateStackConfig(readStackFile(stack, project)).secrets)) {
      if (source.from === 'generated') ok(['config', 'set', '--stack', stack, '--secret', `fingerprint-infra:${id}`, randomSecret()]);
    }
  });
}

/** Regions with rendered manifests. */
function renderedRegions(stack: string): string[] {
  const dir = path.join(rendered, stack);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((r) => readTree(path.join(dir, r)).size > 0).sort() : [];
}

let commit: string;
let staging: StackConfig;
let prod: StackConfig;

beforeAll(() => {
  requireEngine();
  fs.mkdirSync(path.join(tmp, 'state'));
  fs.mkdirSync(project);
  copyRepository(project);
  for (const stack of ['staging', 'prod']) initStack(stack);
  git('init', '-q');
  // The links to the repository's node_modules and .tools are not part of the commit.
  fs.appendFileSync(path.join(project, '.git', 'info', 'exclude'), '/node_modules\n/.tools\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'promotion e2e');
  commit = git('rev-parse', 'HEAD');
  expect(git('status', '--porcelain')).toBe('');
  staging = validateStackConfig(readStackFile('staging', project));
  prod = validateStackConfig(readStackFile('prod', project));
});

afterAll(() => {
  // Failures carry the engine's output; E2E_KEEP=1 keeps the whole run for inspection.
  if (process.env.E2E_KEEP) {
    fs.writeFileSync(path.join(tmp, 'transcript.log'), transcript.join('\n'));
    console.log(`promotion e2e kept in ${tmp}`);
  } else {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

describe('promotion with the Pulumi engine (local backend, render mode)', () => {
  it('deploys and verifies staging, whose history then clears the commit for prod', () => {
    step('staging up', () => runStackOperation(staging, 'staging', 'up', runner, commit));
    expect(renderedRegions('staging')).toEqual(staging.regions.map((r) => r.name).sort());
    step('staging verify', () => runStackOperation(staging, 'staging', 'verify', runner));

    const evidence = stagingEvidence(staging, commit, REQUIRED_STAGING_CHECKS, new Date());
    const history = JSON.parse(runner.capture(['stack', 'history', '--stack', 'staging', '--json']).stdout);
    expect(history[0]).toMatchObject({ kind: 'update', result: 'succeeded', environment: { 'git.head': commit, 'git.dirty': 'false' } });
    expect(checkPromotion({ target: 'prod', commit, evidence, stagingHistory: history })).toMatchObject({ allowed: true });
    const other = 'f'.repeat(40);
    expect(checkPromotion({ target: 'prod', commit: other, evidence: { ...evidence, commit: other }, stagingHistory: history }).allowed).toBe(false);
  });

  it('deploys only the canary when paused after wave 1, and the whole-stack check sees the rest missing', () => {
    const plan = promotionPlan(prod, { pauseAfterWave: 1 });
    expect(plan.waves.map((w) => w.action)).toEqual(['up', 'skip', 'skip']);
    for (const wave of plan.waves) step(`prod wave ${wave.wave}`, () => runWave(prod, 'prod', wave, runner, commit));
    expect(renderedRegions('prod')).toEqual(['us-east-1']);
    expect(runner.run(stackSteps('prod', 'verify')[0].args)).not.toBe(0);
  });

  it('resumes at wave 2: the canary is only verified, later waves roll out in order, and prod converges', () => {
    const plan = promotionPlan(prod, { resumeFromWave: 2 });
    expect(plan.waves.map((w) => [w.wave, w.regions, w.action])).toEqual([
      [1, ['us-east-1'], 'verify'],
      [2, ['eu-west-1'], 'up'],
      [3, ['ap-southeast-1'], 'up'],
    ]);
    const deployed: string[] = [];
    for (const wave of plan.waves) {
      step(`prod wave ${wave.wave}`, () => runWave(prod, 'prod', wave, runner, commit));
      deployed.push(...wave.regions);
      expect(renderedRegions('prod')).toEqual([...deployed].sort());
    }
    step('prod converged', () => runStackOperation(prod, 'prod', 'verify', runner));

    const history = JSON.parse(runner.capture(['stack', 'history', '--stack', 'prod', '--json']).stdout) as { kind: string; message: string; environment: Record<string, string> }[];
    const updates = history.filter((u) => u.kind === 'update');
    expect(updates.map((u) => u.message)).toEqual([
      `${commit.slice(0, 12)} prod wave 3 (ap-southeast-1)`,
      `${commit.slice(0, 12)} prod wave 2 (eu-west-1)`,
      `${commit.slice(0, 12)} prod wave 1 (us-east-1)`,
    ]);
    for (const u of updates) expect(u.environment['git.head']).toBe(commit);
    for (const region of prod.regions) {
      expect(fs.readdirSync(path.join(rendered, 'prod', region.name, '1-manifest')).some((f) => f.includes('statefulset-cache-redis'))).toBe(true);
    }
  });
});
