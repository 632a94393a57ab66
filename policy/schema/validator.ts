import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types';
import addFormats from 'ajv-formats';
import type { KubeObject } from '../../stacks/synth';
import { apiServerProblems } from './apiserver';
import { crdDirs, crdKey, crdVersions, CrdVersion, loadCrdFiles } from './crds';
import { LIST_MAP_KEYWORD, ListMapKeys, Schema, toStrictJsonSchema } from './json-schema';
import { KubernetesSchemas, loadKubernetesSchemas, OBJECT_META, openapiDir } from './kubernetes';

/** One way an object would be rejected by the API server; `path` is the field, e.g. spec.replicas. */
export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

export interface ValidatorOptions {
  /** Kubernetes minor version, e.g. 1.30. */
  readonly kubernetesVersion: string;
  /** Folder with the version's documents. @default $FINGERPRINT_K8S_OPENAPI_DIR/<version> or .tools/k8s-openapi/<version> */
  readonly openapiDir?: string;
  /** Folders with CRD YAML. @default $FINGERPRINT_CRDS_DIR or ../shared/crds */
  readonly crdDirs?: readonly string[];
}

/** Kubernetes resource quantity (resource.ParseQuantity). */
const QUANTITY = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$/;
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/**
 * CRD patterns are Go (RE2) regular expressions, as the API server evaluates them. RE2 inline flags
 * (`(?i)`, `(?i:...)`) are applied to the whole pattern (JavaScript has no scoped flags before
 * Node 23; slightly more permissive where a flag covers only part of a pattern), and `(?P<name>`
 * named groups become `(?<name>`.
 */
export const goRegExp: RegExpEngine = Object.assign(
  (pattern: string, u: string) => {
    let flags = '';
    const source = pattern
      .replace(/\(\?([ims]+)(\)|:)/g, (_m, f: string, end: string) => {
        for (const flag of f) if (!flags.includes(flag)) flags += flag;
        return end === ':' ? '(?:' : '';
      })
      .replace(/\(\?P</g, '(?<');
    try {
      return new RegExp(source, u + flags);
    } catch {
      // Escapes RE2 accepts but unicode-mode RegExp refuses (e.g. `\-` outside a class).
      return new RegExp(source, flags);
    }
  },
  { code: 'new RegExp' },
);

interface Compiled {
  readonly ajv: Ajv;
  readonly kinds: Map<string, ValidateFunction>;
  readonly crds: WeakMap<CrdVersion, ValidateFunction>;
}
const compiledByCore = new WeakMap<KubernetesSchemas, Compiled>();

function listMapKeyword(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: LIST_MAP_KEYWORD,
    type: 'array',
    schemaType: 'object',
    errors: true,
    validate: function validate(def: ListMapKeys, data: unknown[], _parent?: unknown, cxt?: { instancePath: string }) {
      const seen = new Map<string, number>();
      const errors: Partial<ErrorObject>[] = [];
      data.forEach((item, i) => {
        if (!item || typeof item !== 'object') return;
        const entry = item as Record<string, unknown>;
        const key = def.keys.map((k) => `${k}=${JSON.stringify(entry[k] ?? def.defaults[k] ?? null)}`).join(',');
        const first = seen.get(key);
        if (first !== undefined) {
          errors.push({ keyword: LIST_MAP_KEYWORD, instancePath: `${cxt?.instancePath ?? ''}/${i}`, params: { key, first }, message: `duplicate entry for key [${key}] (also at index ${first})` });
        } else seen.set(key, i);
      });
      (validate as { errors?: Partial<ErrorObject>[] }).errors = errors;
      return errors.length === 0;
    },
  });
}

function compiledFor(core: KubernetesSchemas): Compiled {
  let compiled = compiledByCore.get(core);
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, inlineRefs: false, validateFormats: true, code: { regExp: goRegExp } });
    addFormats(ajv, ['date-time', 'date', 'uuid', 'byte', 'ipv4', 'ipv6', 'hostname', 'uri', 'email']);
    ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= INT32.min && n <= INT32.max });
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    ajv.addFormat('float', { type: 'number', validate: () => true });
    ajv.addFormat('double', { type: 'number', validate: () => true });
    ajv.addFormat('quantity', { type: 'string', validate: (s: string) => QUANTITY.test(s) });
    listMapKeyword(ajv);
    ajv.addSchema(core.document);
    compiled = { ajv, kinds: new Map(), crds: new WeakMap() };
    compiledByCore.set(core, compiled);
  }
  return compiled;
}

