import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { cpuQuantity, dnsLabel, Environment, memoryQuantity, pinnedImage, regionKongSchema } from '../../stacks/config/schema';
import { QUOTA_WINDOWS } from './quotas';

/**
 * The `fingerprint-infra:kong` config section, its per-environment defaults, per-region overrides
 * and the consumer-key secrets. Documented in README "Config reference".
 */

/** Gateway sizing per environment. */
export const KONG_DEFAULTS: Record<
  Environment,
  { minReplicas: number; maxReplicas: number; cpuRequest: string; cpuLimit: string; memoryRequest: string; memoryLimit: string }
> = {
  staging: { minReplicas: 1, maxReplicas: 3, cpuRequest: '250m', cpuLimit: '1', memoryRequest: '512Mi', memoryLimit: '1Gi' },
  prod: { minReplicas: 2, maxReplicas: 10, cpuRequest: '1', cpuLimit: '2', memoryRequest: '1Gi', memoryLimit: '2Gi' },
};

/** Quota tiers used when the stack sets none. */
export const DEFAULT_TIERS = {
  free: { perMinute: 60, perDay: 10_000 },
  pro: { perMinute: 600, perDay: 500_000 },
  enterprise: { perMinute: 6_000, perDay: 10_000_000 },
};

/** Project root: relative manifest paths resolve against it (where Pulumi.yaml lives). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

const cidr = z
  .string()
  .regex(/^([0-9]{1,3}\.){3}[0-9]{1,3}\/[0-9]{1,2}$|^[0-9a-fA-F:]+\/[0-9]{1,3}$/, { error: 'must be a CIDR such as 10.0.0.0/8 or ::/0' });
const positiveInt = z.number().int().positive();
const labelMap = z.record(z.string(), z.string());

const tierSchema = z
  .strictObject({
    perSecond: positiveInt.optional(),
    perMinute: positiveInt.optional(),
    perHour: positiveInt.optional(),
    perDay: positiveInt.optional(),
    perMonth: positiveInt.optional(),
  })
  .superRefine((tier, ctx) => {
    const set = QUOTA_WINDOWS.filter((w) => tier[w.key] !== undefined);
    if (set.length === 0) ctx.addIssue({ code: 'custom', message: `must set at least one of ${QUOTA_WINDOWS.map((w) => w.key).join(', ')}`, input: tier });
    // A longer window with a smaller limit than a shorter one makes the shorter limit unreachable.
    for (let i = 1; i < set.length; i++) {
      const shorter = set[i - 1];
      const longer = set[i];
      if (tier[longer.key]! < tier[shorter.key]!) {
        ctx.addIssue({ code: 'custom', path: [longer.key], message: `must be at least ${shorter.key} (${tier[shorter.key]}), or ${shorter.key} can never be reached`, input: tier[longer.key] });
      }
    }
  });

const backendSchema = z.strictObject({
  namespace: dnsLabel,
  /** Name of the Kubernetes Service in front of the backend pods. */
  service: dnsLabel,
  /** Service port the Ingress targets. */
  port: z.number().int().min(1).max(65535),
  /** Container port Kong connects to (it routes to pod endpoints). @default port */
  targetPort: z.number().int().min(1).max(65535).optional(),
  podLabels: labelMap.refine((l) => Object.keys(l).length > 0, { error: 'must select the backend pods with at least one label' }),
  serviceAccountName: z.string().min(1),
});

const routeSchema = z.strictObject({
  name: dnsLabel,
  /** Path prefix, e.g. /v1/fingerprint. */
  path: z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, { error: 'must be an absolute URL path such as /v1/fingerprint' }),
  /** Key of `backends`. */
  backend: dnsLabel,
  hosts: z.array(z.string().regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, { error: 'must be a DNS host name' })).default([]),
  stripPath: z.boolean().default(false),
});

const consumerSchema = z.strictObject({
  name: dnsLabel,
  tier: dnsLabel,
  /** Kong custom_id, e.g. the customer id in the billing system. */
  customId: z.string().min(1).optional(),
});

