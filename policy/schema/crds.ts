import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../stacks/synth';
import { Schema } from './json-schema';

/** The CRDs of Istio, Kong and prometheus-operator shipped beside the project for tests. */
export const DEFAULT_CRDS_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'crds');
export const CRDS_DIR_ENV = 'FINGERPRINT_CRDS_DIR';

/** CRD folders to use: the given ones, else `$FINGERPRINT_CRDS_DIR` (path-list), else ../shared/crds. */
export function crdDirs(given: readonly string[] = []): string[] {
  if (given.length) return [...given];
  const env = process.env[CRDS_DIR_ENV];
  return env ? env.split(path.delimiter).filter(Boolean) : [DEFAULT_CRDS_DIR];
}

/** One version of a custom resource kind. */
export interface CrdVersion {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly served: boolean;
  /** spec.versions[].schema.openAPIV3Schema (or the CRD-wide spec.validation of old CRDs). */
  readonly schema: Schema | undefined;
  /** Where the CRD came from: a file, or `rendered` for CRDs the stack itself creates. */
  readonly source: string;
}

interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { kind: string };
  versions?: { name: string; served?: boolean; schema?: { openAPIV3Schema?: Schema } }[];
}

/** The versions a CustomResourceDefinition object declares. */
export function crdVersions(crd: KubeObject, source: string): CrdVersion[] {
  const spec = crd.spec as CrdSpec | undefined;
  if (!spec?.group || !spec.names?.kind) return [];
  return (spec.versions ?? []).map((v) => ({
    group: spec.group,
    version: v.name,
    kind: spec.names.kind,
    namespaced: spec.scope !== 'Cluster',
    served: v.served !== false,
    schema: v.schema?.openAPIV3Schema,
    source,
  }));
}

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return yamlFiles(full);
      return /\.(ya?ml|json)$/.test(entry.name) ? [full] : [];
    })
    .sort();
}

/** Every CRD version defined in the YAML/JSON files below `dirs`. */
export function loadCrdFiles(dirs: readonly string[]): CrdVersion[] {
  const out: CrdVersion[] = [];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) throw new Error(`CRD folder ${dir} does not exist (set --crds or ${CRDS_DIR_ENV})`);
    for (const file of yamlFiles(dir)) {
      for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
        if (doc.errors.length) throw new Error(`${file}: not valid YAML: ${doc.errors[0].message}`);
        const obj = doc.toJSON() as KubeObject | null;
        if (obj?.kind === 'CustomResourceDefinition') out.push(...crdVersions(obj, file));
      }
    }
  }
  return out;
}

export function crdKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}
