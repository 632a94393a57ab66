import { execFileSync, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineEvent, LocalWorkspace, OpType, PulumiCommand, Stack } from '@pulumi/pulumi/automation';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { readStackFile, StackConfig, validateStackConfig } from '../../stacks/config/load';
import { synthesizeRegion } from '../../stacks/render-core';

/**
 * Shared machinery of the end-to-end suites: the real Pulumi engine (CLI, language host and
 * Kubernetes provider from .tools/bin or PATH) driven through the Automation API, on a file://
 * backend in a temp dir, with the Kubernetes providers in render mode. The repository's stack files
 * are only read: each suite works on copies in its own temp project.
 */

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const TOOLS_BIN = path.join(REPO_ROOT, '.tools', 'bin');
export const POLICY_PACK = path.join(REPO_ROOT, 'policy');
/** What the engine needs for this program; pulumi-resource-random is deliberately not among them. */
export const ENGINE_BINARIES = ['pulumi', 'pulumi-language-nodejs', 'pulumi-resource-kubernetes'] as const;

/** Engine operations take 10-60 s each on a 2-core machine; a suite runs about a dozen. */
export const E2E_TIMEOUT_MS = 30 * 60 * 1000;

/** PATH of every engine process: the built binaries first, so they win over anything installed. */
export function enginePath(): string {
  return [TOOLS_BIN, process.env.PATH ?? ''].join(path.delimiter);
}

