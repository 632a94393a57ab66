import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { KubeObject } from '../../stacks/synth';
import { compliantApp, find, webPod } from '../test-fixtures';
import { DEFAULT_CRDS_DIR, loadCrdFiles } from './crds';
import { loadKubernetesSchemas, openapiDir } from './kubernetes';
import { ManifestValidator, SchemaProblem } from './validator';

// Official Kubernetes 1.30 OpenAPI documents (scripts/k8s-openapi/fetch.sh, run by npm run setup)
// and the Istio, Kong and prometheus-operator CRDs in ../shared/crds.
const validator = ManifestValidator.create({ kubernetesVersion: '1.30', crdDirs: [DEFAULT_CRDS_DIR] });

function problems(obj: KubeObject): string[] {
  return validator.validate(obj).map((p: SchemaProblem) => `${p.path}: ${p.message}`);
}

function deployment(change: (o: KubeObject[]) => void): KubeObject {
  const objects = compliantApp();
  change(objects);
  return find(objects, 'Deployment') as KubeObject;
}

const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  size: { type: 'integer', minimum: 1 },
                  port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
                  mode: { type: 'string', enum: ['a', 'b'] },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  empty: { type: 'object' },
                  left: { type: 'string' },
                  right: { type: 'string' },
                  members: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['name'],
                    items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, weight: { type: 'integer' } } },
                  },
                },
                // Exactly one side; the branches only add value validation and must not close spec.
                oneOf: [{ required: ['left'] }, { required: ['right'] }],
              },
            },
          },
        },
      },
    ],
  },
} as unknown as KubeObject;

function widget(spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'shop', ...meta }, spec } as KubeObject;
}

function widgetProblems(obj: KubeObject): string[] {
  const all = validator.validateAll([widgetCrd, obj]);
  expect(all[0]).toEqual([]);
  return all[1].map((p) => `${p.path}: ${p.message}`);
}

