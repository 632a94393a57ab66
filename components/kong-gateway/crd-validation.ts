import { CelInput, isCelError, run } from '@bufbuild/cel';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as fs from 'fs';
import * as path from 'path';
import { CrdDocument, parseKongCrdManifest } from './crds';

/**
 * Test support: validates Kong custom resources the way the API server does on create/update —
 * the CRD's openAPIV3Schema (required fields, types, enums, patterns, unknown fields, which the
 * server would prune silently) and its x-kubernetes-validations CEL rules, evaluated with
 * @bufbuild/cel. Transition rules (those reading `oldSelf`) run only when an old object is given,
 * as on an update.
 */

/** Kong's CRD manifest for tests: ../shared/crds/kong beside the project, or KONG_CRDS_DIR. */
export function kongCrdManifestPath(): string {
  const dir = process.env.KONG_CRDS_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'crds', 'kong');
  return path.join(dir, 'custom-resource-definitions.yaml');
}

type Schema = Record<string, any>;

interface Rule {
  readonly rule: string;
  readonly message?: string;
}

interface KindSchema {
  readonly crd: CrdDocument;
  readonly schema: Schema;
  readonly validate: ValidateFunction;
}

const CEL_KEYWORDS = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop',
  'package', 'namespace', 'return', 'var',
]);

/** Kubernetes' escaping of property names for CEL (KEP-2876). */
export function escapeCelProperty(name: string): string | undefined {
  if (CEL_KEYWORDS.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(name)) return undefined;
  return name.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

/** A JSON value as CEL sees it under `schema`: objects become maps, integers ints. */
function toCel(value: unknown, schema: Schema | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema?.items));
  if (value !== null && typeof value === 'object') {
    const out = new Map<string, unknown>();
    for (const [k, v] of Object.entries(value)) {
      const escaped = escapeCelProperty(k);
      if (escaped === undefined) continue;
      out.set(escaped, toCel(v, schema?.properties?.[k] ?? (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined)));
    }
    return out;
  }
  if (typeof value === 'number' && (schema?.type === 'integer' || (schema?.type === undefined && Number.isInteger(value)))) return BigInt(value);
  return value;
}

/**
 * The schema as ajv checks it: unknown fields are errors unless the schema preserves them (the
 * API server would drop them, losing configuration without a word), and Kubernetes extensions
 * are removed.
 */
function toAjvSchema(schema: Schema, isRoot = true): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, toAjvSchema(v as Schema, false)]));
    else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) out[key] = toAjvSchema(value as Schema, false);
    else out[key] = value;
  }
  if (schema.type === 'object' && schema.properties && schema.additionalProperties === undefined && !schema['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  if (isRoot && out.properties?.metadata) out.properties.metadata = { type: 'object', required: ['name'] };
  return out;
}

/** Walks value and schema together, collecting CEL rule failures with their JSON paths. */
function evaluateRules(schema: Schema, value: unknown, old: unknown, at: string, errors: string[]): void {
  if (value === undefined || value === null) return;
  const rules = (schema['x-kubernetes-validations'] ?? []) as Rule[];
  for (const { rule, message } of rules) {
    const transition = /\boldSelf\b/.test(rule);
    if (transition && (old === undefined || old === null)) continue;
    const bindings: Record<string, CelInput> = { self: toCel(value, schema) as CelInput };
    if (transition) bindings.oldSelf = toCel(old, schema) as CelInput;
    const result = run(rule, bindings);
    if (isCelError(result)) {
      errors.push(`${at || '<root>'}: rule ${rule} failed to evaluate: ${result.message}`);
      continue;
    }
    if (result !== true) errors.push(`${at || '<root>'}: ${message ?? `failed rule: ${rule}`}`);
  }
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => evaluateRules(schema.items, item, undefined, `${at}[${i}]`, errors));
    return;
  }
  if (typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  const oldRecord = old && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : undefined;
  for (const [key, child] of Object.entries(record)) {
    const childSchema = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (childSchema) evaluateRules(childSchema, child, oldRecord?.[key], `${at}.${key}`, errors);
  }
}

export class KongCrdValidator {
  private readonly kinds = new Map<string, KindSchema>();

  constructor(manifestPath = kongCrdManifestPath()) {
    // CRD patterns are RE2 syntax, which JavaScript accepts only without the unicode flag (e.g. `\-`).
    const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, unicodeRegExp: false });
    addFormats(ajv);
    ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    for (const crd of parseKongCrdManifest(fs.readFileSync(manifestPath, 'utf8'), manifestPath)) {
      for (const version of crd.spec.versions) {
        const schema = version.schema?.openAPIV3Schema as Schema | undefined;
        if (!schema || !version.served) continue;
        this.kinds.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, { crd, schema, validate: ajv.compile(toAjvSchema(schema)) });
      }
    }
  }

  /** `group/version/kind` of every served kind. */
  public get servedKinds(): string[] {
    return [...this.kinds.keys()];
  }

  /**
   * Problems of `object` as a create (or, with `old`, an update) would report them; empty when
   * the API server would accept it.
   */
  public validate(object: Record<string, any>, old?: Record<string, any>): string[] {
    const kind = this.kinds.get(`${object.apiVersion}/${object.kind}`);
    if (!kind) return [`no served CRD for ${object.apiVersion} ${object.kind}`];
    const errors: string[] = [];
    const metadata = object.metadata ?? {};
    if (kind.crd.spec.scope === 'Namespaced' && !metadata.namespace) errors.push('metadata.namespace: required for a namespaced kind');
    if (kind.crd.spec.scope === 'Cluster' && metadata.namespace) errors.push('metadata.namespace: must be empty for a cluster-scoped kind');
    if (typeof metadata.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(metadata.name) || metadata.name.length > 253) {
      errors.push(`metadata.name: ${JSON.stringify(metadata.name)} is not a DNS-1123 subdomain`);
    }
    for (const [key, value] of Object.entries((metadata.labels ?? {}) as Record<string, string>)) {
      if (!/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value) || value.length > 63) errors.push(`metadata.labels.${key}: invalid label value ${JSON.stringify(value)}`);
    }
    // The API server defaults before it validates; defaulting mutates, so work on copies.
    const candidate = structuredClone(object);
    const previous = old ? structuredClone(old) : undefined;
    if (!kind.validate(candidate)) {
      for (const e of kind.validate.errors ?? []) errors.push(`${e.instancePath || '<root>'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`);
    }
    if (previous) kind.validate(previous);
    evaluateRules(kind.schema, candidate, previous, '', errors);
    return errors;
  }
}
