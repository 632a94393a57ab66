import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { contentHash, readScripts } from '../../lib/files';
import { selectorLabels, standardLabels } from '../../lib/labels';
import { MetricsSource, ScrapeEndpoint } from '../../lib/metrics';
import { NamespaceRegistry } from '../../lib/namespaces';
import { redisExporterContainer } from '../../lib/redis-exporter';
import { WorkloadNetworkPolicy } from '../../lib/network-policy';
import { formatMiB, MiB, parseMemory } from '../../lib/quantity';
import { DeployTimeSecret, SecretKeyRef } from '../../lib/secrets';
import { PortRef, TrafficGraph } from '../../lib/traffic';
import {
  MESHED_POD_ANNOTATIONS,
  Peer,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  spreadPods,
  Workload,
} from '../../lib/workload';
import {
  CLUSTER_BUS_PORT_OFFSET,
  DATA_DIR,
  MaxmemoryPolicy,
  REDIS_PORT,
  renderRedisConf,
  RUNTIME_CONF_PATH,
  RUNTIME_DIR,
} from './redis-conf';

export * from './redis-conf';

export const SCRIPTS_DIR = `${__dirname}/scripts`;
/** Scripts the redis pods run; cache-management ships its own folder plus lib.sh. */
export const NODE_SCRIPTS = ['lib.sh', 'start.sh', 'readiness.sh', 'liveness.sh'] as const;
export const SCRIPTS_MOUNT = '/scripts';
/** uid/gid of the redis user in the official image. */
export const REDIS_UID = 999;

export const REDIS_PORT_REF: PortRef = { name: 'tcp-redis', port: REDIS_PORT };
export const CLUSTER_BUS_PORT_REF: PortRef = { name: 'tcp-cluster-bus', port: REDIS_PORT + CLUSTER_BUS_PORT_OFFSET };
export const EXPORTER_PORT_REF: PortRef = { name: 'http-metrics', port: 9121 };

export interface RedisClusterProps {
  /** Namespace of every object. @default 'cache' */
  readonly namespace?: string;
  /** Base name of the StatefulSet, Services and Secret. @default 'redis' */
  readonly name?: string;
  /** Shards; Redis Cluster needs at least 3 masters. @default 3 */
  readonly masters?: number;
  /** Replicas per master. @default 1 */
  readonly replicasPerMaster?: number;
  /** Redis image, pinned. @default 'redis:7.2.5-bookworm' */
  readonly image?: string;
  /** redis_exporter sidecar image, pinned. @default 'oliver006/redis_exporter:v1.67.0' */
  readonly exporterImage?: string;
  /** @default '250m' */
  readonly cpuRequest?: string;
  /** @default '1' */
  readonly cpuLimit?: string;
  /** Container memory request and limit. @default '1Gi' */
  readonly memory?: string;
  /** Redis maxmemory in bytes. @default 75% of `memory` */
  readonly maxmemoryBytes?: number;
  /** @default 'allkeys-lru' */
  readonly maxmemoryPolicy?: MaxmemoryPolicy;
  /** @default 5000 */
  readonly nodeTimeoutMs?: number;
  /** Persistent volume per pod (holds nodes.conf and snapshots). @default '5Gi' */
  readonly storageSize?: string;
  /** @default - the cluster's default StorageClass */
  readonly storageClassName?: string;
  /** Zones of the region; pods spread across them. @default [] (spread across nodes only) */
  readonly zones?: readonly string[];
  /** Id of the Pulumi secret holding the password. @default 'redisPassword' */
  readonly passwordSecretId?: string;
  /** @default 'cluster.local' */
  readonly clusterDomain?: string;
}

/**
 * A Redis 7 Cluster on a StatefulSet: sharded, replicated, password-protected, recoverable after
 * every pod comes back with a new IP, and reachable only from the workloads declared with allowFrom().
 */
export class RedisCluster extends Construct implements MetricsSource {
  public readonly name: string;
  public readonly namespace: string;
  public readonly masters: number;
  public readonly replicasPerMaster: number;
  public readonly headlessServiceName: string;
  /** Client Service name; cluster-aware clients use it as seed and then follow hostnames. */
  public readonly serviceName: string;
  public readonly port = REDIS_PORT;
  public readonly passwordSecret: SecretKeyRef;
  public readonly image: string;
  public readonly workload: Workload;
  public readonly statefulSet: k8s.KubeStatefulSet;
  public readonly nodeTimeoutMs: number;
  public readonly maxmemoryBytes: number;
  public readonly redisConf: string;
  private readonly clusterDomain: string;

