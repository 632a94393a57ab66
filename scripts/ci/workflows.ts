import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';

/**
 * The GitHub Actions workflows as data, and the gates the promotion depends on, each check
 * returning the problems it finds ("<file>: job <id>: ..."). The workflow tests assert that the
 * real workflows have none; `promote.ts plan` re-checks the wave jobs before every rollout.
 */

export interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly env?: Readonly<Record<string, unknown>>;
  readonly with?: Readonly<Record<string, unknown>>;
}

export interface Job {
  readonly name?: string;
  readonly needs?: string | readonly string[];
  readonly if?: string;
  readonly environment?: string | { readonly name?: string };
  readonly permissions?: string | Readonly<Record<string, string>>;
  readonly concurrency?: string | { readonly group?: string; readonly 'cancel-in-progress'?: boolean | string };
  readonly outputs?: Readonly<Record<string, string>>;
  readonly steps?: readonly Step[];
  /** Reusable workflow call. */
  readonly uses?: string;
  readonly with?: Readonly<Record<string, unknown>>;
  readonly secrets?: string | Readonly<Record<string, string>>;
}

export interface Workflow {
  /** Path relative to the repository root. */
  readonly file: string;
  readonly text: string;
  readonly on: Readonly<Record<string, unknown>>;
  readonly permissions?: string | Readonly<Record<string, string>>;
  readonly jobs: Readonly<Record<string, Job>>;
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const WORKFLOWS_DIR = path.join(REPO_ROOT, '.github', 'workflows');

function normalizeOn(on: unknown): Record<string, unknown> {
  if (typeof on === 'string') return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [String(e), null]));
  return (on as Record<string, unknown>) ?? {};
}

export function parseWorkflow(file: string, text: string): Workflow {
  const doc = parseYaml(text) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new Error(`${file}: not a YAML mapping`);
  return {
    file,
    text,
    on: normalizeOn(doc.on),
    permissions: doc.permissions as Workflow['permissions'],
    jobs: (doc.jobs as Workflow['jobs']) ?? {},
  };
}

export function loadWorkflow(file: string): Workflow {
  return parseWorkflow(path.relative(REPO_ROOT, path.resolve(file)), fs.readFileSync(file, 'utf8'));
}

export function loadWorkflows(dir = WORKFLOWS_DIR): Workflow[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => loadWorkflow(path.join(dir, f)));
}

export function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : typeof job.needs === 'string' ? [job.needs] : [...job.needs];
}

/** Every job a job waits for, directly or through other jobs. */
export function transitiveNeeds(wf: Workflow, jobId: string): Set<string> {
  const seen = new Set<string>();
  const visit = (id: string) => {
    for (const n of needsOf(wf.jobs[id] ?? {})) {
      if (!seen.has(n)) {
        seen.add(n);
        visit(n);
      }
    }
  };
  visit(jobId);
  return seen;
}

export function environmentOf(job: Job): string | undefined {
  return typeof job.environment === 'string' ? job.environment : job.environment?.name;
}

function concurrencyOf(job: Job): { group?: string; cancel: boolean } | undefined {
  if (job.concurrency === undefined) return undefined;
  if (typeof job.concurrency === 'string') return { group: job.concurrency, cancel: false };
  const cancel = job.concurrency['cancel-in-progress'];
  return { group: job.concurrency.group, cancel: cancel === true || cancel === 'true' };
}

/** The shell scripts of a job's steps. */
export function runText(job: Job): string {
  return (job.steps ?? []).map((s) => s.run ?? '').join('\n');
}

/** The local reusable workflow a job calls, loaded (undefined for ordinary jobs). */
export function calledWorkflow(job: Job, root = REPO_ROOT): Workflow | undefined {
  if (!job.uses?.startsWith('./')) return undefined;
  return loadWorkflow(path.join(root, job.uses));
}

/**
 * Commands that change a stack or a cluster: pulumi up/destroy/refresh/import/state/cancel, the
 * npm `up` wrapper, and the promote subcommands that run them.
 */
const MUTATING = [
  /\bpulumi\s+(up|update|destroy|refresh|import|cancel|state|stack\s+(rm|import|tag\s+set))\b/,
  /\bnpm\s+run\s+up\b/,
  /pulumi-region\.ts\s+up\b/,
  /promote\.ts\s+wave\b/,
  /promote\.ts\s+stack\b[^\n]*--operation\s+up\b/,
];

