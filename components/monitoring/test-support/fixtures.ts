import { Chart } from 'cdk8s';
import { newChart } from '../../../test/synth-helpers';
import { Peer, Workload } from '../../../lib/workload';
import { RedisCluster } from '../../redis-cluster';
import { Monitoring, MonitoringProps } from '..';
import { GatewayMetricsSource, istioMetricsSource, MeshMetricsSource } from '../sources';
import { CASE_TARGETS } from './rule-cases';

/** Stand-ins for the Kong and Istio components: only the interfaces the monitoring component reads. */
export const kongWorkload: Workload = {
  name: 'kong',
  namespace: CASE_TARGETS.kong.namespace,
  podLabels: { 'app.kubernetes.io/name': 'kong', 'app.kubernetes.io/component': 'gateway' },
  serviceAccountName: 'kong',
  description: 'Kong gateway',
};
export const rateLimitStoreWorkload: Workload = {
  name: 'kong-rate-limit-redis',
  namespace: CASE_TARGETS.rateLimitStore.namespace,
  podLabels: { 'app.kubernetes.io/name': 'kong-rate-limit-redis', 'app.kubernetes.io/component': 'rate-limit-store' },
  serviceAccountName: 'kong-rate-limit-redis',
  description: 'Kong rate-limit counters',
};
export const apiWorkload: Workload = {
  name: 'api',
  namespace: CASE_TARGETS.sidecars.namespace,
  podLabels: { 'app.kubernetes.io/name': 'api' },
  serviceAccountName: 'api',
  description: 'fingerprint API',
};

export const gateway: GatewayMetricsSource = {
  scrapeEndpoints: [{ job: CASE_TARGETS.kong.job, workload: kongWorkload, port: { name: 'http-status', port: 8100 }, path: '/metrics' }],
  rateLimitStore: {
    namespace: CASE_TARGETS.rateLimitStore.namespace,
    scrapeEndpoints: [{ job: CASE_TARGETS.rateLimitStore.job, workload: rateLimitStoreWorkload, port: { name: 'http-metrics', port: 9121 } }],
  },
};

export const mesh: MeshMetricsSource = istioMetricsSource({
  controlPlane: { namespace: CASE_TARGETS.istiod.namespace, podLabels: { app: 'istiod' } },
  sidecarWorkloads: [apiWorkload],
});

/** kube-prometheus-stack's Prometheus pods. */
export const clusterPrometheus: Peer = {
  namespace: 'monitoring',
  podLabels: { 'app.kubernetes.io/name': 'prometheus' },
  serviceAccountName: 'kube-prometheus-stack-prometheus',
  description: 'Prometheus',
};

/** A region with every source wired, as region-chart composes it. */
export function buildRegion(props: Partial<MonitoringProps> = {}): { chart: Chart; redis: RedisCluster; monitoring: Monitoring } {
  const chart = newChart('us-east-1');
  const redis = new RedisCluster(chart, 'redis', { zones: ['a', 'b', 'c'] });
  const monitoring = new Monitoring(chart, 'monitoring', {
    region: 'us-east-1',
    environment: 'staging',
    prometheus: clusterPrometheus,
    redis,
    gateway,
    mesh,
    zones: ['a', 'b', 'c'],
    ...props,
  });
  return { chart, redis, monitoring };
}
