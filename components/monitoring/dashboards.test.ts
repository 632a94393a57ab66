import Ajv from 'ajv';
import * as path from 'path';
import * as ts from 'typescript';
import type { Dashboard, Panel, RowPanel } from '@grafana/schema';
import { find, ofKind, synth } from '../../test/synth-helpers';
import { dashboardQueries } from './dashboards';
import { knownSeries } from './metric-catalog';
import { expandGrafanaVariables, metricNames } from './promql';
import { buildRegion } from './test-support/fixtures';
import { DASHBOARD_SCHEMA } from './test-support/grafana-dashboard-schema';
import { checkExpressions } from './test-support/promtool';

const { chart, monitoring } = buildRegion();
const objects = synth(chart);
const dashboards = [...monitoring.dashboards.entries()];

function leafPanels(d: Dashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => (p.type === 'row' ? ((p as RowPanel).panels ?? []) : [p as Panel]));
}

/** Type-checks `source` as a module in this folder, with the project's compiler options. */
function typecheck(source: string): string[] {
  const file = path.join(__dirname, '__dashboard_typecheck__.ts');
  const config = ts.readConfigFile(path.resolve(__dirname, '..', '..', 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, path.resolve(__dirname, '..', '..'));
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) =>
    path.resolve(name) === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const program = ts.createProgram({ rootNames: [file], options: { ...options, noEmit: true, types: [] }, host });
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('generated dashboards', () => {
  it('are the Redis, Kong and Istio dashboards', () => {
    expect(dashboards.map(([slug]) => slug)).toEqual(['redis-cluster', 'kong-gateway', 'istio-services']);
  });

  it('validate against the dashboard JSON schema derived from @grafana/schema', () => {
    const validate = new Ajv({ allErrors: true, strict: true }).compile(DASHBOARD_SCHEMA);
    for (const [slug, d] of dashboards) {
      const json = JSON.parse(JSON.stringify(d));
      expect([slug, validate(json) ? [] : validate.errors]).toEqual([slug, []]);
    }
    // The schema is closed: an unknown field is refused.
    expect(validate({ ...JSON.parse(JSON.stringify(dashboards[0][1])), titel: 'x' })).toBe(false);
  });

  it('type-check as @grafana/schema Dashboard values, and a wrong field does not', () => {
    const literal = dashboards.map(([, d], i) => `export const d${i}: Dashboard = ${JSON.stringify(d)};`).join('\n');
    expect(typecheck(`import type { Dashboard } from '@grafana/schema';\n${literal}\n`)).toEqual([]);
    const broken = JSON.stringify({ ...dashboards[0][1], panels: [{ type: 'timeseries', gridPos: { h: 8, w: 12, x: 0, yy: 0 } }] });
    expect(typecheck(`import type { Dashboard } from '@grafana/schema';\nexport const d: Dashboard = ${broken};\n`).join('\n')).toMatch(/yy/);
  }, 60_000);

  it('lay panels out on the grid without overlap, with unique ids and refIds', () => {
    for (const [slug, d] of dashboards) {
      const all = d.panels ?? [];
      const ids = all.map((p) => p.id);
      expect([slug, new Set(ids).size]).toEqual([slug, ids.length]);
      const cells = new Set<string>();
      for (const p of all) {
        const g = p.gridPos!;
        expect(g.x + g.w).toBeLessThanOrEqual(24);
        for (let x = g.x; x < g.x + g.w; x++) {
          for (let y = g.y; y < g.y + g.h; y++) {
            expect([slug, p.title, cells.has(`${x},${y}`)]).toEqual([slug, p.title, false]);
            cells.add(`${x},${y}`);
          }
        }
      }
      for (const p of leafPanels(d)) {
        const refIds = (p.targets ?? []).map((t) => t.refId);
        expect(new Set(refIds).size).toBe(refIds.length);
      }
    }
  });

  it('have datasource, region and environment variables defaulting to the deployed region', () => {
    for (const [, d] of dashboards) {
      const vars = d.templating?.list ?? [];
      expect(vars.map((v) => v.name)).toEqual(['datasource', 'region', 'environment']);
      expect(vars.find((v) => v.name === 'region')!.current).toEqual({ text: 'us-east-1', value: 'us-east-1' });
      expect(vars.find((v) => v.name === 'environment')!.current).toEqual({ text: 'staging', value: 'staging' });
      for (const p of leafPanels(d)) for (const t of p.targets ?? []) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('filter every query by region and environment', () => {
    for (const [, d] of dashboards) {
      for (const q of dashboardQueries(d)) {
        for (const sel of q.expr.match(/\{[^}]*\}/g) ?? []) {
          expect([q.panel, sel]).toEqual([q.panel, expect.stringContaining('region=~"$region",environment=~"$environment"')]);
        }
      }
    }
  });

  it('show what the issue asks for', () => {
    const titles = (slug: string) => leafPanels(monitoring.dashboards.get(slug)!).map((p) => p.title);
    expect(titles('redis-cluster')).toEqual(
      expect.arrayContaining(['Operations per second', 'Hit ratio', 'Memory used vs maxmemory', 'Evictions', 'Connected clients', 'Slots', 'Replica link', 'Members']),
    );
    expect(titles('kong-gateway')).toEqual(expect.arrayContaining(['Requests per second', 'Status codes', 'Request latency percentiles', 'Rate-limited requests per consumer']));
    expect(titles('istio-services')).toEqual(expect.arrayContaining(['Requests per service', '5xx ratio per service', 'p99 latency per service']));
  });

  it('parse as PromQL (promtool) with the template variables filled in', () => {
    const exprs = dashboards.flatMap(([slug, d]) =>
      dashboardQueries(d).map((q) => ({ name: `${slug}/${q.panel}`, expr: expandGrafanaVariables(q.expr, { region: 'us-east-1', environment: 'staging' }) })),
    );
    expect(exprs.length).toBeGreaterThan(40);
    const res = checkExpressions(exprs);
    if (!res.ok) throw new Error(res.output);
    expect(res.output).toContain(`SUCCESS: ${exprs.length} rules found`);
    // promtool really parses: a broken query fails.
    expect(checkExpressions([{ name: 'broken', expr: 'sum(rate(redis_up[5m])' }]).ok).toBe(false);
  });

  it('read only metrics the exporters, Kong and Istio expose', () => {
    const known = knownSeries();
    for (const [slug, d] of dashboards) {
      const unknown = dashboardQueries(d).flatMap((q) => metricNames(q.expr).filter((m) => !known.has(m)).map((m) => `${slug}/${q.panel}: ${m}`));
      expect(unknown).toEqual([]);
    }
  });

  it('are shipped one per ConfigMap with the sidecar label and folder annotation', () => {
    const maps = ofKind(objects, 'ConfigMap').filter((m) => m.metadata.name.startsWith('grafana-dashboard-'));
    expect(maps.map((m) => m.metadata.name).sort()).toEqual(['grafana-dashboard-istio-services', 'grafana-dashboard-kong-gateway', 'grafana-dashboard-redis-cluster']);
    for (const [slug, d] of dashboards) {
      const map = find(objects, 'ConfigMap', `grafana-dashboard-${slug}`, 'monitoring') as unknown as { data: Record<string, string>; metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
      expect(map.metadata.labels.grafana_dashboard).toBe('1');
      expect(map.metadata.annotations.grafana_folder).toBe('Fingerprint');
      expect(Object.keys(map.data)).toEqual([`${slug}.json`]);
      expect(JSON.parse(map.data[`${slug}.json`])).toEqual(JSON.parse(JSON.stringify(d)));
    }
  });

  it('use the configured sidecar label, folder and namespace', () => {
    const custom = synth(
      buildRegion({ grafana: { dashboardLabel: 'dashboards.example.com/load', dashboardLabelValue: 'yes', folderAnnotation: 'k8s-sidecar-target-directory', folder: 'Cache', namespace: 'grafana' } }).chart,
    );
    const map = find(custom, 'ConfigMap', 'grafana-dashboard-redis-cluster', 'grafana');
    expect(map.metadata.labels!['dashboards.example.com/load']).toBe('yes');
    expect(map.metadata.annotations).toEqual({ 'k8s-sidecar-target-directory': 'Cache' });
  });
});
