import { engineConfig, runProgram } from './program-harness';

describe('Pulumi program in render mode (mocks)', () => {
  it('renders per region without a kube context and keeps secret placeholders', async () => {
    const config = engineConfig('staging', { 'fingerprint-infra:deploy': { renderYamlToDirectory: '/tmp/rendered' } });
    const { registered } = await runProgram('staging', config);
    const providers = registered.filter((r) => r.type === 'pulumi:providers:kubernetes');
    expect(providers.map((p) => [p.name, p.inputs.renderYamlToDirectory, p.inputs.context])).toEqual([
      ['us-east-1', '/tmp/rendered/us-east-1', undefined],
      ['eu-west-1', '/tmp/rendered/eu-west-1', undefined],
    ]);
    // No value is generated, so rendered files cannot leak one.
    expect(registered.filter((r) => r.type.startsWith('random:'))).toEqual([]);
    const secret = registered.find((r) => r.type === 'kubernetes:core/v1:Secret' && r.name === 'us-east-1/secret/cache/redis-auth')!;
    expect(JSON.stringify(secret.inputs)).toContain('<secret:redisPassword>');
  });
});