function which(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The engine binaries, from .tools/bin or PATH. Missing ones are an error, never a skip: the suite
 * is part of `npm test`, and a machine that cannot run it must say so.
 */
export function requireEngine(searchPath = enginePath()): Record<(typeof ENGINE_BINARIES)[number], string> {
  const found = Object.fromEntries(ENGINE_BINARIES.map((name) => [name, which(name, searchPath)])) as Record<(typeof ENGINE_BINARIES)[number], string | undefined>;
  const missing = ENGINE_BINARIES.filter((name) => !found[name]);
  if (missing.length) {
    throw new Error(
      `Pulumi engine binaries not found in ${path.relative(REPO_ROOT, TOOLS_BIN)} or on PATH: ${missing.join(', ')}. ` +
        'Build them with `npm run setup` (runs scripts/pulumi-tools/build.sh), or put an installed Pulumi CLI and its plugins on PATH.',
    );
  }
  return found as Record<(typeof ENGINE_BINARIES)[number], string>;
}

export function randomSecret(): string {
  return randomBytes(24).toString('hex');
}

/** Environment every engine process of a suite gets (on top of the test process's). */
export function engineEnv(tmp: string): Record<string, string> {
  return {
    PATH: enginePath(),
    PULUMI_HOME: path.join(tmp, 'pulumi-home'),
    PULUMI_BACKEND_URL: `file://${path.join(tmp, 'state')}`,
    // Throwaway stacks, throwaway passphrase.
    PULUMI_CONFIG_PASSPHRASE: randomSecret(),
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    // Plugins on PATH are "ambient" plugins; they must not be ignored.
    PULUMI_IGNORE_AMBIENT_PLUGINS: 'false',
    // `npm test` typechecks the program; the engine runs it a dozen times per suite.
    PULUMI_NODEJS_TRANSPILE_ONLY: 'true',
  };
}

// ---------------------------------------------------------------------------------------------
// Stack files.

const STACK_FILE_ENCRYPTION_KEYS = ['encryptionsalt', 'secretsprovider', 'encryptedkey'];

/** A config key (or a path inside an object key) whose value is secret. */
export interface SecretKey {
  readonly key: string;
  readonly path?: string;
}

/**
 * A copy of a stack file for a throwaway stack: its own secrets provider, and `secure:` values
 * (encrypted for another passphrase) removed and listed, to be set again with fresh values.
 */
export function stackFileCopy(text: string): { text: string; secrets: SecretKey[] } {
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  for (const key of STACK_FILE_ENCRYPTION_KEYS) delete doc[key];
  const config = (doc.config ?? {}) as Record<string, unknown>;
  const secrets: SecretKey[] = [];
  const isSecure = (v: unknown) => v !== null && typeof v === 'object' && 'secure' in (v as object);
  for (const [key, value] of Object.entries(config)) {
    if (isSecure(value)) {
      secrets.push({ key });
      delete config[key];
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      const object = value as Record<string, unknown>;
      const nested = Object.keys(object).filter((k) => isSecure(object[k]));
      for (const k of nested) delete object[k];
      secrets.push(...nested.map((k) => ({ key, path: k })));
      if (nested.length && Object.keys(object).length === 0) delete config[key];
    }
  }
  return { text: stringify({ ...doc, config }), secrets };
}

// ---------------------------------------------------------------------------------------------
// Engine events.

export interface Step {
  readonly op: OpType;
  readonly urn: string;
  readonly type: string;
}

export interface PolicyViolation {
  readonly policy: string;
  readonly pack: string;
  readonly level: string;
  readonly urn?: string;
  readonly message: string;
}

/** Result of one policy pack on one resource, or on the whole stack (no URN). */
export interface PolicySummary {
  readonly pack: string;
  readonly urn?: string;
  readonly passed: string[];
  readonly failed: string[];
}

/** Policy summary events the engine emits (not in the Automation API's EngineEvent typings). */
interface RawPolicySummary {
  resourceUrn?: string;
  policyPackName: string;
  passed?: string[];
  failed?: string[];
}

/** What the engine reported during one operation. */
export class EventLog {
  readonly steps: Step[] = [];
  readonly violations: PolicyViolation[] = [];
  /** One per resource a policy pack analyzed. */
  readonly analyzed: PolicySummary[] = [];
  /** One per policy pack: its stack policies. */
  readonly stackPolicies: PolicySummary[] = [];

  readonly onEvent = (event: EngineEvent): void => {
    const meta = event.resourcePreEvent?.metadata;
    if (meta) this.steps.push({ op: meta.op, urn: meta.urn, type: meta.type });
    const policy = event.policyEvent;
    if (policy) this.violations.push({ policy: policy.policyName, pack: policy.policyPackName, level: policy.enforcementLevel, urn: policy.resourceUrn, message: policy.message });
    const raw = event as unknown as { policyAnalyzeSummaryEvent?: RawPolicySummary; policyAnalyzeStackSummaryEvent?: RawPolicySummary };
    const summary = (s: RawPolicySummary): PolicySummary => ({ pack: s.policyPackName, urn: s.resourceUrn, passed: s.passed ?? [], failed: s.failed ?? [] });
    if (raw.policyAnalyzeSummaryEvent) this.analyzed.push(summary(raw.policyAnalyzeSummaryEvent));
    if (raw.policyAnalyzeStackSummaryEvent) this.stackPolicies.push(summary(raw.policyAnalyzeStackSummaryEvent));
  };

  /** Steps that change something (everything but `same`). */
  changes(): Step[] {
    return this.steps.filter((s) => s.op !== 'same');
  }
}

/** The resource name of a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function urnName(urn: string): string {
  return urn.split('::').slice(3).join('::');
}

/**
 * The region a resource belongs to: its RegionStack and provider are named `<region>`, everything
 * inside a region `<region>/...`. Undefined for stack-level resources.
 */
export function regionOfUrn(urn: string, regions: readonly string[]): string | undefined {
  const first = urnName(urn).split('/')[0];
  return regions.includes(first) ? first : undefined;
}

// ---------------------------------------------------------------------------------------------
// Rendered manifests.

/** Relative path -> file content of every file under dir (empty folders ignored). */
export function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!fs.existsSync(dir)) return files;
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.set(path.relative(dir, full), fs.readFileSync(full, 'utf8'));
    }
  };
  walk(dir);
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * An object as the Kubernetes API server holds it, for comparing the provider's rendered YAML with
 * `npm run render`: Secret `stringData` folded into base64 `data` (the provider writes `data`), and
 * empty lists dropped (the provider omits them; Kubernetes' omitempty fields treat `[]` and absent
 * alike, e.g. `ingress: []` under `policyTypes: [Ingress]` denies all ingress either way).
 */
