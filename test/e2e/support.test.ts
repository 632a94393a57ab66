import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { apiForm, regionOfUrn, renderMismatches, requireEngine, stackFileCopy } from './support';

/** The e2e helpers' own logic, without the engine. */

describe('requireEngine', () => {
  it('fails naming the missing binaries and `npm run setup` when they are neither built nor on PATH', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-no-engine-'));
    try {
      fs.writeFileSync(path.join(empty, 'pulumi'), '#!/bin/sh\n', { mode: 0o755 });
      expect(() => requireEngine(empty)).toThrow(/not found .*: pulumi-language-nodejs, pulumi-resource-kubernetes\. Build them with `npm run setup`/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('stackFileCopy', () => {
  it('drops the secrets provider and encrypted values, listing them to be set again', () => {
    const { text, secrets } = stackFileCopy(
      [
        'encryptionsalt: v1:abc',
        'config:',
        '  fingerprint-infra:redisPassword:',
        '    secure: v1:xyz',
        '  fingerprint-infra:kongConsumerKeys:',
        '    web-app:',
        '      secure: v1:def',
        '  fingerprint-infra:redis:',
        '    storageClassName: gp3',
      ].join('\n'),
    );
    expect(secrets).toEqual([{ key: 'fingerprint-infra:redisPassword' }, { key: 'fingerprint-infra:kongConsumerKeys', path: 'web-app' }]);
    expect(parse(text)).toEqual({ config: { 'fingerprint-infra:redis': { storageClassName: 'gp3' } } });
  });
});

describe('apiForm and renderMismatches', () => {
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a' }, stringData: { password: '<secret:redisPassword>' } };

  it('folds Secret stringData into base64 data and drops empty lists', () => {
    expect(apiForm(secret)).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a' }, data: { password: Buffer.from('<secret:redisPassword>').toString('base64') } });
    expect(apiForm({ kind: 'NetworkPolicy', spec: { ingress: [], policyTypes: ['Ingress'] } })).toEqual({ kind: 'NetworkPolicy', spec: { policyTypes: ['Ingress'] } });
  });

  it('reports missing, extra and different objects across file layouts, and accepts formatting differences', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-render-cmp-'));
    const write = (dir: string, file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, dir, file)), { recursive: true });
      fs.writeFileSync(path.join(root, dir, file), text);
    };
    try {
      const a = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ns}\n';
      write('npm', 'r1/1-manifests.yaml', `---\n${a}data:\n  b: "1"\n  a: x\n`);
      write('engine', 'r1/1-manifest/v1-configmap-ns-a.yaml', `${a}data: {a: x, b: "1"}\n`);
      expect(renderMismatches(path.join(root, 'engine'), path.join(root, 'npm'))).toEqual([]);
      write('npm', 'r1/1-manifests.yaml', `---\n${a}data:\n  b: "1"\n  a: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: ns}\n`);
      write('engine', 'r1/1-manifest/v1-configmap-ns-c.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\n');
      write('engine', 'r1/1-manifest/v1-configmap-ns-a.yaml', `${a}data: {a: y, b: "1"}\n`);
      const problems = renderMismatches(path.join(root, 'engine'), path.join(root, 'npm'));
      expect(problems.map((p) => p.split('\n')[0])).toEqual([
        "missing from the engine's render: r1 v1 ConfigMap ns/b",
        'differs: r1 v1 ConfigMap ns/a',
        'not in npm run render: r1 v1 ConfigMap ns/c',
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('regionOfUrn', () => {
  const regions = ['us-east-1', 'eu-west-1'];
  it.each([
    ['urn:pulumi:prod::fingerprint-infra::fingerprint:infra:RegionStack$kubernetes:apps/v1:StatefulSet::eu-west-1/statefulset/cache/redis', 'eu-west-1'],
    ['urn:pulumi:prod::fingerprint-infra::pulumi:providers:kubernetes::us-east-1', 'us-east-1'],
    ['urn:pulumi:prod::fingerprint-infra::fingerprint:infra:RegionStack::eu-west-1', 'eu-west-1'],
    ['urn:pulumi:prod::fingerprint-infra::pulumi:pulumi:Stack::fingerprint-infra-prod', undefined],
  ])('%s -> %s', (urn, region) => {
    expect(regionOfUrn(urn, regions)).toBe(region);
  });
});