  constructor(scope: Construct, id: string, props: RedisClusterProps = {}) {
    super(scope, id);
    this.name = props.name ?? 'redis';
    this.namespace = props.namespace ?? 'cache';
    this.masters = props.masters ?? 3;
    this.replicasPerMaster = props.replicasPerMaster ?? 1;
    this.image = props.image ?? 'redis:7.2.5-bookworm';
    this.nodeTimeoutMs = props.nodeTimeoutMs ?? 5000;
    this.clusterDomain = props.clusterDomain ?? 'cluster.local';
    const memory = props.memory ?? '1Gi';
    const memoryBytes = parseMemory(memory);
    if (memoryBytes === undefined) throw new Error(`RedisCluster ${id}: memory "${memory}" is not a memory quantity`);
    this.maxmemoryBytes = props.maxmemoryBytes ?? Math.floor((memoryBytes * 0.75) / MiB) * MiB;
    if (this.masters < 3) throw new Error(`RedisCluster ${id}: masters must be at least 3 (got ${this.masters})`);
    if (this.replicasPerMaster < 0) throw new Error(`RedisCluster ${id}: replicasPerMaster must be 0 or more (got ${this.replicasPerMaster})`);
    if (this.maxmemoryBytes >= memoryBytes) {
      throw new Error(`RedisCluster ${id}: maxmemory ${formatMiB(this.maxmemoryBytes)} must leave headroom below the memory limit ${memory}`);
    }

    NamespaceRegistry.of(this).ensure(this.namespace);
    this.headlessServiceName = `${this.name}-headless`;
    this.serviceName = this.name;
    const labels = standardLabels(this.name, 'cache', this.image.split(':')[1]);
    const podLabels = selectorLabels(this.name, 'cache');
    const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: this.namespace, labels, ...extra });

    this.workload = {
      name: this.name,
      namespace: this.namespace,
      podLabels,
      serviceAccountName: this.name,
      description: `Redis Cluster ${this.namespace}/${this.name}`,
    };

    const secret = new DeployTimeSecret(this, 'auth', {
      name: `${this.name}-auth`,
      namespace: this.namespace,
      labels,
      entries: { password: props.passwordSecretId ?? 'redisPassword' },
    });
    this.passwordSecret = secret.keyRef('password');

    this.redisConf = renderRedisConf({
      port: REDIS_PORT,
      maxmemoryBytes: this.maxmemoryBytes,
      maxmemoryPolicy: props.maxmemoryPolicy ?? 'allkeys-lru',
      nodeTimeoutMs: this.nodeTimeoutMs,
      dataDir: DATA_DIR,
      runtimeConfPath: RUNTIME_CONF_PATH,
    });
    const configMap = new k8s.KubeConfigMap(this, 'config', {
      metadata: meta(`${this.name}-config`),
      data: { 'redis.conf': this.redisConf },
    });
    const scripts = readScripts(SCRIPTS_DIR, NODE_SCRIPTS);
    const scriptsMap = new k8s.KubeConfigMap(this, 'scripts', { metadata: meta(`${this.name}-scripts`), data: scripts });

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: meta(this.name),
      automountServiceAccountToken: false,
    });

    const servicePort = (p: PortRef) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name), protocol: 'TCP' });
    new k8s.KubeService(this, 'headless', {
      metadata: meta(this.headlessServiceName, {
        annotations: {
          // Pods turn Ready only after the bootstrap Job forms the cluster; waiting for ready
          // endpoints here would deadlock the deployment.
          'pulumi.com/skipAwait': 'true',
        },
      }),
      spec: {
        clusterIp: 'None',
        // Peers must resolve each other before they are Ready (startup recovery, gossip, bootstrap).
        publishNotReadyAddresses: true,
        selector: podLabels,
        ports: [REDIS_PORT_REF, CLUSTER_BUS_PORT_REF, EXPORTER_PORT_REF].map(servicePort),
      },
    });
    new k8s.KubeService(this, 'client', {
      metadata: meta(this.serviceName, { annotations: { 'pulumi.com/skipAwait': 'true' } }),
      spec: { type: 'ClusterIP', selector: podLabels, ports: [servicePort(REDIS_PORT_REF)] },
    });

    const passwordEnv: k8s.EnvVar = {
      name: 'REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: this.passwordSecret.name, key: this.passwordSecret.key } },
    };
    const exec = (script: string) => ({ exec: { command: ['/bin/bash', `${SCRIPTS_MOUNT}/${script}`] } });
    const replicas = this.masters * (1 + this.replicasPerMaster);

    const redisContainer: k8s.Container = {
      name: 'redis',
      image: this.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['/bin/bash', `${SCRIPTS_MOUNT}/start.sh`],
      env: [
        passwordEnv,
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'REDIS_ANNOUNCE_HOSTNAME', value: `$(POD_NAME).${this.headlessServiceName}.${this.namespace}.svc.${this.clusterDomain}` },
        { name: 'REDIS_PORT', value: String(REDIS_PORT) },
        { name: 'REDIS_CONF', value: '/etc/redis/redis.conf' },
        { name: 'REDIS_DATA_DIR', value: DATA_DIR },
        { name: 'REDIS_RUN_DIR', value: RUNTIME_DIR },
      ],
      ports: [REDIS_PORT_REF, CLUSTER_BUS_PORT_REF].map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
      resources: resourceRequirements({
        cpuRequest: props.cpuRequest ?? '250m',
        cpuLimit: props.cpuLimit ?? '1',
        memoryRequest: memory,
        memoryLimit: memory,
      }),
      // A node loading its dataset is alive but not ready; give it time before liveness counts.
      startupProbe: { ...exec('liveness.sh'), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
      livenessProbe: { ...exec('liveness.sh'), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
      readinessProbe: { ...exec('readiness.sh'), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 2 },
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [
        { name: 'data', mountPath: DATA_DIR },
        { name: 'config', mountPath: '/etc/redis', readOnly: true },
        { name: 'scripts', mountPath: SCRIPTS_MOUNT, readOnly: true },
        { name: 'run', mountPath: RUNTIME_DIR },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    };
    const exporterContainer = redisExporterContainer({ image: props.exporterImage, redisPort: REDIS_PORT, port: EXPORTER_PORT_REF, passwordEnv });

    this.statefulSet = new k8s.KubeStatefulSet(this, 'statefulset', {
      metadata: meta(this.name, {
        annotations: {
          // Readiness needs cluster_state:ok, which only the bootstrap Job brings about; Pulumi
          // awaits that Job instead of the StatefulSet so a first deployment cannot deadlock.
          'pulumi.com/skipAwait': 'true',
        },
      }),
      spec: {
        serviceName: this.headlessServiceName,
        replicas,
        // All members must run at once for the cluster to form and to recover after a full restart.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        minReadySeconds: 10,
        selector: { matchLabels: podLabels },
        template: {
          metadata: {
            labels: { ...labels, ...podLabels },
            annotations: { ...MESHED_POD_ANNOTATIONS, 'checksum/config': contentHash(this.redisConf, scripts) },
          },
          spec: {
            serviceAccountName: this.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 30,
            securityContext: restrictedPodSecurityContext(REDIS_UID),
            ...spreadPods(podLabels, { zones: props.zones ?? [], onePodPerNode: true }),
            containers: [redisContainer, exporterContainer],
            volumes: [
              { name: 'config', configMap: { name: configMap.name } },
              { name: 'scripts', configMap: { name: scriptsMap.name, defaultMode: 0o555 } },
              { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('1Mi') } },
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels: podLabels },
            spec: {
              accessModes: ['ReadWriteOnce'],
              ...(props.storageClassName ? { storageClassName: props.storageClassName } : {}),
              resources: { requests: { storage: k8s.Quantity.fromString(props.storageSize ?? '5Gi') } },
            },
          },
        ],
      },
    });

    new k8s.KubePodDisruptionBudget(this, 'pdb', {
      metadata: meta(this.name),
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: podLabels } },
    });

    const graph = TrafficGraph.of(this);
    graph.allow({ from: this.workload, to: this.workload, ports: [REDIS_PORT_REF, CLUSTER_BUS_PORT_REF], reason: 'cluster bus, replication and redirects between members' });
    new WorkloadNetworkPolicy(this, 'network-policy', { workload: this.workload, labels });
  }

  /** Lets `client` connect to the cluster (Redis port only); the NetworkPolicy and mesh rules follow. */
  public allowFrom(client: Peer, reason = `client of ${this.workload.description}`): void {
    TrafficGraph.of(this).allow({ from: client, to: this.workload, ports: [REDIS_PORT_REF], reason });
  }

  /** Client Service DNS name. */
  public get host(): string {
    return `${this.serviceName}.${this.namespace}.svc.${this.clusterDomain}`;
  }

  /** Stable DNS names of every member, in ordinal order. */
  public get nodeHostnames(): string[] {
    const count = this.masters * (1 + this.replicasPerMaster);
    return Array.from({ length: count }, (_, i) => `${this.name}-${i}.${this.headlessServiceName}.${this.namespace}.svc.${this.clusterDomain}`);
  }

  /** redis_exporter sidecar of every member. */
  public get scrapeEndpoints(): ScrapeEndpoint[] {
    return [{ job: 'redis-exporter', workload: this.workload, port: EXPORTER_PORT_REF, path: '/metrics', interval: '30s' }];
  }

  public get statefulSetName(): string {
    return this.name;
  }
}

