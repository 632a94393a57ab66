import * as fs from 'fs';
import * as path from 'path';
import { Schema, toStrictJsonSchema } from './json-schema';

/** Where `scripts/k8s-openapi/fetch.sh` puts one folder per Kubernetes minor version. */
export const DEFAULT_OPENAPI_BASE = path.resolve(__dirname, '..', '..', '.tools', 'k8s-openapi');
export const OPENAPI_BASE_ENV = 'FINGERPRINT_K8S_OPENAPI_DIR';

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const REF_PREFIX = '#/components/schemas/';

export interface KindInfo {
  /** Name of the schema in the OpenAPI documents, e.g. io.k8s.api.apps.v1.StatefulSet. */
  readonly schemaName: string;
  readonly namespaced: boolean;
}

/** The core API of one Kubernetes release as strict JSON Schema. */
export interface KubernetesSchemas {
  /** The minor version asked for, e.g. 1.30. */
  readonly minor: string;
  /** The exact release the documents come from, e.g. v1.30.14. */
  readonly release: string;
  /** ajv document holding every definition; reference one as `${id}#/definitions/<name>`. */
  readonly id: string;
  readonly document: Schema;
  /** `apiVersion/kind` (e.g. apps/v1/StatefulSet, v1/ConfigMap) -> schema and scope. */
  readonly kinds: ReadonlyMap<string, KindInfo>;
}

interface OpenApiDocument {
  components?: { schemas?: Record<string, Schema> };
  paths?: Record<string, Record<string, unknown>>;
}

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

export function apiVersionOf(gvk: Gvk): string {
  return gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
}

/** The folder with the documents of `minor`: `$FINGERPRINT_K8S_OPENAPI_DIR/<minor>` or .tools/k8s-openapi/<minor>. */
export function openapiDir(minor: string, base = process.env[OPENAPI_BASE_ENV] || DEFAULT_OPENAPI_BASE): string {
  return path.join(base, minor);
}

function pointerTarget(schema: Schema, pointer: string): Schema | undefined {
  let node: unknown = schema;
  for (const part of pointer.split('/')) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Schema)[part];
  }
  return node && typeof node === 'object' ? (node as Schema) : undefined;
}

const cache = new Map<string, KubernetesSchemas>();

/**
 * Loads the OpenAPI v3 documents of one Kubernetes minor version (fetched by
 * `scripts/k8s-openapi/fetch.sh`), adds the enum values of the same release, and converts every
 * definition to strict JSON Schema. Cached per folder.
 */
export function loadKubernetesSchemas(minor: string, dir = openapiDir(minor)): KubernetesSchemas {
  const cached = cache.get(dir);
  if (cached) return cached;
  const versionFile = path.join(dir, 'VERSION');
  if (!fs.existsSync(versionFile)) {
    throw new Error(
      `no Kubernetes ${minor} OpenAPI documents in ${dir}; run: bash scripts/k8s-openapi/fetch.sh ${minor} (or npm run setup), or point ${OPENAPI_BASE_ENV} at a folder holding <minor>/v3/*.json`,
    );
  }
  const release = fs.readFileSync(versionFile, 'utf8').trim();
  const sources: Record<string, Schema> = {};
  const kinds = new Map<string, KindInfo>();
  const docDir = path.join(dir, 'v3');
  const docs = fs
    .readdirSync(docDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(docDir, f), 'utf8')) as OpenApiDocument);
  for (const doc of docs) Object.assign(sources, doc.components?.schemas ?? {});

  // Scope from the create operations: a namespaced kind is created under /namespaces/{namespace}/.
  const namespacedKinds = new Set<string>();
  const createdKinds = new Set<string>();
  for (const doc of docs) {
    for (const [route, operations] of Object.entries(doc.paths ?? {})) {
      const post = operations.post as { 'x-kubernetes-group-version-kind'?: Gvk } | undefined;
      const gvk = post?.['x-kubernetes-group-version-kind'];
      if (!gvk || route.includes('{name}')) continue;
      const key = `${apiVersionOf(gvk)}/${gvk.kind}`;
      createdKinds.add(key);
      if (route.includes('{namespace}')) namespacedKinds.add(key);
    }
  }
  for (const [name, schema] of Object.entries(sources)) {
    const gvks = schema['x-kubernetes-group-version-kind'] as Gvk[] | undefined;
    for (const gvk of gvks ?? []) {
      const key = `${apiVersionOf(gvk)}/${gvk.kind}`;
      if (createdKinds.has(key)) kinds.set(key, { schemaName: name, namespaced: namespacedKinds.has(key) });
    }
  }

  const enumsFile = path.join(dir, 'enums.json');
  const enums = fs.existsSync(enumsFile) ? (JSON.parse(fs.readFileSync(enumsFile, 'utf8')) as Record<string, Record<string, string[]>>) : {};
  for (const [name, fields] of Object.entries(enums)) {
    const schema = sources[name];
    if (!schema) continue;
    for (const [pointer, values] of Object.entries(fields)) {
      const target = pointerTarget(schema, pointer);
      if (target) target.enum = values;
    }
  }

  const id = `https://kubernetes.io/openapi/${release}`;
  const refName = (ref: string) => (ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : ref);
  const opts = {
    ref: (ref: string) => `#/definitions/${refName(ref)}`,
    resolve: (ref: string) => sources[refName(ref)],
    structural: false,
  };
  const definitions: Record<string, Schema> = {};
  for (const [name, schema] of Object.entries(sources)) {
    definitions[name] = name === QUANTITY ? { type: ['string', 'number'], format: 'quantity' } : toStrictJsonSchema(schema, opts);
  }
  const loaded: KubernetesSchemas = { minor, release, id, document: { $id: id, definitions }, kinds };
  cache.set(dir, loaded);
  return loaded;
}

export const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
