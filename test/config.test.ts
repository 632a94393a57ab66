import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, readStackFile, validateStackConfig } from '../stacks/config/load';
import { problemsOf, rawConfig, region } from './helpers';

const regions = [region('us-east-1', 1), region('eu-west-1', 2)];

describe('stack config validation', () => {
  it('accepts both committed stack files and applies per-environment defaults', () => {
    const staging = validateStackConfig(readStackFile('staging'));
    const prod = validateStackConfig(readStackFile('prod'));
    expect(staging.environment).toBe('staging');
    expect(prod.environment).toBe('prod');
    expect(staging.regions.map((r) => r.name)).toEqual(['us-east-1', 'eu-west-1']);
    expect(prod.regions.map((r) => [r.name, r.wave])).toEqual([
      ['us-east-1', 1],
      ['eu-west-1', 2],
      ['ap-southeast-1', 3],
    ]);
    expect(staging.regions[0].redis.memory).toBe('1Gi');
    expect(prod.regions[1].redis.memory).toBe('4Gi');
    // Region override wins over the environment setting.
    expect(prod.regions[0].redis.masters).toBe(6);
    expect(prod.regions[2].redis.memory).toBe('2Gi');
    expect(prod.deploy.protectStatefulSets).toBe(true);
    expect(staging.deploy.protectStatefulSets).toBe(false);
  });

  it('derives maxmemory as 75% of the memory limit', () => {
    const config = validateStackConfig(rawConfig('prod', { regions }));
    expect(config.regions[0].redis.maxmemoryBytes).toBe(3 * 2 ** 30);
  });

  it('generates the Redis password unless the stack config provides it', () => {
    expect(validateStackConfig(rawConfig('prod', { regions })).secrets.redisPassword).toEqual({ from: 'generated', length: 40 });
    const fromConfig = validateStackConfig(
      rawConfig('prod', { regions, redis: { passwordSource: 'config' }, redisPassword: 'A'.repeat(24) }, ['redisPassword']),
    );
    expect(fromConfig.secrets.redisPassword).toEqual({ from: 'config', key: 'redisPassword' });
  });

  it.each([
    ['masters < 3', { regions: [region('us-east-1', 1, { redis: { masters: 2 } })] }, 'Pulumi.prod.yaml: fingerprint-infra:regions[0].redis.masters: must be at least 3 (got 2)'],
    ['replicas < 0', { redis: { replicasPerMaster: -1 }, regions }, 'Pulumi.prod.yaml: fingerprint-infra:redis.replicasPerMaster: must be at least 0 (got -1)'],
    ['wrong type', { regions: [region('us-east-1', 1, { redis: { masters: 'three' } })] }, 'fingerprint-infra:regions[0].redis.masters: must be a number (got "three")'],
    ['unknown key in a region', { regions: [region('us-east-1', 1, { zone: ['a'] })] }, 'fingerprint-infra:regions[0]: unknown key "zone" (check the spelling)'],
    ['unknown key in redis', { regions, redis: { maxmemoryPolcy: 'allkeys-lru' } }, 'fingerprint-infra:redis: unknown key "maxmemoryPolcy"'],
    ['unknown top-level key', { regions, regoins: [] }, 'Pulumi.prod.yaml: fingerprint-infra:regoins: unknown key'],
    ['duplicate region', { regions: [region('us-east-1', 1), region('us-east-1', 2)] }, 'fingerprint-infra:regions[1].name: duplicate region name "us-east-1" (also regions[0])'],
    ['region not a DNS label', { regions: [region('US_East', 1)] }, 'fingerprint-infra:regions[0].name: must be a DNS-1123 label'],
    ['wave gap', { regions: [region('us-east-1', 1), region('eu-west-1', 3)] }, 'fingerprint-infra:regions: rollout waves must be consecutive from 1 (found 1, 3; missing 2)'],
    ['no canary wave', { regions: [region('us-east-1', 2)] }, 'missing 1'],
    [
      'memory too small for maxmemory',
      { regions: [region('us-east-1', 1, { redis: { memory: '1Gi', maxmemory: '900Mi' } })] },
      'fingerprint-infra:regions[0].redis.memory: memory limit 1Gi is too small for maxmemory 900Mi plus overhead 300Mi',
    ],
    ['bad quantity', { regions, redis: { memory: '4 gigs' } }, 'fingerprint-infra:redis.memory: must be a memory quantity such as 512Mi or 4Gi'],
    ['unpinned image', { regions, redis: { image: 'redis:latest' } }, 'fingerprint-infra:redis.image: must be pinned to a version tag or digest'],
    ['bad enum', { regions, redis: { maxmemoryPolicy: 'lru' } }, 'fingerprint-infra:redis.maxmemoryPolicy: must be one of'],
    ['missing regions', {}, 'fingerprint-infra:regions: is required'],
    ['missing secret', { regions, redis: { passwordSource: 'config' } }, 'fingerprint-infra:redisPassword: is required when redis.passwordSource is "config"'],
  ])('reports %s with file and key path', (_name, entries, expected) => {
    const problems = problemsOf(rawConfig('prod', entries as Record<string, unknown>));
    expect(problems.some((p) => p.includes(expected))).toBe(true);
    for (const p of problems) expect(p.startsWith('Pulumi.prod.yaml: ')).toBe(true);
  });

  it('refuses a plaintext secret without echoing its value', () => {
    const password = randomBytes(12).toString('hex');
    const problems = problemsOf(rawConfig('prod', { regions, redis: { passwordSource: 'config' }, redisPassword: password }));
    expect(problems).toEqual(['Pulumi.prod.yaml: fingerprint-infra:redisPassword: must be stored as a secret, not in plaintext (run: pulumi config set --secret redisPassword)']);
    expect(problems.join('\n')).not.toContain(password);
  });

  it('lists every problem at once in one error', () => {
    const raw = rawConfig('prod', {
      regions: [region('us-east-1', 1, { redis: { masters: 2 } }), region('us-east-1', 3, { redis: { replicasPerMaster: -2 } })],
      regoins: [],
    });
    let error: unknown;
    try {
      validateStackConfig(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect((error as ConfigError).message).toContain(`Invalid stack configuration (${problems.length} problems)`);
    for (const expected of ['regoins', 'regions[0].redis.masters', 'regions[1].redis.replicasPerMaster', 'regions[1].name']) {
      expect(problems.some((p) => p.includes(expected))).toBe(true);
    }
  });

  it('names an unknown stack and lists the known ones', () => {
    expect(() => readStackFile('qa')).toThrow(/Pulumi\.qa\.yaml: no such stack file \(known stacks: .*prod.*staging/);
  });

  it('reads YAML 1.2 scalars as Pulumi does and rejects duplicate keys with their line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-file-'));
    try {
      fs.writeFileSync(path.join(dir, 'Pulumi.qa.yaml'), 'config:\n  fingerprint-infra:environment: on\n  aws:region: us-east-1\n');
      const raw = readStackFile('qa', dir);
      expect(raw.entries.get('environment')?.value).toBe('on');
      expect(raw.entries.has('region')).toBe(false);
      fs.writeFileSync(path.join(dir, 'Pulumi.qa.yaml'), 'config:\n  fingerprint-infra:environment: prod\n  fingerprint-infra:environment: staging\n');
      expect(() => readStackFile('qa', dir)).toThrow(/Pulumi\.qa\.yaml: not valid YAML at line 3, column 3: duplicated mapping key$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requires an environment when the stack is not named after one', () => {
    expect(problemsOf(rawConfig('prod-eu', { regions }))).toEqual([
      expect.stringContaining('Pulumi.prod-eu.yaml: fingerprint-infra:environment: must be one of staging, prod'),
    ]);
    expect(validateStackConfig(rawConfig('prod-eu', { regions, environment: 'prod' })).environment).toBe('prod');
  });
});

describe('generated secrets', () => {
  it('uses a secret from the stack config instead of generating it', () => {
    const raw = rawConfig('prod', { regions, kongRateLimitRedisPassword: 'B'.repeat(24) }, ['kongRateLimitRedisPassword']);
    const config = validateStackConfig(raw);
    expect(config.secrets.kongRateLimitRedisPassword).toEqual({ from: 'config', key: 'kongRateLimitRedisPassword' });
    expect(config.secrets.redisPassword).toEqual({ from: 'generated', length: 40 });
  });

  it('refuses such a secret in plaintext', () => {
    expect(problemsOf(rawConfig('prod', { regions, kongRateLimitRedisPassword: 'B'.repeat(24) }))).toEqual([
      'Pulumi.prod.yaml: fingerprint-infra:kongRateLimitRedisPassword: must be stored as a secret, not in plaintext (run: pulumi config set --secret kongRateLimitRedisPassword)',
    ]);
  });
});