export function kongSettingsSchema(env: Environment) {
  const d = KONG_DEFAULTS[env];
  return z
    .strictObject({
      namespace: dnsLabel.default('kong'),
      /** `oss`: Kong OSS with `rate-limiting` on a dedicated Redis; `enterprise`: `rate-limiting-advanced` on the Redis Cluster. */
      edition: z.enum(['oss', 'enterprise']).default('oss'),
      image: pinnedImage.default('kong:3.9.1'),
      enterpriseImage: pinnedImage.default('kong/kong-gateway:3.9'),
      controllerImage: pinnedImage.default('kong/kubernetes-ingress-controller:3.5.1'),
      ingressClass: dnsLabel.default('kong'),
      minReplicas: z.number().int().min(1).default(d.minReplicas),
      maxReplicas: z.number().int().min(1).default(d.maxReplicas),
      targetCpuUtilization: z.number().int().min(10).max(100).default(70),
      cpuRequest: cpuQuantity.default(d.cpuRequest),
      cpuLimit: cpuQuantity.default(d.cpuLimit),
      memoryRequest: memoryQuantity.default(d.memoryRequest),
      memoryLimit: memoryQuantity.default(d.memoryLimit),
      proxy: z
        .strictObject({
          serviceType: z.enum(['LoadBalancer', 'NodePort', 'ClusterIP']).default('LoadBalancer'),
          annotations: labelMap.default({}),
          /** Client CIDRs allowed to reach the proxy (load balancer source ranges and NetworkPolicy). */
          sourceRanges: z.array(cidr).min(1).default(['0.0.0.0/0']),
        })
        .prefault({}),
      /** Egress of the ingress controller to the Kubernetes API; narrow it to the control-plane endpoint CIDRs. */
      apiServer: z
        .strictObject({
          cidrs: z.array(cidr).min(1).default(['0.0.0.0/0']),
          ports: z.array(z.number().int().min(1).max(65535)).min(1).default([443, 6443]),
        })
        .prefault({}),
      crds: z
        .strictObject({
          /** false: the CRDs are assumed present (installed by the platform); true: installed from `manifest`. */
          install: z.boolean().default(false),
          /** Kong's CRD manifest for the pinned controller version; relative paths resolve against the project root. */
          manifest: z.string().min(1).optional(),
        })
        .prefault({})
        .superRefine((crds, ctx) => {
          if (crds.install && !crds.manifest) {
            ctx.addIssue({ code: 'custom', path: ['manifest'], message: 'is required when crds.install is true (path of Kong\'s CRD manifest for the controller version)', input: crds.manifest });
          } else if (crds.manifest && !fs.existsSync(path.resolve(PROJECT_ROOT, crds.manifest))) {
            ctx.addIssue({ code: 'custom', path: ['manifest'], message: `does not exist (relative paths resolve against the project root)`, input: crds.manifest });
          }
        }),
      rateLimiting: z
        .strictObject({
          /** Seconds between counter syncs to Redis; unset: synchronous (every request updates Redis). */
          syncRateSeconds: z.number().positive().max(60).optional(),
          hideClientHeaders: z.boolean().default(false),
          /** Dedicated counter Redis (edition oss). */
          redis: z
            .strictObject({
              image: pinnedImage.default('redis:7.2.5-bookworm'),
              exporterImage: pinnedImage.default('oliver006/redis_exporter:v1.67.0'),
              memory: memoryQuantity.default('256Mi'),
              cpuRequest: cpuQuantity.default('100m'),
              cpuLimit: cpuQuantity.default('500m'),
            })
            .prefault({}),
        })
        .prefault({}),
      tiers: z.record(dnsLabel, tierSchema).default(DEFAULT_TIERS),
      consumers: z.array(consumerSchema).default([]),
      backends: z.record(dnsLabel, backendSchema).default({}),
      routes: z.array(routeSchema).default([]),
    })
    .superRefine((kong, ctx) => {
      if (kong.maxReplicas < kong.minReplicas) {
        ctx.addIssue({ code: 'custom', path: ['maxReplicas'], message: `must be at least minReplicas (${kong.minReplicas})`, input: kong.maxReplicas });
      }
      const seenConsumers = new Map<string, number>();
      kong.consumers.forEach((c, i) => {
        const first = seenConsumers.get(c.name);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['consumers', i, 'name'], message: `duplicate consumer (also consumers[${first}])`, input: c.name });
        else seenConsumers.set(c.name, i);
        if (!kong.tiers[c.tier]) {
          ctx.addIssue({ code: 'custom', path: ['consumers', i, 'tier'], message: `unknown tier (tiers: ${Object.keys(kong.tiers).join(', ')})`, input: c.tier });
        }
      });
      const seenRoutes = new Map<string, number>();
      kong.routes.forEach((r, i) => {
        const first = seenRoutes.get(r.name);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `duplicate route (also routes[${first}])`, input: r.name });
        else seenRoutes.set(r.name, i);
        if (!kong.backends[r.backend]) {
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'backend'], message: `unknown backend (backends: ${Object.keys(kong.backends).join(', ') || 'none'})`, input: r.backend });
        }
      });
    });
}


