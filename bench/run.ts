import { spawnSync } from 'child_process';
import { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { E2EStack, ENGINE_BINARIES, enginePath, requireEngine } from '../test/e2e/support';

const ROOT = path.resolve(__dirname, '..');
const NODE_ARGS = ['--require', path.join(ROOT, 'bench/rss-probe.js'), '--require', path.join(ROOT, 'scripts/ts-hook.js')];

interface Sample {
  wallMs: number;
  /** Peak RSS of the measured process (undefined for the engine, which runs a process tree). */
  rssMiB?: number;
  stdout: string;
}

export interface Measurement {
  name: string;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  medianRssMiB?: number;
  ratioToFloor?: number;
  extra?: Record<string, number>;
}

export interface Target {
  name: string;
  limit: number;
  actual: number;
  unit: 'ms' | 'MiB';
  met: boolean;
}

/** One thing measured: `prepare` runs before it, `sample` runs it once; `details` reads extra numbers from its last run. */
interface Case {
  readonly name: string;
  prepare?(): void;
  sample(): Sample;
  details?(last: Sample): Record<string, number>;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Least-squares slope of y over x. */
export function slope(points: readonly [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function runNode(args: string[]): Sample {
  const rssFile = path.join(os.tmpdir(), `bench-rss-${process.pid}-${Date.now()}`);
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env: { ...process.env, BENCH_RSS_FILE: rssFile }, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`benchmark command failed: node ${args.join(' ')}\n${result.stderr}`);
  const rssKiB = Number(fs.readFileSync(rssFile, 'utf8'));
  fs.rmSync(rssFile, { force: true });
  return { wallMs, rssMiB: rssKiB / 1024, stdout: result.stdout };
}

/**
 * Runs every case once to warm the OS file cache and the transpile cache, then `runs` rounds of
 * every case in turn: a slow phase of the machine then spreads over all cases instead of skewing
 * one of them, which keeps the ratios to the floor honest.
 */
function measureRoundRobin(cases: readonly Case[], runs: number, log: (line: string) => void): Measurement[] {
  for (const c of cases) {
    c.prepare?.();
    c.sample();
  }
  const samples = cases.map(() => [] as Sample[]);
  for (let round = 1; round <= runs; round++) {
    cases.forEach((c, i) => samples[i].push(c.sample()));
    log(`round ${round}/${runs} done`);
  }
  return cases.map((c, i) => {
    const walls = samples[i].map((s) => s.wallMs);
    const rss = samples[i].map((s) => s.rssMiB).filter((r): r is number => r !== undefined);
    const last = samples[i][samples[i].length - 1];
    return {
      name: c.name,
      runs,
      medianMs: median(walls),
      minMs: Math.min(...walls),
      maxMs: Math.max(...walls),
      ...(rss.length ? { medianRssMiB: median(rss) } : {}),
      ...(c.details ? { extra: c.details(last) } : {}),
    };
  });
}

/** A project dir with a synthetic stack of `count` prod regions (one wave per 10 regions). */
function syntheticProject(count: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-regions-${count}-`));
  const regions = Array.from({ length: count }, (_, i) => ({
    name: `region-${String(i + 1).padStart(2, '0')}`,
    wave: Math.floor(i / 10) + 1,
    kubeContext: `ctx-${i + 1}`,
    clusterId: `cluster-${i + 1}`,
    zones: ['a', 'b', 'c'].map((z) => `zone-${i + 1}${z}`),
  }));
  const doc = parse(fs.readFileSync(path.join(ROOT, 'Pulumi.prod.yaml'), 'utf8'));
  doc.config['fingerprint-infra:regions'] = regions;
  doc.config['fingerprint-infra:environment'] = 'prod';
  fs.writeFileSync(path.join(dir, 'Pulumi.synthetic.yaml'), stringify(doc));
  return dir;
}

/** Objects rendered under dir (YAML documents across its files). */
function countObjects(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) n += (fs.readFileSync(path.join(entry.parentPath ?? entry.path, entry.name), 'utf8').match(/^---$/gm) ?? []).length;
  }
  return n;
}

function renderCase(name: string, stack: string, outDir: string, projectDir?: string): Case {
  const out = path.join(outDir, name.replace(/\W+/g, '-'));
  return {
    name,
    sample: () => runNode(['stacks/render.ts', '--stack', stack, '--out', out, ...(projectDir ? ['--project-dir', projectDir] : [])]),
    details: () => ({ regions: fs.readdirSync(path.join(out, stack)).length, objects: countObjects(path.join(out, stack)) }),
  };
}

/** The real engine, when built (.tools/bin) or installed: undefined otherwise. */
function engineAvailable(): boolean {
  try {
    requireEngine(enginePath());
    return true;
  } catch {
    return false;
  }
}

/**
 * `pulumi preview` of a throwaway copy of the stack (file backend, providers in render mode), as
 * an operator runs it: against a stack that is up to date, and of a first deploy.
 */
async function enginePreviewCases(stacks: readonly string[], cleanups: (() => void)[]): Promise<Case[]> {
  const cases: Case[] = [];
  for (const name of stacks) {
    const e2e = await E2EStack.create(name);
    cleanups.push(() => e2e.cleanup());
    const preview = (): Sample => {
      const start = process.hrtime.bigint();
      const stdout = e2e.cli(['preview', '--diff=false', '--color=never']);
      return { wallMs: Number(process.hrtime.bigint() - start) / 1e6, stdout };
    };
    const details = (last: Sample) => ({
      resources: e2e.expectedResourceCount(),
      toCreate: Number(/(\d+) to create/.exec(last.stdout)?.[1] ?? 0),
      unchanged: Number(/(\d+) unchanged/.exec(last.stdout)?.[1] ?? 0),
    });
    cases.push({ name: `pulumi preview ${name} (first deploy)`, sample: preview, details });
    cases.push({ name: `pulumi preview ${name} (no changes)`, prepare: () => void e2e.cli(['up', '--yes', '--skip-preview']), sample: preview, details });
  }
  return cases;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('npm run bench --')
    .option('--runs <n>', 'runs per measurement (median reported)', '7')
    .option('--sizes <list>', 'synthetic region counts', '1,10,50')
    .option('--stacks <list>', 'stacks to render and preview', 'staging,prod')
    .option('--engine <mode>', 'real `pulumi preview` per stack: auto (when the CLI is built or installed), on, off', 'auto')
    .option('--out <file>', 'JSON results', 'bench/results/latest.json')
    .option('--quick', 'one run at small sizes (CI smoke run)')
    .parse(argv, { from: 'user' });
  const opts = program.opts<{ runs: string; sizes: string; stacks: string; engine: string; out: string; quick?: boolean }>();
  const runs = opts.quick ? 1 : Number(opts.runs);
  const sizes = (opts.quick ? '1,2' : opts.sizes).split(',').map(Number);
  const stacks = opts.stacks.split(',');
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: must be a positive integer (got ${opts.runs})`);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new Error(`--sizes: must be positive integers (got ${opts.sizes})`);
  if (!['auto', 'on', 'off'].includes(opts.engine)) throw new Error(`--engine: must be auto, on or off (got ${opts.engine})`);
  const withEngine = opts.engine === 'on' || (opts.engine === 'auto' && engineAvailable());
  if (opts.engine === 'on') requireEngine(enginePath());

  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-out-'));
  const cleanups: (() => void)[] = [() => fs.rmSync(outDir, { recursive: true, force: true })];
  const log = (line: string) => process.stderr.isTTY && process.stderr.write(`bench: ${line}\n`);
  try {
    const synthetic = sizes.map((size) => {
      const dir = syntheticProject(size);
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      return renderCase(`render ${size} synthetic regions`, 'synthetic', outDir, dir);
    });
    const cases: Case[] = [
      { name: 'floor: node + modules', sample: () => runNode([path.join(ROOT, 'bench/floor.ts')]) },
      ...stacks.map((stack) => renderCase(`render ${stack}`, stack, outDir)),
      ...synthetic,
      ...stacks.map((stack) => ({
        name: `mock preview ${stack}`,
        sample: () => runNode([path.join(ROOT, 'bench/mock-preview.ts'), stack]),
        details: (last: Sample) => JSON.parse(last.stdout.trim().split('\n').pop()!) as Record<string, number>,
      })),
    ];
    const results = measureRoundRobin(cases, runs, log);
    if (withEngine) {
      log('real engine: previews per stack');
      const engineCases = await enginePreviewCases(stacks, cleanups);
      // First-deploy previews need an empty state: measured before the no-change ones run `pulumi up`.
      results.push(...measureRoundRobin(engineCases.filter((c) => c.name.includes('first deploy')), runs, log));
      results.push(...measureRoundRobin(engineCases.filter((c) => c.name.includes('no changes')), runs, log));
    }

    const floor = results[0].medianMs;
    for (const r of results.slice(1)) r.ratioToFloor = r.medianMs / floor;
    const points = sizes.map((size, i) => [size, results.find((r) => r.name === synthetic[i].name)!.medianMs] as [number, number]);
    const objectsPerRegion = (results.find((r) => r.name === synthetic[0].name)!.extra!.objects ?? 0) / sizes[0];
    const msPerRegion = slope(points);
    const targets = targetsOf(results, floor);
    const summary = {
      msPerRegion,
      msPerObject: objectsPerRegion ? msPerRegion / objectsPerRegion : 0,
      objectsPerRegion,
      // Linear growth: the cost per added region stays the same from one size to the next.
      msPerRegionBetweenSizes: points.slice(1).map(([x, y], i) => ({ from: points[i][0], to: x, msPerRegion: (y - points[i][1]) / (x - points[i][0]) })),
    };

    console.log(`\nmedian of ${runs} run(s) on ${os.cpus().length} cores, node ${process.version}${withEngine ? '' : `; real engine not measured (${opts.engine === 'off' ? '--engine off' : `${ENGINE_BINARIES.join(', ')} not found`})`}`);
    console.log(table(results));
    console.log(`\nmarginal cost: ${msPerRegion.toFixed(1)} ms/region, ${summary.msPerObject.toFixed(2)} ms/object (${objectsPerRegion.toFixed(0)} objects/region)`);
    for (const s of summary.msPerRegionBetweenSizes) console.log(`  ${s.from} -> ${s.to} regions: ${s.msPerRegion.toFixed(1)} ms/region`);
    console.log('\ntargets:');
    for (const t of targets) console.log(`  ${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.actual.toFixed(0)} ${t.unit} (limit ${t.limit.toFixed(0)} ${t.unit})`);
    const outFile = path.resolve(ROOT, opts.out);
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, `${JSON.stringify({ runs, node: process.version, cores: os.cpus().length, engine: withEngine, results, summary, targets }, null, 2)}\n`);
    console.log(`results written to ${opts.out}`);
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
}

/** The issue's targets, for what was measured: render within 1.5x floor + 10 ms/region, 50 regions, mock preview of prod. */
export function targetsOf(results: readonly Measurement[], floorMs: number): Target[] {
  const targets: Target[] = [];
  const add = (name: string, limit: number, actual: number, unit: Target['unit']) => targets.push({ name, limit, actual, unit, met: actual <= limit });
  for (const r of results) {
    const stack = /^render ([a-z]+)$/.exec(r.name)?.[1];
    if (stack && r.extra) add(`render ${stack} <= 1.5 x floor + 10 ms x ${r.extra.regions} regions`, 1.5 * floorMs + 10 * r.extra.regions, r.medianMs, 'ms');
    if (r.name === 'render 50 synthetic regions') {
      add('render 50 regions < 2 s', 2000, r.medianMs, 'ms');
      add('render 50 regions < 300 MB peak RSS', 300e6 / 2 ** 20, r.medianRssMiB ?? Infinity, 'MiB');
    }
    if (r.name === 'mock preview prod') add('mock preview prod < 3 s', 3000, r.medianMs, 'ms');
  }
  return targets;
}

function table(results: readonly Measurement[]): string {
  const rows = results.map((r) => [
    r.name.padEnd(40),
    `${r.medianMs.toFixed(0).padStart(7)} ms`,
    `[${r.minMs.toFixed(0)}-${r.maxMs.toFixed(0)}]`.padEnd(14),
    r.medianRssMiB === undefined ? '        -' : `${r.medianRssMiB.toFixed(0).padStart(5)} MiB`,
    (r.ratioToFloor ? `${r.ratioToFloor.toFixed(2)}x` : '').padStart(6),
    r.extra ? Object.entries(r.extra).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`).join(' ') : '',
  ]);
  const header = ['measurement'.padEnd(40), 'median'.padStart(10), 'range'.padEnd(14), 'peak RSS'.padStart(9), 'floor'.padStart(6), 'details'];
  return [header, ...rows].map((row) => row.join('  ')).join('\n');
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`bench failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
