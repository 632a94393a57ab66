import { ConfigError } from '../stacks/config/load';
import { engineConfig, lastRun, runProgram } from './program-harness';

describe('Pulumi program with bad config', () => {
  it('throws one ConfigError and registers nothing', async () => {
    const bad = engineConfig('prod', { 'fingerprint-infra:redis': { masters: 2 } });
    const error = await runProgram('prod', bad).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('Pulumi.prod.yaml: fingerprint-infra:redis.masters: must be at least 3 (got 2)');
    expect(lastRun.registered.filter((r) => r.type !== 'pulumi:pulumi:Stack')).toEqual([]);
  });
});
