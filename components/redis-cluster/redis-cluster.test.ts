import * as fs from 'fs';
import * as path from 'path';
import { find, newChart, ofKind, podSpecs, synth } from '../../test/synth-helpers';
import { TrafficGraph } from '../../lib/traffic';
import { Peer } from '../../lib/workload';
import { NODE_SCRIPTS, RedisCluster, SCRIPTS_DIR } from '.';

const client: Peer = {
  namespace: 'api',
  podLabels: { 'app.kubernetes.io/name': 'fingerprint-api' },
  serviceAccountName: 'fingerprint-api',
  description: 'fingerprint API',
};
const prometheus: Peer = { namespace: 'monitoring', podLabels: { app: 'prometheus' }, serviceAccountName: 'prometheus', description: 'Prometheus' };

function build(props: ConstructorParameters<typeof RedisCluster>[2] = {}) {
  const chart = newChart();
  const redis = new RedisCluster(chart, 'redis', { zones: ['a', 'b', 'c'], ...props });
  // The scrape flow as the monitoring component declares it for each scrape endpoint.
  for (const ep of redis.scrapeEndpoints) TrafficGraph.of(chart).allow({ from: prometheus, to: ep.workload, ports: [ep.port], reason: `metrics scrape (${ep.job})` });
  redis.allowFrom(client);
  return { redis, objects: synth(chart) };
}