describe('ManifestValidator: core kinds (Kubernetes 1.30 OpenAPI)', () => {
  it('loads the version-exact documents', () => {
    expect(validator.core.release).toMatch(/^v1\.30\.[0-9]+$/);
    expect(validator.core.kinds.get('apps/v1/StatefulSet')).toEqual({ schemaName: 'io.k8s.api.apps.v1.StatefulSet', namespaced: true });
    expect(validator.core.kinds.get('v1/Namespace')?.namespaced).toBe(false);
  });

  it('accepts valid objects of many kinds', () => {
    expect(validator.validateAll(compliantApp()).flat()).toEqual([]);
  });

  it('rejects unknown and misspelled fields, suggesting the right one', () => {
    expect(problems(deployment((o) => (webPod(o).container.imagePullPolcy = 'Always')))).toEqual([
      'spec.template.spec.containers[0].imagePullPolcy: unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
    ]);
    expect(problems(deployment((o) => (find(o, 'Deployment').spec.replica = 3)))).toEqual(['spec.replica: unknown field "replica" (did you mean "replicas"?)']);
    expect(problems(deployment((o) => (find(o, 'Deployment').metadata.label = {})))).toEqual(['metadata.label: unknown field "label" (did you mean "labels"?)']);
  });

  it('requires required fields', () => {
    expect(problems(deployment((o) => delete webPod(o).container.name))).toEqual(['spec.template.spec.containers[0].name: required field is missing']);
    expect(problems(deployment((o) => delete find(o, 'Deployment').spec.selector))).toEqual(['spec.selector: required field is missing']);
  });

  it('checks types, enums and formats', () => {
    expect(problems(deployment((o) => (find(o, 'Deployment').spec.replicas = '2')))).toEqual(['spec.replicas: must be integer (got string "2")']);
    expect(problems(deployment((o) => (webPod(o).container.imagePullPolicy = 'Sometimes')))).toEqual([
      'spec.template.spec.containers[0].imagePullPolicy: must be one of "Always", "IfNotPresent", "Never" (got string "Sometimes")',
    ]);
    expect(problems(deployment((o) => (find(o, 'Deployment').spec.replicas = 2 ** 31)))).toEqual(['spec.replicas: must be a 32-bit integer (got number 2147483648)']);
    expect(problems(deployment((o) => (webPod(o).container.resources.limits.memory = '256MB')))).toEqual([
      'spec.template.spec.containers[0].resources.limits.memory: must be a quantity such as 250m, 1.5 or 512Mi (got string "256MB")',
    ]);
    const service = find(compliantApp(), 'Service') as KubeObject;
    (service as any).spec.type = 'Cluster';
    expect(problems(service)).toEqual(['spec.type: must be one of "ClusterIP", "ExternalName", "LoadBalancer", "NodePort" (got string "Cluster")']);
  });

  it('accepts both forms of int-or-string and quantities, and nothing else', () => {
    const pdb = find(compliantApp(), 'PodDisruptionBudget') as any;
    for (const value of [1, '25%']) expect(problems({ ...pdb, spec: { ...pdb.spec, maxUnavailable: value } })).toEqual([]);
    expect(problems({ ...pdb, spec: { ...pdb.spec, maxUnavailable: true } })).toEqual(['spec.maxUnavailable: must be integer or string (got boolean true)']);
    expect(problems(deployment((o) => (webPod(o).container.resources.limits.cpu = 0.5)))).toEqual([]);
  });

  it('rejects duplicate keys of list-type map lists, like server-side apply', () => {
    expect(problems(deployment((o) => webPod(o).spec.containers.push({ ...webPod(o).container })))).toEqual([
      'spec.template.spec.containers[1]: duplicate entry for key [name="web"] (also at index 0)',
    ]);
    // The protocol key defaults to TCP, so these two ports collide.
    expect(problems(deployment((o) => webPod(o).container.ports.push({ name: 'alt', containerPort: 8080 })))).toEqual([
      'spec.template.spec.containers[0].ports[1]: duplicate entry for key [containerPort=8080,protocol="TCP"] (also at index 0)',
    ]);
  });

  it('names apiVersions the target version does not serve', () => {
    const pdb = { ...(find(compliantApp(), 'PodDisruptionBudget') as KubeObject), apiVersion: 'policy/v1beta1' };
    expect(problems(pdb)).toEqual(['apiVersion: policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.30 (served: policy/v1)']);
    expect(problems({ apiVersion: 'v1', kind: 'Widget', metadata: { name: 'x' } } as KubeObject)).toEqual(['apiVersion: v1 Widget is not a kind of Kubernetes 1.30']);
  });

  it('checks scope: namespaced kinds need a namespace, cluster-scoped kinds must not have one', () => {
    const cm = find(compliantApp(), 'ConfigMap', 'web-config') as KubeObject;
    expect(problems({ ...cm, metadata: { name: 'web-config' } })).toEqual(['metadata.namespace: is required: ConfigMap is namespaced']);
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:web-reader', namespace: 'shop' }, rules: [] } as KubeObject;
    expect(problems(role)).toEqual(['metadata.namespace: must not be set: ClusterRole is cluster-scoped']);
  });

  it('applies the API server name, label, port and key syntax', () => {
    expect(problems(deployment((o) => (find(o, 'Deployment').spec.template.metadata.labels.tier = 'front end')))).toEqual([
      'spec.template.metadata.labels["tier"]: invalid label value "front end": at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
    ]);
    expect(problems(deployment((o) => (webPod(o).container.ports[0].name = 'http-metrics-long')))).toEqual([
      'spec.template.spec.containers[0].ports[0].name: port name "http-metrics-long" must be an IANA service name: at most 15 lowercase letters, digits and "-", with a letter, no "--", not starting or ending with "-"',
    ]);
    const service = find(compliantApp(), 'Service') as KubeObject;
    expect(problems({ ...service, metadata: { ...service.metadata, name: '1web' } })).toEqual([
      'metadata.name: "1web" must be a DNS-1035 label (lowercase letters, digits and "-", starting with a letter)',
    ]);
    const cm = find(compliantApp(), 'ConfigMap', 'web-config') as KubeObject;
    expect(problems({ ...cm, data: { 'app config.yaml': 'x' } })).toEqual(['data["app config.yaml"]: key must be at most 253 characters of letters, digits, "-", "_" and "."']);
  });
});

