import type { KubeObject } from '../../stacks/synth';
import { containersOf, Json, podTemplateOf } from '../rules/pods';

/**
 * The part of the API server's built-in validation that OpenAPI schemas do not express but that
 * rejects objects this program could plausibly produce: names, namespaces, label and annotation
 * syntax, container and port names, env var names, ConfigMap/Secret keys and sizes.
 */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** Env var names accepted up to Kubernetes 1.31 (any printable character from 1.32). */
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
const ANNOTATIONS_MAX_BYTES = 256 * 1024;
const CONFIGMAP_MAX_BYTES = 1024 * 1024;

function dnsLabel(value: string): string | undefined {
  if (value.length > 63) return 'must be at most 63 characters';
  return DNS1123_LABEL.test(value) ? undefined : 'must be a DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit)';
}

function dnsSubdomain(value: string): string | undefined {
  if (value.length > 253) return 'must be at most 253 characters';
  return DNS1123_SUBDOMAIN.test(value) ? undefined : 'must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")';
}

function nameProblem(kind: string, name: string): string | undefined {
  if (kind === 'Namespace') return dnsLabel(name);
  if (kind === 'Service') {
    if (name.length > 63) return 'must be at most 63 characters';
    return DNS1035_LABEL.test(name) ? undefined : 'must be a DNS-1035 label (lowercase letters, digits and "-", starting with a letter)';
  }
  // RBAC objects only need to be valid path segments (e.g. system:controller:foo).
  if (RBAC_KINDS.has(kind)) return name === '.' || name === '..' || /[/%]/.test(name) ? 'must be a valid path segment (no "/" or "%", not "." or "..")' : undefined;
  return dnsSubdomain(name);
}

/** A label or annotation key: [prefix/]name, prefix a DNS subdomain, name at most 63 characters. */
function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'must be a qualified name ([prefix/]name)';
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined && dnsSubdomain(prefix)) return `prefix "${prefix}" must be a DNS-1123 subdomain`;
  if (!name || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return 'name part must be at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}

function labelMapProblems(labels: unknown, path: string): FieldProblem[] {
  if (!labels || typeof labels !== 'object') return [];
  const out: FieldProblem[] = [];
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) out.push({ path: `${path}["${key}"]`, message: `invalid label key: ${keyProblem}` });
    if (typeof value === 'string' && (value.length > 63 || !LABEL_VALUE.test(value))) {
      out.push({ path: `${path}["${key}"]`, message: `invalid label value "${value}": at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit` });
    }
  }
  return out;
}

function objectMetaProblems(meta: unknown, path: string): FieldProblem[] {
  if (!meta || typeof meta !== 'object') return [];
  const m = meta as Json;
  const out = labelMapProblems(m.labels, `${path}.labels`);
  if (m.annotations && typeof m.annotations === 'object') {
    let size = 0;
    for (const [key, value] of Object.entries(m.annotations as Record<string, unknown>)) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem) out.push({ path: `${path}.annotations["${key}"]`, message: `invalid annotation key: ${keyProblem}` });
      size += key.length + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
    }
    if (size > ANNOTATIONS_MAX_BYTES) out.push({ path: `${path}.annotations`, message: `annotations total ${size} bytes, more than the ${ANNOTATIONS_MAX_BYTES} allowed` });
  }
  return out;
}

/** Label maps wherever they occur: every `metadata` (object, templates, claim templates) and selector. */
function nestedLabelProblems(value: unknown, path: string, out: FieldProblem[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => nestedLabelProblems(v, `${path}[${i}]`, out));
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Json)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key === 'metadata' && path !== '') out.push(...objectMetaProblems(child, childPath));
    else if (key === 'matchLabels') out.push(...labelMapProblems(child, childPath));
    // Free-form content (ConfigMap data, CRD schemas) is not Kubernetes metadata.
    else if (key !== 'data' && key !== 'stringData' && key !== 'openAPIV3Schema') nestedLabelProblems(child, childPath, out);
  }
}

