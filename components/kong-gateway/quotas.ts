/** Quota windows a tier can limit, shortest first; `kong` is the field name of Kong OSS `rate-limiting`. */
export const QUOTA_WINDOWS = [
  { key: 'perSecond', kong: 'second', seconds: 1 },
  { key: 'perMinute', kong: 'minute', seconds: 60 },
  { key: 'perHour', kong: 'hour', seconds: 3600 },
  { key: 'perDay', kong: 'day', seconds: 86400 },
  { key: 'perMonth', kong: 'month', seconds: 2_592_000 },
] as const;

export type QuotaWindowKey = (typeof QUOTA_WINDOWS)[number]['key'];

/** Request limits of one tier; at least one window. */
export type QuotaTier = Partial<Record<QuotaWindowKey, number>>;

/** Redis connection of a rate-limiting plugin, without the password (patched in from a Secret). */
export type RateLimitRedisTarget =
  | { readonly mode: 'single'; readonly host: string; readonly port: number }
  | { readonly mode: 'cluster'; readonly nodes: readonly { host: string; port: number }[] };

export interface RateLimitOptions {
  /** Seconds between counter syncs; undefined: synchronous. */
  readonly syncRateSeconds?: number;
  readonly hideClientHeaders: boolean;
}

const REDIS_TIMEOUT_MS = 2000;

function windows(tier: QuotaTier) {
  const set = QUOTA_WINDOWS.filter((w) => tier[w.key] !== undefined);
  if (set.length === 0) throw new Error('a quota tier must limit at least one window');
  return set.map((w) => ({ ...w, limit: tier[w.key]! }));
}

/**
 * Config of Kong OSS `rate-limiting` for one tier: counters per consumer in one Redis, requests
 * still served when Redis is unreachable (fault tolerant).
 */
export function ossRateLimitingConfig(tier: QuotaTier, target: RateLimitRedisTarget, options: RateLimitOptions): Record<string, unknown> {
  if (target.mode !== 'single') {
    throw new Error('Kong OSS rate-limiting talks to one Redis endpoint and does not support Redis Cluster; use edition "enterprise" (rate-limiting-advanced) or a RateLimitRedis');
  }
  return {
    ...Object.fromEntries(windows(tier).map((w) => [w.kong, w.limit])),
    limit_by: 'consumer',
    policy: 'redis',
    fault_tolerant: true,
    hide_client_headers: options.hideClientHeaders,
    // -1: synchronous, every request updates Redis.
    sync_rate: options.syncRateSeconds ?? -1,
    redis: { host: target.host, port: target.port, database: 0, timeout: REDIS_TIMEOUT_MS, ssl: false },
  };
}

/**
 * Config of Kong Enterprise `rate-limiting-advanced` for one tier, against the Redis Cluster's
 * nodes (or a single Redis). `namespace` is fixed so every gateway replica shares the counters.
 */
export function advancedRateLimitingConfig(tierName: string, tier: QuotaTier, target: RateLimitRedisTarget, options: RateLimitOptions): Record<string, unknown> {
  const ws = windows(tier);
  const redis =
    target.mode === 'cluster'
      ? { cluster_nodes: target.nodes.map((n) => ({ ip: n.host, port: n.port })), cluster_max_redirections: 5, timeout: REDIS_TIMEOUT_MS }
      : { host: target.host, port: target.port, database: 0, timeout: REDIS_TIMEOUT_MS };
  return {
    limit: ws.map((w) => w.limit),
    window_size: ws.map((w) => w.seconds),
    window_type: 'sliding',
    identifier: 'consumer',
    strategy: 'redis',
    namespace: `tier-${tierName}`,
    // 0: synchronous for rate-limiting-advanced.
    sync_rate: options.syncRateSeconds ?? 0,
    hide_client_headers: options.hideClientHeaders,
    redis,
  };
}

/** The prometheus plugin with every optional metric family on (Kong defaults them to off). */
export const PROMETHEUS_PLUGIN_CONFIG = {
  per_consumer: true,
  status_code_metrics: true,
  latency_metrics: true,
  bandwidth_metrics: true,
  upstream_health_metrics: true,
} as const;

/** key-auth: the key travels in the `apikey` header (or query string) and is not forwarded upstream. */
export const KEY_AUTH_PLUGIN_CONFIG = {
  key_names: ['apikey'],
  key_in_header: true,
  key_in_query: false,
  key_in_body: false,
  hide_credentials: true,
} as const;
