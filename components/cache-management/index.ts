import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { readComponentFile, readScripts } from '../../lib/files';
import { standardLabels, selectorLabels } from '../../lib/labels';
import { WorkloadNetworkPolicy } from '../../lib/network-policy';
import {
  MESHED_POD_ANNOTATIONS,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  Workload,
} from '../../lib/workload';
import { REDIS_UID, RedisCluster, SCRIPTS_DIR as NODE_SCRIPTS_DIR, SCRIPTS_MOUNT } from '../redis-cluster';

export const SCRIPTS_DIR = `${__dirname}/scripts`;
export const MANAGEMENT_SCRIPTS = ['bootstrap.sh', 'reconcile.sh', 'check.sh'] as const;

export interface TtlRule {
  /** Key prefix, e.g. `fp:device:`. */
  readonly prefix: string;
  readonly ttlSeconds: number;
  readonly description?: string;
}

export interface CacheManagementProps {
  /** The cluster to manage (its name, nodes, password and network rules are derived from it). */
  readonly cluster: RedisCluster;
  /** Schedule of the `--cluster check` CronJob. @default '*\/5 * * * *' */
  readonly healthCheckSchedule?: string;
  /** Schedule of RDB snapshots on every master. @default - no snapshots */
  readonly snapshotSchedule?: string;
  /** TTL applications apply when a key matches no prefix. @default 86400 */
  readonly defaultTtlSeconds?: number;
  /** Key-prefix TTLs published to applications in the cache-policy ConfigMap. @default [] */
  readonly ttlRules?: readonly TtlRule[];
  /** How long the bootstrap Job waits for every member. @default 600 */
  readonly waitTimeoutSeconds?: number;
}

/**
 * Declarative cache management of one RedisCluster: forms it once (bootstrap Job), joins and
 * rebalances new members after a scale-up (reconcile Job), checks it on a schedule (CronJob),
 * optionally snapshots it, and publishes the cache policy for applications.
 */
export class CacheManagement extends Construct {
  public readonly workload: Workload;
  public readonly cachePolicyConfigMapName: string;
  public readonly bootstrapJob: k8s.KubeJob;
  public readonly reconcileJob: k8s.KubeJob;

