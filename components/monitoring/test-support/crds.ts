import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

/** prometheus-operator CRDs shipped beside the project (../shared/crds), or `$FINGERPRINT_CRDS_DIR`. */
export function prometheusOperatorCrdDir(): string {
  const base = process.env.FINGERPRINT_CRDS_DIR ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'crds');
  return path.join(base, 'prometheus-operator');
}

interface Crd {
  spec: { group: string; names: { kind: string }; versions: { name: string; schema?: { openAPIV3Schema?: object } }[] };
}

/** Structural-schema keywords the API server understands and JSON Schema does not. */
const KUBERNETES_KEYWORDS = [
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
  'x-kubernetes-embedded-resource',
];

/** Validates custom resources against the openAPIV3Schema of their CRD version, as the API server would. */
/** CRD patterns are Go regular expressions; the inline case-insensitive flag becomes a JS flag. */
function goRegExp(pattern: string, flags: string): RegExp {
  try {
    return new RegExp(pattern, flags);
  } catch {
    return new RegExp(pattern.replace(/\(\?i\)/g, ''), `${flags}i`);
  }
}
goRegExp.code = 'new RegExp';

export class CrdValidator {
  private readonly schemas = new Map<string, object>();
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv: Ajv;

  constructor(dir = prometheusOperatorCrdDir()) {
    if (!fs.existsSync(dir)) throw new Error(`CRD folder ${dir} does not exist (set FINGERPRINT_CRDS_DIR)`);
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, code: { regExp: goRegExp } });
    addFormats(this.ajv);
    for (const keyword of KUBERNETES_KEYWORDS) this.ajv.addKeyword(keyword);
    for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
      for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
        const crd = doc.toJS() as Crd | null;
        if (!crd?.spec?.versions) continue;
        for (const version of crd.spec.versions) {
          const schema = version.schema?.openAPIV3Schema;
          if (schema) this.schemas.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, schema);
        }
      }
    }
  }

  public get kinds(): string[] {
    return [...this.schemas.keys()].sort();
  }

  /** Problems of one object (empty when valid); throws when no CRD defines its kind. */
  public problems(obj: { apiVersion: string; kind: string; metadata: { name: string } }): string[] {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const schema = this.schemas.get(key);
    if (!schema) throw new Error(`no CRD schema for ${key} (known: ${this.kinds.join(', ')})`);
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.validators.set(key, validate);
    }
    const valid: boolean = validate(obj);
    if (valid) return [];
    return (validate.errors ?? []).map((e) => `${obj.kind} ${obj.metadata.name}: ${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }
}