describe('ManifestValidator: custom resources (CRDs)', () => {
  it('validates Istio, Kong and prometheus-operator resources against their CRDs', () => {
    const serviceMonitor = (endpoint: Record<string, unknown>) =>
      ({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: {}, endpoints: [endpoint] } }) as KubeObject;
    expect(problems(serviceMonitor({ port: 'http', interval: '30s' }))).toEqual([]);
    expect(problems(serviceMonitor({ port: 'http', intervall: '30s' }))).toEqual(['spec.endpoints[0].intervall: unknown field "intervall" (did you mean "interval"?)']);
    // int-or-string in a CRD
    expect(problems(serviceMonitor({ targetPort: 9121 }))).toEqual([]);
    expect(problems(serviceMonitor({ targetPort: 'metrics' }))).toEqual([]);

    const authz = (action: string) =>
      ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'web', namespace: 'shop' }, spec: { action, rules: [{}] } }) as KubeObject;
    expect(problems(authz('ALLOW'))).toEqual([]);
    expect(problems(authz('ALLOWED'))).toEqual(['spec.action: must be one of "ALLOW", "DENY", "AUDIT", "CUSTOM" (got string "ALLOWED")']);

    // KongPlugin.config preserves unknown fields: any plugin configuration is accepted.
    const plugin = { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', metadata: { name: 'rl', namespace: 'shop' }, plugin: 'rate-limiting', config: { minute: 5, policy: 'redis' } };
    expect(problems(plugin as unknown as KubeObject)).toEqual([]);
    expect(problems({ ...plugin, plugn: 'x' } as unknown as KubeObject)).toEqual(['plugn: unknown field "plugn" (did you mean "plugin"?)']);
  });

  it('compiles every served CRD version of the CRD folder', () => {
    const crds = loadCrdFiles([DEFAULT_CRDS_DIR]);
    expect(crds.length).toBeGreaterThan(40);
    for (const crd of crds) {
      const meta = { name: 'x', ...(crd.namespaced ? { namespace: 'shop' } : {}) };
      const found = problems({ apiVersion: `${crd.group}/${crd.version}`, kind: crd.kind, metadata: meta } as KubeObject);
      // Only the CRD's own required fields may be missing; nothing fails to compile or is unknown.
      expect(found.filter((p) => !p.endsWith('required field is missing'))).toEqual([]);
    }
  });

  it('evaluates CRD patterns with Go regexp syntax', () => {
    const rule = (strategy: string) =>
      ({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'r', namespace: 'shop' },
        spec: { groups: [{ name: 'g', partial_response_strategy: strategy, rules: [{ alert: 'Down', expr: 'up == 0' }] }] },
      }) as KubeObject;
    // ^(?i)(abort|warn)?$
    expect(problems(rule('WARN'))).toEqual([]);
    expect(problems(rule('ignore'))).toEqual(['spec.groups[0].partial_response_strategy: must match pattern "^(?i)(abort|warn)?$" (got string "ignore")']);
  });

  it('validates custom resource metadata as ObjectMeta', () => {
    const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: { name: 'web', namespace: 'shop', lables: {} }, spec: { selector: {} } } as KubeObject;
    expect(problems(monitor)).toEqual(['metadata.lables: unknown field "lables" (did you mean "labels"?)']);
  });

  it('reports custom resources without a CRD, or of an undefined version', () => {
    expect(problems({ apiVersion: 'example.org/v1', kind: 'Gadget', metadata: { name: 'g', namespace: 'shop' } } as KubeObject)[0]).toMatch(
      /^apiVersion: no CustomResourceDefinition for Gadget in group example.org \(CRD folders: .*shared\/crds/,
    );
    expect(problems({ apiVersion: 'monitoring.coreos.com/v2', kind: 'ServiceMonitor', metadata: { name: 'x', namespace: 'shop' }, spec: {} } as KubeObject)).toEqual([
      'apiVersion: monitoring.coreos.com/v2 ServiceMonitor: version v2 is not defined by its CRD (defined: v1)',
    ]);
  });

  it('uses CRDs the stack renders, with structural-schema strictness', () => {
    expect(widgetProblems(widget({ size: 2, port: 8080, mode: 'a', left: 'x', extra: { anything: { goes: true } }, empty: {}, members: [{ name: 'a' }, { name: 'b' }] }))).toEqual([]);
    expect(widgetProblems(widget({ left: 'x', port: 'http' }))).toEqual([]);
    expect(widgetProblems(widget({ left: 'x', size: 0, mode: 'c', empty: { x: 1 }, port: true }))).toEqual([
      'spec.size: must be >= 1 (got number 0)',
      'spec.port: must be integer or string (got boolean true)',
      'spec.mode: must be one of "a", "b" (got string "c")',
      'spec.empty.x: unknown field "x"',
    ]);
    expect(widgetProblems(widget({ left: 'x', members: [{ name: 'a' }, { name: 'a', weight: 2 }] }))).toEqual([
      'spec.members[1]: duplicate entry for key [name="a"] (also at index 0)',
    ]);
  });

  it('reports a failed oneOf once, without the noise of its branches', () => {
    expect(widgetProblems(widget({ left: 'x', right: 'y' }))).toEqual(['spec: must match exactly one schema in oneOf (got an object)']);
  });
});

describe('Kubernetes version and OpenAPI location', () => {
  it('says how to fetch a version that is not present', () => {
    expect(() => ManifestValidator.create({ kubernetesVersion: '1.99', openapiDir: path.join(os.tmpdir(), 'no-such-openapi') })).toThrow(
      /no Kubernetes 1\.99 OpenAPI documents in .*no-such-openapi; run: bash scripts\/k8s-openapi\/fetch\.sh 1\.99/,
    );
  });

  it('reads the documents from $FINGERPRINT_K8S_OPENAPI_DIR/<version>', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-'));
    try {
      fs.symlinkSync(openapiDir('1.30', path.resolve(__dirname, '..', '..', '.tools', 'k8s-openapi')), path.join(base, '1.30'));
      process.env.FINGERPRINT_K8S_OPENAPI_DIR = base;
      expect(openapiDir('1.30')).toBe(path.join(base, '1.30'));
      expect(loadKubernetesSchemas('1.30').release).toBe(validator.core.release);
    } finally {
      delete process.env.FINGERPRINT_K8S_OPENAPI_DIR;
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