  constructor(scope: Construct, id: string, props: CacheManagementProps) {
    super(scope, id);
    const { cluster } = props;
    const name = `${cluster.name}-cache-management`;
    const namespace = cluster.namespace;
    const labels = standardLabels(name, 'cache-management');
    const podLabels = selectorLabels(name, 'cache-management');
    const meta = (objectName: string) => ({ name: objectName, namespace, labels });
    const rules = props.ttlRules ?? [];
    const prefixes = rules.map((r) => r.prefix);
    const duplicate = prefixes.find((p, i) => prefixes.indexOf(p) !== i);
    if (duplicate) throw new Error(`CacheManagement ${id}: TTL prefix "${duplicate}" is listed twice`);

    this.workload = { name, namespace, podLabels, serviceAccountName: name, description: `cache management of ${cluster.workload.description}` };
    cluster.allowFrom(this.workload, 'bootstrap, reconcile and health checks');

    new k8s.KubeServiceAccount(this, 'service-account', { metadata: meta(name), automountServiceAccountToken: false });
    const scripts = {
      'lib.sh': readComponentFile(NODE_SCRIPTS_DIR, 'lib.sh'),
      ...readScripts(SCRIPTS_DIR, MANAGEMENT_SCRIPTS),
    };
    const scriptsMap = new k8s.KubeConfigMap(this, 'scripts', { metadata: meta(`${name}-scripts`), data: scripts });

    this.cachePolicyConfigMapName = `${cluster.name}-cache-policy`;
    const policy = {
      defaultTtlSeconds: props.defaultTtlSeconds ?? 86400,
      prefixes: rules.map((r) => ({ prefix: r.prefix, ttlSeconds: r.ttlSeconds, ...(r.description ? { description: r.description } : {}) })),
    };
    new k8s.KubeConfigMap(this, 'cache-policy', {
      metadata: meta(this.cachePolicyConfigMapName),
      data: { 'policy.json': `${JSON.stringify(policy, null, 2)}\n` },
    });

    const nodes = cluster.nodeHostnames;
    const env = (extra: k8s.EnvVar[] = []): k8s.EnvVar[] => [
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: cluster.passwordSecret.name, key: cluster.passwordSecret.key } } },
      { name: 'REDIS_NODES', value: nodes.join(' ') },
      { name: 'REDIS_PORT', value: String(cluster.port) },
      { name: 'REDIS_MASTERS', value: String(cluster.masters) },
      { name: 'REDIS_REPLICAS_PER_MASTER', value: String(cluster.replicasPerMaster) },
      ...extra,
    ];
    const podSpec = (script: string, extraEnv: k8s.EnvVar[] = []): k8s.PodTemplateSpec => ({
      metadata: { labels: { ...labels, ...podLabels }, annotations: { ...MESHED_POD_ANNOTATIONS } },
      spec: {
        serviceAccountName: name,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        restartPolicy: 'Never',
        securityContext: restrictedPodSecurityContext(REDIS_UID),
        containers: [
          {
            name: 'redis-admin',
            image: cluster.image,
            imagePullPolicy: 'IfNotPresent',
            command: ['/bin/bash', `${SCRIPTS_MOUNT}/${script}`],
            env: env(extraEnv),
            resources: resourceRequirements({ cpuRequest: '50m', cpuLimit: '500m', memoryRequest: '64Mi', memoryLimit: '256Mi' }),
            securityContext: restrictedContainerSecurityContext(),
            volumeMounts: [
              { name: 'scripts', mountPath: SCRIPTS_MOUNT, readOnly: true },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          },
        ],
        volumes: [
          { name: 'scripts', configMap: { name: scriptsMap.name, defaultMode: 0o555 } },
          { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } },
        ],
      },
    });
    const waitTimeout = props.waitTimeoutSeconds ?? 600;
    const jobSpec = (script: string, extraEnv: k8s.EnvVar[], deadline: number): k8s.JobSpec => ({
      backoffLimit: 3,
      activeDeadlineSeconds: deadline,
      ttlSecondsAfterFinished: 7 * 24 * 3600,
      template: podSpec(script, extraEnv),
    });

    // Pulumi awaits Job completion, so `pulumi up` reports a cluster that failed to form; the
    // deadline bounds that wait.
    this.bootstrapJob = new k8s.KubeJob(this, 'bootstrap', {
      metadata: meta(`${cluster.name}-bootstrap`),
      spec: jobSpec('bootstrap.sh', [{ name: 'REDIS_WAIT_TIMEOUT_SECONDS', value: String(waitTimeout) }], waitTimeout + 300),
    });
    this.reconcileJob = new k8s.KubeJob(this, 'reconcile', {
      metadata: meta(`${cluster.name}-reconcile`),
      spec: jobSpec('reconcile.sh', [{ name: 'REDIS_WAIT_TIMEOUT_SECONDS', value: String(waitTimeout) }], waitTimeout + 1800),
    });
    // Joining and rebalancing only make sense on a formed cluster.
    this.reconcileJob.node.addDependency(this.bootstrapJob);

    const cronJob = (cronId: string, objectName: string, schedule: string, extraEnv: k8s.EnvVar[]) =>
      new k8s.KubeCronJob(this, cronId, {
        metadata: meta(objectName),
        spec: {
          schedule,
          concurrencyPolicy: 'Forbid',
          startingDeadlineSeconds: 300,
          successfulJobsHistoryLimit: 1,
          failedJobsHistoryLimit: 3,
          jobTemplate: { spec: { backoffLimit: 1, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 3600, template: podSpec('check.sh', extraEnv) } },
        },
      });
    cronJob('health-check', `${cluster.name}-cluster-check`, props.healthCheckSchedule ?? '*/5 * * * *', [{ name: 'REDIS_WAIT_TIMEOUT_SECONDS', value: '60' }]);
    if (props.snapshotSchedule) {
      cronJob('snapshot', `${cluster.name}-snapshot`, props.snapshotSchedule, [
        { name: 'REDIS_WAIT_TIMEOUT_SECONDS', value: '60' },
        { name: 'REDIS_SNAPSHOT', value: 'true' },
      ]);
    }

    new WorkloadNetworkPolicy(this, 'network-policy', { workload: this.workload, labels });
  }
}
