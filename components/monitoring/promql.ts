/**
 * Small PromQL helpers: selectors built from label maps (so every query of a target uses the same
 * matchers), and the metric names an expression reads, for checking them against the catalog.
 */

export type MatcherOp = '=' | '!=' | '=~' | '!~';
export interface Matcher {
  readonly label: string;
  readonly op: MatcherOp;
  readonly value: string;
}

/** Label matchers of one scrape target; combined with per-query matchers by `sel`. */
export class Selector {
  public static of(equal: Record<string, string>): Selector {
    return new Selector(Object.entries(equal).map(([label, value]) => ({ label, op: '=' as const, value })));
  }

  /** `label=~"a|b"`; a single value becomes an equality matcher. */
  public static anyOf(label: string, values: readonly string[]): Selector {
    const unique = [...new Set(values)].sort();
    if (unique.length === 0) throw new Error(`selector on ${label}: at least one value is required`);
    return new Selector([unique.length === 1 ? { label, op: '=', value: unique[0] } : { label, op: '=~', value: unique.map(escapeRegex).join('|') }]);
  }

  private constructor(public readonly matchers: readonly Matcher[]) {}

  public with(extra: Record<string, string> | readonly Matcher[]): Selector {
    const more = Array.isArray(extra)
      ? (extra as readonly Matcher[])
      : Object.entries(extra as Record<string, string>).map(([label, value]) => ({ label, op: '=' as const, value }));
    return new Selector([...this.matchers, ...more]);
  }

  /** `{a="b",c=~"d"}` */
  public toString(): string {
    return `{${this.matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(',')}}`;
  }

  /** The label -> value pairs of the equality matchers (what `absent()` and promtool series carry). */
  public get equalities(): Record<string, string> {
    return Object.fromEntries(this.matchers.filter((m) => m.op === '=').map((m) => [m.label, m.value]));
  }
}

export function re(label: string, pattern: string): Matcher {
  return { label, op: '=~', value: pattern };
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'start',
  'end',
]);

/**
 * Metric names an expression selects. Works on the token level: strings, label matchers, ranges and
 * grouping clauses are removed first, then every identifier that is not a function, aggregation or
 * keyword is a metric name. Selecting by `__name__` is refused so that every metric stays visible.
 */
export function metricNames(expr: string): string[] {
  if (/__name__/.test(expr)) throw new Error(`select metrics by name, not with __name__: ${expr}`);
  let text = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  text = text.replace(/\{[^{}]*\}/g, ' ');
  text = text.replace(/\[[^\[\]]*\]/g, ' ');
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/g, ' ');
  const names = new Set<string>();
  const token = /[0-9][0-9a-zA-Z_.]*|[a-zA-Z_:][a-zA-Z0-9_:]*|\$[a-zA-Z_][a-zA-Z0-9_]*/g;
  for (let m = token.exec(text); m; m = token.exec(text)) {
    const word = m[0];
    if (/^[0-9$]/.test(word)) continue;
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\s*\(/.test(text.slice(m.index + word.length))) continue;
    names.add(word);
  }
  return [...names].sort();
}

/** Grafana's built-in interval variables, replaced by fixed values wherever a plain PromQL parser reads a panel query. */
export const GRAFANA_INTERVAL_VARIABLES: Readonly<Record<string, string>> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
};

/** A panel query with its template variables replaced, so promtool can parse it. */
export function expandGrafanaVariables(expr: string, values: Record<string, string> = {}): string {
  return expr.replace(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)/g, (whole, braced: string, plain: string) => {
    const name = braced ?? plain;
    const value = GRAFANA_INTERVAL_VARIABLES[name] ?? values[name];
    if (value === undefined) throw new Error(`unknown template variable ${whole} in ${expr}`);
    return value;
  });
}