export type KongSettings = z.infer<ReturnType<typeof kongSettingsSchema>>;
export { regionKongSchema };
export type RegionKongInput = z.infer<typeof regionKongSchema>;
/** Sizing of one region's gateway after applying its overrides. */
export type EffectiveKong = Pick<KongSettings, 'minReplicas' | 'maxReplicas' | 'cpuRequest' | 'cpuLimit' | 'memoryRequest' | 'memoryLimit'>;

/** A region's gateway sizing; `problem` reports an inconsistent override. */
export function effectiveKong(kong: KongSettings, region: RegionKongInput | undefined, problem: (key: string, message: string) => void): EffectiveKong {
  const overrides = Object.fromEntries(Object.entries(region ?? {}).filter(([, v]) => v !== undefined));
  const merged = {
    minReplicas: kong.minReplicas,
    maxReplicas: kong.maxReplicas,
    cpuRequest: kong.cpuRequest,
    cpuLimit: kong.cpuLimit,
    memoryRequest: kong.memoryRequest,
    memoryLimit: kong.memoryLimit,
    ...overrides,
  } as EffectiveKong;
  if (merged.maxReplicas < merged.minReplicas) problem('maxReplicas', `must be at least minReplicas (${merged.minReplicas})`);
  return merged;
}

/** Config key of the consumers' key-auth credentials: a secret object `{ <consumer>: <key> }`. */
export const CONSUMER_KEYS_CONFIG_KEY = 'kongConsumerKeys';
/** Config key of the Kong Enterprise license (edition enterprise). */
export const LICENSE_CONFIG_KEY = 'kongLicense';
export const LICENSE_SECRET_ID = 'kongLicense';
export const COUNTER_REDIS_PASSWORD_SECRET_ID = 'kongRateLimitRedisPassword';

/**
 * Secret id of a consumer's key. Ids are letters and digits only; consumer names are lowercase
 * DNS labels, so upper-casing the first character and spelling "-" as "X" keeps ids distinct.
 */
export function consumerKeySecretId(consumer: string): string {
  return `kongConsumerKey${consumer.charAt(0).toUpperCase()}${consumer.slice(1).replace(/-/g, 'X')}`;
}

export type KongSecretSource =
  | { readonly from: 'config'; readonly key: string; readonly path?: readonly string[] }
  | { readonly from: 'generated'; readonly length: number };

/** One entry of the project's config as the stack file or the engine has it. */
interface Entry {
  readonly value: unknown;
  readonly secret: boolean;
}

const KEY_PATTERN = /^[A-Za-z0-9_-]{24,}$/;

/**
 * The secrets the gateway needs and the problems with their config entries. Values are never
 * echoed. In a stack file, `pulumi config set --secret --path` stores each consumer key as
 * `{ secure: ... }` under the object; through the engine, the whole key is secret and its value is
 * the decrypted JSON text.
 */
