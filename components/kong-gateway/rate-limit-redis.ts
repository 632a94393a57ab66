import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { contentHash } from '../../lib/files';
import { selectorLabels, standardLabels } from '../../lib/labels';
import { MetricsSource, ScrapeEndpoint } from '../../lib/metrics';
import { NamespaceRegistry } from '../../lib/namespaces';
import { redisExporterContainer } from '../../lib/redis-exporter';
import { WorkloadNetworkPolicy } from '../../lib/network-policy';
import { formatMiB, MiB, parseMemory } from '../../lib/quantity';
import { DeployTimeSecret, SecretKeyRef } from '../../lib/secrets';
import { PortRef, TrafficGraph } from '../../lib/traffic';
import { MESHED_POD_ANNOTATIONS, Peer, resourceRequirements, restrictedContainerSecurityContext, restrictedPodSecurityContext, Workload } from '../../lib/workload';

/** uid/gid of the redis user in the official image. */
export const COUNTER_REDIS_UID = 999;
export const COUNTER_REDIS_PORT_REF: PortRef = { name: 'tcp-redis', port: 6379 };
export const COUNTER_EXPORTER_PORT_REF: PortRef = { name: 'http-metrics', port: 9121 };
const AUTH_DIR = '/run/redis-auth';

export interface RateLimitRedisProps {
  /** Namespace of every object; the gateway's, so its plugins can reference the password Secret. @default 'kong' */
  readonly namespace?: string;
  /** @default 'kong-rate-limit-redis' */
  readonly name?: string;
  /** @default 'redis:7.2.5-bookworm' */
  readonly image?: string;
  /** @default 'oliver006/redis_exporter:v1.67.0' */
  readonly exporterImage?: string;
  /** @default '100m' */
  readonly cpuRequest?: string;
  /** @default '500m' */
  readonly cpuLimit?: string;
  /** Container memory request and limit; maxmemory is 75% of it. @default '256Mi' */
  readonly memory?: string;
  /** Id of the Pulumi secret holding the password. @default 'kongRateLimitRedisPassword' */
  readonly passwordSecretId?: string;
  /** Who scrapes the exporter. @default - nobody */
  readonly metricsScraper?: Peer;
  /** @default 'cluster.local' */
  readonly clusterDomain?: string;
}

/** redis.conf of the counter store: in-memory only, counters expire on their own. */
export function renderCounterRedisConf(port: number, maxmemoryBytes: number): string {
  return [
    `port ${port}`,
    'bind 0.0.0.0',
    'protected-mode yes',
    // Counters live for at most one quota window; persistence would only slow the hot path.
    'save ""',
    'appendonly no',
    `maxmemory ${maxmemoryBytes}`,
    // Every counter carries a TTL; under pressure the ones closest to expiry go first.
    'maxmemory-policy volatile-ttl',
    'tcp-keepalive 60',
    'timeout 0',
    'rename-command FLUSHALL ""',
    'rename-command FLUSHDB ""',
    'rename-command DEBUG ""',
    'rename-command SHUTDOWN ""',
    'rename-command SLAVEOF ""',
    'rename-command REPLICAOF ""',
    'rename-command MODULE ""',
    `include ${AUTH_DIR}/auth.conf`,
    '',
  ].join('\n');
}

/**
 * A dedicated single-primary Redis for Kong's rate-limiting counters. Kong OSS `rate-limiting` speaks
 * to exactly one Redis endpoint (no Redis Cluster support), so the gateway's counters get their own
 * small, password-protected, non-persistent instance that only the declared clients reach.
 */
export class RateLimitRedis extends Construct implements MetricsSource {
  public readonly name: string;
  public readonly namespace: string;
  public readonly port = COUNTER_REDIS_PORT_REF.port;
  public readonly serviceName: string;
  public readonly passwordSecret: SecretKeyRef;
  public readonly passwordSecretId: string;
  public readonly workload: Workload;
  public readonly deployment: k8s.KubeDeployment;
  public readonly maxmemoryBytes: number;
  public readonly redisConf: string;
  private readonly clusterDomain: string;

