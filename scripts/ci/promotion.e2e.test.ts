import { execFileSync, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { readStackFile, StackConfig, validateStackConfig } from '../../stacks/config/load';
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
import { REPO_ROOT } from './workflows';

/**
 * The promotion with the real Pulumi engine (built by scripts/pulumi-tools/build.sh) on a local
 * file backend, with the Kubernetes providers in render mode (YAML files instead of a cluster):
 * staging up and verified, the guard, prod paused after the canary, resumed, converged.
 *
 * It runs on a copy of the project committed to a throwaway git repository, so the engine records
 * a clean `git.head` for the guard to check and the real stack files stay untouched.
 *
 * The random provider (RandomPassword) cannot be built offline (scripts/pulumi-tools/versions.env),
 * so a stand-in plugin with the same resource type serves it: a Node provider that returns random
 * passwords. Everything else is the real engine, language host and Kubernetes provider.
 */

const BIN = path.join(REPO_ROOT, '.tools', 'bin');
const ENGINE = ['pulumi', 'pulumi-language-nodejs', 'pulumi-resource-kubernetes'];

jest.setTimeout(40 * 60 * 1000);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'promotion-e2e-'));
const project = path.join(tmp, 'project');
const rendered = path.join(tmp, 'rendered');
const transcript: string[] = [];

const standIns = path.join(tmp, 'bin');

const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: [standIns, BIN, process.env.PATH ?? ''].join(path.delimiter),
  PULUMI_HOME: path.join(tmp, 'pulumi-home'),
  PULUMI_BACKEND_URL: `file://${path.join(tmp, 'state')}`,
  // A throwaway passphrase for throwaway stacks.
  PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString('hex'),
  PULUMI_SKIP_UPDATE_CHECK: 'true',
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  // `npm test` typechecks the program already; the engine runs it 20 times here.
  PULUMI_NODEJS_TRANSPILE_ONLY: 'true',
};
for (const key of Object.keys(env)) if (key.startsWith('GITHUB_') || key === 'CI') delete env[key];

function pulumi(args: readonly string[]): { status: number; stdout: string } {
  const r = spawnSync('pulumi', args, { cwd: project, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  transcript.push(`$ pulumi ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`);
  return { status: r.status ?? 1, stdout: r.stdout ?? '' };
}

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

/** `pulumi-resource-random` for random:index/randomPassword:RandomPassword: create draws a password, same inputs mean no change. */
function writeRandomStandIn(): void {
  fs.mkdirSync(standIns, { recursive: true });
  const file = path.join(standIns, 'pulumi-resource-random');
  const providerModule = JSON.stringify(path.join(REPO_ROOT, 'node_modules', '@pulumi', 'pulumi', 'provider'));
  fs.writeFileSync(
    file,
    `#!/usr/bin/env node
const { randomBytes, randomUUID } = require('crypto');
const provider = require(${providerModule});
const INPUTS = ['length', 'special', 'upper', 'lower', 'numeric', 'minUpper', 'minLower', 'minNumeric', 'minSpecial', 'overrideSpecial', 'keepers'];
const same = (olds, news) => INPUTS.every((k) => JSON.stringify(olds[k]) === JSON.stringify(news[k]));
provider.main({
  version: '4.21.2',
  async create(urn, inputs) {
    const result = randomBytes(inputs.length).toString('base64').replace(/[^A-Za-z0-9]/g, '').padEnd(inputs.length, 'x').slice(0, inputs.length);
    return { id: randomUUID(), outs: { ...inputs, result } };
  },
  async diff(id, urn, olds, news) {
    return same(olds, news) ? { changes: false } : { changes: true, replaces: INPUTS.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k])), deleteBeforeReplace: false };
  },
  async read(id, urn, props) { return { id, props }; },
  async delete() {},
}, process.argv.slice(2));
`,
    { mode: 0o755 },
  );
}

/** The project's files (tracked and new, without ignored ones) copied, node_modules linked. */
function copyProject(): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT })
    .toString()
    .split('\0')
    // Stack files are written by writeStackFile.
    .filter((f) => f && !/^Pulumi\.[^/.]+\.yaml$/.test(f));
  for (const f of files) {
    const src = path.join(REPO_ROOT, f);
    if (!fs.existsSync(src) || fs.statSync(src).isDirectory()) continue;
    fs.mkdirSync(path.dirname(path.join(project, f)), { recursive: true });
    fs.copyFileSync(src, path.join(project, f));
  }
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(project, 'node_modules'), 'dir');
}

/**
 * The real stack file with render mode on, and the Redis password taken from secret config (the
 * random provider is not among the engine binaries built offline).
 */
function writeStackFile(stack: string): void {
  const doc = parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as { config: Record<string, any> };
  const config = doc.config;
  config['fingerprint-infra:deploy'] = { ...(config['fingerprint-infra:deploy'] ?? {}), renderYamlToDirectory: path.join(rendered, stack) };
  config['fingerprint-infra:redis'] = { ...(config['fingerprint-infra:redis'] ?? {}), passwordSource: 'config' };
  fs.writeFileSync(path.join(project, `Pulumi.${stack}.yaml`), stringify(doc));
}

function renderedRegions(stack: string): string[] {
  const dir = path.join(rendered, stack);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((r) => fs.readdirSync(path.join(dir, r)).length > 0).sort() : [];
}

let commit: string;
let staging: StackConfig;
let prod: StackConfig;

beforeAll(() => {
  // scripts/setup.sh builds them; building here too keeps a lone `npx jest` of this file working.
  if (ENGINE.some((b) => !fs.existsSync(path.join(BIN, b)))) {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'pulumi-tools', 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const missing = ENGINE.filter((b) => !fs.existsSync(path.join(BIN, b)));
  if (missing.length) throw new Error(`missing engine binaries in .tools/bin: ${missing.join(', ')} (build them: bash scripts/pulumi-tools/build.sh)`);
  fs.mkdirSync(path.join(tmp, 'state'));
  writeRandomStandIn();
  copyProject();
  for (const stack of ['staging', 'prod']) {
    writeStackFile(stack);
    step(`stack init ${stack}`, () => {
      if (pulumi(['stack', 'init', stack, '--secrets-provider', 'passphrase']).status !== 0) throw new Error('failed');
      if (pulumi(['config', 'set', '--secret', '--stack', stack, 'redisPassword', randomBytes(24).toString('hex')]).status !== 0) throw new Error('failed');
    });
  }
  fs.writeFileSync(path.join(project, '.gitignore'), 'node_modules\n', { flag: 'a' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'promotion e2e');
  commit = git('rev-parse', 'HEAD');
  staging = validateStackConfig(readStackFile('staging', project));
  prod = validateStackConfig(readStackFile('prod', project));
});

afterAll(() => {
  // Failures carry the engine's output; PROMOTION_E2E_KEEP=1 keeps the whole run for inspection.
  if (process.env.PROMOTION_E2E_KEEP) {
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
