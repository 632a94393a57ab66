import { ContainerRef, containersOf, Json, PodTemplate, podTemplateOf, specPath } from './pods';
import { KubeObject, Rule, Violation } from './types';

/**
 * Pod Security Standards, "restricted" profile (which includes "baseline"), as of Kubernetes 1.30:
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/. Every check is its own rule
 * so an exemption names exactly what it waives. Applies to Pods and every pod template.
 */

function podRule(id: string, description: string, check: (t: PodTemplate, containers: ContainerRef[], obj: KubeObject) => Violation[]): Rule {
  return {
    id,
    description,
    scope: 'resource',
    validate(obj) {
      const template = podTemplateOf(obj);
      return template ? check(template, containersOf(template), obj) : [];
    },
  };
}

const isWindows = (t: PodTemplate) => t.spec.os?.name === 'windows';
const podSc = (t: PodTemplate): Json => t.spec.securityContext ?? {};
const sc = (c: ContainerRef): Json => c.container.securityContext ?? {};
const name = (c: ContainerRef) => `container "${c.container.name}"`;

export const hostProcess = podRule('pss-host-process', 'Windows HostProcess containers are not allowed', (t, containers) => {
  const out: Violation[] = [];
  if (podSc(t).windowsOptions?.hostProcess === true) out.push({ path: specPath(t, 'securityContext.windowsOptions.hostProcess'), message: 'must not be true' });
  for (const c of containers) {
    if (sc(c).windowsOptions?.hostProcess === true) out.push({ path: `${c.path}.securityContext.windowsOptions.hostProcess`, message: `${name(c)}: must not be true` });
  }
  return out;
});

export const hostNamespaces = podRule('pss-host-namespaces', 'No hostNetwork, hostPID or hostIPC: pods must not share the node\'s namespaces', (t) =>
  ['hostNetwork', 'hostPID', 'hostIPC']
    .filter((field) => t.spec[field] === true)
    .map((field) => ({ path: specPath(t, field), message: `must not be true (shares the node's ${field.slice(4).toLowerCase()} namespace)` })),
);

export const privileged = podRule('pss-privileged', 'Privileged containers are not allowed', (_t, containers) =>
  containers.filter((c) => sc(c).privileged === true).map((c) => ({ path: `${c.path}.securityContext.privileged`, message: `${name(c)}: must not be true` })),
);

export const capabilities = podRule('pss-capabilities', 'Containers drop ALL capabilities and add back only NET_BIND_SERVICE', (t, containers) => {
  if (isWindows(t)) return [];
  const out: Violation[] = [];
  for (const c of containers) {
    const caps: Json = sc(c).capabilities ?? {};
    if (!Array.isArray(caps.drop) || !caps.drop.includes('ALL')) out.push({ path: `${c.path}.securityContext.capabilities.drop`, message: `${name(c)}: must include "ALL"` });
    (Array.isArray(caps.add) ? caps.add : []).forEach((cap: unknown, i: number) => {
      if (cap !== 'NET_BIND_SERVICE') out.push({ path: `${c.path}.securityContext.capabilities.add[${i}]`, message: `${name(c)}: adding ${String(cap)} is not allowed (only NET_BIND_SERVICE)` });
    });
  }
  return out;
});

export const hostPath = podRule('pss-host-path', 'No hostPath volumes', (t) => {
  const volumes: Json[] = Array.isArray(t.spec.volumes) ? t.spec.volumes : [];
  return volumes.flatMap((v, i) => (v?.hostPath ? [{ path: specPath(t, `volumes[${i}].hostPath`), message: `volume "${v.name}": hostPath volumes are not allowed` }] : []));
});

export const hostPorts = podRule('pss-host-ports', 'No hostPort on container ports', (_t, containers) =>
  containers.flatMap((c) =>
    (Array.isArray(c.container.ports) ? c.container.ports : []).flatMap((p: Json, i: number) =>
      p?.hostPort ? [{ path: `${c.path}.ports[${i}].hostPort`, message: `${name(c)}: hostPort ${p.hostPort} is not allowed` }] : [],
    ),
  ),
);

const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';
export const appArmor = podRule('pss-apparmor', 'AppArmor profiles may only be RuntimeDefault or Localhost', (t, containers) => {
  const out: Violation[] = [];
  for (const [key, value] of Object.entries(t.annotations)) {
    if (key.startsWith(APPARMOR_ANNOTATION) && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      out.push({ path: `${t.path ? `${t.path}.` : ''}metadata.annotations["${key}"]`, message: `AppArmor profile "${value}" is not allowed (runtime/default or localhost/*)` });
    }
  }
  const allowed = (type: unknown) => type === undefined || type === 'RuntimeDefault' || type === 'Localhost';
  if (!allowed(podSc(t).appArmorProfile?.type)) out.push({ path: specPath(t, 'securityContext.appArmorProfile.type'), message: 'must be RuntimeDefault or Localhost' });
  for (const c of containers) {
    if (!allowed(sc(c).appArmorProfile?.type)) out.push({ path: `${c.path}.securityContext.appArmorProfile.type`, message: `${name(c)}: must be RuntimeDefault or Localhost` });
  }
  return out;
});