export function kongSecrets(
  kong: KongSettings,
  entries: ReadonlyMap<string, Entry>,
  problem: (keyPath: string, message: string) => void,
): Record<string, KongSecretSource> {
  const project = 'fingerprint-infra';
  const secrets: Record<string, KongSecretSource> = {};
  if (kong.edition === 'oss') secrets[COUNTER_REDIS_PASSWORD_SECRET_ID] = { from: 'generated', length: 40 };

  const license = entries.get(LICENSE_CONFIG_KEY);
  if (kong.edition === 'enterprise') {
    secrets[LICENSE_SECRET_ID] = { from: 'config', key: LICENSE_CONFIG_KEY };
    if (!license) problem(`${project}:${LICENSE_CONFIG_KEY}`, 'is required when kong.edition is "enterprise" (run: pulumi config set --secret kongLicense < license.json)');
  }
  if (license && !license.secret) problem(`${project}:${LICENSE_CONFIG_KEY}`, 'must be stored as a secret, not in plaintext (run: pulumi config set --secret kongLicense < license.json)');

  const keys = entries.get(CONSUMER_KEYS_CONFIG_KEY);
  const setHint = (consumer: string) => `run: pulumi config set --secret --path '${CONSUMER_KEYS_CONFIG_KEY}["${consumer}"]' <key>`;
  for (const consumer of kong.consumers) {
    secrets[consumerKeySecretId(consumer.name)] = { from: 'config', key: CONSUMER_KEYS_CONFIG_KEY, path: [consumer.name] };
  }
  if (!keys) {
    if (kong.consumers.length) {
      problem(`${project}:${CONSUMER_KEYS_CONFIG_KEY}`, `is required: every consumer needs a key-auth key (${setHint(kong.consumers[0].name)})`);
    }
    return secrets;
  }

  let object: Record<string, unknown> | undefined;
  if (keys.secret) {
    if (typeof keys.value === 'string') {
      try {
        const parsed = JSON.parse(keys.value) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) object = parsed as Record<string, unknown>;
      } catch {
        object = undefined;
      }
      if (!object) problem(`${project}:${CONSUMER_KEYS_CONFIG_KEY}`, 'must be an object of consumer name to key (set with --path)');
    }
    // A secret whose value is not readable here (an encrypted stack file entry) is checked by the engine.
  } else if (keys.value && typeof keys.value === 'object' && !Array.isArray(keys.value)) {
    object = keys.value as Record<string, unknown>;
    for (const [consumer, value] of Object.entries(object)) {
      const secure = value !== null && typeof value === 'object' && 'secure' in value;
      if (!secure) problem(`${project}:${CONSUMER_KEYS_CONFIG_KEY}.${consumer}`, `must be stored as a secret, not in plaintext (${setHint(consumer)})`);
    }
  } else {
    problem(`${project}:${CONSUMER_KEYS_CONFIG_KEY}`, 'must be a secret object of consumer name to key, not plaintext (set each with --secret --path)');
    return secrets;
  }
  if (!object) return secrets;

  const known = new Set(kong.consumers.map((c) => c.name));
  for (const consumer of kong.consumers) {
    const value = object[consumer.name];
    if (value === undefined) problem(`${project}:${CONSUMER_KEYS_CONFIG_KEY}.${consumer.name}`, `is required: consumer "${consumer.name}" has no key (${setHint(consumer.name)})`);
    else if (keys.secret && (typeof value !== 'string' || !KEY_PATTERN.test(value))) {
      problem(`${project}:${CONSUMER_KEYS_CONFIG_KEY}.${consumer.name}`, 'must be at least 24 characters of letters, digits, "_" or "-"');
    }
  }
  for (const consumer of Object.keys(object)) {
    if (!known.has(consumer)) problem(`${project}:${CONSUMER_KEYS_CONFIG_KEY}.${consumer}`, `no consumer "${consumer}" in kong.consumers (remove the key or add the consumer)`);
  }
  return secrets;
}
