import type { KubeObject } from '../stacks/synth';
import type { Json } from './rules/pods';

/**
 * A small application that satisfies every rule and the schemas: a replicated Deployment with its
 * ServiceAccount, Service, PodDisruptionBudget and NetworkPolicy, a migration Job, a ConfigMap and a
 * Secret carrying a placeholder. Tests break one thing at a time.
 */
export const APP_LABELS = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/component': 'api' };

const podSecurityContext = { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } };
const containerSecurityContext = () => ({
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  privileged: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});
const resources = () => ({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } });

export function compliantApp(): KubeObject[] {
  const meta = (name: string) => ({ name, namespace: 'shop', labels: { ...APP_LABELS } });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('web'), automountServiceAccountToken: false },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web'),
      spec: {
        replicas: 2,
        selector: { matchLabels: { ...APP_LABELS } },
        template: {
          metadata: { labels: { ...APP_LABELS } },
          spec: {
            serviceAccountName: 'web',
            automountServiceAccountToken: false,
            securityContext: { ...podSecurityContext },
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...APP_LABELS } } } },
                ],
              },
            },
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { ...APP_LABELS } } },
            ],
            containers: [
              {
                name: 'web',
                image: 'ghcr.io/example/web:1.4.2',
                ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
                env: [
                  { name: 'LOG_LEVEL', value: 'info' },
                  { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'web-db', key: 'password' } } },
                  { name: 'DB_PASSWORD_FILE', value: '/run/secrets/db' },
                ],
                resources: resources(),
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
                readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
                securityContext: containerSecurityContext(),
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('web'),
      spec: { type: 'ClusterIP', selector: { ...APP_LABELS }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('web'), spec: { maxUnavailable: 1, selector: { matchLabels: { ...APP_LABELS } } } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('web'),
      spec: {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ ports: [{ protocol: 'TCP', port: 8080 }] }],
        egress: [],
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta('web-migrate'),
      spec: {
        backoffLimit: 2,
        ttlSecondsAfterFinished: 3600,
        template: {
          metadata: { labels: { ...APP_LABELS, 'app.kubernetes.io/component': 'migrate' } },
          spec: {
            restartPolicy: 'Never',
            serviceAccountName: 'web',
            automountServiceAccountToken: false,
            securityContext: { ...podSecurityContext },
            containers: [{ name: 'migrate', image: 'ghcr.io/example/web:1.4.2', command: ['/app/migrate'], resources: resources(), securityContext: containerSecurityContext() }],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('web-config'), data: { 'app.yaml': 'listen: 8080\npassword_file: /run/secrets/db\n' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: meta('web-db'), type: 'Opaque', stringData: { password: '<secret:webDbPassword>' } },
  ] as KubeObject[];
}

export function find(objects: readonly KubeObject[], kind: string, name = 'web'): Json {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`fixture has no ${kind} ${name}`);
  return found as Json;
}

/** The Deployment's pod spec and first container, the usual things a test breaks. */
export function webPod(objects: readonly KubeObject[]): { spec: Json; container: Json } {
  const spec = find(objects, 'Deployment').spec.template.spec;
  return { spec, container: spec.containers[0] };
}