  constructor(scope: Construct, id: string, props: RateLimitRedisProps = {}) {
    super(scope, id);
    this.name = props.name ?? 'kong-rate-limit-redis';
    this.namespace = props.namespace ?? 'kong';
    this.serviceName = this.name;
    this.clusterDomain = props.clusterDomain ?? 'cluster.local';
    this.passwordSecretId = props.passwordSecretId ?? 'kongRateLimitRedisPassword';
    const image = props.image ?? 'redis:7.2.5-bookworm';
    const memory = props.memory ?? '256Mi';
    const memoryBytes = parseMemory(memory);
    if (memoryBytes === undefined) throw new Error(`RateLimitRedis ${id}: memory "${memory}" is not a memory quantity`);
    if (memoryBytes < 64 * MiB) throw new Error(`RateLimitRedis ${id}: memory ${memory} is below the 64Mi a Redis process needs`);
    this.maxmemoryBytes = Math.floor((memoryBytes * 0.75) / MiB) * MiB;

    NamespaceRegistry.of(this).ensure(this.namespace);
    const labels = standardLabels(this.name, 'rate-limit-store', image.split(':')[1]);
    const podLabels = selectorLabels(this.name, 'rate-limit-store');
    const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: this.namespace, labels, ...extra });
    this.workload = {
      name: this.name,
      namespace: this.namespace,
      podLabels,
      serviceAccountName: this.name,
      description: `rate-limit counter Redis ${this.namespace}/${this.name}`,
    };

    const secret = new DeployTimeSecret(this, 'auth', {
      name: `${this.name}-auth`,
      namespace: this.namespace,
      labels,
      entries: { password: this.passwordSecretId },
    });
    this.passwordSecret = secret.keyRef('password');

    this.redisConf = renderCounterRedisConf(this.port, this.maxmemoryBytes);
    const configMap = new k8s.KubeConfigMap(this, 'config', { metadata: meta(`${this.name}-config`), data: { 'redis.conf': this.redisConf } });
    new k8s.KubeServiceAccount(this, 'service-account', { metadata: meta(this.name), automountServiceAccountToken: false });
    new k8s.KubeService(this, 'service', {
      metadata: meta(this.serviceName),
      spec: {
        type: 'ClusterIP',
        selector: podLabels,
        ports: [COUNTER_REDIS_PORT_REF].map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name), protocol: 'TCP' })),
      },
    });

    const passwordEnv: k8s.EnvVar = { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: this.passwordSecret.name, key: this.passwordSecret.key } } };
    // redis-cli reads REDISCLI_AUTH, so probes never put the password on a command line.
    const cliAuthEnv: k8s.EnvVar = { name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: this.passwordSecret.name, key: this.passwordSecret.key } } };
    const ping = (expect: string) => ({
      exec: { command: ['/bin/sh', '-c', `redis-cli -h 127.0.0.1 -p ${this.port} --no-auth-warning ping | grep -q ${expect}`] },
    });
    const redisContainer: k8s.Container = {
      name: 'redis',
      image,
      imagePullPolicy: 'IfNotPresent',
      // The password goes into a file on a memory volume, not into the process arguments.
      command: [
        '/bin/sh',
        '-c',
        `umask 077 && printf 'requirepass "%s"\\n' "$REDIS_PASSWORD" > ${AUTH_DIR}/auth.conf && unset REDIS_PASSWORD && exec redis-server /etc/redis/redis.conf`,
      ],
      env: [passwordEnv, cliAuthEnv],
      ports: [{ name: COUNTER_REDIS_PORT_REF.name, containerPort: this.port, protocol: 'TCP' }],
      resources: resourceRequirements({ cpuRequest: props.cpuRequest ?? '100m', cpuLimit: props.cpuLimit ?? '500m', memoryRequest: memory, memoryLimit: memory }),
      startupProbe: { ...ping('PONG'), periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30 },
      livenessProbe: { ...ping('PONG'), periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
      readinessProbe: { ...ping('PONG'), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [
        { name: 'config', mountPath: '/etc/redis', readOnly: true },
        { name: 'auth', mountPath: AUTH_DIR },
        { name: 'data', mountPath: '/data' },
      ],
    };
    const exporterContainer = redisExporterContainer({ image: props.exporterImage, redisPort: this.port, port: COUNTER_EXPORTER_PORT_REF, passwordEnv });

    this.deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: meta(this.name),
      spec: {
        // Single primary: two pods would each hold half the counters and double every quota.
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: podLabels },
        template: {
          metadata: { labels: { ...labels, ...podLabels }, annotations: { ...MESHED_POD_ANNOTATIONS, 'checksum/config': contentHash(this.redisConf) } },
          spec: {
            serviceAccountName: this.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 10,
            securityContext: restrictedPodSecurityContext(COUNTER_REDIS_UID),
            containers: [redisContainer, exporterContainer],
            volumes: [
              { name: 'config', configMap: { name: configMap.name } },
              { name: 'auth', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('1Mi') } },
              { name: 'data', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
      },
    });

    // The gateway is fault tolerant (requests pass while counters are unreachable), so a drain may
    // evict the only pod; the budget still stops a second disruption while it is rescheduling.
    new k8s.KubePodDisruptionBudget(this, 'pdb', {
      metadata: meta(this.name),
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: podLabels } },
    });

    if (props.metricsScraper) {
      TrafficGraph.of(this).allow({ from: props.metricsScraper, to: this.workload, ports: [COUNTER_EXPORTER_PORT_REF], reason: 'metrics scrape of redis_exporter' });
    }
    new WorkloadNetworkPolicy(this, 'network-policy', { workload: this.workload, labels });
  }

  /** Lets `client` connect (Redis port only). */
  public allowFrom(client: Peer, reason = `client of ${this.workload.description}`): void {
    TrafficGraph.of(this).allow({ from: client, to: this.workload, ports: [COUNTER_REDIS_PORT_REF], reason });
  }

  /** Service DNS name. */
  public get host(): string {
    return `${this.serviceName}.${this.namespace}.svc.${this.clusterDomain}`;
  }

  public get maxmemory(): string {
    return formatMiB(this.maxmemoryBytes);
  }

  public get scrapeEndpoints(): ScrapeEndpoint[] {
    return [{ job: 'kong-rate-limit-redis', workload: this.workload, port: COUNTER_EXPORTER_PORT_REF, path: '/metrics', interval: '30s' }];
  }
}