describe('RedisCluster', () => {
  it('runs masters x (1 + replicas) members in parallel on a headless service', () => {
    const { objects } = build({ masters: 4, replicasPerMaster: 2 });
    const sts = find(objects, 'StatefulSet', 'redis', 'cache') as any;
    expect(sts.spec.replicas).toBe(12);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.serviceName).toBe('redis-headless');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('5Gi');
    expect(sts.metadata.annotations['pulumi.com/skipAwait']).toBe('true');
  });

  it('defaults to 3 masters with 1 replica each', () => {
    const { objects, redis } = build();
    expect((find(objects, 'StatefulSet', 'redis') as any).spec.replicas).toBe(6);
    expect(redis.nodeHostnames).toEqual(Array.from({ length: 6 }, (_, i) => `redis-${i}.redis-headless.cache.svc.cluster.local`));
  });

  it('publishes not-ready members with Istio-friendly tcp- port names', () => {
    const { objects } = build();
    const headless = find(objects, 'Service', 'redis-headless') as any;
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(headless.spec.ports.map((p: any) => [p.name, p.port])).toEqual([
      ['tcp-redis', 6379],
      ['tcp-cluster-bus', 16379],
      ['http-metrics', 9121],
    ]);
    const client = find(objects, 'Service', 'redis') as any;
    expect(client.spec.ports.map((p: any) => [p.name, p.port])).toEqual([['tcp-redis', 6379]]);
  });

  it('derives maxmemory from the memory limit and keeps nodes.conf on the volume', () => {
    const { objects } = build({ memory: '4Gi', maxmemoryPolicy: 'allkeys-lfu', nodeTimeoutMs: 7000 });
    const conf = (find(objects, 'ConfigMap', 'redis-config') as any).data['redis.conf'] as string;
    expect(conf).toMatch(/^cluster-enabled yes$/m);
    expect(conf).toMatch(/^cluster-config-file \/data\/nodes.conf$/m);
    expect(conf).toMatch(/^cluster-node-timeout 7000$/m);
    expect(conf).toMatch(/^cluster-require-full-coverage no$/m);
    expect(conf).toMatch(/^cluster-preferred-endpoint-type hostname$/m);
    expect(conf).toMatch(new RegExp(`^maxmemory ${3 * 2 ** 30}$`, 'm'));
    expect(conf).toMatch(/^maxmemory-policy allkeys-lfu$/m);
    expect(conf).toMatch(/^appendonly no$/m);
    expect(conf).toMatch(/^include \/run\/redis\/runtime.conf$/m);
    expect(conf).not.toMatch(/requirepass|masterauth/);
    const sts = find(objects, 'StatefulSet', 'redis') as any;
    const redis = sts.spec.template.spec.containers.find((c: any) => c.name === 'redis');
    expect(redis.resources.limits.memory).toBe('4Gi');
    expect(redis.resources.requests.memory).toBe('4Gi');
    expect(redis.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });

  it('rolls the pods when the configuration changes', () => {
    const checksum = (objects: any) => (find(objects, 'StatefulSet', 'redis') as any).spec.template.metadata.annotations['checksum/config'];
    expect(checksum(build().objects)).toBe(checksum(build().objects));
    expect(checksum(build().objects)).not.toBe(checksum(build({ maxmemoryPolicy: 'allkeys-lfu' }).objects));
  });

  it('keeps the password in a Secret placeholder and reads it through secretKeyRef only', () => {
    const { objects } = build();
    const secret = find(objects, 'Secret', 'redis-auth') as any;
    expect(secret.stringData).toEqual({ password: '<secret:redisPassword>' });
    const sts = find(objects, 'StatefulSet', 'redis') as any;
    for (const container of sts.spec.template.spec.containers) {
      const env = container.env.find((e: any) => e.name === 'REDIS_PASSWORD');
      expect(env).toEqual({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } } });
    }
  });

  it('ships the node scripts verbatim and runs them as entrypoint and probes', () => {
    const { objects } = build();
    const scripts = (find(objects, 'ConfigMap', 'redis-scripts') as any).data;
    expect(Object.keys(scripts).sort()).toEqual([...NODE_SCRIPTS].sort());
    for (const name of NODE_SCRIPTS) expect(scripts[name]).toBe(fs.readFileSync(path.join(SCRIPTS_DIR, name), 'utf8'));
    const redis = (find(objects, 'StatefulSet', 'redis') as any).spec.template.spec.containers[0];
    expect(redis.command).toEqual(['/bin/bash', '/scripts/start.sh']);
    expect(redis.readinessProbe.exec.command).toEqual(['/bin/bash', '/scripts/readiness.sh']);
    expect(redis.livenessProbe.exec.command).toEqual(['/bin/bash', '/scripts/liveness.sh']);
    expect(redis.startupProbe.exec.command).toEqual(['/bin/bash', '/scripts/liveness.sh']);
    expect(redis.env).toContainEqual({ name: 'REDIS_ANNOUNCE_HOSTNAME', value: '$(POD_NAME).redis-headless.cache.svc.cluster.local' });
  });

  it('runs a redis_exporter sidecar on 9121', () => {
    const { objects, redis } = build();
    const exporter = (find(objects, 'StatefulSet', 'redis') as any).spec.template.spec.containers[1];
    expect(exporter.name).toBe('exporter');
    expect(exporter.ports).toEqual([{ name: 'http-metrics', containerPort: 9121, protocol: 'TCP' }]);
    expect(exporter.env).toContainEqual({ name: 'REDIS_ADDR', value: 'redis://127.0.0.1:6379' });
    expect(redis.scrapeEndpoints).toEqual([expect.objectContaining({ job: 'redis-exporter', port: { name: 'http-metrics', port: 9121 } })]);
  });

  it('meets Pod Security "restricted" and sets requests, limits and probes on every container', () => {
    const { objects } = build();
    const pods = podSpecs(objects);
    expect(pods).toHaveLength(1);
    const spec = pods[0].spec;
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of spec.containers) {
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      expect(c.readinessProbe).toBeDefined();
      expect(c.livenessProbe).toBeDefined();
    }
  });

  it('spreads members across nodes (never two on one node) and zones, with a PDB', () => {
    const { objects } = build();
    const spec = (find(objects, 'StatefulSet', 'redis') as any).spec.template.spec;
    const required = spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    expect(required).toEqual([{ labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/component': 'cache' } }, topologyKey: 'kubernetes.io/hostname' }]);
    expect(spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1 });
    expect((find(objects, 'PodDisruptionBudget', 'redis') as any).spec.maxUnavailable).toBe(1);
  });

  it('admits only members, the metrics scrape and declared clients', () => {
    const { objects } = build();
    const policy = find(objects, 'NetworkPolicy', 'redis') as any;
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const rules = policy.spec.ingress.map((r: any) => ({
      ns: r.from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
      pods: r.from[0].podSelector.matchLabels,
      ports: r.ports.map((p: any) => p.port),
    }));
    expect(rules).toEqual([
      { ns: 'cache', pods: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/component': 'cache' }, ports: [6379, 16379] },
      { ns: 'monitoring', pods: { app: 'prometheus' }, ports: [9121] },
      { ns: 'api', pods: { 'app.kubernetes.io/name': 'fingerprint-api' }, ports: [6379] },
    ]);
    // Egress: DNS and the cluster itself, nothing else.
    expect(policy.spec.egress).toHaveLength(2);
  });

  it('creates its namespace with Pod Security "restricted" enforced', () => {
    const { objects } = build();
    const ns = find(objects, 'Namespace', 'cache') as any;
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const sts = objects.find((o) => o.manifest.kind === 'StatefulSet')!;
    expect(sts.dependsOn).toContain('v1/Namespace//cache');
  });

  it.each([
    [{ masters: 2 }, 'masters must be at least 3 (got 2)'],
    [{ replicasPerMaster: -1 }, 'replicasPerMaster must be 0 or more (got -1)'],
    [{ memory: 'lots' }, 'memory "lots" is not a memory quantity'],
    [{ memory: '1Gi', maxmemoryBytes: 2 ** 30 }, 'must leave headroom below the memory limit 1Gi'],
  ])('rejects %o', (props, message) => {
    expect(() => new RedisCluster(newChart(), 'redis', props as any)).toThrow(message);
  });

  it('produces explicit names without cdk8s hashes', () => {
    const { objects } = build();
    for (const o of objects) expect(o.manifest.metadata.name).not.toMatch(/-c8[0-9a-f]{6}$/);
    expect(ofKind(objects, 'ConfigMap').map((c) => c.metadata.name).sort()).toEqual(['redis-config', 'redis-scripts']);
  });
});
