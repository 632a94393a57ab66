/**
 * redis.conf for one Redis Cluster node, shared by every pod of the StatefulSet.
 * Per-pod values (announce hostname) and secrets (requirepass/masterauth) are not in here:
 * the start script writes them to RUNTIME_CONF_PATH, which this file includes last.
 */

export const REDIS_PORT = 6379;
/** Redis derives the cluster bus port as port + 10000. */
export const CLUSTER_BUS_PORT_OFFSET = 10000;
export const DATA_DIR = '/data';
export const RUNTIME_DIR = '/run/redis';
export const RUNTIME_CONF_PATH = `${RUNTIME_DIR}/runtime.conf`;

export type MaxmemoryPolicy =
  | 'allkeys-lru'
  | 'allkeys-lfu'
  | 'allkeys-random'
  | 'volatile-lru'
  | 'volatile-lfu'
  | 'volatile-random'
  | 'volatile-ttl'
  | 'noeviction';

export interface RedisConfOptions {
  readonly port: number;
  readonly maxmemoryBytes: number;
  readonly maxmemoryPolicy: MaxmemoryPolicy;
  /** Milliseconds a node may be unreachable before it is flagged failing; failover starts after it. */
  readonly nodeTimeoutMs: number;
  readonly dataDir: string;
  readonly runtimeConfPath: string;
}

export function renderRedisConf(o: RedisConfOptions): string {
  const lines = [
    '# Redis Cluster node configuration (generated; edit the stack config instead).',
    'bind * -::*',
    // Authentication is always on (requirepass in the runtime include), so protected mode adds nothing
    // and would refuse the cluster bus and probes on non-loopback interfaces.
    'protected-mode no',
    `port ${o.port}`,
    'tcp-backlog 511',
    'timeout 0',
    'tcp-keepalive 60',
    'daemonize no',
    'loglevel notice',
    'logfile ""',
    `dir ${o.dataDir}`,
    '',
    '# Cluster: nodes.conf lives on the persistent volume so identities and slots survive restarts.',
    'cluster-enabled yes',
    `cluster-config-file ${o.dataDir}/nodes.conf`,
    `cluster-node-timeout ${o.nodeTimeoutMs}`,
    // A cache keeps serving the healthy shards when one shard is down.
    'cluster-require-full-coverage no',
    'cluster-allow-reads-when-down no',
    // Replicas fail over however stale they are: for a cache, availability beats freshness.
    'cluster-replica-validity-factor 0',
    'cluster-migration-barrier 1',
    'cluster-allow-replica-migration yes',
    // Pod IPs change on restart; clients and peers are told stable DNS names instead.
    'cluster-preferred-endpoint-type hostname',
    '',
    '# Memory: a cache evicts instead of failing writes.',
    `maxmemory ${o.maxmemoryBytes}`,
    `maxmemory-policy ${o.maxmemoryPolicy}`,
    'maxmemory-samples 5',
    'lazyfree-lazy-eviction yes',
    'lazyfree-lazy-expire yes',
    'lazyfree-lazy-server-del yes',
    'replica-lazy-flush yes',
    '',
    '# Persistence suited to a cache: no AOF and no automatic RDB; snapshots are taken on',
    '# demand by the cache-management CronJob when enabled.',
    'appendonly no',
    'save ""',
    'stop-writes-on-bgsave-error no',
    'repl-diskless-sync yes',
    'replica-read-only yes',
    '',
    'slowlog-log-slower-than 10000',
    'slowlog-max-len 128',
    'latency-monitor-threshold 100',
    '',
    `include ${o.runtimeConfPath}`,
    '',
  ];
  return lines.join('\n');
}
