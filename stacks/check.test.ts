import { compliantApp, webPod } from '../policy/test-fixtures';
import { main } from './check';
import * as renderCore from './render-core';

function run(args: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('npm run check', () => {
  afterEach(() => jest.restoreAllMocks());

  it('exits 1 and prints the report when a rendered object has a problem', () => {
    const objects = compliantApp();
    webPod(objects).container.image = 'nginx';
    jest.spyOn(renderCore, 'synthesizeRegion').mockImplementation((_config, region) => ({ region, objects: objects.map((manifest) => ({ key: manifest.metadata.name, manifest, dependsOn: [] })) }));

    const { code, out } = run(['--stack', 'staging', '--region', 'us-east-1']);
    expect(code).toBe(1);
    expect(out).toMatch(/^check Pulumi\.staging\.yaml: Kubernetes 1\.30 \(OpenAPI of v1\.30\.[0-9]+\), [0-9]+ CRD versions from /);
    expect(out).toContain('  us-east-1  apps/v1 Deployment shop/web  spec.template.spec.containers[0].image: container "web": image "nginx" has no tag (it resolves to latest) [image-pinned]');
    expect(out).toContain('FAILED: 1 problem');
  });

  it('exits 0 when every object passes, checking every stack by default', () => {
    jest.spyOn(renderCore, 'synthesizeRegion').mockImplementation((_config, region) => ({ region, objects: compliantApp().map((manifest) => ({ key: manifest.metadata.name, manifest, dependsOn: [] })) }));
    const { code, out } = run([]);
    expect(code).toBe(0);
    expect(out.match(/^check Pulumi\.[a-z]+\.yaml/gm)).toEqual(['check Pulumi.prod.yaml', 'check Pulumi.staging.yaml']);
    expect(out.match(/OK: no schema problems, no policy violations/g)).toHaveLength(2);
  });

  it('rejects bad arguments', () => {
    expect(run(['--region', 'us-east-1']).code).toBe(2);
    const badVersion = run(['--stack', 'staging', '--kubernetes-version', 'v1.30']);
    expect(badVersion.code).toBe(2);
    expect(badVersion.err).toContain('--kubernetes-version must be a minor version such as 1.30 (got "v1.30")');
  });

  it('reports unknown stacks, regions and versions without a stack trace', () => {
    expect(run(['--stack', 'qa']).err).toContain('Pulumi.qa.yaml: no such stack file');
    const region = run(['--stack', 'staging', '--region', 'mars-1']);
    expect(region.code).toBe(1);
    expect(region.err).toContain('unknown region mars-1');
    const version = run(['--stack', 'staging', '--kubernetes-version', '1.99', '--openapi', '/nonexistent/openapi']);
    expect(version.code).toBe(1);
    expect(version.err).toContain('no Kubernetes 1.99 OpenAPI documents in /nonexistent/openapi; run: bash scripts/k8s-openapi/fetch.sh 1.99');
  });
});
