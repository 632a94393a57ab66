import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CRD_FILE, MANIFEST_FILE, regionFiles } from '../../stacks/render-core';
import { newChart, ofKind, synth } from '../../test/synth-helpers';
import { validConfig } from '../../test/helpers';
import { RedisCluster } from '../redis-cluster';
import { kongCrdManifestPath } from './crd-validation';
import { PROJECT_ROOT } from './config';
import { kongFromConfig } from './from-config';
import { KongCrds, KongGateway, parseKongCrdManifest, RateLimitRedis } from './index';

const manifest = kongCrdManifestPath();

function tmpManifest(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kong-crds-'));
  const file = path.join(dir, 'crds.yaml');
  fs.writeFileSync(file, text);
  return file;
}

describe('Kong CRDs', () => {
  it('installs every CRD of the published manifest for the pinned controller version', () => {
    const chart = newChart();
    const crds = new KongCrds(chart, 'crds', { manifestPath: manifest });
    const objects = synth(chart);
    const installed = ofKind(objects, 'CustomResourceDefinition').map((c) => c.metadata.name);
    expect(installed).toHaveLength(crds.definitions.length);
    expect(installed).toEqual(expect.arrayContaining(['kongplugins.configuration.konghq.com', 'kongconsumers.configuration.konghq.com', 'kongclusterplugins.configuration.konghq.com']));
    expect(crds.configurationVersion).toBe('v1.5.2');
    // Rendered into the region's first file, so `kubectl apply -f <region>/` creates them first.
    const files = regionFiles({ region: undefined as never, objects });
    expect([...files.keys()]).toEqual([CRD_FILE]);
    expect(files.get(CRD_FILE)!.match(/^kind: CustomResourceDefinition$/gm)).toHaveLength(installed.length);
    expect(files.has(MANIFEST_FILE)).toBe(false);
    // The spec is carried unchanged (schema and validation rules included).
    const source = parseKongCrdManifest(fs.readFileSync(manifest, 'utf8'), manifest).find((d) => d.spec.names.kind === 'KongPlugin')!;
    expect(ofKind(objects, 'CustomResourceDefinition').find((c) => c.spec && (c.spec as any).names.kind === 'KongPlugin')!.spec).toEqual(source.spec);
  });

  it('orders every Kong custom resource and the controller after the CRDs', () => {
    const chart = newChart();
    const crds = new KongCrds(chart, 'crds', { manifestPath: manifest });
    const store = new RateLimitRedis(chart, 'counters');
    new KongGateway(chart, 'kong', { rateLimitStore: store, crds, tiers: { free: { perMinute: 1 } }, consumers: [{ name: 'a', tier: 'free', keySecretId: 'k' }] });
    const objects = synth(chart);
    const index = new Map(objects.map((o, i) => [o.key, i]));
    const crdKey = (kind: string) => objects.find((o) => o.manifest.kind === 'CustomResourceDefinition' && (o.manifest.spec as any).names.kind === kind)!.key;
    const kongObjects = objects.filter((o) => o.manifest.apiVersion.startsWith('configuration.konghq.com/'));
    expect(kongObjects.length).toBe(4);
    for (const o of kongObjects) {
      const crd = crdKey(o.manifest.kind);
      expect(o.dependsOn).toContain(crd);
      // Definition order is the registration order, which dependencies must follow.
      expect(index.get(crd)!).toBeLessThan(index.get(o.key)!);
    }
    const deployment = objects.find((o) => o.key === 'apps/v1/Deployment/kong/kong')!;
    expect(deployment.dependsOn).toEqual(expect.arrayContaining([crdKey('KongPlugin'), crdKey('KongConsumer')]));
  });

  it('assumes the CRDs are present by default and installs them from the configured manifest', () => {
    const build = (kong: Record<string, unknown>) => {
      const config = validConfig('staging', { kong });
      const chart = newChart();
      kongFromConfig(chart, { settings: config.kong, sizing: config.regions[0].kong, zones: [], redis: new RedisCluster(chart, 'redis') });
      return ofKind(synth(chart), 'CustomResourceDefinition');
    };
    expect(build({})).toEqual([]);
    const relative = path.relative(PROJECT_ROOT, manifest);
    expect(build({ crds: { install: true, manifest: relative } }).length).toBeGreaterThanOrEqual(10);
  });

  it('refuses manifests that are not Kong CRDs or lack a kind the gateway emits', () => {
    const text = fs.readFileSync(manifest, 'utf8');
    expect(() => new KongCrds(newChart(), 'c', { manifestPath: '/nonexistent/crds.yaml' })).toThrow(/does not exist/);
    expect(() => parseKongCrdManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n', 'm.yaml')).toThrow(/m.yaml: document 1 is a v1\/ConfigMap/);
    expect(() => parseKongCrdManifest('', 'm.yaml')).toThrow(/contains no CustomResourceDefinition/);
    expect(() => parseKongCrdManifest('kind: A\nkind: B\n', 'dup.yaml')).toThrow(/^dup.yaml: not valid YAML at line 2: duplicated mapping key$/);
    const withoutConsumer = text
      .split(/^---$/m)
      .filter((doc) => !/kind: KongConsumer\n/.test(doc))
      .join('---');
    expect(() => new KongCrds(newChart(), 'c', { manifestPath: tmpManifest(withoutConsumer) })).toThrow(/has no CRD for configuration.konghq.com\/KongConsumer/);
    const foreign = text.replace('group: configuration.konghq.com', 'group: example.com');
    expect(() => parseKongCrdManifest(foreign, 'f.yaml')).toThrow(/not a Kong \(konghq.com\) group/);
  });
});
