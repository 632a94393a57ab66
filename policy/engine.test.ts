import { evaluate } from './engine';
import { compliantApp, find, webPod } from './test-fixtures';

describe('exemptions', () => {
  it('an exemption with a reason waives the rule on that object only and is reported', () => {
    const objects = compliantApp();
    webPod(objects).container.image = 'ghcr.io/example/web:latest';
    find(objects, 'Job', 'web-migrate').spec.template.spec.containers[0].image = 'ghcr.io/example/web:latest';
    find(objects, 'Deployment').metadata.annotations = { 'policy.fingerprint.io/exempt.image-pinned': 'upstream publishes only a rolling tag' };

    const result = evaluate(objects);
    expect(result.violations.map((v) => `${v.ruleId} ${v.object.kind}/${v.object.name}`)).toEqual(['image-pinned Job/web-migrate']);
    expect(result.exemptions).toEqual([
      {
        object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
        ruleId: 'image-pinned',
        reason: 'upstream publishes only a rolling tag',
        waived: [{ path: 'spec.template.spec.containers[0].image', message: 'container "web": image "ghcr.io/example/web:latest" uses the latest tag' }],
      },
    ]);
  });

  it('an exemption without a reason waives nothing and is itself a violation', () => {
    const objects = compliantApp();
    webPod(objects).spec.hostNetwork = true;
    find(objects, 'Deployment').metadata.annotations = { 'policy.fingerprint.io/exempt.pss-host-namespaces': '' };

    const result = evaluate(objects);
    expect(result.violations.map((v) => v.ruleId).sort()).toEqual(['policy-exemptions', 'pss-host-namespaces']);
    expect(result.exemptions).toEqual([]);
  });

  it('lists an exemption that waives nothing, so stale ones are visible', () => {
    const objects = compliantApp();
    find(objects, 'Service').metadata.annotations = { 'policy.fingerprint.io/exempt.service-selector': 'endpoints managed by the operator' };
    const result = evaluate(objects);
    expect(result.violations).toEqual([]);
    expect(result.exemptions.map((e) => [e.ruleId, e.waived.length])).toEqual([['service-selector', 0]]);
  });

  it('the exemption rule cannot exempt itself', () => {
    const objects = compliantApp();
    find(objects, 'Deployment').metadata.annotations = { 'policy.fingerprint.io/exempt.policy-exemptions': 'please' };
    const result = evaluate(objects);
    expect(result.violations.map((v) => v.message)).toEqual(['policy-exemptions cannot be exempted']);
    expect(result.exemptions).toEqual([]);
  });
});
