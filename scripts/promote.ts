import { spawnSync } from 'child_process';
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, readStackFile, RegionConfig, StackConfig, validateStackConfig } from '../stacks/config/load';
import { Environment } from '../stacks/config/schema';
import { pulumiArgs, stackShortName, waveRegions } from '../stacks/pulumi-region';
import { checkWaveJobs, kubeconfigSecretName, loadWorkflow, passphraseSecretName } from './ci/workflows';

/**
 * Promotion of a commit from staging to prod, region wave by region wave. The workflows in
 * .github/workflows call the CLI at the bottom; every decision (plan, guard, health) is a pure
 * function here so it is unit-tested and the end-to-end test can drive the same steps.
 */

export const PROJECT_ROOT = path.resolve(__dirname, '..');

// ---------------------------------------------------------------------------------------------
// Plan

export type WaveAction = 'up' | 'verify' | 'skip';

export interface WavePlan {
  readonly wave: number;
  /** Region names in config order. */
  readonly regions: readonly string[];
  /** up: deploy; verify: already deployed by an earlier run, check it has no changes; skip: paused. */
  readonly action: WaveAction;
}

export interface PromotionPlan {
  readonly stack: string;
  readonly environment: Environment;
  readonly waves: readonly WavePlan[];
  /** Deploy no wave after this one (0: deploy no wave). */
  readonly pauseAfterWave?: number;
  /** Waves before this one are verified, not deployed (resuming a paused rollout). */
  readonly resumeFromWave?: number;
  /** Whether the whole-stack no-changes check runs at the end (only when every wave is deployed). */
  readonly converge: boolean;
}

export interface PlanOptions {
  readonly pauseAfterWave?: number;
  readonly resumeFromWave?: number;
}

/** The stack's waves in order (1 is the canary). */
export function stackWaves(config: StackConfig): number[] {
  return [...new Set(config.regions.map((r) => r.wave))].sort((a, b) => a - b);
}

/**
 * Parses a wave setting from a workflow input or repository variable: empty or "none" means
 * unset; otherwise a wave number between `min` and the stack's last wave.
 */
export function parseWaveSetting(name: string, value: string | undefined, min: number, lastWave: number): number | undefined {
  const text = (value ?? '').trim();
  if (text === '' || text.toLowerCase() === 'none') return undefined;
  if (!/^[0-9]+$/.test(text)) throw new Error(`${name} must be a wave number or "none" (got "${text}")`);
  const wave = Number(text);
  if (wave < min || wave > lastWave) throw new Error(`${name} must be between ${min} and ${lastWave}, the stack's last wave (got ${wave})`);
  return wave;
}

/** The ordered rollout of a stack: every wave with its regions and what to do with it. */
export function promotionPlan(config: StackConfig, opts: PlanOptions = {}): PromotionPlan {
  const waves = stackWaves(config);
  const last = waves[waves.length - 1];
  const { pauseAfterWave, resumeFromWave } = opts;
  if (pauseAfterWave !== undefined && (pauseAfterWave < 0 || pauseAfterWave > last)) {
    throw new Error(`pause after wave ${pauseAfterWave}: stack ${config.stack} has waves 1..${last}`);
  }
  if (resumeFromWave !== undefined && (resumeFromWave < 1 || resumeFromWave > last)) {
    throw new Error(`resume from wave ${resumeFromWave}: stack ${config.stack} has waves 1..${last}`);
  }
  if (pauseAfterWave !== undefined && resumeFromWave !== undefined && pauseAfterWave < resumeFromWave) {
    throw new Error(`pause after wave ${pauseAfterWave} comes before resume from wave ${resumeFromWave}: nothing would be deployed`);
  }
  const plan = waves.map((wave): WavePlan => {
    const action: WaveAction =
      resumeFromWave !== undefined && wave < resumeFromWave ? 'verify' : pauseAfterWave !== undefined && wave > pauseAfterWave ? 'skip' : 'up';
    return { wave, regions: waveRegions(config, wave).map((r) => r.name), action };
  });
  return {
    stack: config.stack,
    environment: config.environment,
    waves: plan,
    ...(pauseAfterWave !== undefined ? { pauseAfterWave } : {}),
    ...(resumeFromWave !== undefined ? { resumeFromWave } : {}),
    converge: plan.every((w) => w.action !== 'skip'),
  };
}

