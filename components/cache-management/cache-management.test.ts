import * as fs from 'fs';
import * as path from 'path';
import { find, newChart, ofKind, podSpecs, synth } from '../../test/synth-helpers';
import { RedisCluster, SCRIPTS_DIR as NODE_SCRIPTS_DIR } from '../redis-cluster';
import { CacheManagement, CacheManagementProps, MANAGEMENT_SCRIPTS, SCRIPTS_DIR } from '.';

function build(props: Partial<CacheManagementProps> = {}, masters = 3) {
  const chart = newChart();
  const cluster = new RedisCluster(chart, 'redis', { masters, zones: ['a', 'b'] });
  const mgmt = new CacheManagement(chart, 'mgmt', { cluster, ...props });
  return { cluster, mgmt, objects: synth(chart) };
}

const env = (job: any) => Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('CacheManagement', () => {
  it('forms the cluster with a bounded bootstrap Job that knows every member', () => {
    const { objects, cluster } = build();
    const job = find(objects, 'Job', 'redis-bootstrap', 'cache') as any;
    expect(job.spec.template.spec.containers[0].command).toEqual(['/bin/bash', '/scripts/bootstrap.sh']);
    const vars = env(job);
    expect(vars.REDIS_NODES).toBe(cluster.nodeHostnames.join(' '));
    expect(vars.REDIS_MASTERS).toBe('3');
    expect(vars.REDIS_REPLICAS_PER_MASTER).toBe('1');
    expect(vars.REDIS_PASSWORD).toEqual({ secretKeyRef: { name: 'redis-auth', key: 'password' } });
    expect(job.spec.backoffLimit).toBe(3);
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(600);
    expect(job.spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('reconciles after bootstrap, and a scale-up changes the reconcile Job so it runs again', () => {
    const small = build({}, 3);
    const large = build({}, 4);
    const reconcile = small.objects.find((o) => o.manifest.kind === 'Job' && o.manifest.metadata.name === 'redis-reconcile')!;
    expect(reconcile.dependsOn).toContain('batch/v1/Job/cache/redis-bootstrap');
    const nodes = (objects: any) => env(find(objects, 'Job', 'redis-reconcile')).REDIS_NODES.split(' ');
    expect(nodes(small.objects)).toHaveLength(6);
    expect(nodes(large.objects)).toHaveLength(8);
    expect(env(find(large.objects, 'Job', 'redis-reconcile')).REDIS_MASTERS).toBe('4');
  });

  it('checks the cluster on a schedule and snapshots only when asked', () => {
    const plain = build({ healthCheckSchedule: '*/10 * * * *' });
    const check = find(plain.objects, 'CronJob', 'redis-cluster-check') as any;
    expect(check.spec.schedule).toBe('*/10 * * * *');
    expect(check.spec.concurrencyPolicy).toBe('Forbid');
    expect(check.spec.jobTemplate.spec.backoffLimit).toBeDefined();
    expect(check.spec.jobTemplate.spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(ofKind(plain.objects, 'CronJob')).toHaveLength(1);

    const withSnapshots = build({ snapshotSchedule: '17 3 * * *' });
    const snapshot = find(withSnapshots.objects, 'CronJob', 'redis-snapshot') as any;
    expect(snapshot.spec.schedule).toBe('17 3 * * *');
    expect(env(snapshot.spec.jobTemplate).REDIS_SNAPSHOT).toBe('true');
  });

  it('publishes the cache policy for applications', () => {
    const { objects, mgmt } = build({ defaultTtlSeconds: 600, ttlRules: [{ prefix: 'fp:device:', ttlSeconds: 86400, description: 'devices' }] });
    const cm = find(objects, 'ConfigMap', mgmt.cachePolicyConfigMapName) as any;
    expect(JSON.parse(cm.data['policy.json'])).toEqual({ defaultTtlSeconds: 600, prefixes: [{ prefix: 'fp:device:', ttlSeconds: 86400, description: 'devices' }] });
  });

  it('rejects a prefix listed twice', () => {
    expect(() => build({ ttlRules: [{ prefix: 'a:', ttlSeconds: 1 }, { prefix: 'a:', ttlSeconds: 2 }] })).toThrow('TTL prefix "a:" is listed twice');
  });

  it('ships lib.sh and its scripts verbatim', () => {
    const { objects } = build();
    const data = (find(objects, 'ConfigMap', 'redis-cache-management-scripts') as any).data;
    expect(data['lib.sh']).toBe(fs.readFileSync(path.join(NODE_SCRIPTS_DIR, 'lib.sh'), 'utf8'));
    for (const name of MANAGEMENT_SCRIPTS) expect(data[name]).toBe(fs.readFileSync(path.join(SCRIPTS_DIR, name), 'utf8'));
  });

  it('is allowed to reach Redis on 6379 only, and its own pods are isolated', () => {
    const { objects } = build();
    const redisPolicy = find(objects, 'NetworkPolicy', 'redis') as any;
    const fromMgmt = redisPolicy.spec.ingress.find((r: any) => r.from[0].podSelector.matchLabels['app.kubernetes.io/name'] === 'redis-cache-management');
    expect(fromMgmt.ports.map((p: any) => p.port)).toEqual([6379]);
    const own = find(objects, 'NetworkPolicy', 'redis-cache-management') as any;
    expect(own.spec.ingress).toEqual([]);
    expect(own.spec.egress[1].ports.map((p: any) => p.port)).toEqual([6379]);
  });

  it('asks for a native Istio sidecar so Jobs complete under the mesh', () => {
    const { objects } = build();
    const job = find(objects, 'Job', 'redis-bootstrap') as any;
    expect(job.spec.template.metadata.annotations['sidecar.istio.io/nativeSidecar']).toBe('true');
    const cron = find(objects, 'CronJob', 'redis-cluster-check') as any;
    expect(cron.spec.jobTemplate.spec.template.metadata.annotations['sidecar.istio.io/nativeSidecar']).toBe('true');
  });

  it('runs every job pod restricted, with limits and no service-account token', () => {
    const { objects } = build({ snapshotSchedule: '0 * * * *' });
    const jobs = podSpecs(objects).filter((p) => !p.owner.includes('StatefulSet'));
    expect(jobs).toHaveLength(4);
    for (const { spec } of jobs) {
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.restartPolicy).toBe('Never');
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      for (const c of spec.containers) {
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
        expect(c.resources.limits.cpu).toBeDefined();
      }
    }
  });
});
