import { containsPlaceholder, placeholderSecretId } from '../../lib/secrets';
import { containersOf, Json, podTemplateOf } from './pods';
import { Rule, Violation } from './types';

/** Env var names that hold a credential; names of files, paths or other objects holding one do not. */
const SECRET_ENV_NAME = /(^|[_.-])(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH)([_.-]|$)/i;
const REFERENCE_ENV_NAME = /[_.-](FILE|PATH|DIR|NAME|REF|URL|HEADER|ENDPOINT|TYPE|MODE)$/i;
/** ConfigMap keys that name a credential or key material. */
const SECRET_KEY_NAME = /(password|passwd|secret|token|api[-_]?key|credential|private[-_]?key|id_rsa|id_ed25519|\.pem$|\.key$|\.p12$|\.pfx$)/i;

/** Credential-shaped content, wherever it appears in an env literal or a ConfigMap. */
const SECRET_PATTERNS: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/, what: 'a PEM private key' },
  { pattern: /\bAKIA[0-9A-Z]{16}\b/, what: 'an AWS access key id' },
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/, what: 'a GitHub token' },
  { pattern: /\bxox[abpors]-[A-Za-z0-9-]{10,}/, what: 'a Slack token' },
  { pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, what: 'a JSON web token' },
  { pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:(?![$<{%])[^\s@/]{3,}@/i, what: 'a password in a URL' },
  // key = literal; values that start like a reference ($VAR, ${...}, <placeholder>, {{template}}, %s) are not literals.
  { pattern: /\b(password|passwd|secret|token|api[_-]?key|access[_-]?key)["']?\s*[:=]\s*["']?(?![$<{%])[^\s"'`,;)]{8,}/i, what: 'a literal credential assignment' },
  { pattern: /^\s*(requirepass|masterauth)\s+(?!["']?[$%])\S+/m, what: 'a Redis password directive' },
];

function credentialIn(text: string): string | undefined {
  return SECRET_PATTERNS.find(({ pattern }) => pattern.test(text))?.what;
}

function looksLikeReference(value: string): boolean {
  return value === '' || value.startsWith('/') || /^\$\([A-Za-z_][A-Za-z0-9_]*\)$/.test(value);
}

function placeholderProblem(text: string): string | undefined {
  return placeholderSecretId(text) !== undefined || containsPlaceholder(text)
    ? 'holds a secret placeholder, which is only substituted inside a Secret; reference the Secret with secretKeyRef instead'
    : undefined;
}

export const noSecretLiterals: Rule = {
  id: 'no-secret-literals',
  description: 'No secret values in env literals or ConfigMaps: credentials come from Secrets through secretKeyRef',
  scope: 'resource',
  validate(obj) {
    const out: Violation[] = [];
    const template = podTemplateOf(obj);
    if (template) {
      for (const c of containersOf(template)) {
        (Array.isArray(c.container.env) ? c.container.env : []).forEach((env: Json, i: number) => {
          if (typeof env?.value !== 'string') return;
          const path = `${c.path}.env[${i}].value`;
          const who = `container "${c.container.name}": env ${env.name}`;
          const problem = placeholderProblem(env.value) ?? (credentialIn(env.value) ? `looks like ${credentialIn(env.value)}` : undefined);
          if (problem) out.push({ path, message: `${who} ${problem}` });
          else if (typeof env.name === 'string' && SECRET_ENV_NAME.test(env.name) && !REFERENCE_ENV_NAME.test(env.name) && !looksLikeReference(env.value)) {
            out.push({ path, message: `${who} names a credential but has a literal value; use valueFrom.secretKeyRef` });
          }
        });
      }
    }
    if (obj.kind === 'ConfigMap') {
      for (const field of ['data', 'binaryData']) {
        const data = (obj as Json)[field];
        if (!data || typeof data !== 'object') continue;
        for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
          if (typeof value !== 'string') continue;
          const path = `${field}["${key}"]`;
          if (SECRET_KEY_NAME.test(key) && value.trim() !== '') out.push({ path, message: `key "${key}" names a credential; put it in a Secret` });
          const problem = field === 'data' ? (placeholderProblem(value) ?? (credentialIn(value) ? `contains ${credentialIn(value)}` : undefined)) : undefined;
          if (problem) out.push({ path, message: `key "${key}" ${problem}; put it in a Secret` });
        }
      }
    }
    return out;
  },
};

export const secretPlaceholders: Rule = {
  id: 'secret-placeholders',
  description: 'Secrets the program renders carry only deploy-time placeholders (<secret:id>), never values',
  scope: 'resource',
  stage: 'rendered',
  validate(obj) {
    if (obj.kind !== 'Secret') return [];
    const out: Violation[] = [];
    const o = obj as Json;
    if (o.data && typeof o.data === 'object' && Object.keys(o.data).length) {
      out.push({ path: 'data', message: 'holds literal (base64) values; declare a DeployTimeSecret so values come from Pulumi secrets' });
    }
    for (const [key, value] of Object.entries((o.stringData ?? {}) as Record<string, unknown>)) {
      if (placeholderSecretId(value) === undefined) out.push({ path: `stringData["${key}"]`, message: 'is a literal value, not a <secret:id> placeholder; declare it in a DeployTimeSecret' });
    }
    return out;
  },
};

export const SECRET_RULES: readonly Rule[] = [noSecretLiterals, secretPlaceholders];
