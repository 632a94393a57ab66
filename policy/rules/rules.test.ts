import { randomBytes } from 'crypto';
import { evaluate } from '../engine';
import { compliantApp, find, webPod } from '../test-fixtures';
import { RULES } from './index';
import type { Json } from './pods';
import type { KubeObject } from './types';

// Credentials the rules must catch: generated per run, never a literal in the repository.
const FAKE_CREDENTIAL = randomBytes(12).toString('hex');

/** Violations per rule id for a (modified) fixture. */
function violations(objects: KubeObject[]): { ruleId: string; path: string; message: string; object: string }[] {
  return evaluate(objects).violations.map((v) => ({ ruleId: v.ruleId, path: v.path, message: v.message, object: `${v.object.kind}/${v.object.name}` }));
}

function app(change: (objects: KubeObject[]) => void): KubeObject[] {
  const objects = compliantApp();
  change(objects);
  return objects;
}

interface Case {
  /** What is broken. */
  readonly name: string;
  readonly change: (objects: KubeObject[]) => void;
  /** `Kind/name path` of every expected violation. */
  readonly expect: readonly string[];
}

interface RuleCases {
  readonly violating: readonly Case[];
  /** Variants the rule must accept (besides the compliant baseline). */
  readonly passing: readonly Omit<Case, 'expect'>[];
}

const dep = (o: KubeObject[]) => find(o, 'Deployment');
const TWO_DEPLOYMENT_PATHS = 'Deployment/web spec.template.spec';

