import { spawnSync } from 'child_process';
import { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';

const ROOT = path.resolve(__dirname, '..');
const NODE_ARGS = ['--require', path.join(ROOT, 'bench/rss-probe.js'), '--require', path.join(ROOT, 'scripts/ts-hook.js')];

interface Sample {
  wallMs: number;
  rssMiB: number;
}
interface Measurement {
  name: string;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  medianRssMiB: number;
  ratioToFloor?: number;
  extra?: Record<string, number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function runNode(args: string[], env: Record<string, string> = {}): Sample & { stdout: string } {
  const rssFile = path.join(os.tmpdir(), `bench-rss-${process.pid}-${Date.now()}`);
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [...NODE_ARGS, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile },
    encoding: 'utf8',
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`benchmark command failed: node ${args.join(' ')}\n${result.stderr}`);
  const rssKiB = Number(fs.readFileSync(rssFile, 'utf8'));
  fs.rmSync(rssFile, { force: true });
  return { wallMs, rssMiB: rssKiB / 1024, stdout: result.stdout };
}

function measure(name: string, runs: number, args: string[], env: Record<string, string> = {}): Measurement & { stdout: string } {
  runNode(args, env); // warm the OS file cache and the TypeScript transpile cache
  const samples = Array.from({ length: runs }, () => runNode(args, env));
  const walls = samples.map((s) => s.wallMs);
  return {
    name,
    runs,
    medianMs: median(walls),
    minMs: Math.min(...walls),
    maxMs: Math.max(...walls),
    medianRssMiB: median(samples.map((s) => s.rssMiB)),
    stdout: samples[samples.length - 1].stdout,
  };
}

/** A project dir with a synthetic stack of `count` regions (one wave per 10 regions). */
function syntheticProject(count: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-regions-${count}-`));
  const regions = Array.from({ length: count }, (_, i) => ({
    name: `region-${String(i + 1).padStart(2, '0')}`,
    wave: Math.floor(i / 10) + 1,
    kubeContext: `ctx-${i + 1}`,
    clusterId: `cluster-${i + 1}`,
    zones: ['a', 'b', 'c'].map((z) => `zone-${i + 1}${z}`),
  }));
  const committed = fs.readFileSync(path.join(ROOT, 'Pulumi.prod.yaml'), 'utf8');
  const doc = require('yaml').parse(committed);
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

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export function main(argv: string[]): void {
  const program = new Command()
    .name('npm run bench --')
    .option('--runs <n>', 'runs per measurement (median reported)', '5')
    .option('--sizes <list>', 'synthetic region counts', '1,10,50')
    .option('--stacks <list>', 'stacks to render and preview', 'staging,prod')
    .option('--out <file>', 'JSON results', 'bench/results/latest.json')
    .option('--quick', 'one run at small sizes (CI smoke run)')
    .parse(argv, { from: 'user' });
  const opts = program.opts<{ runs: string; sizes: string; stacks: string; out: string; quick?: boolean }>();
  const runs = opts.quick ? 1 : Number(opts.runs);
  const sizes = (opts.quick ? '1,2' : opts.sizes).split(',').map(Number);
  const stacks = opts.stacks.split(',');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-out-'));
  const results: Measurement[] = [];
  const record = (m: Measurement & { stdout?: string }) => {
    const { stdout: _stdout, ...rest } = m;
    results.push(rest);
    return rest;
  };

  try {
    const floor = record(measure('floor: node + modules', runs, [path.join(ROOT, 'bench/floor.ts')]));
    for (const stack of stacks) {
      const m = measure(`render ${stack}`, runs, ['stacks/render.ts', '--stack', stack, '--out', outDir]);
      const regions = fs.readdirSync(path.join(outDir, stack)).length;
      record({ ...m, ratioToFloor: m.medianMs / floor.medianMs, extra: { regions, objects: countObjects(path.join(outDir, stack)), targetMs: 1.5 * floor.medianMs + 10 * regions } });
    }
    const points: [number, number][] = [];
    let objectsPerRegion = 0;
    for (const size of sizes) {
      const dir = syntheticProject(size);
      const m = measure(`render ${size} synthetic regions`, runs, ['stacks/render.ts', '--stack', 'synthetic', '--project-dir', dir, '--out', outDir]);
      const objects = countObjects(path.join(outDir, 'synthetic'));
      objectsPerRegion = objects / size;
      points.push([size, m.medianMs]);
      record({ ...m, ratioToFloor: m.medianMs / floor.medianMs, extra: { regions: size, objects } });
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(path.join(outDir, 'synthetic'), { recursive: true, force: true });
    }
    const perRegion = slope(points);
    for (const stack of stacks) {
      const m = measure(`mock preview ${stack}`, runs, [path.join(ROOT, 'bench/mock-preview.ts'), stack]);
      record({ ...m, ratioToFloor: m.medianMs / floor.medianMs, extra: JSON.parse(m.stdout.trim().split('\n').pop()!) });
    }

    const summary = { msPerRegion: perRegion, msPerObject: objectsPerRegion ? perRegion / objectsPerRegion : 0, objectsPerRegion };
    const rows = results.map((r) => [
      r.name.padEnd(32),
      `${r.medianMs.toFixed(0).padStart(7)} ms`,
      `[${r.minMs.toFixed(0)}-${r.maxMs.toFixed(0)}]`.padEnd(14),
      `${r.medianRssMiB.toFixed(0).padStart(5)} MiB`,
      r.ratioToFloor ? `${r.ratioToFloor.toFixed(2)}x floor` : '',
      r.extra ? Object.entries(r.extra).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`).join(' ') : '',
    ]);
    console.log(`\nmedian of ${runs} run(s) on ${os.cpus().length} cores, node ${process.version}`);
    console.log(['measurement'.padEnd(32), 'median'.padStart(10), 'range'.padEnd(14), 'peak RSS'.padStart(9), 'ratio', 'details'].join('  '));
    for (const row of rows) console.log(row.join('  '));
    console.log(`\nmarginal cost: ${summary.msPerRegion.toFixed(1)} ms/region, ${summary.msPerObject.toFixed(2)} ms/object (${summary.objectsPerRegion.toFixed(0)} objects/region)`);
    fs.mkdirSync(path.dirname(path.resolve(ROOT, opts.out)), { recursive: true });
    fs.writeFileSync(path.resolve(ROOT, opts.out), `${JSON.stringify({ runs, node: process.version, cores: os.cpus().length, results, summary }, null, 2)}\n`);
    console.log(`results written to ${opts.out}`);
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

if (require.main === module) main(process.argv.slice(2));
