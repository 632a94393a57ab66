import { checkObjects, formatReport, problemCount } from './check';
import { DEFAULT_CRDS_DIR } from './schema/crds';
import { ManifestValidator } from './schema/validator';
import { compliantApp, find, webPod } from './test-fixtures';

const validator = ManifestValidator.create({ kubernetesVersion: '1.30', crdDirs: [DEFAULT_CRDS_DIR] });

describe('check report', () => {
  it('a compliant region reports OK', () => {
    const region = checkObjects('us-east-1', compliantApp(), validator);
    expect(problemCount([region])).toBe(0);
    const report = formatReport('check Pulumi.test.yaml', [region]);
    expect(report).toContain('us-east-1: 8 objects, 0 schema problems, 0 policy violations, 0 exemptions');
    expect(report).toContain('Exemptions (0):\n  none');
    expect(report.endsWith('OK: no schema problems, no policy violations')).toBe(true);
  });

  it('lists every problem with region, object and field, then every exemption', () => {
    const objects = compliantApp();
    webPod(objects).container.imagePullPolcy = 'Always';
    find(objects, 'Job', 'web-migrate').spec.template.spec.hostNetwork = true;
    webPod(objects).container.image = 'ghcr.io/example/web:latest';
    find(objects, 'Deployment').metadata.annotations = { 'policy.fingerprint.io/exempt.image-pinned': 'tag is immutable in our registry' };

    const region = checkObjects('eu-west-1', objects, validator);
    expect(problemCount([region])).toBe(2);
    const report = formatReport('check Pulumi.test.yaml', [region]);
    expect(report.split('\n')).toEqual([
      'check Pulumi.test.yaml',
      '  eu-west-1: 8 objects, 1 schema problems, 1 policy violations, 1 exemptions',
      '',
      'Schema problems (1):',
      '  eu-west-1  apps/v1 Deployment shop/web  spec.template.spec.containers[0].imagePullPolcy: unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
      '',
      'Policy violations (1):',
      '  eu-west-1  batch/v1 Job shop/web-migrate  spec.template.spec.hostNetwork: must not be true (shares the node\'s network namespace) [pss-host-namespaces]',
      '',
      'Exemptions (1):',
      '  eu-west-1  Deployment shop/web  [image-pinned] tag is immutable in our registry (waives 1 violation)',
      '',
      'FAILED: 2 problems',
    ]);
  });
});
