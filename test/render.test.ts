import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { main } from '../stacks/render';

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = fs.readFileSync(full, 'utf8');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

describe('npm run render', () => {
  let out: string;
  let logs: string[];
  beforeEach(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'render-'));
    logs = [];
    jest.spyOn(console, 'log').mockImplementation((...a) => void logs.push(a.join(' ')));
    jest.spyOn(console, 'error').mockImplementation((...a) => void logs.push(a.join(' ')));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('writes one folder per region, its objects as YAML documents in dependency order', () => {
    expect(main(['--stack', 'prod', '--out', out])).toBe(0);
    expect(fs.readdirSync(path.join(out, 'prod')).sort()).toEqual(['ap-southeast-1', 'eu-west-1', 'us-east-1']);
    const files = tree(path.join(out, 'prod', 'eu-west-1'));
    // No CRDs are installed by default (Kong's are assumed present), so only the manifests file.
    expect(Object.keys(files)).toEqual(['1-manifests.yaml']);
    const objects = parseAllDocuments(files['1-manifests.yaml']).map((d) => d.toJS());
    expect(objects.length).toBeGreaterThan(50);
    const position = (kind: string, name: string) => objects.findIndex((o) => o.kind === kind && o.metadata.name === name);
    for (const o of objects) {
      expect(o.metadata.labels['fingerprint.io/region']).toBe('eu-west-1');
      // Every namespaced object comes after its namespace.
      if (o.metadata.namespace) expect(position('Namespace', o.metadata.namespace)).toBeLessThan(objects.indexOf(o));
    }
    const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'redis');
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(logs.join('\n')).toMatch(/rendered \d+ objects for prod\/eu-west-1/);
  });

  it('is byte-identical on rerun', () => {
    expect(main(['--stack', 'staging', '--out', out])).toBe(0);
    const first = tree(out);
    expect(main(['--stack', 'staging', '--out', out])).toBe(0);
    expect(tree(out)).toEqual(first);
  });

  it('redacts secret values as placeholders', () => {
    expect(main(['--stack', 'staging', '--out', out])).toBe(0);
    const secrets = Object.values(tree(out))
      .flatMap((text) => parseAllDocuments(text).map((d) => d.toJS()))
      .filter((o) => o.kind === 'Secret');
    expect(secrets.length).toBeGreaterThan(2);
    for (const secret of secrets) {
      expect(secret.data).toBeUndefined();
      for (const value of Object.values(secret.stringData as Record<string, string>)) expect(value).toMatch(/^<secret:[A-Za-z0-9]+>$/);
    }
  });

  it('renders only the requested region', () => {
    expect(main(['--stack', 'prod', '--region', 'eu-west-1', '--out', out])).toBe(0);
    expect(fs.readdirSync(path.join(out, 'prod'))).toEqual(['eu-west-1']);
  });

  it('refuses an unknown region and writes nothing', () => {
    expect(main(['--stack', 'prod', '--region', 'mars-1', '--out', out])).toBe(1);
    expect(logs.join('\n')).toContain('Pulumi.prod.yaml: unknown region mars-1 (stack prod has: us-east-1, eu-west-1, ap-southeast-1)');
    expect(tree(out)).toEqual({});
  });

  it('leaves the previous render untouched when the stack is unknown', () => {
    expect(main(['--stack', 'staging', '--out', out])).toBe(0);
    const before = tree(out);
    expect(main(['--stack', 'qa', '--out', out])).toBe(1);
    expect(logs.join('\n')).toContain('Pulumi.qa.yaml: no such stack file');
    expect(tree(out)).toEqual(before);
  });

  it('reports every config problem and writes nothing', () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'project-'));
    fs.writeFileSync(
      path.join(projectDir, 'Pulumi.prod.yaml'),
      [
        'config:',
        '  fingerprint-infra:regions:',
        '    - { name: us-east-1, wave: 1, kubeContext: a, clusterId: a, zones: [a], redis: { masters: 2 } }',
        '    - { name: eu-west-1, wave: 3, kubeContext: b, clusterId: b, zones: [b] }',
      ].join('\n'),
    );
    expect(main(['--stack', 'prod', '--out', out, '--project-dir', projectDir])).toBe(1);
    const text = logs.join('\n');
    expect(text).toContain('Invalid stack configuration (2 problems)');
    expect(text).toContain('Pulumi.prod.yaml: fingerprint-infra:regions[0].redis.masters: must be at least 3 (got 2)');
    expect(text).toContain('Pulumi.prod.yaml: fingerprint-infra:regions: rollout waves must be consecutive from 1 (found 1, 3; missing 2)');
    expect(tree(out)).toEqual({});
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it('requires --stack', () => {
    expect(main(['--out', out])).not.toBe(0);
  });
});