export function apiForm(value: unknown, top = true): unknown {
  if (Array.isArray(value)) return value.map((v) => apiForm(v, false));
  if (!value || typeof value !== 'object') return value;
  let obj = value as Record<string, unknown>;
  if (top && obj.kind === 'Secret' && obj.stringData) {
    const { stringData, ...rest } = obj;
    const data = { ...((rest.data as Record<string, string>) ?? {}) };
    for (const [k, v] of Object.entries(stringData as Record<string, string>)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    obj = { ...rest, data };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = apiForm(v, false);
  }
  return out;
}

/** `npm run render -- --stack <stack> --out <out>`, exactly as documented; returns `<out>/<stack>`. */
export function npmRender(stack: string, out: string): string {
  execFileSync('npm', ['run', '--silent', 'render', '--', '--stack', stack, '--out', out], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  return path.join(out, stack);
}

// ---------------------------------------------------------------------------------------------
// A throwaway stack on the real engine.

/** Shortens an engine failure to its last lines (CommandError messages hold the whole output). */
export async function engine<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    const lines = String((e as Error).message ?? e).split('\n');
    throw new Error(`${what} failed:\n${lines.slice(-80).join('\n')}`);
  }
}

/** Resources a whole-stack update manages: the stack, and per region its component, provider and objects. */
export function expectedResourceCount(config: StackConfig): number {
  return 1 + config.regions.reduce((n, region) => n + 2 + synthesizeRegion(config, region).objects.length, 0);
}

export interface E2EStackOptions {
  /** Keep the temp dir (state, rendered files) for inspection: E2E_KEEP=1. */
  readonly keep?: boolean;
}

/**
 * A stack of the real program (Pulumi.yaml `main:` is the repository root) in a temp project with
 * a copy of the repository's stack file, render mode on (`<tmp>/rendered/<region>/`), and every
 * password the program would generate with @pulumi/random set as secret config instead.
 */
export class E2EStack {
  readonly regions: string[];

  private constructor(
    readonly name: string,
    readonly tmp: string,
    readonly workDir: string,
    readonly renderDir: string,
    readonly env: Record<string, string>,
    readonly workspace: LocalWorkspace,
    readonly stack: Stack,
    /** Secret values set in config; none may ever appear in a rendered file. */
    readonly secretValues: string[],
  ) {
    this.regions = this.config().regions.map((r) => r.name);
  }

