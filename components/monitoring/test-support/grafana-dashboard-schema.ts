/**
 * A JSON schema for Grafana dashboards, derived by hand from @grafana/schema's generated types
 * (dist/types/raw/dashboard/x/types.gen.d.ts, Dashboard/Panel/RowPanel/VariableModel/GridPos;
 * the package ships TypeScript types but no JSON schema). Property sets are closed, so a misspelt
 * field fails; required fields and value domains follow the types. The type-level check (the
 * generated JSON assigned to @grafana/schema's Dashboard) is in dashboards.test.ts.
 */

const VARIABLE_TYPES = ['query', 'adhoc', 'groupby', 'constant', 'datasource', 'interval', 'textbox', 'custom', 'system', 'snapshot', 'switch'];

const dataSourceRef = {
  type: 'object',
  additionalProperties: false,
  properties: { type: { type: 'string' }, uid: { type: 'string' } },
};

const gridPos = {
  type: 'object',
  additionalProperties: false,
  required: ['h', 'w', 'x', 'y'],
  properties: {
    h: { type: 'integer', minimum: 1 },
    w: { type: 'integer', minimum: 1, maximum: 24 },
    x: { type: 'integer', minimum: 0, maximum: 23 },
    y: { type: 'integer', minimum: 0 },
    static: { type: 'boolean' },
  },
};

const prometheusQuery = {
  type: 'object',
  required: ['refId', 'expr', 'datasource'],
  properties: {
    refId: { type: 'string', pattern: '^[A-Z]$' },
    expr: { type: 'string', minLength: 1 },
    datasource: dataSourceRef,
    legendFormat: { type: 'string' },
    range: { type: 'boolean' },
    instant: { type: 'boolean' },
    hide: { type: 'boolean' },
    interval: { type: 'string' },
  },
  additionalProperties: false,
};

const fieldConfig = {
  type: 'object',
  additionalProperties: false,
  required: ['defaults', 'overrides'],
  properties: {
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: {
        unit: { type: 'string' },
        min: { type: 'number' },
        max: { type: 'number' },
        decimals: { type: 'number' },
        displayName: { type: 'string' },
        description: { type: 'string' },
        noValue: { type: 'string' },
        custom: { type: 'object' },
      },
    },
    overrides: { type: 'array' },
  },
};

const panel = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'id', 'title', 'gridPos', 'targets', 'datasource'],
  properties: {
    type: { type: 'string', enum: ['timeseries', 'stat', 'table', 'gauge', 'bargauge', 'text', 'heatmap', 'piechart', 'state-timeline'] },
    id: { type: 'integer', minimum: 1 },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    datasource: dataSourceRef,
    gridPos,
    targets: { type: 'array', minItems: 1, items: prometheusQuery },
    fieldConfig,
    options: { type: 'object' },
    transparent: { type: 'boolean' },
    interval: { type: 'string' },
    maxDataPoints: { type: 'number' },
    pluginVersion: { type: 'string' },
    links: { type: 'array' },
    transformations: { type: 'array' },
    repeat: { type: 'string' },
    repeatDirection: { enum: ['h', 'v'] },
    timeFrom: { type: 'string' },
    timeShift: { type: 'string' },
  },
};

const rowPanel = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'id', 'collapsed', 'panels'],
  properties: {
    type: { const: 'row' },
    id: { type: 'integer', minimum: 1 },
    title: { type: 'string' },
    collapsed: { type: 'boolean' },
    gridPos,
    datasource: dataSourceRef,
    panels: { type: 'array', items: panel },
    repeat: { type: 'string' },
  },
};

const variableOption = {
  type: 'object',
  additionalProperties: false,
  required: ['text', 'value'],
  properties: {
    text: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    value: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    selected: { type: 'boolean' },
  },
};

const variable = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type'],
  properties: {
    name: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' },
    type: { enum: VARIABLE_TYPES },
    label: { type: 'string' },
    description: { type: 'string' },
    datasource: { anyOf: [dataSourceRef, { type: 'null' }] },
    query: { anyOf: [{ type: 'string' }, { type: 'object' }] },
    current: variableOption,
    options: { type: 'array', items: variableOption },
    includeAll: { type: 'boolean' },
    allValue: { type: 'string' },
    multi: { type: 'boolean' },
    refresh: { enum: [0, 1, 2] },
    sort: { type: 'integer', minimum: 0, maximum: 8 },
    hide: { enum: [0, 1, 2, 3] },
    regex: { type: 'string' },
    skipUrlSync: { type: 'boolean' },
  },
};

export const DASHBOARD_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['uid', 'title', 'schemaVersion', 'panels', 'templating', 'time'],
  properties: {
    uid: { type: 'string', pattern: '^[a-zA-Z0-9_-]{8,40}$' },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    editable: { type: 'boolean' },
    graphTooltip: { enum: [0, 1, 2] },
    schemaVersion: { type: 'integer', minimum: 36 },
    refresh: { type: 'string', pattern: '^([0-9]+[smhd])?$' },
    time: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'to'],
      properties: { from: { type: 'string' }, to: { type: 'string' } },
    },
    timezone: { type: 'string' },
    version: { type: 'integer' },
    id: { type: ['integer', 'null'] },
    links: { type: 'array' },
    annotations: { type: 'object', additionalProperties: false, properties: { list: { type: 'array' } } },
    templating: {
      type: 'object',
      additionalProperties: false,
      required: ['list'],
      properties: { list: { type: 'array', items: variable } },
    },
    panels: { type: 'array', minItems: 1, items: { anyOf: [rowPanel, panel] } },
    weekStart: { type: 'string' },
    liveNow: { type: 'boolean' },
    fiscalYearStartMonth: { type: 'integer', minimum: 0, maximum: 11 },
  },
} as const;
