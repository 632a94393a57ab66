import { isCelError, run } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

/**
 * Validates Istio custom resources against the openAPIV3Schema of the CRD version they name, as
 * the API server would: structural schemas are closed (an unknown field is an error here, where the
 * server would silently prune it and the setting would be lost), `x-kubernetes-preserve-unknown-fields`
 * keeps a subtree open, int32 and friends are range-checked, and the CRD's CEL rules
 * (`x-kubernetes-validations`) are evaluated. A rule that cannot be evaluated counts as a failure.
 */

/** Folder of the Istio CRDs shared beside the project (override with ISTIO_CRDS_DIR). */
export function istioCrdDir(): string {
  return process.env.ISTIO_CRDS_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'crds', 'istio');
}

type Schema = Record<string, unknown>;

interface CrdVersion {
  readonly schema: Schema;
  readonly served: boolean;
}

const K8S_EXTENSIONS = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-embedded-resource',
];

/** Closes every object schema that lists its properties, unless it preserves unknown fields. */
export function closeStructuralSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeStructuralSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    // `properties` and `patternProperties` map names to schemas; recurse into the schemas only.
    if ((key === 'properties' || key === 'patternProperties' || key === 'definitions') && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, closeStructuralSchema(v)]));
    } else if (key === 'description' || key === 'x-kubernetes-validations' || key === 'enum' || key === 'required' || key === 'default') {
      out[key] = value;
    } else {
      out[key] = closeStructuralSchema(value);
    }
  }
  if (out.properties && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

export interface CrdValidationResult {
  readonly key: string;
  readonly errors: readonly string[];
}

export class CrdSchemaValidator {
  /** Loads every CRD in the `.yaml` files of `dir`. */
  public static fromDirectory(dir = istioCrdDir()): CrdSchemaValidator {
    if (!fs.existsSync(dir)) throw new Error(`CRD folder ${dir} does not exist (set ISTIO_CRDS_DIR)`);
    const crds: Schema[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
        const crd = doc.toJS() as Schema | null;
        if (crd && crd.kind === 'CustomResourceDefinition') crds.push(crd);
      }
    }
    return new CrdSchemaValidator(crds);
  }

  private readonly versions = new Map<string, CrdVersion>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ajv: Ajv;

  constructor(crds: readonly Schema[]) {
    for (const crd of crds) {
      const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema: Schema } }[] };
      for (const v of spec.versions) {
        if (!v.schema) continue;
        this.versions.set(`${spec.group}/${v.name}/${spec.names.kind}`, { schema: v.schema.openAPIV3Schema, served: v.served });
      }
    }
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    addFormats(this.ajv, ['date-time', 'byte']);
    const intRange = (bits: number) => (n: number) => Number.isInteger(n) && n >= -(2 ** (bits - 1)) && n < 2 ** (bits - 1);
    this.ajv.addFormat('int32', { type: 'number', validate: intRange(32) });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
    this.ajv.addFormat('uint32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 && n < 2 ** 32 });
    this.ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    this.ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    for (const keyword of K8S_EXTENSIONS) this.ajv.addKeyword(keyword);
  }

  /** `group/version/Kind` keys of every served version that has a schema. */
  public get servedKinds(): string[] {
    return [...this.versions.entries()].filter(([, v]) => v.served).map(([k]) => k);
  }

  /** The openAPIV3Schema of a served `apiVersion` + `kind`, or undefined. */
  public schemaOf(apiVersion: string, kind: string): Schema | undefined {
    const v = this.versions.get(`${apiVersion}/${kind}`);
    return v?.served ? v.schema : undefined;
  }

  public handles(apiVersion: string): boolean {
    return [...this.versions.keys()].some((k) => k.startsWith(`${apiVersion}/`));
  }

  /** Problems of one object (empty when valid), each prefixed with the object's identity and JSON path. */
  public validate(object: { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } } & Record<string, unknown>): string[] {
    const id = `${object.apiVersion}/${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? '?'}`;
    const key = `${object.apiVersion}/${object.kind}`;
    const version = this.versions.get(key);
    if (!version) return [`${id}: no CRD in the schema folder defines ${key}`];
    if (!version.served) return [`${id}: ${key} is not served`];
    const problems: string[] = [];
    if (!object.metadata?.name) problems.push(`${id}: metadata.name is required`);
    let validate = this.compiled.get(key);
    if (!validate) {
      const root = closeStructuralSchema(version.schema) as Schema;
      // The CRD schema describes the body; apiVersion, kind and metadata are checked by the API server itself.
      const withEnvelope = {
        ...root,
        properties: { ...(root.properties as Schema), apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } },
      };
      validate = this.ajv.compile(withEnvelope);
      this.compiled.set(key, validate);
    }
    if (!validate(object)) {
      for (const e of validate.errors ?? []) {
        const where = e.instancePath || '/';
        const detail = e.keyword === 'additionalProperties' ? `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"` : e.message;
        problems.push(`${id}: ${where}: ${detail}`);
      }
    }
    for (const field of Object.keys(version.schema.properties as Schema)) {
      if (object[field] !== undefined) celProblems(object[field], (version.schema.properties as Schema)[field] as Schema, `/${field}`, (p) => problems.push(`${id}: ${p}`));
    }
    return problems;
  }
}

interface CelRule {
  readonly rule: string;
  readonly message?: string;
}

/** A JSON value as CEL sees it: objects are maps, and integers typed `integer` are CEL ints. */
function toCel(value: unknown, schema: Schema | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema?.items as Schema | undefined));
  if (value && typeof value === 'object') {
    const props = schema?.properties as Schema | undefined;
    const extra = typeof schema?.additionalProperties === 'object' ? (schema.additionalProperties as Schema) : undefined;
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v, (props?.[k] as Schema | undefined) ?? extra)]));
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    const integer = schema?.type === 'integer' || (Array.isArray(schema?.anyOf) && (schema.anyOf as Schema[]).some((s) => s.type === 'integer'));
    return integer ? BigInt(value) : value;
  }
  return value;
}

/** Evaluates the CEL rules of `schema` and of every nested schema the value reaches. */
function celProblems(value: unknown, schema: Schema | undefined, where: string, report: (problem: string) => void): void {
  if (!schema || value === undefined || value === null) return;
  for (const { rule, message } of (schema['x-kubernetes-validations'] as CelRule[] | undefined) ?? []) {
    // Transition rules compare with the stored object; they only run on updates.
    if (/\boldSelf\b/.test(rule)) continue;
    let result: unknown;
    try {
      result = run(rule, { self: toCel(value, schema) } as never, { funcs: strings });
    } catch (e) {
      result = e;
    }
    if (result === true) continue;
    const cause = isCelError(result) || result instanceof Error ? ` (rule could not be evaluated: ${(result as Error).message})` : '';
    report(`${where || '/'}: ${message ?? `failed rule: ${rule}`}${cause}`);
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => celProblems(item, schema.items as Schema | undefined, `${where}/${i}`, report));
  } else if (typeof value === 'object') {
    const props = (schema.properties as Schema | undefined) ?? {};
    const extra = typeof schema.additionalProperties === 'object' ? (schema.additionalProperties as Schema) : undefined;
    for (const [k, v] of Object.entries(value as Schema)) celProblems(v, (props[k] as Schema | undefined) ?? extra, `${where}/${k}`, report);
  }
}
