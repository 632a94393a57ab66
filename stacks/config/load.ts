import * as fs from 'fs';
import * as path from 'path';
import { CORE_SCHEMA, load as loadYaml, YAMLException } from 'js-yaml';
import { z } from 'zod';
import { MiB, parseMemory } from '../../lib/quantity';
import {
  cachePolicySchema,
  CachePolicy,
  defaultMaxmemory,
  deploySchema,
  DeploySettings,
  Environment,
  ENVIRONMENTS,
  redisMemoryOverhead,
  RedisSettings,
  redisSettingsSchema,
  RegionInput,
  regionSchema,
} from './schema';
import {
  CONSUMER_KEYS_CONFIG_KEY,
  COUNTER_REDIS_PASSWORD_SECRET_ID,
  EffectiveKong,
  effectiveKong,
  kongSecrets,
  KongSettings,
  kongSettingsSchema,
  LICENSE_CONFIG_KEY,
} from '../../components/kong-gateway/config';
import { MeshSettings, meshSettingsSchema, RegionMesh, resolveRegionMesh } from '../../components/istio-mesh/config';
import { MonitoringSettings, monitoringSettingsSchema } from '../../components/monitoring/settings';
import { byCodeUnit } from '../../lib/order';

export const PROJECT = 'fingerprint-infra';

// Config is parsed once per run: zod's compiled fast path costs more to build than it saves here.
z.config({ jitless: true });

const mib = (bytes: number) => Math.floor(bytes / MiB);

/** One config entry of the project's namespace as the stack file or the Pulumi engine has it. */
export interface RawEntry {
  readonly value: unknown;
  readonly secret: boolean;
}

/** The project's config of one stack, before validation. */
export interface RawStackConfig {
  /** Stack file name used in messages, e.g. Pulumi.prod.yaml. */
  readonly file: string;
  readonly stack: string;
  /** Keys without the `fingerprint-infra:` prefix. */
  readonly entries: ReadonlyMap<string, RawEntry>;
}

/** Redis settings of one region after applying its overrides to the environment's settings. */
export interface EffectiveRedis extends RedisSettings {
  readonly maxmemoryBytes: number;
  readonly memoryBytes: number;
}

export interface RegionConfig {
  readonly name: string;
  readonly wave: number;
  readonly kubeContext: string;
  readonly clusterId: string;
  readonly zones: readonly string[];
  readonly redis: EffectiveRedis;
  /** Gateway sizing after the region's overrides. */
  readonly kong: EffectiveKong;
  /** Istio network, locality and failover order of the region. */
  readonly mesh: RegionMesh;
}

export interface StackConfig {
  readonly file: string;
  readonly stack: string;
  readonly environment: Environment;
  /** In wave order, then by name. */
  readonly regions: readonly RegionConfig[];
  readonly cachePolicy: CachePolicy;
  readonly monitoring: MonitoringSettings;
  readonly kong: KongSettings;
  readonly mesh: MeshSettings;
  readonly deploy: DeploySettings & { readonly protectStatefulSets: boolean };
  /** Ids of the Pulumi secrets the program needs (as used in DeployTimeSecret entries), and where each comes from. */
  readonly secrets: Readonly<Record<string, SecretSource>>;
}

/**
 * Where a secret's value comes from: a secret stack config key (optionally a path inside a secret
 * object, e.g. one consumer's key in `kongConsumerKeys`), or a password generated per region and
 * kept only in Pulumi state (encrypted).
 */
export type SecretSource =
  | { readonly from: 'config'; readonly key: string; readonly path?: readonly string[] }
  | { readonly from: 'generated'; readonly length: number };

/** Every problem found in a stack's config, reported at once. */
export class ConfigError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Invalid stack configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Environment-wide config sections besides `regions` and `redis`, each validated by its schema
 * (built per environment so defaults can differ between staging and prod). A new component adds
 * its section here and its field to StackConfig.
 */
const SECTIONS = {
  cachePolicy: (_env: Environment) => cachePolicySchema,
  monitoring: (env: Environment) => monitoringSettingsSchema(env),
  deploy: (_env: Environment) => deploySchema,
  kong: (env: Environment) => kongSettingsSchema(env),
  mesh: (env: Environment) => meshSettingsSchema(env),
};
type Sections = { [K in keyof typeof SECTIONS]: z.infer<ReturnType<(typeof SECTIONS)[K]>> };

/**
 * Passwords generated per region unless the stack config sets the secret of the same name
 * (`pulumi config set --secret <id> …`), e.g. to share one across regions or to run where the
 * random provider plugin is not available.
 */
const GENERATED_SECRET_IDS = ['redisPassword', COUNTER_REDIS_PASSWORD_SECRET_ID, 'grafanaAdminPassword'];
const KNOWN_KEYS = ['environment', 'regions', 'redis', CONSUMER_KEYS_CONFIG_KEY, LICENSE_CONFIG_KEY, ...GENERATED_SECRET_IDS, ...Object.keys(SECTIONS)];
const SECRET_KEYS = new Set(GENERATED_SECRET_IDS);