const CASES: Record<string, RuleCases> = {
  'pss-host-process': {
    violating: [
      { name: 'pod hostProcess', change: (o) => (webPod(o).spec.securityContext.windowsOptions = { hostProcess: true }), expect: [`${TWO_DEPLOYMENT_PATHS}.securityContext.windowsOptions.hostProcess`] },
      {
        name: 'container hostProcess',
        change: (o) => (webPod(o).container.securityContext.windowsOptions = { hostProcess: true }),
        expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.windowsOptions.hostProcess`],
      },
    ],
    passing: [{ name: 'hostProcess false', change: (o) => (webPod(o).spec.securityContext.windowsOptions = { hostProcess: false }) }],
  },
  'pss-host-namespaces': {
    violating: [
      { name: 'hostNetwork', change: (o) => (webPod(o).spec.hostNetwork = true), expect: [`${TWO_DEPLOYMENT_PATHS}.hostNetwork`] },
      { name: 'hostPID and hostIPC', change: (o) => Object.assign(webPod(o).spec, { hostPID: true, hostIPC: true }), expect: [`${TWO_DEPLOYMENT_PATHS}.hostPID`, `${TWO_DEPLOYMENT_PATHS}.hostIPC`] },
    ],
    passing: [{ name: 'explicit false', change: (o) => Object.assign(webPod(o).spec, { hostNetwork: false, hostPID: false }) }],
  },
  'pss-privileged': {
    violating: [{ name: 'privileged', change: (o) => (webPod(o).container.securityContext.privileged = true), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.privileged`] }],
    passing: [{ name: 'unset', change: (o) => delete webPod(o).container.securityContext.privileged }],
  },
  'pss-capabilities': {
    violating: [
      { name: 'drop not ALL', change: (o) => (webPod(o).container.securityContext.capabilities = { drop: ['NET_RAW'] }), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.capabilities.drop`] },
      {
        name: 'adds SYS_ADMIN',
        change: (o) => (webPod(o).container.securityContext.capabilities.add = ['NET_BIND_SERVICE', 'SYS_ADMIN']),
        expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.capabilities.add[1]`],
      },
    ],
    passing: [
      { name: 'adds NET_BIND_SERVICE', change: (o) => (webPod(o).container.securityContext.capabilities.add = ['NET_BIND_SERVICE']) },
      { name: 'Windows pod', change: (o) => Object.assign(webPod(o).spec, { os: { name: 'windows' } }) && delete webPod(o).container.securityContext.capabilities },
    ],
  },
  'pss-host-path': {
    violating: [{ name: 'hostPath volume', change: (o) => webPod(o).spec.volumes.push({ name: 'host', hostPath: { path: '/var/log' } }), expect: [`${TWO_DEPLOYMENT_PATHS}.volumes[1].hostPath`] }],
    passing: [],
  },
  'pss-host-ports': {
    violating: [{ name: 'hostPort', change: (o) => (webPod(o).container.ports[0].hostPort = 8080), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].ports[0].hostPort`] }],
    passing: [{ name: 'hostPort 0', change: (o) => (webPod(o).container.ports[0].hostPort = 0) }],
  },
  'pss-apparmor': {
    violating: [
      {
        name: 'unconfined annotation',
        change: (o) => (dep(o).spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/web': 'unconfined' }),
        expect: ['Deployment/web spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/web"]'],
      },
      { name: 'Unconfined field', change: (o) => (webPod(o).container.securityContext.appArmorProfile = { type: 'Unconfined' }), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.appArmorProfile.type`] },
    ],
    passing: [
      { name: 'runtime/default annotation', change: (o) => (dep(o).spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/web': 'runtime/default' }) },
      { name: 'Localhost field', change: (o) => (webPod(o).spec.securityContext.appArmorProfile = { type: 'Localhost', localhostProfile: 'k8s-web' }) },
    ],
  },
  'pss-selinux': {
    violating: [
      { name: 'spc_t type', change: (o) => (webPod(o).spec.securityContext.seLinuxOptions = { type: 'spc_t' }), expect: [`${TWO_DEPLOYMENT_PATHS}.securityContext.seLinuxOptions.type`] },
      { name: 'custom user', change: (o) => (webPod(o).container.securityContext.seLinuxOptions = { user: 'system_u' }), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.seLinuxOptions.user`] },
    ],
    passing: [{ name: 'container_t with level', change: (o) => (webPod(o).spec.securityContext.seLinuxOptions = { type: 'container_t', level: 's0:c123,c456' }) }],
  },
  'pss-proc-mount': {
    violating: [{ name: 'Unmasked', change: (o) => (webPod(o).container.securityContext.procMount = 'Unmasked'), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.procMount`] }],
    passing: [{ name: 'Default', change: (o) => (webPod(o).container.securityContext.procMount = 'Default') }],
  },
  'pss-seccomp': {
    violating: [
      { name: 'Unconfined pod profile', change: (o) => (webPod(o).spec.securityContext.seccompProfile = { type: 'Unconfined' }), expect: [`${TWO_DEPLOYMENT_PATHS}.securityContext.seccompProfile.type`] },
      {
        name: 'no profile anywhere',
        change: (o) => {
          delete webPod(o).spec.securityContext.seccompProfile;
          delete webPod(o).container.securityContext.seccompProfile;
        },
        expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.seccompProfile`],
      },
    ],
    passing: [{ name: 'container-level only', change: (o) => delete webPod(o).spec.securityContext.seccompProfile }],
  },
  'pss-sysctls': {
    violating: [{ name: 'unsafe sysctl', change: (o) => (webPod(o).spec.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '65536' }]), expect: [`${TWO_DEPLOYMENT_PATHS}.securityContext.sysctls[0].name`] }],
    passing: [{ name: 'safe sysctl', change: (o) => (webPod(o).spec.securityContext.sysctls = [{ name: 'net.ipv4.tcp_syncookies', value: '1' }]) }],
  },
  'pss-volume-types': {
    violating: [{ name: 'nfs volume', change: (o) => webPod(o).spec.volumes.push({ name: 'shared', nfs: { server: 'nfs.local', path: '/' } }), expect: [`${TWO_DEPLOYMENT_PATHS}.volumes[1].nfs`] }],
    passing: [{ name: 'projected and PVC volumes', change: (o) => webPod(o).spec.volumes.push({ name: 'token', projected: { sources: [] } }, { name: 'data', persistentVolumeClaim: { claimName: 'd' } }) }],
  },
  'pss-privilege-escalation': {
    violating: [{ name: 'unset', change: (o) => delete webPod(o).container.securityContext.allowPrivilegeEscalation, expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.allowPrivilegeEscalation`] }],
    passing: [{ name: 'Windows pod', change: (o) => Object.assign(webPod(o).spec, { os: { name: 'windows' } }) && delete webPod(o).container.securityContext.allowPrivilegeEscalation }],
  },
  'pss-run-as-non-root': {
    violating: [
      { name: 'container false', change: (o) => (webPod(o).container.securityContext.runAsNonRoot = false), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.runAsNonRoot`] },
      {
        name: 'set nowhere',
        change: (o) => {
          delete webPod(o).spec.securityContext.runAsNonRoot;
          delete webPod(o).container.securityContext.runAsNonRoot;
        },
        expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.runAsNonRoot`],
      },
    ],
    passing: [{ name: 'pod-level only', change: (o) => delete webPod(o).container.securityContext.runAsNonRoot }],
  },
  'pss-run-as-user': {
    violating: [{ name: 'uid 0', change: (o) => (webPod(o).container.securityContext.runAsUser = 0), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].securityContext.runAsUser`] }],
    passing: [{ name: 'non-zero uid', change: (o) => (webPod(o).container.securityContext.runAsUser = 1000) }],
  },
  'container-resources': {
    violating: [
      { name: 'no memory limit', change: (o) => delete webPod(o).container.resources.limits.memory, expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].resources.limits`] },
      { name: 'no requests', change: (o) => delete webPod(o).container.resources.requests, expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].resources.requests`] },
      { name: 'request above limit', change: (o) => (webPod(o).container.resources.requests.cpu = '2'), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].resources.requests.cpu`] },
      {
        name: 'Job init container without resources',
        change: (o) => (find(o, 'Job', 'web-migrate').spec.template.spec.initContainers = [{ ...find(o, 'Job', 'web-migrate').spec.template.spec.containers[0], name: 'init', resources: undefined }]),
        expect: ['Job/web-migrate spec.template.spec.initContainers[0].resources.requests', 'Job/web-migrate spec.template.spec.initContainers[0].resources.limits'],
      },
    ],
    passing: [{ name: 'equal request and limit in other units', change: (o) => Object.assign(webPod(o).container.resources, { requests: { cpu: '0.5', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } }) }],
  },
  'image-pinned': {
    violating: [
      { name: 'untagged', change: (o) => (webPod(o).container.image = 'nginx'), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].image`] },
      { name: 'latest', change: (o) => (webPod(o).container.image = 'ghcr.io/example/web:latest'), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].image`] },
      { name: 'registry port is not a tag', change: (o) => (webPod(o).container.image = 'registry.local:5000/web'), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].image`] },
    ],
    passing: [
      { name: 'digest', change: (o) => (webPod(o).container.image = `nginx@sha256:${'a'.repeat(64)}`) },
      { name: 'registry port and tag', change: (o) => (webPod(o).container.image = 'registry.local:5000/team/web:2.0.1') },
    ],
  },
  'container-probes': {
    violating: [
      { name: 'no liveness probe', change: (o) => delete webPod(o).container.livenessProbe, expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].livenessProbe`] },
      {
        name: 'sidecar without probes',
        change: (o) =>
          (webPod(o).spec.initContainers = [{ ...webPod(o).container, name: 'proxy', restartPolicy: 'Always', ports: [], livenessProbe: undefined, readinessProbe: undefined }]),
        expect: [`${TWO_DEPLOYMENT_PATHS}.initContainers[0].livenessProbe`, `${TWO_DEPLOYMENT_PATHS}.initContainers[0].readinessProbe`],
      },
    ],
    passing: [
      { name: 'plain init container without probes', change: (o) => (webPod(o).spec.initContainers = [{ ...webPod(o).container, name: 'init', ports: [], livenessProbe: undefined, readinessProbe: undefined }]) },
    ],
  },
  'env-no-duplicates': {
    violating: [{ name: 'LOG_LEVEL twice', change: (o) => webPod(o).container.env.push({ name: 'LOG_LEVEL', value: 'debug' }), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].env[3]`] }],
    passing: [
      {
        name: 'same name in another container',
        change: (o) => (webPod(o).spec.initContainers = [{ ...webPod(o).container, name: 'init', ports: [], livenessProbe: undefined, readinessProbe: undefined }]),
      },
    ],
  },
  'pdb-required': {
    violating: [
      { name: 'no PDB', change: (o) => o.splice(o.indexOf(find(o, 'PodDisruptionBudget') as KubeObject), 1), expect: ['Deployment/web spec.replicas'] },
      { name: 'maxUnavailable 0', change: (o) => (find(o, 'PodDisruptionBudget').spec.maxUnavailable = 0), expect: ['Deployment/web spec.replicas'] },
      {
        name: 'minAvailable equals replicas',
        change: (o) => {
          const pdb = find(o, 'PodDisruptionBudget');
          delete pdb.spec.maxUnavailable;
          pdb.spec.minAvailable = '100%';
        },
        expect: ['Deployment/web spec.replicas'],
      },
      {
        name: 'two PDBs',
        change: (o) => o.push({ ...(find(o, 'PodDisruptionBudget') as KubeObject), metadata: { name: 'web-extra', namespace: 'shop' } }),
        expect: ['Deployment/web spec.replicas'],
      },
      {
        name: 'single replica scaled by an HPA',
        change: (o) => {
          o.splice(o.indexOf(find(o, 'PodDisruptionBudget') as KubeObject), 1);
          dep(o).spec.replicas = 1;
          o.push({
            apiVersion: 'autoscaling/v2',
            kind: 'HorizontalPodAutoscaler',
            metadata: { name: 'web', namespace: 'shop' },
            spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 4 },
          } as KubeObject);
        },
        expect: ['Deployment/web spec.replicas'],
      },
    ],
    passing: [
      {
        name: 'single replica without PDB',
        change: (o) => {
          o.splice(o.indexOf(find(o, 'PodDisruptionBudget') as KubeObject), 1);
          dep(o).spec.replicas = 1;
        },
      },
      { name: 'minAvailable below replicas', change: (o) => Object.assign(find(o, 'PodDisruptionBudget').spec, { maxUnavailable: undefined, minAvailable: 1 }) },
    ],
  },
  'replica-spread': {
    violating: [
      {
        name: 'no affinity or spread',
        change: (o) => {
          delete webPod(o).spec.affinity;
          delete webPod(o).spec.topologySpreadConstraints;
        },
        expect: [`${TWO_DEPLOYMENT_PATHS}.affinity`],
      },
      {
        name: "anti-affinity against another app's pods",
        change: (o) => {
          delete webPod(o).spec.topologySpreadConstraints;
          webPod(o).spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector = { matchLabels: { app: 'other' } };
        },
        expect: [`${TWO_DEPLOYMENT_PATHS}.affinity`],
      },
    ],
    passing: [{ name: 'topology spread only', change: (o) => delete webPod(o).spec.affinity }],
  },
  'network-policy-coverage': {
    violating: [
      { name: 'no NetworkPolicy', change: (o) => o.splice(o.indexOf(find(o, 'NetworkPolicy') as KubeObject), 1), expect: ['Deployment/web spec.template.metadata.labels', 'Job/web-migrate spec.template.metadata.labels'] },
      { name: 'policy in another namespace', change: (o) => (find(o, 'NetworkPolicy').metadata.namespace = 'other'), expect: ['Deployment/web spec.template.metadata.labels', 'Job/web-migrate spec.template.metadata.labels'] },
    ],
    passing: [{ name: 'empty podSelector selects all pods', change: (o) => (find(o, 'NetworkPolicy').spec.podSelector = {}) }],
  },
  'service-selector': {
    violating: [
      { name: 'selector typo', change: (o) => (find(o, 'Service').spec.selector['app.kubernetes.io/name'] = 'wbe'), expect: ['Service/web spec.selector'] },
      { name: 'unknown named targetPort', change: (o) => (find(o, 'Service').spec.ports[0].targetPort = 'https'), expect: ['Service/web spec.ports[0].targetPort'] },
    ],
    passing: [
      { name: 'numeric targetPort', change: (o) => (find(o, 'Service').spec.ports[0].targetPort = 8080) },
      { name: 'ExternalName Service', change: (o) => (find(o, 'Service').spec = { type: 'ExternalName', externalName: 'db.example.com' }) },
    ],
  },
  'automount-token': {
    violating: [
      {
        name: 'token mounted by default',
        change: (o) => {
          delete webPod(o).spec.automountServiceAccountToken;
          delete find(o, 'ServiceAccount').automountServiceAccountToken;
        },
        expect: [`${TWO_DEPLOYMENT_PATHS}.automountServiceAccountToken`],
      },
      { name: 'pod turns it on', change: (o) => (webPod(o).spec.automountServiceAccountToken = true), expect: [`${TWO_DEPLOYMENT_PATHS}.automountServiceAccountToken`] },
    ],
    passing: [
      { name: 'ServiceAccount turns it off', change: (o) => delete webPod(o).spec.automountServiceAccountToken },
      {
        name: 'the account is bound to a role',
        change: (o) => {
          webPod(o).spec.automountServiceAccountToken = true;
          o.push({
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'web', namespace: 'shop' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'web' },
            subjects: [{ kind: 'ServiceAccount', name: 'web' }],
          } as KubeObject);
        },
      },
    ],
  },
  'no-secret-literals': {
    violating: [
      { name: 'credential env literal', change: (o) => webPod(o).container.env.push({ name: 'API_TOKEN', value: 'tok-8f2d9c' }), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].env[3].value`] },
      {
        name: 'private key in an innocently named env var',
        change: (o) => webPod(o).container.env.push({ name: 'TLS', value: '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----' }),
        expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].env[3].value`],
      },
      { name: 'placeholder in env', change: (o) => webPod(o).container.env.push({ name: 'DB_PASS', value: '<secret:webDbPassword>' }), expect: [`${TWO_DEPLOYMENT_PATHS}.containers[0].env[3].value`] },
      { name: 'ConfigMap key names a credential', change: (o) => (find(o, 'ConfigMap', 'web-config').data['db-password'] = 'x'), expect: ['ConfigMap/web-config data["db-password"]'] },
      {
        name: 'ConfigMap content with a literal password',
        change: (o) => (find(o, 'ConfigMap', 'web-config').data['app.yaml'] += `database:\n  password: "${FAKE_CREDENTIAL}"\n`),
        expect: ['ConfigMap/web-config data["app.yaml"]'],
      },
      { name: 'redis requirepass', change: (o) => (find(o, 'ConfigMap', 'web-config').data['redis.conf'] = `port 6379\nrequirepass ${FAKE_CREDENTIAL}\n`), expect: ['ConfigMap/web-config data["redis.conf"]'] },
    ],
    passing: [
      { name: 'variable references', change: (o) => (find(o, 'ConfigMap', 'web-config').data['start.sh'] = 'export REDISCLI_AUTH="$REDIS_PASSWORD"\nprintf \'requirepass %s\\n\' "$PASS"\ntoken=${TOKEN:-}\n') },
      { name: 'env from another var', change: (o) => webPod(o).container.env.push({ name: 'AUTH_TOKEN', value: '$(DB_PASSWORD)' }) },
    ],
  },
  'secret-placeholders': {
    violating: [
      { name: 'literal stringData', change: (o) => (find(o, 'Secret', 'web-db').stringData.password = FAKE_CREDENTIAL), expect: ['Secret/web-db stringData["password"]'] },
      { name: 'base64 data', change: (o) => (find(o, 'Secret', 'web-db').data = { password: Buffer.from(FAKE_CREDENTIAL).toString('base64') }), expect: ['Secret/web-db data'] },
    ],
    passing: [],
  },
  'job-lifecycle': {
    violating: [
      { name: 'no TTL', change: (o) => delete find(o, 'Job', 'web-migrate').spec.ttlSecondsAfterFinished, expect: ['Job/web-migrate spec.ttlSecondsAfterFinished'] },
      {
        name: 'CronJob without backoffLimit',
        change: (o) => {
          const job = find(o, 'Job', 'web-migrate');
          o.push({
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            metadata: { name: 'web-report', namespace: 'shop' },
            spec: { schedule: '0 * * * *', jobTemplate: { spec: { ttlSecondsAfterFinished: 60, template: job.spec.template } } },
          } as KubeObject);
        },
        expect: ['CronJob/web-report spec.jobTemplate.spec.backoffLimit'],
      },
    ],
    passing: [{ name: 'backoffLimit 0', change: (o) => (find(o, 'Job', 'web-migrate').spec.backoffLimit = 0) }],
  },
  'policy-exemptions': {
    violating: [
      {
        name: 'exemption without a reason',
        change: (o) => (dep(o).metadata.annotations = { 'policy.fingerprint.io/exempt.image-pinned': ' ' }),
        expect: ['Deployment/web metadata.annotations["policy.fingerprint.io/exempt.image-pinned"]'],
      },
      {
        name: 'exemption of an unknown rule',
        change: (o) => (dep(o).metadata.annotations = { 'policy.fingerprint.io/exempt.image-pined': 'typo' }),
        expect: ['Deployment/web metadata.annotations["policy.fingerprint.io/exempt.image-pined"]'],
      },
    ],
    passing: [{ name: 'exemption with a reason', change: (o) => (dep(o).metadata.annotations = { 'policy.fingerprint.io/exempt.image-pinned': 'vendor ships only a moving tag' }) }],
  },
};

describe('policy rules', () => {
  it('the compliant fixture has no violations', () => {
    expect(violations(compliantApp())).toEqual([]);
  });

  it('every rule has violating and passing cases', () => {
    expect(Object.keys(CASES).sort()).toEqual(RULES.map((r) => r.id).sort());
    for (const cases of Object.values(CASES)) expect(cases.violating.length).toBeGreaterThan(0);
  });

  describe.each(Object.entries(CASES))('%s', (ruleId, cases) => {
    it.each(cases.violating.map((c) => [c.name, c] as const))('flags: %s', (_name, c) => {
      const found = violations(app(c.change));
      // The break trips this rule, at the expected fields, and nothing else.
      expect(found.map((v) => `${v.object} ${v.path}`)).toEqual(c.expect);
      expect(found.every((v) => v.ruleId === ruleId && v.message.length > 0)).toBe(true);
    });
    if (cases.passing.length) {
      it.each(cases.passing.map((c) => [c.name, c] as const))('accepts: %s', (_name, c) => {
        expect(violations(app(c.change)).filter((v) => v.ruleId === ruleId)).toEqual([]);
      });
    }
  });

  it('names the offending values in messages', () => {
    const found = violations(app((o) => (webPod(o).container.image = 'ghcr.io/example/web:latest')));
    expect(found[0].message).toBe('container "web": image "ghcr.io/example/web:latest" uses the latest tag');
    const pdb = violations(app((o) => (find(o, 'PodDisruptionBudget').spec.maxUnavailable = 0)));
    expect(pdb[0].message).toMatch(/maxUnavailable 0: no pod can ever be evicted/);
  });

  it('checks Pods and CronJob templates, not only Deployments', () => {
    const objects = app((o) => {
      const template = (find(o, 'Job', 'web-migrate') as Json).spec.template;
      o.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'shop', labels: template.metadata.labels }, spec: { ...template.spec, hostNetwork: true } } as KubeObject);
      o.push({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'web-report', namespace: 'shop' },
        spec: { schedule: '0 * * * *', jobTemplate: { spec: { backoffLimit: 1, ttlSecondsAfterFinished: 60, template: { ...template, spec: { ...template.spec, hostPID: true } } } } },
      } as KubeObject);
    });
    expect(violations(objects).map((v) => `${v.object} ${v.path}`)).toEqual(['Pod/debug spec.hostNetwork', 'CronJob/web-report spec.jobTemplate.spec.template.spec.hostPID']);
  });
});