export function mutatingCommands(script: string): string[] {
  return MUTATING.flatMap((re) => {
    const m = re.exec(script);
    return m ? [m[0]] : [];
  });
}

const PROMOTE = /promote\.ts\s+([a-z-]+)([^\n]*)/g;

/** `promote.ts <command> ...` invocations of a step, with their options as a map. */
export function promoteCalls(step: Step): { command: string; opts: Record<string, string> }[] {
  const out: { command: string; opts: Record<string, string> }[] = [];
  for (const m of (step.run ?? '').matchAll(PROMOTE)) {
    const opts: Record<string, string> = {};
    for (const o of m[2].matchAll(/--([a-z-]+)(?:\s+("[^"]*"|[^\s-][^\s]*))?/g)) opts[o[1]] = (o[2] ?? 'true').replace(/^"|"$/g, '');
    out.push({ command: m[1], opts });
  }
  return out;
}

function stepIndex(job: Job, pred: (call: { command: string; opts: Record<string, string> }) => boolean): number {
  return (job.steps ?? []).findIndex((s) => promoteCalls(s).some(pred));
}

// ---------------------------------------------------------------------------------------------
// Pinned actions

const FULL_SHA_REF = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[^@\s]+)?@[0-9a-f]{40}$/;

/**
 * Every `uses:` of a workflow or composite action file: local (./...) is fine; anything else must
 * be pinned to a full commit SHA with the release it is in as a comment (`# vX.Y.Z`).
 */
export function unpinnedActions(file: string, text: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?\s*(#.*)?$/.exec(line);
    if (!m) return;
    const [, ref, comment] = m;
    if (ref.startsWith('./')) return;
    if (ref.startsWith('docker://')) {
      if (!/@sha256:[0-9a-f]{64}$/.test(ref)) problems.push(`${file}:${i + 1}: ${ref} must be pinned to an image digest`);
      return;
    }
    if (!FULL_SHA_REF.test(ref)) problems.push(`${file}:${i + 1}: ${ref} must be pinned to a full 40-character commit SHA`);
    else if (!comment || !/^#\s*v[0-9]+\.[0-9]+\.[0-9]+\b/.test(comment)) problems.push(`${file}:${i + 1}: ${ref} needs the exact release as a comment (# vX.Y.Z)`);
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Gates

export interface StackRegions {
  readonly stack: string;
  readonly regions: readonly { readonly name: string; readonly wave: number }[];
}

/** Repository secret (and environment variable) holding a region's kubeconfig, e.g. KUBECONFIG_PROD_US_EAST_1. */
export function kubeconfigSecretName(stack: string, region: string): string {
  return `KUBECONFIG_${stack.split('/').pop()}_${region}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Repository secret holding a stack's config passphrase, e.g. PULUMI_CONFIG_PASSPHRASE_PROD. */
export function passphraseSecretName(stack: string): string {
  return `PULUMI_CONFIG_PASSPHRASE_${stack.split('/').pop()}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function waveJobId(stack: string, wave: number): string {
  return `${stack}-wave-${wave}`;
}

/**
 * The wave jobs of a stack follow its config: one job `<stack>-wave-<n>` per wave and no other,
 * each deploying its own wave, waiting for the previous wave (wave 1 for the staging verification),
 * gated by the plan job's output, holding exactly its regions' kubeconfigs; `<stack>-verify` waits
 * for the last wave.
 */
export function checkWaveJobs(wf: Workflow, stack: string, waves: readonly { wave: number; regions: readonly string[] }[]): string[] {
  const problems: string[] = [];
  const at = (job: string, msg: string) => problems.push(`${wf.file}: job ${job}: ${msg}`);
  const planOutputs = wf.jobs.plan?.outputs ?? {};
  const expected = new Set(waves.map((w) => waveJobId(stack, w.wave)));
  for (const id of Object.keys(wf.jobs)) {
    if (id.startsWith(`${stack}-wave-`) && !expected.has(id)) at(id, `there is no wave ${id.slice(stack.length + 6)} in the ${stack} config (waves: ${waves.map((w) => w.wave).join(', ')})`);
  }
  waves.forEach((w, i) => {
    const id = waveJobId(stack, w.wave);
    const job = wf.jobs[id];
    const output = `wave_${w.wave}`;
    if (!(output in planOutputs)) at('plan', `must output ${output}`);
    if (!job) {
      at(id, `missing: wave ${w.wave} (${w.regions.join(', ')}) of ${stack} has no job`);
      return;
    }
    const previous = i === 0 ? `staging-verify` : waveJobId(stack, waves[i - 1].wave);
    if (!needsOf(job).includes(previous)) at(id, `must need ${previous} (waves run in config order)`);
    if (stepIndex(job, (c) => c.command === 'wave' && c.opts.stack === stack && c.opts.wave === String(w.wave)) < 0) {
      at(id, `must run promote.ts wave --stack ${stack} --wave ${w.wave}`);
    }
    if (!job.if?.includes(`needs.plan.outputs.${output}`)) at(id, `must be skipped by needs.plan.outputs.${output} (pause after a wave)`);
    if (!needsOf(job).includes('plan')) at(id, 'must need plan');
    const kube = kubeconfigStep(job, stack);
    const want = w.regions.map((r) => kubeconfigSecretName(stack, r)).sort();
    if (!kube) at(id, `must write the kubeconfigs of wave ${w.wave} (promote.ts kubeconfig --stack ${stack} --wave ${w.wave})`);
    else {
      const got = Object.keys(kube.env ?? {}).filter((k) => k.startsWith('KUBECONFIG_')).sort();
      if (JSON.stringify(got) !== JSON.stringify(want)) at(id, `must hold exactly the kubeconfigs of wave ${w.wave}: ${want.join(', ')} (has ${got.join(', ') || 'none'})`);
    }
  });
  const verify = wf.jobs[`${stack}-verify`];
  const last = waves.length ? waveJobId(stack, waves[waves.length - 1].wave) : undefined;
  if (!verify) at(`${stack}-verify`, 'missing: the whole-stack no-changes check after the last wave');
  else if (last && !needsOf(verify).includes(last)) at(`${stack}-verify`, `must need ${last}, the last wave`);
  return problems;
}

function kubeconfigStep(job: Job, stack: string): Step | undefined {
  return (job.steps ?? []).find((s) => promoteCalls(s).some((c) => c.command === 'kubeconfig' && c.opts.stack === stack));
}

/**
 * Every `promote.ts kubeconfig` step maps exactly the kubeconfig secrets of the regions it writes
 * (the whole stack, or one wave), each variable from the secret of the same name.
 */
export function checkKubeconfigSteps(wf: Workflow, stacks: readonly StackRegions[]): string[] {
  const problems: string[] = [];
  for (const [id, job] of Object.entries(wf.jobs)) {
    for (const step of job.steps ?? []) {
      for (const call of promoteCalls(step).filter((c) => c.command === 'kubeconfig')) {
        const stack = stacks.find((s) => s.stack === call.opts.stack);
        if (!stack) {
          problems.push(`${wf.file}: job ${id}: kubeconfig for unknown stack ${call.opts.stack}`);
          continue;
        }
        const regions = stack.regions.filter((r) => call.opts.wave === undefined || String(r.wave) === call.opts.wave);
        const want = regions.map((r) => kubeconfigSecretName(stack.stack, r.name)).sort();
        const env = step.env ?? {};
        const got = Object.keys(env).filter((k) => k.startsWith('KUBECONFIG_')).sort();
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          problems.push(`${wf.file}: job ${id}: kubeconfig step must map ${want.join(', ')} (has ${got.join(', ') || 'none'})`);
        }
        for (const k of got) {
          if (env[k] !== `\${{ secrets.${k} }}`) problems.push(`${wf.file}: job ${id}: ${k} must come from the repository secret of the same name`);
        }
      }
    }
  }
  return problems;
}

/** Triggers that run code from a pull request. */
const PR_TRIGGERS = ['pull_request', 'pull_request_target'];

/** Nothing triggered by a pull request deploys, directly or through a called workflow. */
export function checkNoDeployOnPullRequest(workflows: readonly Workflow[], root = REPO_ROOT): string[] {
  const problems: string[] = [];
  const visit = (wf: Workflow, via: string) => {
    for (const [id, job] of Object.entries(wf.jobs)) {
      const called = calledWorkflow(job, root);
      if (called) visit(called, `${via} -> ${wf.file}: job ${id}`);
      for (const cmd of mutatingCommands(runText(job))) problems.push(`${wf.file}: job ${id} (${via}): runs "${cmd}" on a pull request`);
      if (environmentOf(job)) problems.push(`${wf.file}: job ${id} (${via}): uses environment ${environmentOf(job)} on a pull request`);
    }
  };
  for (const wf of workflows) {
    if (Object.keys(wf.on).some((t) => PR_TRIGGERS.includes(t))) visit(wf, wf.file);
  }
  return problems;
}

/**
 * The deploy workflow's gates: it runs on pushes to main (or by hand), never on pull requests;
 * staging is deployed after the checks and verified; every prod job needs the staging
 * verification and the checks, uses the protected `production` environment, and each wave job runs
 * the promotion guard before deploying; the wave jobs follow the prod config; jobs that touch a
 * stack never overlap.
 */
export function checkDeployGates(wf: Workflow, stacks: readonly StackRegions[]): string[] {
  const problems: string[] = [];
  const at = (job: string, msg: string) => problems.push(`${wf.file}: job ${job}: ${msg}`);
  const push = wf.on.push as { branches?: string[] } | null | undefined;
  if (!push || JSON.stringify(push.branches) !== JSON.stringify(['main'])) problems.push(`${wf.file}: must run on push to main only (on.push.branches: [main])`);
  for (const t of Object.keys(wf.on)) {
    if (!['push', 'workflow_dispatch'].includes(t)) problems.push(`${wf.file}: must not run on ${t}`);
  }

  const stagingDeploy = wf.jobs['staging-deploy'];
  const stagingVerify = wf.jobs['staging-verify'];
  if (!stagingDeploy) at('staging-deploy', 'missing');
  else {
    if (!transitiveNeeds(wf, 'staging-deploy').has('checks')) at('staging-deploy', 'must need checks (tests pass before anything deploys)');
    if (stepIndex(stagingDeploy, (c) => c.command === 'stack' && c.opts.stack === 'staging' && c.opts.operation === 'up') < 0) at('staging-deploy', 'must run promote.ts stack --stack staging --operation up');
  }
  if (!stagingVerify) at('staging-verify', 'missing');
  else {
    if (!needsOf(stagingVerify).includes('staging-deploy')) at('staging-verify', 'must need staging-deploy');
    const verify = stepIndex(stagingVerify, (c) => c.command === 'stack' && c.opts.stack === 'staging' && c.opts.operation === 'verify');
    const record = stepIndex(stagingVerify, (c) => c.command === 'record' && c.opts.stack === 'staging');
    if (verify < 0) at('staging-verify', 'must run promote.ts stack --stack staging --operation verify');
    if (record < 0 || record < verify) at('staging-verify', 'must record the verified commit after the verification');
    if (!(stagingVerify.steps ?? []).some((s) => s.uses?.startsWith('actions/upload-artifact@') && s.with?.name === 'staging-verified')) {
      at('staging-verify', 'must upload the staging-verified artifact');
    }
  }

  for (const [id, job] of Object.entries(wf.jobs)) {
    const text = runText(job);
    const touchesProd = id.startsWith('prod-') || /--stack\s+prod\b/.test(text);
    if (touchesProd && !/^prod-/.test(id) && id !== 'plan') at(id, 'works on prod but is not a prod-* job');
    if (id.startsWith('prod-')) {
      if (environmentOf(job) !== 'production') at(id, 'must use the protected environment "production"');
      const needs = transitiveNeeds(wf, id);
      for (const n of ['checks', 'staging-deploy', 'staging-verify']) if (!needs.has(n)) at(id, `must need ${n}`);
      const wave = stepIndex(job, (c) => c.command === 'wave');
      if (wave >= 0) {
        const guard = stepIndex(job, (c) => c.command === 'guard' && c.opts.stack === 'prod');
        if (guard < 0 || guard > wave) at(id, 'must run the promotion guard (promote.ts guard --stack prod) before the wave');
      }
    }
  }
  const prod = stacks.find((s) => s.stack === 'prod');
  if (prod) {
    const waves = [...new Set(prod.regions.map((r) => r.wave))].sort((a, b) => a - b);
    problems.push(...checkWaveJobs(wf, 'prod', waves.map((w) => ({ wave: w, regions: prod.regions.filter((r) => r.wave === w).map((r) => r.name) }))));
  }
  problems.push(...checkKubeconfigSteps(wf, stacks), ...checkStackConcurrency(wf, stacks));
  return problems;
}

/**
 * Jobs that deploy a stack, verify it or check it for drift never overlap with one another:
 * concurrency group `pulumi-<stack>`, and a running deploy is never cancelled.
 */
export function checkStackConcurrency(wf: Workflow, stacks: readonly StackRegions[]): string[] {
  const problems: string[] = [];
  for (const [id, job] of Object.entries(wf.jobs)) {
    for (const s of stacks) {
      const touches = (job.steps ?? []).some((step) =>
        promoteCalls(step).some((c) => ['stack', 'wave'].includes(c.command) && c.opts.stack === s.stack && c.opts.operation !== 'preview'),
      );
      if (!touches) continue;
      const conc = concurrencyOf(job);
      if (conc?.group !== `pulumi-${s.stack}`) problems.push(`${wf.file}: job ${id}: must be in concurrency group pulumi-${s.stack} (got ${conc?.group ?? 'none'})`);
      else if (conc.cancel) problems.push(`${wf.file}: job ${id}: must not cancel a deploy in progress (cancel-in-progress: false)`);
    }
  }
  return problems;
}

/** Least privilege: no broad token scopes; every job declares its own permissions. */
export function checkPermissions(wf: Workflow): string[] {
  const problems: string[] = [];
  const broad = (p: Workflow['permissions']) => typeof p === 'string';
  if (wf.permissions === undefined) problems.push(`${wf.file}: must set top-level permissions (e.g. {} or contents: read)`);
  else if (broad(wf.permissions)) problems.push(`${wf.file}: top-level permissions must list scopes, not ${String(wf.permissions)}`);
  else if (Object.values(wf.permissions as Record<string, string>).some((v) => v === 'write')) problems.push(`${wf.file}: top-level permissions must not grant write`);
  for (const [id, job] of Object.entries(wf.jobs)) {
    if (job.permissions === undefined) problems.push(`${wf.file}: job ${id}: must declare its permissions`);
    else if (broad(job.permissions)) problems.push(`${wf.file}: job ${id}: permissions must list scopes, not ${String(job.permissions)}`);
  }
  return problems;
}

/** Write scopes granted anywhere, as "<file>: <job>: <scope>". */
export function writeScopes(wf: Workflow): string[] {
  return Object.entries(wf.jobs).flatMap(([id, job]) =>
    typeof job.permissions === 'object' ? Object.entries(job.permissions).filter(([, v]) => v === 'write').map(([k]) => `${wf.file}: ${id}: ${k}`) : [],
  );
}

/**
 * Credentials only from repository secrets with the expected names, passed through `env:` (never
 * expanded inside a script) and never all at once.
 */
export function checkSecrets(wf: Workflow, stacks: readonly StackRegions[], declared: readonly string[] = []): string[] {
  const problems: string[] = [];
  const allowed = new Set<string>(['PULUMI_BACKEND_URL', 'PULUMI_ACCESS_TOKEN', ...declared]);
  for (const s of stacks) {
    allowed.add(passphraseSecretName(s.stack));
    for (const r of s.regions) allowed.add(kubeconfigSecretName(s.stack, r.name));
  }
  for (const m of wf.text.matchAll(/secrets\.([A-Za-z0-9_]+)/g)) {
    if (!allowed.has(m[1])) problems.push(`${wf.file}: unexpected secret ${m[1]}`);
  }
  if (/secrets\s*\[|toJSON\(\s*secrets\s*\)|secrets:\s*inherit/.test(wf.text)) problems.push(`${wf.file}: secrets must be named one by one (no secrets[...], toJSON(secrets) or secrets: inherit)`);
  for (const [id, job] of Object.entries(wf.jobs)) {
    for (const step of job.steps ?? []) {
      const passphrase = /^\$\{\{ secrets\.([A-Z0-9_]+) \}\}$/.exec(String(step.env?.PULUMI_CONFIG_PASSPHRASE ?? ''))?.[1];
      for (const call of promoteCalls(step)) {
        const stack = stacks.find((st) => st.stack === call.opts.stack);
        if (passphrase && stack && passphrase !== passphraseSecretName(stack.stack)) {
          problems.push(`${wf.file}: job ${id}: ${call.command} --stack ${stack.stack} must get the passphrase from ${passphraseSecretName(stack.stack)} (not ${passphrase})`);
        }
      }
      if (/\$\{\{[^}]*secrets\./.test(step.run ?? '')) problems.push(`${wf.file}: job ${id}: step "${step.name ?? step.run}" expands a secret inside its script; pass it through env`);
    }
  }
  return problems;
}