export function describePlan(plan: PromotionPlan): string {
  const lines = [`Rollout of stack ${plan.stack}:`];
  for (const w of plan.waves) {
    const what = { up: 'deploy', verify: 'verify (deployed earlier, expect no changes)', skip: 'paused, not deployed' }[w.action];
    lines.push(`  wave ${w.wave}${w.wave === 1 ? ' (canary)' : ''}: ${w.regions.join(', ')} -> ${what}`);
  }
  lines.push(plan.converge ? '  then: whole-stack preview, expecting no changes' : `  then: stop (paused after wave ${plan.pauseAfterWave}); resume with resume_from_wave=${(plan.pauseAfterWave ?? 0) + 1}`);
  return lines.join('\n');
}

/** Step outputs for the workflow's wave jobs: wave_<n>=up|verify|skip and converge=run|skip. */
export function planOutputs(plan: PromotionPlan): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of plan.waves) out[`wave_${w.wave}`] = w.action;
  out.converge = plan.converge ? 'run' : 'skip';
  out.waves = plan.waves.map((w) => w.wave).join(' ');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pulumi commands

export interface PulumiStep {
  readonly description: string;
  /** Arguments of `pulumi`. */
  readonly args: readonly string[];
}

function updateMessage(stack: string, commit: string | undefined, what: string): string[] {
  return ['--message', `${commit ? commit.slice(0, 12) : 'local'} ${stackShortName(stack)} ${what}`];
}

/** The pulumi commands of one wave: a targeted up then a targeted no-changes preview, or the preview alone. */
export function waveSteps(stackArg: string, wave: WavePlan, commit?: string): PulumiStep[] {
  const regions = wave.regions;
  const check: PulumiStep = {
    description: `wave ${wave.wave}: no changes left in ${regions.join(', ')}`,
    args: pulumiArgs({ command: 'preview', stack: stackArg, regions, extra: ['--expect-no-changes'] }),
  };
  if (wave.action === 'skip') return [];
  if (wave.action === 'verify') return [check];
  return [
    {
      description: `wave ${wave.wave}: deploy ${regions.join(', ')}`,
      args: pulumiArgs({ command: 'up', stack: stackArg, regions, extra: ['--yes', ...updateMessage(stackArg, commit, `wave ${wave.wave} (${regions.join(', ')})`)] }),
    },
    check,
  ];
}

export const STACK_OPERATIONS = ['preview', 'up', 'verify', 'drift'] as const;
export type StackOperation = (typeof STACK_OPERATIONS)[number];

/** Whole-stack commands: PR preview, staging deploy, post-deploy verification, nightly drift check. */
export function stackSteps(stackArg: string, operation: StackOperation, commit?: string): PulumiStep[] {
  const whole = (command: 'preview' | 'up', extra: string[]) => pulumiArgs({ command, stack: stackArg, regions: [], extra });
  switch (operation) {
    case 'preview':
      return [{ description: 'preview with diff', args: whole('preview', ['--diff', '--color', 'never']) }];
    case 'up':
      return [{ description: 'deploy the whole stack', args: whole('up', ['--yes', ...updateMessage(stackArg, commit, 'all regions')]) }];
    case 'verify':
      return [{ description: 'whole stack: no changes left', args: whole('preview', ['--expect-no-changes']) }];
    case 'drift':
      return [{ description: 'drift: refresh from the clusters, expect no changes', args: whole('preview', ['--refresh', '--expect-no-changes']) }];
  }
}