function formatPath(key: string, issuePath: readonly PropertyKey[]): string {
  let out = `${PROJECT}:${key}`;
  for (const part of issuePath) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return out;
}

function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = JSON.stringify(input);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling)`;
    case 'too_small':
      if (issue.origin === 'number') return `must be at least ${issue.minimum} (got ${describeInput(issue.input)})`;
      return issue.message;
    case 'too_big':
      if (issue.origin === 'number') return `must be at most ${issue.maximum} (got ${describeInput(issue.input)})`;
      return issue.message;
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`} (got ${describeInput(issue.input)})`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${describeInput(issue.input)})`;
    default:
      return `${issue.message} (got ${describeInput(issue.input)})`;
  }
}

/**
 * Validates a stack's raw config. Throws ConfigError listing every problem, each as
 * `<file>: fingerprint-infra:<key path>: <message>`; nothing is registered or written before this passes.
 */
export function validateStackConfig(raw: RawStackConfig): StackConfig {
  const problems: string[] = [];
  const at = (keyPath: string, message: string) => problems.push(`${raw.file}: ${keyPath}: ${message}`);

  for (const key of raw.entries.keys()) {
    if (!KNOWN_KEYS.includes(key)) at(`${PROJECT}:${key}`, `unknown key (known: ${KNOWN_KEYS.join(', ')})`);
  }

  const value = (key: string) => raw.entries.get(key)?.value;
  const parse = <S extends z.ZodType>(key: string, schema: S, input: unknown): z.infer<S> | undefined => {
    const result = schema.safeParse(input, { reportInput: true });
    if (result.success) return result.data;
    for (const issue of result.error.issues) at(formatPath(key, issue.path), issueMessage(issue));
    return undefined;
  };

  const environmentValue = value('environment') ?? raw.stack;
  const environment = ENVIRONMENTS.find((e) => e === environmentValue);
  if (!environment) {
    at(`${PROJECT}:environment`, `must be one of ${ENVIRONMENTS.join(', ')} (got ${describeInput(environmentValue)}); set it when the stack is not named after its environment`);
  }
  const env: Environment = environment ?? 'staging';

  const redis = parse('redis', redisSettingsSchema(env), value('redis') ?? {});
  const sections: Partial<Sections> = {};
  for (const [key, schemaFor] of Object.entries(SECTIONS)) {
    (sections as Record<string, unknown>)[key] = parse(key, schemaFor(env), value(key) ?? {});
  }
  // Regions are checked one by one so that cross-region rules (duplicates, waves) still run
  // when some region has other problems: one run reports everything.
  const regionList = parse('regions', z.array(z.unknown()).min(1, { error: 'must list at least one region' }), value('regions'));
  const regionResults = (regionList ?? []).map((item, i) => parse(`regions[${i}]`, regionSchema, item));
  const field = (item: unknown, key: string): unknown => (item && typeof item === 'object' ? (item as Record<string, unknown>)[key] : undefined);
  const effectiveRegions: RegionConfig[] = [];
  if (regionList) {
    const seen = new Map<string, number>();
    regionList.forEach((item, i) => {
      const name = field(item, 'name');
      if (typeof name !== 'string') return;
      const first = seen.get(name);
      if (first !== undefined) at(`${PROJECT}:regions[${i}].name`, `duplicate region name "${name}" (also regions[${first}])`);
      else seen.set(name, i);
    });
    const waves = [...new Set(regionList.map((item) => field(item, 'wave')).filter((w): w is number => Number.isInteger(w) && (w as number) >= 1))].sort((a, b) => a - b);
    const missing = waves.length ? Array.from({ length: waves[waves.length - 1] }, (_, i) => i + 1).filter((w) => !waves.includes(w)) : [];
    if (missing.length) {
      at(`${PROJECT}:regions`, `rollout waves must be consecutive from 1 (found ${waves.join(', ')}; missing ${missing.join(', ')})`);
    }
  }
  if (redis) {
    regionResults.forEach((region: RegionInput | undefined, i) => {
      if (!region) return;
      const overrides = Object.fromEntries(Object.entries(region.redis).filter(([, v]) => v !== undefined));
      const merged = { ...redis, ...overrides } as RedisSettings;
      const memoryBytes = parseMemory(merged.memory)!;
      const maxmemoryBytes = merged.maxmemory ? parseMemory(merged.maxmemory)! : defaultMaxmemory(memoryBytes);
      const overhead = redisMemoryOverhead(maxmemoryBytes);
      if (memoryBytes < maxmemoryBytes + overhead) {
        const where = region.redis.memory || region.redis.maxmemory ? `regions[${i}].redis.memory` : 'redis.memory';
        at(
          `${PROJECT}:${where}`,
          `memory limit ${merged.memory} is too small for maxmemory ${mib(maxmemoryBytes)}Mi plus overhead ${mib(overhead)}Mi (region ${region.name}; needs at least ${Math.ceil((maxmemoryBytes + overhead) / MiB)}Mi)`,
        );
      }
      effectiveRegions.push({
        name: region.name,
        wave: region.wave,
        kubeContext: region.kubeContext,
        clusterId: region.clusterId,
        zones: region.zones,
        redis: { ...merged, memoryBytes, maxmemoryBytes },
        kong: sections.kong
          ? effectiveKong(sections.kong, region.kong, (key, message) => at(`${PROJECT}:regions[${i}].kong.${key}`, `${message} (region ${region.name})`))
          : ({} as EffectiveKong),
        mesh: resolveRegionMesh(regionResults, i, (keyPath, message) => at(`${PROJECT}:${keyPath}`, message)),
      });
    });
  }

  const secrets: Record<string, SecretSource> = {};
  if (redis) {
    const entry = raw.entries.get('redisPassword');
    secrets.redisPassword = redis.passwordSource === 'config' ? { from: 'config', key: 'redisPassword' } : { from: 'generated', length: 40 };
    if (redis.passwordSource === 'config' && !entry) {
      at(`${PROJECT}:redisPassword`, 'is required when redis.passwordSource is "config" (run: pulumi config set --secret redisPassword)');
    }
  }
  if (sections.kong) Object.assign(secrets, kongSecrets(sections.kong, raw.entries, at));
  // The standalone Grafana's admin password: one per region, kept only in Pulumi state.
  if (sections.monitoring?.mode === 'standalone') secrets.grafanaAdminPassword = { from: 'generated', length: 32 };
  for (const [id, source] of Object.entries(secrets)) {
    if (source.from === 'generated' && raw.entries.has(id)) secrets[id] = { from: 'config', key: id };
  }
  for (const key of SECRET_KEYS) {
    const entry = raw.entries.get(key);
    if (!entry) continue;
    if (!entry.secret) at(`${PROJECT}:${key}`, `must be stored as a secret, not in plaintext (run: pulumi config set --secret ${key})`);
    else if (typeof entry.value === 'string' && !/^[A-Za-z0-9_-]{16,}$/.test(entry.value)) {
      // The value itself is never echoed.
      at(`${PROJECT}:${key}`, 'must be at least 16 characters of letters, digits, "_" or "-"');
    }
  }

  if (problems.length) throw new ConfigError(problems);
  effectiveRegions.sort((a, b) => a.wave - b.wave || byCodeUnit(a.name, b.name));
  const { deploy, ...rest } = sections as Sections;
  return {
    ...rest,
    file: raw.file,
    stack: raw.stack,
    environment: env,
    regions: effectiveRegions,
    deploy: { ...deploy, protectStatefulSets: deploy.protectStatefulSets ?? env === 'prod' },
    secrets,
  };
}