/** Edit distance counting a swap of neighbouring letters as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** JSON pointer -> field path: /spec/containers/0/name -> spec.containers[0].name. */
export function fieldPath(pointer: string, extra?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const part of parts) {
    if (/^[0-9]+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `["${part}"]`;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}

const FORMAT_HINTS: Record<string, string> = {
  quantity: 'a quantity such as 250m, 1.5 or 512Mi',
  int32: 'a 32-bit integer',
  int64: 'a 64-bit integer',
  'date-time': 'an RFC 3339 date-time',
  byte: 'base64-encoded data',
};

/** Turns ajv's errors into API-server-like problems, dropping the branch noise of failed anyOf/oneOf. */
function problemsOf(errors: readonly ErrorObject[]): SchemaProblem[] {
  const junctions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  const kept = errors.filter((e) => !junctions.some((prefix) => e.schemaPath.startsWith(prefix)));
  const out: SchemaProblem[] = [];
  for (const e of kept) {
    switch (e.keyword) {
      case 'additionalProperties': {
        const field = String(e.params.additionalProperty);
        const known = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
        const close = known
          .map((k) => ({ k, d: k.toLowerCase() === field.toLowerCase() ? 0 : editDistance(k, field) }))
          .filter(({ d }) => d <= Math.max(1, Math.floor(field.length / 4)))
          .sort((a, b) => a.d - b.d)[0];
        out.push({ path: fieldPath(e.instancePath, field), message: `unknown field "${field}"${close ? ` (did you mean "${close.k}"?)` : ''}` });
        break;
      }
      case 'required':
        out.push({ path: fieldPath(e.instancePath, String(e.params.missingProperty)), message: 'required field is missing' });
        break;
      case 'type':
        out.push({ path: fieldPath(e.instancePath), message: `must be ${[e.params.type].flat().join(' or ')} (got ${describe(e.data)})` });
        break;
      case 'enum':
        out.push({
          path: fieldPath(e.instancePath),
          message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${describe(e.data)})`,
        });
        break;
      case 'format':
        out.push({ path: fieldPath(e.instancePath), message: `must be ${FORMAT_HINTS[e.params.format] ?? `a valid ${e.params.format}`} (got ${describe(e.data)})` });
        break;
      default:
        out.push({ path: fieldPath(e.instancePath), message: `${e.message ?? e.keyword}${e.keyword === LIST_MAP_KEYWORD ? '' : ` (got ${describe(e.data)})`}` });
    }
  }
  const seen = new Set<string>();
  return out.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const validators = new Map<string, ManifestValidator>();

/**
 * Validates manifests like the API server's strict field validation: core kinds against the
 * OpenAPI schemas of the target Kubernetes version, custom resources against their CRD's served
 * version (from CRD folders, or CRDs the stack itself renders), plus the API server's name, label
 * and key syntax checks.
 */
export class ManifestValidator {
  /** A validator for these options; one per process and options, so compiled schemas are reused across stacks. */
  public static create(options: ValidatorOptions): ManifestValidator {
    const core = loadKubernetesSchemas(options.kubernetesVersion, options.openapiDir ?? openapiDir(options.kubernetesVersion));
    const dirs = crdDirs(options.crdDirs ?? []);
    const key = JSON.stringify([core.id, core.minor, dirs]);
    let validator = validators.get(key);
    if (!validator || validator.core !== core) {
      validator = new ManifestValidator(core, loadCrdFiles(dirs), dirs);
      validators.set(key, validator);
    }
    return validator;
  }

  private readonly crds = new Map<string, CrdVersion>();

  constructor(
    public readonly core: KubernetesSchemas,
    crds: readonly CrdVersion[],
    public readonly crdSources: readonly string[] = [],
  ) {
    for (const crd of crds) this.crds.set(crdKey(crd.group, crd.version, crd.kind), crd);
  }

  /** Number of CRD versions known from files. */
  public get crdCount(): number {
    return this.crds.size;
  }

  /** Validates a region's objects; CRDs among them define their custom resources for this call. */
  public validateAll(objects: readonly KubeObject[]): SchemaProblem[][] {
    const rendered = new Map<string, CrdVersion>();
    for (const obj of objects) {
      if (obj.kind !== 'CustomResourceDefinition') continue;
      for (const v of crdVersions(obj, 'rendered')) rendered.set(crdKey(v.group, v.version, v.kind), v);
    }
    return objects.map((obj) => this.validate(obj, rendered));
  }

  public validate(obj: KubeObject, renderedCrds: ReadonlyMap<string, CrdVersion> = new Map()): SchemaProblem[] {
    if (!obj || typeof obj !== 'object') return [{ path: '', message: 'is not an object' }];
    if (typeof obj.apiVersion !== 'string' || !obj.apiVersion) return [{ path: 'apiVersion', message: 'required field is missing' }];
    if (typeof obj.kind !== 'string' || !obj.kind) return [{ path: 'kind', message: 'required field is missing' }];
    const compiled = compiledFor(this.core);
    const coreKind = this.core.kinds.get(`${obj.apiVersion}/${obj.kind}`);
    let validate: ValidateFunction;
    let namespaced: boolean;
    if (coreKind) {
      let fn = compiled.kinds.get(coreKind.schemaName);
      if (!fn) {
        fn = compiled.ajv.compile({ $ref: `${this.core.id}#/definitions/${coreKind.schemaName}` });
        compiled.kinds.set(coreKind.schemaName, fn);
      }
      validate = fn;
      namespaced = coreKind.namespaced;
    } else {
      const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/', 2) : ['', obj.apiVersion];
      const key = crdKey(group, version, obj.kind);
      const crd = renderedCrds.get(key) ?? this.crds.get(key);
      if (!crd) return [{ path: 'apiVersion', message: this.unknownKind(group, version, obj.kind, renderedCrds) }];
      if (!crd.served) return [{ path: 'apiVersion', message: `${obj.apiVersion} ${obj.kind} is defined but not served by its CRD (${crd.source})` }];
      validate = this.crdValidator(compiled, crd);
      namespaced = crd.namespaced;
    }
    validate(obj);
    return [...problemsOf(validate.errors ?? []), ...apiServerProblems(obj, namespaced)];
  }

  private crdValidator(compiled: Compiled, crd: CrdVersion): ValidateFunction {
    let fn = compiled.crds.get(crd);
    if (!fn) {
      const schema: Schema = crd.schema
        ? toStrictJsonSchema(crd.schema, { ref: (r) => r, resolve: () => undefined, structural: true })
        : { type: 'object', additionalProperties: true };
      // The server validates a custom resource's metadata as ObjectMeta, whatever the CRD says.
      const properties = { ...((schema.properties as Schema | undefined) ?? {}) };
      properties.apiVersion = { type: 'string' };
      properties.kind = { type: 'string' };
      properties.metadata = { $ref: `${this.core.id}#/definitions/${OBJECT_META}` };
      fn = compiled.ajv.compile({ ...schema, properties });
      compiled.crds.set(crd, fn);
    }
    return fn;
  }

  private unknownKind(group: string, version: string, kind: string, rendered: ReadonlyMap<string, CrdVersion>): string {
    const apiVersion = group ? `${group}/${version}` : version;
    const servedCore = [...this.core.kinds.keys()].filter((k) => k.endsWith(`/${kind}`)).map((k) => k.slice(0, -kind.length - 1));
    if (servedCore.length) return `${apiVersion} ${kind} is not served by Kubernetes ${this.core.minor} (served: ${servedCore.join(', ')})`;
    const crdVersionsOfKind = [...this.crds.values(), ...rendered.values()].filter((c) => c.group === group && c.kind === kind).map((c) => c.version);
    if (crdVersionsOfKind.length) return `${apiVersion} ${kind}: version ${version} is not defined by its CRD (defined: ${[...new Set(crdVersionsOfKind)].join(', ')})`;
    if (!group.includes('.') || group.endsWith('.k8s.io')) return `${apiVersion} ${kind} is not a kind of Kubernetes ${this.core.minor}`;
    return `no CustomResourceDefinition for ${kind} in group ${group} (CRD folders: ${this.crdSources.join(', ') || 'none'}; or render the CRD in the stack)`;
  }
}
