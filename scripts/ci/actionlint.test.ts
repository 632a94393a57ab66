import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { REPO_ROOT, WORKFLOWS_DIR } from './workflows';

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(prefix);
  tempDirs.push(dir);
  return dir;
}
afterAll(() => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const ACTIONLINT = path.join(REPO_ROOT, '.tools', 'bin', 'actionlint');

function actionlint(cwd: string, files: string[]): { status: number | null; output: string } {
  const r = spawnSync(ACTIONLINT, ['-no-color', ...files], { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  // scripts/setup.sh builds it; building here too keeps a lone `npx jest` of this file working.
  if (!fs.existsSync(ACTIONLINT)) execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'tools', 'actionlint.sh')], { stdio: 'inherit' });
}, 600_000);

describe('actionlint', () => {
  it('is the pinned build, and shellcheck is there for it to check run: scripts', () => {
    const pinned = /ACTIONLINT_VERSION=\$\{ACTIONLINT_VERSION:-(v[0-9.]+)\}/.exec(fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'tools', 'actionlint.sh'), 'utf8'))![1];
    expect(execFileSync(ACTIONLINT, ['-version'], { encoding: 'utf8' }).split('\n')[0]).toBe(pinned);
    expect(spawnSync('shellcheck', ['--version']).status).toBe(0);
  });

  it('passes on every workflow (with the local composite action)', () => {
    const files = fs.readdirSync(WORKFLOWS_DIR).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join('.github', 'workflows', f));
    expect(files.length).toBeGreaterThanOrEqual(5);
    const { status, output } = actionlint(REPO_ROOT, files);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('reports broken jobs, expressions and shell scripts', () => {
    const dir = tempDir(path.join(os.tmpdir(), 'actionlint-'));
    fs.mkdirSync(path.join(dir, '.github', 'workflows'), { recursive: true });
    const file = path.join('.github', 'workflows', 'broken.yml');
    fs.writeFileSync(
      path.join(dir, file),
      [
        'name: broken',
        'on: push',
        'permissions: {}',
        'jobs:',
        '  deploy:',
        '    needs: [no-such-job]',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - run: echo ${{ github.event.head_commit.message }} $UNQUOTED',
        '      - run: echo "${{ steps.missing.outputs.x }}"',
      ].join('\n'),
    );
    const { status, output } = actionlint(dir, [file]);
    expect(status).toBe(1);
    expect(output).toContain('[job-needs]');
    expect(output).toContain('[expression]');
    // shellcheck runs on run: scripts (SC2086: unquoted variable).
    expect(output).toMatch(/shellcheck reported issue in this script: SC2086/);
  });

  it('shellcheck passes on the run: scripts of the composite actions (actionlint checks only workflows)', () => {
    const dir = tempDir(path.join(os.tmpdir(), 'composite-'));
    const actionsDir = path.join(REPO_ROOT, '.github', 'actions');
    const scripts: string[] = [];
    for (const name of fs.readdirSync(actionsDir)) {
      const action = parse(fs.readFileSync(path.join(actionsDir, name, 'action.yml'), 'utf8')) as { runs: { steps: { run?: string; shell?: string }[] } };
      action.runs.steps.forEach((step, i) => {
        if (!step.run) return;
        expect(step.shell).toBe('bash');
        const file = path.join(dir, `${name}-${i}.sh`);
        fs.writeFileSync(file, `#!/usr/bin/env bash\nset -eo pipefail\n${step.run}`);
        scripts.push(file);
      });
    }
    expect(scripts.length).toBeGreaterThan(0);
    const r = spawnSync('shellcheck', scripts, { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('shellcheck passes on the scripts the workflows call', () => {
    const scripts = [path.join(REPO_ROOT, '.github', 'scripts', 'report-drift.sh'), path.join(REPO_ROOT, 'scripts', 'tools', 'actionlint.sh')];
    const r = spawnSync('shellcheck', scripts, { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