function containerProblems(obj: KubeObject): FieldProblem[] {
  const template = podTemplateOf(obj);
  if (!template) return [];
  const out: FieldProblem[] = [];
  for (const { container, path } of containersOf(template)) {
    if (typeof container.name === 'string') {
      const problem = dnsLabel(container.name);
      if (problem) out.push({ path: `${path}.name`, message: `container name "${container.name}" ${problem}` });
    }
    (Array.isArray(container.ports) ? container.ports : []).forEach((port: Json, i: number) => {
      if (typeof port?.name === 'string' && !ianaServiceName(port.name)) {
        out.push({ path: `${path}.ports[${i}].name`, message: `port name "${port.name}" ${IANA_MESSAGE}` });
      }
    });
    (Array.isArray(container.env) ? container.env : []).forEach((env: Json, i: number) => {
      if (typeof env?.name === 'string' && !ENV_VAR_NAME.test(env.name)) {
        out.push({ path: `${path}.env[${i}].name`, message: `env var name "${env.name}" must consist of letters, digits, "_", "-" and ".", not starting with a digit` });
      }
    });
  }
  return out;
}

const IANA_MESSAGE = 'must be an IANA service name: at most 15 lowercase letters, digits and "-", with a letter, no "--", not starting or ending with "-"';

function ianaServiceName(name: string): boolean {
  return name.length <= 15 && IANA_SVC_NAME.test(name) && /[a-z]/.test(name) && !name.includes('--');
}

function serviceProblems(obj: KubeObject): FieldProblem[] {
  if (obj.kind !== 'Service') return [];
  const ports = (obj as Json).spec?.ports;
  if (!Array.isArray(ports)) return [];
  const out: FieldProblem[] = [];
  ports.forEach((port: Json, i: number) => {
    if (typeof port?.name === 'string') {
      const problem = dnsLabel(port.name);
      if (problem) out.push({ path: `spec.ports[${i}].name`, message: `port name "${port.name}" ${problem}` });
    }
    if (ports.length > 1 && !port?.name) out.push({ path: `spec.ports[${i}].name`, message: 'required when a Service has more than one port' });
    if (typeof port?.targetPort === 'string' && !ianaServiceName(port.targetPort)) {
      out.push({ path: `spec.ports[${i}].targetPort`, message: `named target port "${port.targetPort}" ${IANA_MESSAGE}` });
    }
  });
  return out;
}

function dataKeyProblems(obj: KubeObject): FieldProblem[] {
  if (obj.kind !== 'ConfigMap' && obj.kind !== 'Secret') return [];
  const o = obj as Json;
  const out: FieldProblem[] = [];
  let size = 0;
  const fields = obj.kind === 'ConfigMap' ? ['data', 'binaryData'] : ['data', 'stringData'];
  const seen = new Map<string, string>();
  for (const field of fields) {
    const map = o[field];
    if (!map || typeof map !== 'object') continue;
    for (const [key, value] of Object.entries(map as Record<string, unknown>)) {
      if (key.length > 253 || !CONFIG_KEY.test(key)) {
        out.push({ path: `${field}["${key}"]`, message: 'key must be at most 253 characters of letters, digits, "-", "_" and "."' });
      }
      const other = seen.get(key);
      if (other && obj.kind === 'ConfigMap') out.push({ path: `${field}["${key}"]`, message: `key is also in ${other}` });
      seen.set(key, field);
      size += key.length + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
    }
  }
  if (size > CONFIGMAP_MAX_BYTES) out.push({ path: fields[0], message: `${obj.kind} holds ${size} bytes, more than the ${CONFIGMAP_MAX_BYTES} allowed` });
  return out;
}

/** API-server validation beyond the schema; `namespaced` is the kind's scope (undefined when unknown). */
export function apiServerProblems(obj: KubeObject, namespaced: boolean | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  const meta = (obj.metadata ?? {}) as Json;
  if (typeof meta.name !== 'string' || meta.name === '') {
    out.push({ path: 'metadata.name', message: 'is required (every object this program creates is named explicitly)' });
  } else {
    const problem = nameProblem(obj.kind, meta.name);
    if (problem) out.push({ path: 'metadata.name', message: `"${meta.name}" ${problem}` });
  }
  if (namespaced === true) {
    if (typeof meta.namespace !== 'string' || meta.namespace === '') out.push({ path: 'metadata.namespace', message: `is required: ${obj.kind} is namespaced` });
    else if (dnsLabel(meta.namespace)) out.push({ path: 'metadata.namespace', message: `"${meta.namespace}" ${dnsLabel(meta.namespace)}` });
  } else if (namespaced === false && meta.namespace !== undefined) {
    out.push({ path: 'metadata.namespace', message: `must not be set: ${obj.kind} is cluster-scoped` });
  }
  out.push(...objectMetaProblems(meta, 'metadata'));
  nestedLabelProblems(obj, '', out);
  out.push(...containerProblems(obj), ...serviceProblems(obj), ...dataKeyProblems(obj));
  return out;
}
