import { RawEntry, RawStackConfig, StackConfig, validateStackConfig } from '../stacks/config/load';

/** A raw stack config built in code, as if read from Pulumi.<stack>.yaml. */
export function rawConfig(stack: string, entries: Record<string, unknown>, secretKeys: string[] = []): RawStackConfig {
  const map = new Map<string, RawEntry>();
  for (const [key, value] of Object.entries(entries)) map.set(key, { value, secret: secretKeys.includes(key) });
  return { file: `Pulumi.${stack}.yaml`, stack, entries: map };
}

export function region(name: string, wave: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, wave, kubeContext: `ctx-${name}`, clusterId: `cluster-${name}`, zones: [`${name}a`, `${name}b`, `${name}c`], ...extra };
}

export function validConfig(stack = 'staging', entries: Record<string, unknown> = {}): StackConfig {
  return validateStackConfig(rawConfig(stack, { regions: [region('us-east-1', 1), region('eu-west-1', 2)], ...entries }));
}

/** The problems a config produces (empty when valid). */
export function problemsOf(raw: RawStackConfig): string[] {
  try {
    validateStackConfig(raw);
    return [];
  } catch (e) {
    return ((e as { problems?: string[] }).problems ?? [String(e)]).slice();
  }
}
