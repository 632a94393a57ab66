import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/schema';
import { re, Selector } from '../promql';

/**
 * A small typed builder for Grafana dashboards: panels are laid out on the 24-column grid in the
 * order they are added, every query goes to the dashboard's `datasource` variable, and every
 * dashboard has datasource, region and environment variables. The output is typed with
 * @grafana/schema's Dashboard, so a field Grafana does not know fails the typecheck.
 */

/** Grafana dashboard JSON schema version the builder writes (Grafana 10/11). */
export const SCHEMA_VERSION = 39;
export const DATASOURCE_VARIABLE = 'datasource';
const DATASOURCE = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };
const GRID_COLUMNS = 24;

export interface Query {
  readonly expr: string;
  /** Legend template, e.g. `{{pod}}`. */
  readonly legend?: string;
  /** One value per series (stat and table panels) instead of a range. */
  readonly instant?: boolean;
}

export type PanelKind = 'timeseries' | 'stat' | 'table';

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly kind: PanelKind;
  readonly queries: readonly Query[];
  /** Grafana unit id, e.g. `ops`, `bytes`, `percentunit`, `ms`, `reqps`. */
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  /** Grid columns (of 24). @default 12 */
  readonly width?: number;
  /** Grid rows. @default 8 */
  readonly height?: number;
}

export interface DashboardSpec {
  /** Stable uid (8-40 letters, digits, - and _): links and provisioning key on it. */
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** Default of the region and environment variables: the region the dashboard is deployed to. */
  readonly region: string;
  readonly environment: string;
}

/** Matchers every panel query adds, so one Grafana can switch between regions and environments. */
export function templateMatchers(): ReturnType<typeof re>[] {
  return [re('region', '$region'), re('environment', '$environment')];
}

/** A target's selector with the template matchers added. */
export function templated(selector: Selector): Selector {
  return selector.with(templateMatchers());
}

function labelVariable(name: string, label: string, current: string): VariableModel {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: `label_values(up, ${name})`,
    current: { text: current, value: current },
    includeAll: true,
    // Series without the label (a Prometheus that does not add it) still match "All".
    allValue: '.*',
    multi: false,
    refresh: 2,
    sort: 1,
    hide: 0,
  };
}

export class DashboardBuilder {
  private readonly panels: Array<Panel | RowPanel> = [];
  private nextId = 1;
  private x = 0;
  private y = 0;
  private rowHeight = 0;

  constructor(private readonly spec: DashboardSpec) {
    if (!/^[a-zA-Z0-9_-]{8,40}$/.test(spec.uid)) throw new Error(`dashboard uid "${spec.uid}" must be 8-40 letters, digits, "-" or "_"`);
  }

  /** Starts a new full-width row. */
  public row(title: string): this {
    this.newLine();
    this.panels.push({ type: 'row', id: this.nextId++, title, collapsed: false, panels: [], gridPos: { h: 1, w: GRID_COLUMNS, x: 0, y: this.y } });
    this.y += 1;
    return this;
  }

  public panel(p: PanelSpec): this {
    const w = p.width ?? 12;
    const h = p.height ?? 8;
    if (w < 1 || w > GRID_COLUMNS) throw new Error(`panel "${p.title}": width ${w} must be 1-${GRID_COLUMNS}`);
    if (p.queries.length === 0) throw new Error(`panel "${p.title}" has no query`);
    if (this.x + w > GRID_COLUMNS) this.newLine();
    const refIds = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const panel: Panel = {
      id: this.nextId++,
      type: p.kind,
      title: p.title,
      description: p.description,
      datasource: DATASOURCE,
      gridPos: { h, w, x: this.x, y: this.y },
      targets: p.queries.map((q, i) => ({
        refId: refIds[i],
        datasource: DATASOURCE,
        expr: q.expr,
        legendFormat: q.legend ?? '__auto',
        range: !q.instant,
        instant: !!q.instant,
      })),
      fieldConfig: {
        defaults: {
          ...(p.unit ? { unit: p.unit } : {}),
          ...(p.min !== undefined ? { min: p.min } : {}),
          ...(p.max !== undefined ? { max: p.max } : {}),
        },
        overrides: [],
      },
      options: optionsFor(p.kind),
    };
    this.panels.push(panel);
    this.x += w;
    this.rowHeight = Math.max(this.rowHeight, h);
    return this;
  }

  public build(): Dashboard {
    const { spec } = this;
    return {
      uid: spec.uid,
      title: spec.title,
      description: spec.description,
      tags: [...spec.tags],
      editable: false,
      graphTooltip: 1,
      schemaVersion: SCHEMA_VERSION,
      refresh: '1m',
      time: { from: 'now-6h', to: 'now' },
      timezone: 'utc',
      version: 1,
      links: [],
      annotations: { list: [] },
      templating: {
        list: [
          {
            name: DATASOURCE_VARIABLE,
            label: 'Data source',
            type: 'datasource',
            query: 'prometheus',
            current: { text: 'Prometheus', value: 'prometheus' },
            hide: 0,
          },
          labelVariable('region', 'Region', spec.region),
          labelVariable('environment', 'Environment', spec.environment),
        ],
      },
      panels: [...this.panels],
    };
  }

  private newLine(): void {
    if (this.x > 0) {
      this.y += this.rowHeight;
      this.x = 0;
      this.rowHeight = 0;
    }
  }
}

function optionsFor(kind: PanelKind): Record<string, unknown> {
  switch (kind) {
    case 'timeseries':
      return { legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] }, tooltip: { mode: 'multi', sort: 'desc' } };
    case 'stat':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto', justifyMode: 'auto', orientation: 'auto' };
    case 'table':
      return { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], countRows: false } };
  }
}

/** Every query of a dashboard, with its panel title (for checks). */
export function dashboardQueries(dashboard: Dashboard): { panel: string; expr: string }[] {
  const out: { panel: string; expr: string }[] = [];
  const visit = (panels: readonly (Panel | RowPanel)[]) => {
    for (const p of panels) {
      if (p.type === 'row') visit((p as RowPanel).panels ?? []);
      for (const t of ((p as Panel).targets ?? []) as { expr?: unknown }[]) {
        if (typeof t.expr === 'string') out.push({ panel: (p as Panel).title ?? '', expr: t.expr });
      }
    }
  };
  visit(dashboard.panels ?? []);
  return out;
}