const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t'];
export const seLinux = podRule('pss-selinux', 'SELinux: only the container types, no custom user or role', (t, containers) => {
  const check = (options: Json | undefined, path: string, who: string): Violation[] => {
    if (!options) return [];
    const out: Violation[] = [];
    if (options.type !== undefined && !SELINUX_TYPES.includes(options.type)) out.push({ path: `${path}.type`, message: `${who}SELinux type "${options.type}" is not allowed` });
    for (const field of ['user', 'role']) if (options[field]) out.push({ path: `${path}.${field}`, message: `${who}setting the SELinux ${field} is not allowed` });
    return out;
  };
  return [
    ...check(podSc(t).seLinuxOptions, specPath(t, 'securityContext.seLinuxOptions'), ''),
    ...containers.flatMap((c) => check(sc(c).seLinuxOptions, `${c.path}.securityContext.seLinuxOptions`, `${name(c)}: `)),
  ];
});

export const procMount = podRule('pss-proc-mount', 'The default /proc mount only', (_t, containers) =>
  containers
    .filter((c) => sc(c).procMount !== undefined && sc(c).procMount !== 'Default')
    .map((c) => ({ path: `${c.path}.securityContext.procMount`, message: `${name(c)}: must be Default` })),
);

const SECCOMP_OK = ['RuntimeDefault', 'Localhost'];
export const seccomp = podRule('pss-seccomp', 'Seccomp profile RuntimeDefault or Localhost, set for the pod or every container', (t, containers) => {
  if (isWindows(t)) return [];
  const out: Violation[] = [];
  const podType = podSc(t).seccompProfile?.type;
  if (podType !== undefined && !SECCOMP_OK.includes(podType)) out.push({ path: specPath(t, 'securityContext.seccompProfile.type'), message: `"${podType}" is not allowed (RuntimeDefault or Localhost)` });
  for (const c of containers) {
    const type = sc(c).seccompProfile?.type;
    if (type !== undefined && !SECCOMP_OK.includes(type)) out.push({ path: `${c.path}.securityContext.seccompProfile.type`, message: `${name(c)}: "${type}" is not allowed (RuntimeDefault or Localhost)` });
    else if (type === undefined && podType === undefined) out.push({ path: `${c.path}.securityContext.seccompProfile`, message: `${name(c)}: must be set (here or in the pod securityContext) to RuntimeDefault or Localhost` });
  }
  return out;
});

const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
export const sysctls = podRule('pss-sysctls', 'Only the safe sysctls', (t) => {
  const list: Json[] = Array.isArray(podSc(t).sysctls) ? podSc(t).sysctls : [];
  return list.flatMap((s, i) =>
    SAFE_SYSCTLS.includes(s?.name) ? [] : [{ path: specPath(t, `securityContext.sysctls[${i}].name`), message: `sysctl "${s?.name}" is not in the safe set` }],
  );
});

const VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
export const volumeTypes = podRule('pss-volume-types', `Volumes only of the types ${VOLUME_TYPES.join(', ')}`, (t) => {
  const volumes: Json[] = Array.isArray(t.spec.volumes) ? t.spec.volumes : [];
  return volumes.flatMap((v, i) => {
    const types = Object.keys(v ?? {}).filter((k) => k !== 'name');
    // hostPath has its own rule (pss-host-path), so one exemption covers it.
    const bad = types.filter((k) => !VOLUME_TYPES.includes(k) && k !== 'hostPath');
    return bad.map((type) => ({ path: specPath(t, `volumes[${i}].${type}`), message: `volume "${v.name}": type ${type} is not allowed` }));
  });
});

export const privilegeEscalation = podRule('pss-privilege-escalation', 'allowPrivilegeEscalation: false on every container', (t, containers) =>
  isWindows(t)
    ? []
    : containers
        .filter((c) => sc(c).allowPrivilegeEscalation !== false)
        .map((c) => ({ path: `${c.path}.securityContext.allowPrivilegeEscalation`, message: `${name(c)}: must be false` })),
);

export const runAsNonRoot = podRule('pss-run-as-non-root', 'runAsNonRoot: true for the pod or every container', (t, containers) => {
  const podValue = podSc(t).runAsNonRoot;
  const out: Violation[] = [];
  if (podValue === false) out.push({ path: specPath(t, 'securityContext.runAsNonRoot'), message: 'must not be false' });
  for (const c of containers) {
    const value = sc(c).runAsNonRoot;
    if (value === false) out.push({ path: `${c.path}.securityContext.runAsNonRoot`, message: `${name(c)}: must not be false` });
    else if (value === undefined && podValue !== true) out.push({ path: `${c.path}.securityContext.runAsNonRoot`, message: `${name(c)}: must be true (here or in the pod securityContext)` });
  }
  return out;
});

export const runAsUser = podRule('pss-run-as-user', 'runAsUser is never 0 (root)', (t, containers) => {
  const out: Violation[] = [];
  if (podSc(t).runAsUser === 0) out.push({ path: specPath(t, 'securityContext.runAsUser'), message: 'must not be 0' });
  for (const c of containers) if (sc(c).runAsUser === 0) out.push({ path: `${c.path}.securityContext.runAsUser`, message: `${name(c)}: must not be 0` });
  return out;
});

export const POD_SECURITY_RULES: readonly Rule[] = [
  hostProcess,
  hostNamespaces,
  privileged,
  capabilities,
  hostPath,
  hostPorts,
  appArmor,
  seLinux,
  procMount,
  seccomp,
  sysctls,
  volumeTypes,
  privilegeEscalation,
  runAsNonRoot,
  runAsUser,
];