/** Reads Pulumi.<stack>.yaml directly (offline render); secret values stay encrypted and unread. */
export function readStackFile(stack: string, projectDir = path.resolve(__dirname, '../..')): RawStackConfig {
  const file = `Pulumi.${stack}.yaml`;
  const fullPath = path.join(projectDir, file);
  if (!fs.existsSync(fullPath)) {
    const known = fs.readdirSync(projectDir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
    throw new ConfigError([`${file}: no such stack file (known stacks: ${known.join(', ') || 'none'})`]);
  }
  let doc: unknown;
  try {
    // YAML 1.2 core schema, as Pulumi reads it: `yes`/`on` stay strings, duplicate keys are an error.
    doc = loadYaml(fs.readFileSync(fullPath, 'utf8'), { schema: CORE_SCHEMA });
  } catch (e) {
    const where = e instanceof YAMLException && e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
    throw new ConfigError([`${file}: not valid YAML${where}: ${e instanceof YAMLException ? e.reason : (e as Error).message}`]);
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  const entries = new Map<string, RawEntry>();
  for (const [fullKey, v] of Object.entries(config)) {
    const [namespace, key] = fullKey.includes(':') ? fullKey.split(/:(.*)/s, 2) : [PROJECT, fullKey];
    if (namespace !== PROJECT) continue;
    const secure = typeof v === 'object' && v !== null && 'secure' in v;
    entries.set(key, { value: secure ? undefined : v, secret: secure });
  }
  return { file, stack, entries };
}

/** The project's config as the Pulumi engine passes it to the program (values decrypted, secrets flagged). */
export function fromPulumiConfig(stack: string, all: Record<string, string>, isSecret: (key: string) => boolean): RawStackConfig {
  const entries = new Map<string, RawEntry>();
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const key = fullKey.slice(PROJECT.length + 1);
    const secret = isSecret(fullKey);
    let value: unknown = text;
    if (!secret) {
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
    }
    entries.set(key, { value, secret });
  }
  return { file: `Pulumi.${stack}.yaml`, stack, entries };
}