/** Whether an operation's success is also judged by the stack's health outputs. */
export function checksHealth(operation: StackOperation | WaveAction): boolean {
  return operation === 'verify' || operation === 'up';
}

// ---------------------------------------------------------------------------------------------
// Health outputs

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Boolean health flags anywhere in a region's outputs (keys such as healthy, ready, health.*) that are false. */
function failingHealthFlags(value: unknown, at: string): string[] {
  if (!isRecord(value)) return [];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const here = at ? `${at}.${key}` : key;
    if (typeof v === 'boolean' && /health|ready/i.test(here) && !v) out.push(here);
    else if (isRecord(v)) out.push(...failingHealthFlags(v, here));
  }
  return out;
}

/**
 * Checks `pulumi stack output --json` against the config: every region (of `only`, default all)
 * exports its outputs with the configured wave, a non-empty Redis endpoint and object count, and no
 * health flag is false. Returns the problems (empty when healthy).
 */
export function checkHealth(config: StackConfig, stackOutputs: unknown, only?: readonly string[]): string[] {
  const problems: string[] = [];
  const regions = isRecord(stackOutputs) ? stackOutputs.regions : undefined;
  if (!isRecord(regions)) return [`stack ${config.stack}: no "regions" output (has the stack been deployed?)`];
  const wanted = config.regions.filter((r) => !only || only.includes(r.name));
  for (const region of wanted) {
    const out = regions[region.name];
    const at = `stack ${config.stack}, region ${region.name}`;
    if (!isRecord(out)) {
      problems.push(`${at}: no outputs (region not deployed?)`);
      continue;
    }
    if (out.region !== region.name) problems.push(`${at}: output "region" is ${JSON.stringify(out.region)}`);
    if (out.wave !== region.wave) problems.push(`${at}: output "wave" is ${JSON.stringify(out.wave)}, config says ${region.wave}`);
    if (typeof out.redisEndpoint !== 'string' || !/^[^:\s]+:[0-9]+$/.test(out.redisEndpoint)) {
      problems.push(`${at}: output "redisEndpoint" is ${JSON.stringify(out.redisEndpoint)}, expected host:port`);
    }
    if (typeof out.objectCount !== 'number' || out.objectCount < 1) problems.push(`${at}: output "objectCount" is ${JSON.stringify(out.objectCount)}`);
    for (const flag of failingHealthFlags(out, '')) problems.push(`${at}: health output "${flag}" is false`);
  }
  if (!only) {
    const known = new Set(config.regions.map((r) => r.name));
    for (const name of Object.keys(regions)) {
      if (!known.has(name)) problems.push(`stack ${config.stack}: outputs name region ${name}, which is not in ${config.file}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Promotion guard: prod receives only a commit that passed staging

export const REQUIRED_STAGING_CHECKS = ['expect-no-changes', 'health'] as const;
const EVIDENCE_KIND = 'fingerprint-infra/staging-verified';

/** What the staging verification job records (as a workflow artifact) once staging passed with a commit. */
export interface StagingEvidence {
  readonly kind: typeof EVIDENCE_KIND;
  readonly version: 1;
  readonly stack: string;
  readonly environment: 'staging';
  readonly commit: string;
  readonly checks: readonly string[];
  readonly verifiedAt: string;
  readonly runId?: string;
}

const FULL_SHA = /^[0-9a-f]{40}$/;

export function stagingEvidence(config: StackConfig, commit: string, checks: readonly string[], now: Date, runId?: string): StagingEvidence {
  if (config.environment !== 'staging') throw new Error(`only a staging stack can record staging evidence (stack ${config.stack} is ${config.environment})`);
  if (!FULL_SHA.test(commit)) throw new Error(`commit must be a full 40-character SHA (got "${commit}")`);
  const missing = REQUIRED_STAGING_CHECKS.filter((c) => !checks.includes(c));
  if (missing.length) throw new Error(`staging evidence needs the checks ${REQUIRED_STAGING_CHECKS.join(', ')} (missing ${missing.join(', ')})`);
  return { kind: EVIDENCE_KIND, version: 1, stack: config.stack, environment: 'staging', commit, checks: [...checks], verifiedAt: now.toISOString(), ...(runId ? { runId } : {}) };
}

/** One entry of `pulumi stack history --json` (the fields the guard reads). */
interface HistoryEntry {
  kind?: unknown;
  result?: unknown;
  environment?: unknown;
}

export interface PromotionInput {
  /** Environment of the stack about to be deployed. */
  readonly target: Environment;
  /** The commit about to be deployed (full SHA). */
  readonly commit: string;
  /** Parsed staging evidence (any JSON; validated here). */
  readonly evidence?: unknown;
  /** Parsed `pulumi stack history --stack staging --json`. */
  readonly stagingHistory?: unknown;
}

export interface PromotionDecision {
  readonly allowed: boolean;
  readonly reasons: readonly string[];
}

/**
 * Decides whether a commit may be deployed to the target environment. Staging takes any commit
 * that passed the tests (the workflow's `needs`). Prod takes a commit only when (1) the staging
 * verification recorded evidence for exactly this commit with every required check, and (2)
 * staging's own update history shows a successful, clean `pulumi up` of this commit.
 */
export function checkPromotion(input: PromotionInput): PromotionDecision {
  if (input.target === 'staging') return { allowed: true, reasons: ['staging is the first environment: no prerequisite'] };
  const reasons: string[] = [];
  const { commit } = input;
  if (!FULL_SHA.test(commit)) reasons.push(`commit must be a full 40-character SHA (got "${commit}")`);

  const ev = input.evidence;
  if (!isRecord(ev)) {
    reasons.push('no staging evidence: the staging verification did not run or did not pass for this run');
  } else if (ev.kind !== EVIDENCE_KIND || ev.version !== 1) {
    reasons.push(`staging evidence has an unknown format (kind ${JSON.stringify(ev.kind)}, version ${JSON.stringify(ev.version)})`);
  } else {
    if (ev.environment !== 'staging') reasons.push(`evidence is from environment ${JSON.stringify(ev.environment)}, not staging`);
    if (ev.commit !== commit) reasons.push(`staging verified commit ${String(ev.commit)}, not ${commit}: only the verified commit can go to prod`);
    const checks = Array.isArray(ev.checks) ? ev.checks : [];
    const missing = REQUIRED_STAGING_CHECKS.filter((c) => !checks.includes(c));
    if (missing.length) reasons.push(`staging evidence lacks the checks: ${missing.join(', ')}`);
  }

  const history = input.stagingHistory;
  if (!Array.isArray(history)) {
    reasons.push('no staging update history (pulumi stack history --stack staging --json) to confirm the deployment');
  } else {
    const ofCommit = (history as HistoryEntry[]).filter((u) => isRecord(u.environment) && u.environment['git.head'] === commit);
    const good = ofCommit.filter((u) => u.kind === 'update' && u.result === 'succeeded');
    if (!good.length) {
      reasons.push(`staging history has no successful update of commit ${commit}${ofCommit.length ? ` (${ofCommit.length} other operation(s): ${ofCommit.map((u) => `${String(u.kind)} ${String(u.result)}`).join(', ')})` : ''}`);
    } else if (good.every((u) => isRecord(u.environment) && u.environment['git.dirty'] === 'true')) {
      reasons.push(`staging was updated with commit ${commit} only from a modified working tree (git.dirty)`);
    }
  }
  return reasons.length ? { allowed: false, reasons } : { allowed: true, reasons: [`commit ${commit} passed staging`] };
}

// ---------------------------------------------------------------------------------------------
// Kubeconfigs from repository secrets

export { kubeconfigSecretName, passphraseSecretName };

/**
 * Writes each region's kubeconfig (taken from its environment variable) to `<dir>/<region>.yaml`
 * (mode 0600) and returns the KUBECONFIG value listing them. Each must parse and define the
 * region's kubeContext. Messages name variables and contexts, never contents.
 */
export function writeKubeconfigs(stack: string, regions: readonly RegionConfig[], env: NodeJS.ProcessEnv, dir: string): string {
  const problems: string[] = [];
  const files: string[] = [];
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const region of regions) {
    const name = kubeconfigSecretName(stack, region.name);
    const text = env[name];
    if (!text) {
      problems.push(`${name} is empty: add the repository secret ${name} (the kubeconfig of ${region.name}) and map it in the workflow job`);
      continue;
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch {
      problems.push(`${name} is not valid YAML`);
      continue;
    }
    const contexts = isRecord(doc) && Array.isArray(doc.contexts) ? (doc.contexts as unknown[]).map((c) => (isRecord(c) ? c.name : undefined)) : [];
    if (!contexts.includes(region.kubeContext)) {
      problems.push(`${name} has no context "${region.kubeContext}" (the kubeContext of ${region.name}; it has: ${contexts.filter(Boolean).join(', ') || 'none'})`);
      continue;
    }
    const file = path.join(dir, `${region.name}.yaml`);
    fs.writeFileSync(file, text, { mode: 0o600 });
    files.push(file);
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return files.join(path.delimiter);
}

// ---------------------------------------------------------------------------------------------
// Preview report (job summary and pull-request comment)

/** Marks the comment of a stack's preview so a new push updates it instead of adding another. */
export function previewMarker(stack: string): string {
  return `<!-- fingerprint-infra:pulumi-preview:${stackShortName(stack)} -->`;
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/**
 * Markdown for a preview: status, the resource summary, and the diff (ANSI codes removed,
 * truncated to stay under GitHub's 65536-character comment limit).
 */
export function previewReport(stack: string, output: string, exitCode: number, opts: { commit?: string; maxChars?: number } = {}): string {
  const max = opts.maxChars ?? 60000;
  const text = output.replace(ANSI, '').replace(/\r/g, '');
  const summaryStart = text.search(/^Resources:/m);
  const summary = summaryStart >= 0 ? text.slice(summaryStart).split(/\n\s*\n/)[0].trim() : '';
  let body = text.trim();
  if (body.length > max) body = `${body.slice(0, max)}\n... (${body.length - max} more characters; see the job log)`;
  const fence = body.includes('```') ? '~~~~' : '```';
  const status = exitCode === 0 ? 'succeeded' : `**failed** (exit code ${exitCode})`;
  return [
    previewMarker(stack),
    `### Pulumi preview: \`${stackShortName(stack)}\` ${status}`,
    opts.commit ? `Commit \`${opts.commit.slice(0, 12)}\`` : '',
    summary ? `${fence}\n${summary}\n${fence}` : '',
    '<details><summary>Diff</summary>',
    '',
    `${fence}diff`,
    body,
    fence,
    '</details>',
    '',
  ]
    .filter((line, i, all) => line !== '' || all[i - 1] !== '')
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Pulumi CLI version

/**
 * The Pulumi CLI version the project uses: the npm @pulumi/pulumi version, which must equal
 * PULUMI_VERSION in scripts/pulumi-tools/versions.env (the CLI built locally) when that file exists.
 */
export function projectPulumiVersion(root = PROJECT_ROOT): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const npmVersion = pkg.dependencies?.['@pulumi/pulumi'];
  if (!npmVersion || !/^[0-9]+\.[0-9]+\.[0-9]+$/.test(npmVersion)) {
    throw new Error(`package.json: @pulumi/pulumi must be pinned to an exact version (got ${JSON.stringify(npmVersion)})`);
  }
  const envFile = path.join(root, 'scripts', 'pulumi-tools', 'versions.env');
  if (fs.existsSync(envFile)) {
    const m = /^PULUMI_VERSION=["']?([^"'\s#]+)/m.exec(fs.readFileSync(envFile, 'utf8'));
    if (m && m[1] !== npmVersion) {
      throw new Error(`scripts/pulumi-tools/versions.env PULUMI_VERSION=${m[1]} differs from package.json @pulumi/pulumi ${npmVersion}`);
    }
  }
  return npmVersion;
}

// ---------------------------------------------------------------------------------------------
// Running pulumi

export interface PulumiRunner {
  /** Runs pulumi with inherited output; returns the exit code. */
  run(args: readonly string[]): number;
  /** Runs pulumi and returns its standard output. */
  capture(args: readonly string[]): { status: number; stdout: string };
}

function spawnFailure(error: Error | undefined): number | undefined {
  if (!error) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  console.error(code === 'ENOENT' ? 'pulumi: not found on PATH (install the Pulumi CLI or build it with scripts/pulumi-tools/build.sh)' : `pulumi: ${error.message}`);
  return code === 'ENOENT' ? 127 : 1;
}

export const spawnPulumi: PulumiRunner = {
  run(args) {
    const r = spawnSync('pulumi', args, { stdio: 'inherit' });
    return spawnFailure(r.error) ?? r.status ?? 1;
  },
  capture(args) {
    const r = spawnSync('pulumi', args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return { status: spawnFailure(r.error) ?? r.status ?? 1, stdout: r.stdout ?? '' };
  },
};

const log = (line: string) => console.log(`[promote] ${line}`);

function runSteps(steps: readonly PulumiStep[], runner: PulumiRunner): void {
  for (const step of steps) {
    log(`${step.description}: pulumi ${step.args.map((a) => (/[\s$*]/.test(a) ? `'${a}'` : a)).join(' ')}`);
    const status = runner.run(step.args);
    if (status !== 0) throw new Error(`${step.description}: pulumi exited with ${status}`);
  }
}

function runHealth(config: StackConfig, stackArg: string, runner: PulumiRunner, only?: readonly string[]): void {
  const out = runner.capture(['stack', 'output', '--stack', stackArg, '--json']);
  if (out.status !== 0) throw new Error(`pulumi stack output --stack ${stackArg} exited with ${out.status}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.stdout);
  } catch {
    throw new Error(`pulumi stack output --stack ${stackArg} --json did not print JSON`);
  }
  const problems = checkHealth(config, parsed, only);
  if (problems.length) throw new Error(`health outputs:\n  - ${problems.join('\n  - ')}`);
  log(`health outputs OK for ${(only ?? config.regions.map((r) => r.name)).join(', ')}`);
}

/** Runs one wave of a plan: its pulumi commands, then the health outputs of its regions. */
export function runWave(config: StackConfig, stackArg: string, wave: WavePlan, runner: PulumiRunner, commit?: string): void {
  if (wave.action === 'skip') {
    log(`wave ${wave.wave} (${wave.regions.join(', ')}) is paused: nothing deployed`);
    return;
  }
  runSteps(waveSteps(stackArg, wave, commit), runner);
  runHealth(config, stackArg, runner, wave.regions);
}

/** Runs a whole-stack operation, then (for up and verify) the health outputs of every region. */
export function runStackOperation(config: StackConfig, stackArg: string, operation: StackOperation, runner: PulumiRunner, commit?: string): void {
  runSteps(stackSteps(stackArg, operation, commit), runner);
  if (checksHealth(operation)) runHealth(config, stackArg, runner);
}

// ---------------------------------------------------------------------------------------------
// CLI

function loadConfig(stackArg: string): StackConfig {
  return validateStackConfig(readStackFile(stackShortName(stackArg)));
}

function readJson(file: string, what: string): unknown {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new Error(`${what} ${file} is not valid JSON`);
  }
}

function appendGithubFile(file: string | undefined, entries: Record<string, string>): void {
  if (!file) return;
  fs.appendFileSync(file, Object.entries(entries).map(([k, v]) => `${k}=${v}\n`).join(''));
}

function headCommit(): string {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('git rev-parse HEAD failed: run inside the repository or pass --commit');
  return r.stdout.trim();
}

export function main(argv: string[], runner: PulumiRunner = spawnPulumi, env: NodeJS.ProcessEnv = process.env): number {
  const program = new Command().name('promote').description('Promotion of a commit through the stacks, wave by wave.').exitOverride();
  let action: (() => void) | undefined;
  const planOpts = (c: Command) =>
    c
      .requiredOption('-s, --stack <name>', 'stack (staging or prod; org/project/stack for Pulumi Cloud)')
      .option('--pause-after-wave <n>', 'deploy no wave after this one (empty or "none": no pause)')
      .option('--resume-from-wave <n>', 'verify the waves before this one instead of deploying them');
  const buildPlan = (o: { stack: string; pauseAfterWave?: string; resumeFromWave?: string }) => {
    const config = loadConfig(o.stack);
    const last = stackWaves(config).at(-1)!;
    const plan = promotionPlan(config, {
      pauseAfterWave: parseWaveSetting('pause_after_wave', o.pauseAfterWave, 0, last),
      resumeFromWave: parseWaveSetting('resume_from_wave', o.resumeFromWave, 1, last),
    });
    return { config, plan };
  };

  planOpts(program.command('plan'))
    .description('print the ordered rollout and write wave_<n>/converge step outputs')
    .option('--workflow <file>', 'check that this workflow has a job per wave', path.join(PROJECT_ROOT, '.github', 'workflows', 'deploy.yml'))
    .option('--json', 'print the plan as JSON')
    .action((o) => {
      action = () => {
        const { plan } = buildPlan(o);
        const problems = checkWaveJobs(loadWorkflow(o.workflow), plan.stack, plan.waves.map((w) => ({ wave: w.wave, regions: w.regions })));
        if (problems.length) throw new Error(`${path.relative(PROJECT_ROOT, o.workflow)} does not match the waves of ${plan.stack}:\n  - ${problems.join('\n  - ')}`);
        console.log(o.json ? JSON.stringify(plan, null, 2) : describePlan(plan));
        appendGithubFile(env.GITHUB_OUTPUT, planOutputs(plan));
        if (env.GITHUB_STEP_SUMMARY) fs.appendFileSync(env.GITHUB_STEP_SUMMARY, `\n\`\`\`\n${describePlan(plan)}\n\`\`\`\n`);
      };
    });

  program
    .command('wave')
    .description('deploy (or verify) one wave: targeted up, targeted no-changes preview, health outputs')
    .requiredOption('-s, --stack <name>', 'stack')
    .requiredOption('-w, --wave <n>', 'wave number')
    .option('--action <action>', 'up, verify or skip (from the plan job)', 'up')
    .option('--commit <sha>', 'commit being deployed (default: git HEAD)')
    .action((o) => {
      action = () => {
        const config = loadConfig(o.stack);
        if (!['up', 'verify', 'skip'].includes(o.action)) throw new Error(`--action must be up, verify or skip (got "${o.action}")`);
        const regions = waveRegions(config, Number(o.wave)).map((r) => r.name);
        runWave(config, o.stack, { wave: Number(o.wave), regions, action: o.action as WaveAction }, runner, o.commit ?? headCommit());
      };
    });

  program
    .command('stack')
    .description('whole-stack operation: preview, up, verify (no changes + health) or drift (refresh, no changes)')
    .requiredOption('-s, --stack <name>', 'stack')
    .requiredOption('-o, --operation <op>', STACK_OPERATIONS.join(', '))
    .option('--commit <sha>', 'commit being deployed (default: git HEAD)')
    .action((o) => {
      action = () => {
        if (!(STACK_OPERATIONS as readonly string[]).includes(o.operation)) throw new Error(`--operation must be one of ${STACK_OPERATIONS.join(', ')}`);
        runStackOperation(loadConfig(o.stack), o.stack, o.operation as StackOperation, runner, o.operation === 'up' ? (o.commit ?? headCommit()) : o.commit);
      };
    });

  program
    .command('record')
    .description('record that staging passed with a commit (after verify succeeded)')
    .requiredOption('-s, --stack <name>', 'the staging stack')
    .requiredOption('--out <file>', 'evidence file to write')
    .option('--commit <sha>', 'verified commit (default: git HEAD)')
    .option('--checks <list>', 'checks that passed, comma-separated', REQUIRED_STAGING_CHECKS.join(','))
    .action((o) => {
      action = () => {
        const evidence = stagingEvidence(loadConfig(o.stack), o.commit ?? headCommit(), String(o.checks).split(','), new Date(), env.GITHUB_RUN_ID);
        fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
        fs.writeFileSync(o.out, `${JSON.stringify(evidence, null, 2)}\n`);
        log(`recorded: ${evidence.stack} verified ${evidence.commit}`);
      };
    });

  program
    .command('guard')
    .description('refuse to deploy a commit to a stack unless it passed staging')
    .requiredOption('-s, --stack <name>', 'stack about to be deployed')
    .option('--commit <sha>', 'commit about to be deployed (default: git HEAD)')
    .option('--evidence <file>', 'staging evidence file', 'staging-verified/staging-verified.json')
    .option('--staging-history <file>', 'output of pulumi stack history --stack staging --json', 'staging-history.json')
    .action((o) => {
      action = () => {
        const config = loadConfig(o.stack);
        const decision = checkPromotion({
          target: config.environment,
          commit: o.commit ?? headCommit(),
          evidence: readJson(o.evidence, 'evidence'),
          stagingHistory: readJson(o.stagingHistory, 'staging history'),
        });
        for (const r of decision.reasons) log(`${decision.allowed ? 'ok' : 'REFUSED'}: ${r}`);
        if (!decision.allowed) throw new Error(`promotion to ${config.stack} refused`);
      };
    });

  program
    .command('kubeconfig')
    .description('write the regions\' kubeconfigs from KUBECONFIG_<STACK>_<REGION> variables and export KUBECONFIG')
    .requiredOption('-s, --stack <name>', 'stack')
    .option('-w, --wave <n>', 'only the regions of this wave')
    .option('--dir <dir>', 'where to write them', path.join(env.RUNNER_TEMP ?? '.tools', 'kube'))
    .action((o) => {
      action = () => {
        const config = loadConfig(o.stack);
        const regions = o.wave ? waveRegions(config, Number(o.wave)) : config.regions;
        const value = writeKubeconfigs(o.stack, regions, env, o.dir);
        appendGithubFile(env.GITHUB_ENV, { KUBECONFIG: value });
        log(`kubeconfigs written for ${regions.map((r) => r.name).join(', ')}`);
      };
    });

  program
    .command('preview-report')
    .description('markdown report of a preview for the job summary and the pull-request comment')
    .requiredOption('-s, --stack <name>', 'stack')
    .requiredOption('--input <file>', 'captured preview output')
    .requiredOption('--exit-code <n>', 'exit code of the preview')
    .requiredOption('--out <file>', 'markdown file to write')
    .option('--commit <sha>', 'commit previewed')
    .action((o) => {
      action = () => {
        const text = fs.existsSync(o.input) ? fs.readFileSync(o.input, 'utf8') : '(no output captured)';
        fs.writeFileSync(o.out, previewReport(o.stack, text, Number(o.exitCode), { commit: o.commit }));
      };
    });

  program
    .command('pulumi-version')
    .description('print the Pulumi CLI version the project pins')
    .action(() => {
      action = () => console.log(projectPulumiVersion());
    });

  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 2;
  }
  if (!action) return 2;
  try {
    action();
    return 0;
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : `promote: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
