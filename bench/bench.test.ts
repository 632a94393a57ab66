import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// Proves the benchmark runs end to end at a small size; timings never decide pass or fail.
describe('npm run bench (smoke run)', () => {
  it('measures the floor, renders, synthetic regions and mock previews, and writes JSON', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'results.json');
    const root = path.resolve(__dirname, '..');
    const run = spawnSync(process.execPath, ['-r', './scripts/ts-hook.js', 'bench/run.ts', '--quick', '--stacks', 'staging', '--out', out], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/marginal cost: [0-9.-]+ ms\/region/);
    const json = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(json.results.map((r: { name: string }) => r.name)).toEqual([
      'floor: node + modules',
      'render staging',
      'render 1 synthetic regions',
      'render 2 synthetic regions',
      'mock preview staging',
    ]);
    for (const r of json.results) {
      expect(r.runs).toBe(1);
      expect(r.medianMs).toBeGreaterThan(0);
      expect(r.medianRssMiB).toBeGreaterThan(10);
    }
    const synthetic = json.results.filter((r: { name: string }) => r.name.includes('synthetic'));
    expect(synthetic[1].extra.objects).toBe(2 * synthetic[0].extra.objects);
    expect(json.results.find((r: { name: string }) => r.name === 'mock preview staging').extra.resources).toBeGreaterThan(100);
    expect(typeof json.summary.msPerRegion).toBe('number');
  }, 300_000);
});
