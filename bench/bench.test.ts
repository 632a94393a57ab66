import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Measurement, median, slope, targetsOf } from './run';

// Proves the benchmark runs end to end at a small size; timings never decide pass or fail.
describe('npm run bench (smoke run)', () => {
  it('measures the floor, renders, synthetic regions, mock and real previews, and writes JSON', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'results.json');
    const root = path.resolve(__dirname, '..');
    const run = spawnSync(process.execPath, ['-r', './scripts/ts-hook.js', 'bench/run.ts', '--quick', '--stacks', 'staging', '--engine', 'on', '--out', out], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/marginal cost: [0-9.-]+ ms\/region/);
    expect(run.stdout).toMatch(/^ {2}(met {3}|MISSED) render staging <= 1\.5 x floor \+ 10 ms x 2 regions: \d+ ms \(limit \d+ ms\)$/m);
    const json = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(json.results.map((r: Measurement) => r.name)).toEqual([
      'floor: node + modules',
      'render staging',
      'render 1 synthetic regions',
      'render 2 synthetic regions',
      'mock preview staging',
      'pulumi preview staging (first deploy)',
      'pulumi preview staging (no changes)',
    ]);
    for (const r of json.results as Measurement[]) {
      expect(r.runs).toBe(1);
      expect(r.medianMs).toBeGreaterThan(0);
      if (!r.name.startsWith('pulumi')) expect(r.medianRssMiB).toBeGreaterThan(10);
    }
    const byName = (name: string): Measurement => json.results.find((r: Measurement) => r.name === name);
    expect(byName('render 2 synthetic regions').extra!.objects).toBe(2 * byName('render 1 synthetic regions').extra!.objects);
    expect(byName('mock preview staging').extra!.resources).toBeGreaterThan(100);
    // The real previews ran against an empty stack, then against the same stack after `pulumi up`.
    const firstDeploy = byName('pulumi preview staging (first deploy)').extra!;
    const noChanges = byName('pulumi preview staging (no changes)').extra!;
    expect(firstDeploy.toCreate).toBe(firstDeploy.resources);
    expect(noChanges).toEqual({ resources: firstDeploy.resources, toCreate: 0, unchanged: firstDeploy.resources });
    expect(json.summary.msPerRegionBetweenSizes).toEqual([{ from: 1, to: 2, msPerRegion: expect.any(Number) }]);
    expect(json.targets.map((t: { name: string }) => t.name)).toEqual(['render staging <= 1.5 x floor + 10 ms x 2 regions']);
  }, 600_000);
});

describe('benchmark arithmetic', () => {
  const m = (name: string, medianMs: number, extra?: Record<string, number>, medianRssMiB = 100): Measurement => ({ name, runs: 5, medianMs, minMs: medianMs, maxMs: medianMs, medianRssMiB, extra });

  it('takes medians and least-squares slopes', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(slope([[1, 110], [10, 200], [50, 600]])).toBeCloseTo(10);
  });

  it('sets each target from the floor and the region count, and flags misses', () => {
    const targets = targetsOf(
      [m('floor: node + modules', 200), m('render staging', 320, { regions: 2 }), m('render prod', 340, { regions: 3 }), m('render 50 synthetic regions', 1900, { regions: 50 }, 320), m('mock preview prod', 2500)],
      200,
    );
    expect(targets.map((t) => [t.name, Math.round(t.limit), t.met])).toEqual([
      ['render staging <= 1.5 x floor + 10 ms x 2 regions', 320, true],
      ['render prod <= 1.5 x floor + 10 ms x 3 regions', 330, false],
      ['render 50 regions < 2 s', 2000, true],
      ['render 50 regions < 300 MB peak RSS', 286, false],
      ['mock preview prod < 3 s', 3000, true],
    ]);
  });
});
