import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { RuleGroup } from '../alerts';

/** Result of one promtool run. */
export interface PromtoolResult {
  readonly ok: boolean;
  readonly output: string;
}

export function promtoolAvailable(): boolean {
  return spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
}

export function runPromtool(args: readonly string[], cwd: string): PromtoolResult {
  const res = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (res.error) throw new Error(`promtool could not run (install Debian's prometheus package: bash scripts/setup.sh): ${res.error.message}`);
  return { ok: res.status === 0, output: `${res.stdout}${res.stderr}` };
}

/** A Prometheus rules file (what prometheus-operator writes from PrometheusRule spec.groups). */
export function rulesFile(groups: readonly RuleGroup[]): string {
  return stringify({ groups: groups.map((g) => ({ name: g.name, rules: g.rules.map((r) => ({ ...r })) })) }, { lineWidth: 0 });
}

/** A scratch folder removed by `cleanup`. */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** `promtool check rules` on the given expressions, each wrapped as a recording rule. */
export function checkExpressions(exprs: readonly { name: string; expr: string }[]): PromtoolResult {
  const { dir, cleanup } = scratchDir('promql-check');
  try {
    const groups = [{ name: 'expressions', rules: exprs.map((e, i) => ({ record: `check:expr_${i}`, expr: e.expr })) }];
    fs.writeFileSync(path.join(dir, 'exprs.yml'), stringify({ groups }, { lineWidth: 0 }));
    return runPromtool(['check', 'rules', 'exprs.yml'], dir);
  } finally {
    cleanup();
  }
}
