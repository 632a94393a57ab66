import { z } from 'zod';
import { MiB, parseCpu, parseMemory } from '../../lib/quantity';

/** The two environments; each is one Pulumi stack. */
export const ENVIRONMENTS = ['staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dnsLabel = z
  .string()
  .max(63, { error: 'must be at most 63 characters (a DNS-1123 label)' })
  .regex(DNS_LABEL, { error: 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit' });

export const memoryQuantity = z
  .string()
  .refine((v) => parseMemory(v) !== undefined, { error: 'must be a memory quantity such as 512Mi or 4Gi' });
export const cpuQuantity = z
  .string()
  .refine((v) => parseCpu(v) !== undefined, { error: 'must be a CPU quantity such as 250m or 2' });

/** A container image pinned to a tag (or digest); `latest` and untagged images are refused. */
export const pinnedImage = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._\/-]*(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$/, { error: 'must be an image reference' })
  .refine((v) => /@sha256:|:[A-Za-z0-9._-]+$/.test(v.replace(/^[^/]+:[0-9]+\//, '')) && !/:latest$/.test(v), {
    error: 'must be pinned to a version tag or digest (not untagged or :latest)',
  });

/** Standard five-field cron schedule. */
export const cronSchedule = z
  .string()
  .regex(/^(\S+\s+){4}\S+$/, { error: 'must be a five-field cron schedule such as "*/5 * * * *"' });

export const MAXMEMORY_POLICIES = [
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
  'noeviction',
] as const;

/** Redis per-environment defaults; documented in README "Config reference". */
export const REDIS_DEFAULTS: Record<Environment, { cpuRequest: string; cpuLimit: string; memory: string; storageSize: string }> = {
  staging: { cpuRequest: '250m', cpuLimit: '1', memory: '1Gi', storageSize: '5Gi' },
  prod: { cpuRequest: '1', cpuLimit: '2', memory: '4Gi', storageSize: '20Gi' },
};

/** Settings a region may override. */
const redisSizing = {
  masters: z.number().int().min(3, { error: 'must be at least 3 (Redis Cluster needs 3 masters for failover quorum)' }).max(100),
  replicasPerMaster: z.number().int().min(0, { error: 'must be 0 or more' }).max(5),
  cpuRequest: cpuQuantity,
  cpuLimit: cpuQuantity,
  /** Container memory limit and request (equal: Redis should not be overcommitted). */
  memory: memoryQuantity,
  /** Redis maxmemory; defaults to 75% of `memory`, leaving headroom for replication buffers and fragmentation. */
  maxmemory: memoryQuantity.optional(),
  storageSize: memoryQuantity,
  storageClassName: dnsLabel.optional(),
};

export function redisSettingsSchema(env: Environment) {
  const d = REDIS_DEFAULTS[env];
  return z.strictObject({
    namespace: dnsLabel.default('cache'),
    image: pinnedImage.default('redis:7.2.5-bookworm'),
    exporterImage: pinnedImage.default('oliver006/redis_exporter:v1.67.0'),
    masters: redisSizing.masters.default(3),
    replicasPerMaster: redisSizing.replicasPerMaster.default(1),
    cpuRequest: redisSizing.cpuRequest.default(d.cpuRequest),
    cpuLimit: redisSizing.cpuLimit.default(d.cpuLimit),
    memory: redisSizing.memory.default(d.memory),
    maxmemory: redisSizing.maxmemory,
    maxmemoryPolicy: z.enum(MAXMEMORY_POLICIES).default('allkeys-lru'),
    nodeTimeoutMs: z.number().int().min(1000).max(60000).default(5000),
    storageSize: redisSizing.storageSize.default(d.storageSize),
    storageClassName: redisSizing.storageClassName,
    /** `generated`: a random password kept in Pulumi state as a secret; `config`: the `redisPassword` secret. */
    passwordSource: z.enum(['generated', 'config']).default('generated'),
    healthCheckSchedule: cronSchedule.default('*/5 * * * *'),
    /** When set, the health-check CronJob's sibling takes RDB snapshots on this schedule. */
    snapshotSchedule: cronSchedule.optional(),
  });
}

export const regionRedisSchema = z.strictObject({
  masters: redisSizing.masters.optional(),
  replicasPerMaster: redisSizing.replicasPerMaster.optional(),
  cpuRequest: redisSizing.cpuRequest.optional(),
  cpuLimit: redisSizing.cpuLimit.optional(),
  memory: redisSizing.memory.optional(),
  maxmemory: redisSizing.maxmemory,
  storageSize: redisSizing.storageSize.optional(),
  storageClassName: redisSizing.storageClassName,
});

/** Per-region Istio settings; the `mesh` section and their resolution are in components/istio-mesh/config.ts. */
export const regionMeshSchema = z.strictObject({
  /** Istio network of the region's cluster (values.global.network). @default the region name */
  network: dnsLabel.optional(),
  /** The nodes' topology.kubernetes.io/region label, which Istio locality uses. @default the region name */
  locality: z.string().min(1).optional(),
  /** Regions (by name) traffic fails over to, nearest first. @default the stack's other regions in wave order */
  failover: z.array(dnsLabel).optional(),
});

/** Per-region overrides of the Kong gateway's sizing; the `kong` section is in components/kong-gateway/config.ts. */
export const regionKongSchema = z.strictObject({
  minReplicas: z.number().int().min(1).optional(),
  maxReplicas: z.number().int().min(1).optional(),
  cpuRequest: cpuQuantity.optional(),
  cpuLimit: cpuQuantity.optional(),
  memoryRequest: memoryQuantity.optional(),
  memoryLimit: memoryQuantity.optional(),
});

export const regionSchema = z.strictObject({
  /** Region name, e.g. us-east-1; prefixes every resource name of the region. */
  name: dnsLabel,
  /** Rollout wave; 1 is the canary. Waves must be consecutive from 1. */
  wave: z.number().int().min(1, { error: 'must be 1 or more (wave 1 is the canary)' }),
  /** kubeconfig context of the region's cluster. */
  kubeContext: z.string().min(1),
  /** Cluster identifier, used in labels and metrics (e.g. the EKS cluster name). */
  clusterId: z.string().min(1),
  zones: z
    .array(z.string().min(1))
    .min(1, { error: 'must list at least one zone' })
    .refine((zones) => new Set(zones).size === zones.length, { error: 'must not repeat a zone' }),
  redis: regionRedisSchema.default({}),
  kong: regionKongSchema.default({}),
  mesh: regionMeshSchema.default({}),
});

export const cachePolicySchema = z.strictObject({
  defaultTtlSeconds: z.number().int().positive().default(86400),
  prefixes: z
    .array(
      z.strictObject({
        prefix: z.string().min(1).regex(/^[A-Za-z0-9:_.-]+$/, { error: 'must contain only letters, digits and : _ . -' }),
        ttlSeconds: z.number().int().positive(),
        description: z.string().optional(),
      }),
    )
    .default([])
    .refine((list) => new Set(list.map((p) => p.prefix)).size === list.length, { error: 'must not repeat a prefix' }),
});

/** The `monitoring` section (and its per-environment defaults) is in components/monitoring/settings.ts. */

export const deploySchema = z.strictObject({
  /** Protect StatefulSets from deletion (default: on in prod). */
  protectStatefulSets: z.boolean().optional(),
  /** Render mode: the Kubernetes providers write YAML under <dir>/<region> instead of applying. */
  renderYamlToDirectory: z.string().min(1).optional(),
  /** Kubernetes server version the manifests target. */
  kubernetesVersion: z.string().regex(/^1\.[0-9]+$/).default('1.30'),
});

export type RegionInput = z.infer<typeof regionSchema>;
export type RedisSettings = z.infer<ReturnType<typeof redisSettingsSchema>>;
export type CachePolicy = z.infer<typeof cachePolicySchema>;
export type DeploySettings = z.infer<typeof deploySchema>;

/** Memory a Redis container needs on top of maxmemory (replication buffers, fragmentation, fork). */
export function redisMemoryOverhead(maxmemoryBytes: number): number {
  return Math.max(Math.ceil(maxmemoryBytes / 3), 128 * MiB);
}

/** Default maxmemory: 75% of the container limit. */
export function defaultMaxmemory(limitBytes: number): number {
  return Math.floor((limitBytes * 0.75) / MiB) * MiB;
}