  /** `stackFileDir`: where Pulumi.<name>.yaml is read from (the repository root by default). */
  static async create(name: string, stackFileDir = REPO_ROOT): Promise<E2EStack> {
    const binaries = requireEngine();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `fingerprint-e2e-${name}-`));
    try {
      return await E2EStack.createIn(tmp, name, binaries.pulumi, stackFileDir);
    } catch (e) {
      if (!process.env.E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  private static async createIn(tmp: string, name: string, pulumiBinary: string, stackFileDir: string): Promise<E2EStack> {
    const workDir = path.join(tmp, 'project');
    const renderDir = path.join(tmp, 'rendered');
    fs.mkdirSync(workDir);
    fs.mkdirSync(path.join(tmp, 'state'));
    const env = engineEnv(tmp);

    const project = parse(fs.readFileSync(path.join(REPO_ROOT, 'Pulumi.yaml'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(workDir, 'Pulumi.yaml'), stringify({ ...project, main: REPO_ROOT }));
    const copy = stackFileCopy(fs.readFileSync(path.join(stackFileDir, `Pulumi.${name}.yaml`), 'utf8'));
    const stackFile = path.join(workDir, `Pulumi.${name}.yaml`);
    fs.writeFileSync(stackFile, copy.text);
    editYaml(stackFile, (config) => {
      const deploy = (config['fingerprint-infra:deploy'] ?? {}) as Record<string, unknown>;
      config['fingerprint-infra:deploy'] = { ...deploy, renderYamlToDirectory: renderDir };
    });

    const pulumiDir = path.dirname(pulumiBinary);
    if (path.basename(pulumiDir) !== 'bin') throw new Error(`${pulumiBinary}: the Automation API expects the CLI in a bin/ folder`);
    // `pulumi version` runs with the test process's environment: point its log at the temp home.
    const home = process.env.PULUMI_HOME;
    process.env.PULUMI_HOME = env.PULUMI_HOME;
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(pulumiDir) }).finally(() => {
      if (home === undefined) delete process.env.PULUMI_HOME;
      else process.env.PULUMI_HOME = home;
    });
    const workspace = await LocalWorkspace.create({ workDir, envVars: env, pulumiHome: env.PULUMI_HOME, pulumiCommand });
    const stack = await engine(`stack init ${name}`, () => Stack.create(name, workspace));

    const secretValues: string[] = [];
    const secretFor = () => {
      const value = randomSecret();
      secretValues.push(value);
      return { value, secret: true };
    };
    for (const secret of copy.secrets) {
      const key = secret.key.includes(':') ? secret.key : `fingerprint-infra:${secret.key}`;
      await stack.setConfig(`${key}${secret.path ? `[${JSON.stringify(secret.path)}]` : ''}`, secretFor(), secret.path !== undefined);
    }
    const config = validateStackConfig(readStackFile(name, workDir));
    for (const [id, source] of Object.entries(config.secrets)) {
      if (source.from === 'generated') await stack.setConfig(`fingerprint-infra:${id}`, secretFor());
    }
    return new E2EStack(name, tmp, workDir, renderDir, env, workspace, stack, secretValues);
  }

  /** The stack's config as the program validates it (from the temp copy of the stack file). */
  config(): StackConfig {
    return validateStackConfig(readStackFile(this.name, this.workDir));
  }

  expectedResourceCount(): number {
    return expectedResourceCount(this.config());
  }

  /** Edits the temp stack file (never the repository's), keeping its encrypted values. */
  editConfig(edit: (config: Record<string, any>) => void): void {
    editYaml(path.join(this.workDir, `Pulumi.${this.name}.yaml`), edit);
  }

  regionFiles(region: string): Map<string, string> {
    return readTree(path.join(this.renderDir, region));
  }

  /** Resources in the stack's state (empty when there is none). */
  async stateResources(): Promise<{ urn: string; type: string; protect?: boolean }[]> {
    const state = await this.stack.exportStack();
    return (state.deployment?.resources ?? []) as { urn: string; type: string; protect?: boolean }[];
  }

  /** A pulumi CLI command on this stack, with the suite's environment. */
  cli(args: string[]): string {
    const r = spawnSync(this.workspace.pulumiCommand.command, [...args, '--stack', this.name, '--non-interactive'], {
      cwd: this.workDir,
      env: { ...process.env, ...this.env },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`pulumi ${args.join(' ')} failed (${r.status ?? r.error}):\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /**
   * A project next to this one whose program registers a stack transformation, then loads the real
   * program: the same stack (backend, stack file, secrets), with a change the program never makes.
   */
  async wrappedProgram(transformSource: string): Promise<Stack> {
    const dir = path.join(this.tmp, 'wrapped');
    fs.mkdirSync(dir, { recursive: true });
    const project = parse(fs.readFileSync(path.join(this.workDir, 'Pulumi.yaml'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, 'Pulumi.yaml'), stringify({ ...project, main: 'index.js' }));
    fs.copyFileSync(path.join(this.workDir, `Pulumi.${this.name}.yaml`), path.join(dir, `Pulumi.${this.name}.yaml`));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'fingerprint-infra-wrapped', private: true, main: 'index.js' }));
    // The same @pulumi/pulumi instance as the program's (symlinks resolve to the repository's copy).
    if (!fs.existsSync(path.join(dir, 'node_modules'))) fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    fs.writeFileSync(
      path.join(dir, 'index.js'),
      `const pulumi = require('@pulumi/pulumi');\npulumi.runtime.registerStackTransformation(${transformSource});\nmodule.exports = require(${JSON.stringify(path.join(REPO_ROOT, 'index.ts'))});\n`,
    );
    const workspace = await LocalWorkspace.create({ workDir: dir, envVars: this.env, pulumiHome: this.env.PULUMI_HOME, pulumiCommand: this.workspace.pulumiCommand });
    return Stack.select(this.name, workspace);
  }

  cleanup(opts: E2EStackOptions = { keep: !!process.env.E2E_KEEP }): void {
    if (opts.keep) console.log(`e2e ${this.name}: kept ${this.tmp}`);
    else fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

function editYaml(file: string, edit: (config: Record<string, any>) => void): void {
  const json = (parse(fs.readFileSync(file, 'utf8')) ?? {}) as Record<string, any>;
  json.config = json.config ?? {};
  edit(json.config);
  fs.writeFileSync(file, stringify(json));
}

/** Index of a region in the stack file's `regions` list. */
export function regionIndex(config: Record<string, any>, region: string): number {
  const i = (config['fingerprint-infra:regions'] as { name: string }[]).findIndex((r) => r.name === region);
  if (i < 0) throw new Error(`no region ${region} in the stack file`);
  return i;
}

/** Sets a region's Redis memory override (the StatefulSet's limits and the maxmemory config follow it). */
export function setRegionRedisMemory(config: Record<string, any>, region: string, memory: string): void {
  const entry = config['fingerprint-infra:regions'][regionIndex(config, region)];
  entry.redis = { ...(entry.redis ?? {}), memory };
}

// ---------------------------------------------------------------------------------------------
// A scratch copy of the repository (for commands run exactly as documented).

/** The repository's files (tracked and untracked, not ignored) copied to dir; node_modules and .tools linked. */
export function copyRepository(dir: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT }).toString().split('\0');
  for (const f of files) {
    const src = path.join(REPO_ROOT, f);
    if (!f || !fs.existsSync(src) || !fs.statSync(src).isFile()) continue;
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(src, path.join(dir, f));
  }
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  if (fs.existsSync(path.join(REPO_ROOT, '.tools'))) fs.symlinkSync(path.join(REPO_ROOT, '.tools'), path.join(dir, '.tools'), 'dir');
}

/** Runs a bash script in dir; returns status and combined output. */
export function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv): { status: number; output: string } {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status ?? 1, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

// ---------------------------------------------------------------------------------------------
// Assertion helpers.

/** Regions of the given steps, sorted; `(stack)` for a stack-level resource. */
export function regionsOf(steps: readonly Step[], regions: readonly string[]): string[] {
  return [...new Set(steps.map((s) => regionOfUrn(s.urn, regions) ?? '(stack)'))].sort();
}

/** Names of the resources the steps change, e.g. `eu-west-1/statefulset/cache/redis`, sorted. */
export function changedNames(steps: readonly Step[]): string[] {
  return steps.map((s) => `${s.op} ${urnName(s.urn)}`).sort();
}

/**
 * Every object of every YAML file under `dir` (the first path segment is the region), keyed
 * `<region> <apiVersion> <kind> <namespace>/<name>`: the provider writes one file per object,
 * `npm run render` a few multi-document files per region, so the two compare by object.
 */
export function readObjects(dir: string): Map<string, unknown> {
  const objects = new Map<string, unknown>();
  for (const [file, text] of readTree(dir)) {
    const region = file.split(path.sep)[0];
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } } | null;
      if (!o) continue;
      objects.set(`${region} ${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`, o);
    }
  }
  return new Map([...objects.entries()].sort(([x], [y]) => x.localeCompare(y)));
}

/** Differences between the provider's rendered objects and `npm run render`, compared as Kubernetes objects (see apiForm). */
export function renderMismatches(engineDir: string, npmDir: string): string[] {
  const fromEngine = readObjects(engineDir);
  const fromNpm = readObjects(npmDir);
  const problems: string[] = [];
  for (const key of fromNpm.keys()) if (!fromEngine.has(key)) problems.push(`missing from the engine's render: ${key}`);
  for (const [key, object] of fromEngine) {
    const expected = fromNpm.get(key);
    if (expected === undefined) {
      problems.push(`not in npm run render: ${key}`);
      continue;
    }
    const got = JSON.stringify(sortDeep(apiForm(object)));
    const want = JSON.stringify(sortDeep(apiForm(expected)));
    if (got !== want) problems.push(`differs: ${key}\n  engine: ${got.slice(0, 400)}\n  npm:    ${want.slice(0, 400)}`);
  }
  return problems;
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value as object)
      .sort()
      .map((k) => [k, sortDeep((value as Record<string, unknown>)[k])]),
  );
}
